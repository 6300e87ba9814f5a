// Prometheus metrics, one registry per server (tests start many in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Histogram<'method' | 'route' | 'status'>;
  uploads: Counter<'result'>;
  uploadBytes: Counter;
}

/** Counts kept in the database (shared by every process), read when /metrics is scraped. */
export interface StoredCounts {
  unverifiedExchangeFailures(): Promise<{ issuer: string; code: string; count: number }[]>;
}

export function createMetrics(stored?: StoredCounts): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pier_' });
  if (stored)
    new Gauge({
      name: 'pier_oidc_unverified_exchange_failures',
      help: "Failed exchanges of OIDC tokens that could not be verified, by issuer ('' = not registered) and code, since the database was created",
      labelNames: ['issuer', 'code'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const f of await stored.unverifiedExchangeFailures())
          this.labels(f.issuer, f.code).set(f.count);
      },
    });
  return {
    registry,
    requests: new Histogram({
      name: 'pier_http_request_duration_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    uploads: new Counter({
      name: 'pier_uploads_total',
      help: 'Upload requests by result (stored, identical, refused)',
      labelNames: ['result'],
      registers: [registry],
    }),
    uploadBytes: new Counter({
      name: 'pier_upload_bytes_total',
      help: 'Bytes of distribution files stored',
      registers: [registry],
    }),
  };
}
