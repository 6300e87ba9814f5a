// /metrics across workers: a scrape that reaches any worker is answered with every worker's
// metrics summed (prom-client's cluster aggregation: counters and histograms added up, each
// gauge by its own `aggregator`). The worker asks the primary, the primary collects every
// listening worker's own metrics and sums them. A worker that does not answer in time is left
// out of that scrape rather than failing it (its counts come back at the next scrape).
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsSource } from '../http/metrics.js';
import { fromPrimary, fromWorker, type FromPrimary, type LocalMetrics } from './messages.js';

const COLLECT_TIMEOUT_MS = 2_000;
const SCRAPE_TIMEOUT_MS = 5_000;

/**
 * The worker's side: answers the primary's requests for this worker's metrics, and returns the
 * source /metrics uses (which asks the primary for the sum).
 */
export function clusterMetrics(registry: Registry): MetricsSource {
  const waiting = new Map<number, (m: FromPrimary & { type: 'pier:scraped' }) => void>();
  let next = 1;
  process.on('message', (raw: unknown) => {
    const m = fromPrimary(raw);
    if (m?.type === 'pier:collect')
      void registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: 'pier:local-metrics', id: m.id, metrics }),
        () => process.send?.({ type: 'pier:local-metrics', id: m.id, metrics: [] }),
      );
    else if (m?.type === 'pier:scraped') waiting.get(m.id)?.(m);
  });
  return {
    contentType: registry.contentType,
    text: () =>
      new Promise((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('the primary process did not answer for the metrics'));
        }, SCRAPE_TIMEOUT_MS);
        waiting.set(id, (m) => {
          clearTimeout(timer);
          waiting.delete(id);
          if ('text' in m) resolve(m.text);
          else reject(new Error(m.error));
        });
        process.send?.({ type: 'pier:scrape', id });
      }),
  };
}

/** The primary's side: sums the metrics of `workers()` for each scrape a worker asks for. */
export class MetricsAggregator {
  private next = 1;
  private readonly collecting = new Map<number, (worker: Worker, m: LocalMetrics) => void>();

  constructor(private readonly workers: () => Worker[]) {}

  /** Handles a worker's message if it is about metrics; returns whether it was. */
  handle(worker: Worker, raw: unknown): boolean {
    const m = fromWorker(raw);
    if (m?.type === 'pier:local-metrics') {
      this.collecting.get(m.id)?.(worker, m.metrics);
      return true;
    }
    if (m?.type === 'pier:scrape') {
      this.sum().then(
        (text) => worker.send({ type: 'pier:scraped', id: m.id, text }),
        (err: unknown) => worker.send({ type: 'pier:scraped', id: m.id, error: String(err) }),
      );
      return true;
    }
    return false;
  }

  /** Every listening worker's metrics, summed, in Prometheus's text format. */
  async sum(): Promise<string> {
    const workers = this.workers().filter((w) => w.isConnected());
    const id = this.next++;
    const answers = await new Promise<LocalMetrics[]>((resolve) => {
      const got = new Map<Worker, LocalMetrics>();
      const done = () => {
        clearTimeout(timer);
        this.collecting.delete(id);
        resolve([...got.values()]);
      };
      const timer = setTimeout(done, COLLECT_TIMEOUT_MS);
      this.collecting.set(id, (worker, metrics) => {
        got.set(worker, metrics);
        if (got.size === workers.length) done();
      });
      for (const w of workers) w.send({ type: 'pier:collect', id });
      if (workers.length === 0) done();
    });
    return AggregatorRegistry.aggregate(answers).metrics();
  }
}
