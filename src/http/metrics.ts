// Prometheus metrics, one registry per server (tests start many in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProxyStats } from '../proxy/service.js';

export interface Metrics {
  registry: Registry;
  requests: Histogram<'method' | 'route' | 'status'>;
  uploads: Counter<'result'>;
  uploadBytes: Counter;
}

/** What /metrics answers with: this process's registry, or the sum over the workers. */
export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}

export function localMetrics(registry: Registry): MetricsSource {
  return { contentType: registry.contentType, text: () => registry.metrics() };
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
      // Read from the database: every worker reports the same figure (src/cluster/metrics.ts).
      aggregator: 'first',
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

/** The upstream proxy's counters (src/proxy/service.ts keeps them), read at each scrape. */
export function registerProxyMetrics(
  registry: Registry,
  stats: Readonly<ProxyStats>,
  upstreamRequests: () => number,
): void {
  new Counter({
    name: 'pier_upstream_cache_total',
    help: 'Proxied pages and files answered from the cache (hit) or fetched from the upstream (miss)',
    labelNames: ['kind', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      this.labels('page', 'hit').inc(stats.pageHits);
      this.labels('page', 'miss').inc(stats.pageMisses);
      this.labels('file', 'hit').inc(stats.fileHits);
      this.labels('file', 'miss').inc(stats.fileMisses);
    },
  });
  new Counter({
    name: 'pier_upstream_errors_total',
    help: 'Upstream failures: unreachable, slow, 5xx, malformed pages, wrong hashes',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.upstreamErrors);
    },
  });
  new Counter({
    name: 'pier_upstream_requests_total',
    help: 'HTTP requests made to the upstream index',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(upstreamRequests());
    },
  });
  new Counter({
    name: 'pier_upstream_bytes_total',
    help: 'Bytes fetched from the upstream, and bytes of proxied files sent to clients',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset();
      this.labels('fetched').inc(stats.upstreamBytes);
      this.labels('served').inc(stats.servedBytes);
    },
  });
}
