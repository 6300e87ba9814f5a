// /metrics summed across workers, the primary's side: each listening worker's own metrics are
// collected and summed (prom-client's cluster aggregation); a worker that does not answer is
// left out after the collection timeout rather than failing the scrape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { Counter, Gauge, Registry } from 'prom-client';
import { MetricsAggregator } from '../../src/cluster/metrics.js';

/** A stand-in for a cluster worker whose metrics are `registry`'s (or that never answers). */
function fakeWorker(aggregator: () => MetricsAggregator, registry: Registry | null): Worker {
  const worker = {
    isConnected: () => true,
    send(message: { type: string; id: number }) {
      if (registry === null || message.type !== 'pier:collect') return true;
      void registry.getMetricsAsJSON().then((metrics) =>
        aggregator().handle(worker as unknown as Worker, {
          type: 'pier:local-metrics',
          id: message.id,
          metrics,
        }),
      );
      return true;
    },
  };
  return worker as unknown as Worker;
}

function workerRegistry(requests: number, stored: number): Registry {
  const registry = new Registry();
  new Counter({ name: 'requests_total', help: 'h', registers: [registry] }).inc(requests);
  new Gauge({
    name: 'stored_count',
    help: 'h',
    aggregator: 'first',
    registers: [registry],
  }).set(stored);
  return registry;
}

test('counters are summed over the workers, a figure every worker reads once', async () => {
  const workers: Worker[] = [];
  const aggregator = new MetricsAggregator(() => workers);
  workers.push(
    fakeWorker(() => aggregator, workerRegistry(3, 7)),
    fakeWorker(() => aggregator, workerRegistry(4, 7)),
  );
  const text = await aggregator.sum();
  assert.match(text, /^requests_total 7$/m);
  assert.match(text, /^stored_count 7$/m);
});

test('a worker that does not answer is left out of the scrape, after the timeout', async () => {
  const workers: Worker[] = [];
  const aggregator = new MetricsAggregator(() => workers);
  workers.push(
    fakeWorker(() => aggregator, workerRegistry(5, 1)),
    fakeWorker(() => aggregator, null),
  );
  const started = Date.now();
  const text = await aggregator.sum();
  assert.match(text, /^requests_total 5$/m);
  assert.ok(Date.now() - started >= 1900, 'waited for the silent worker');
});

test('no worker listening: an empty scrape at once', async () => {
  const aggregator = new MetricsAggregator(() => []);
  assert.equal((await aggregator.sum()).trim(), '');
});

test('messages that are not about metrics are left to the caller', () => {
  const aggregator = new MetricsAggregator(() => []);
  const worker = fakeWorker(() => aggregator, null);
  assert.equal(aggregator.handle(worker, { type: 'pier:listening', port: 1 }), false);
  assert.equal(aggregator.handle(worker, 'hello'), false);
  assert.equal(aggregator.handle(worker, null), false);
});
