// The messages between `pier serve`'s primary process and its workers (over node:cluster's IPC).
import type { Registry } from 'prom-client';

/** One process's metrics as prom-client's cluster aggregation takes them. */
export type LocalMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Worker to primary. */
export type FromWorker =
  /** The worker's server is listening (on `port`) and takes connections. */
  | { type: 'pier:listening'; port: number }
  /** A /metrics scrape reached this worker: it asks for every worker's metrics, summed. */
  | { type: 'pier:scrape'; id: number }
  /** This worker's own metrics, answering `pier:collect`. */
  | { type: 'pier:local-metrics'; id: number; metrics: LocalMetrics };

/** Primary to worker. */
export type FromPrimary =
  /** Stop accepting connections, finish the requests in flight, exit. */
  | { type: 'pier:drain' }
  /** Send this worker's own metrics. */
  | { type: 'pier:collect'; id: number }
  /** The summed metrics a `pier:scrape` asked for (or why there are none). */
  | { type: 'pier:scraped'; id: number; text: string }
  | { type: 'pier:scraped'; id: number; error: string };

function isMessage(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

export function fromWorker(m: unknown): FromWorker | null {
  return isMessage(m) && m.type.startsWith('pier:') ? (m as FromWorker) : null;
}

export function fromPrimary(m: unknown): FromPrimary | null {
  return isMessage(m) && m.type.startsWith('pier:') ? (m as FromPrimary) : null;
}
