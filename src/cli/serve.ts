// `pier serve`: one process, or a primary and its workers on one port (src/cluster) when
// PIER_WORKERS (by default one per core, src/cluster/worker-count.ts) asks for more than one.
import cluster from 'node:cluster';
import type { Config } from '../config.js';
import { openServices } from '../services.js';
import { workerCount } from '../cluster/worker-count.js';
import { runPrimary } from '../cluster/primary.js';
import { runWorker } from '../cluster/worker.js';
import { startOnce } from './start-once.js';
import { startHttpServer } from './http-server.js';

export async function serve(config: Config): Promise<void> {
  if (cluster.isWorker) return runWorker(config);
  const workers = workerCount(config);
  if (workers.count > 1) return runPrimary(config, workers);
  const started = Date.now();
  const s = await openServices(config);
  await startOnce(s);
  const server = await startHttpServer(s, { started });
  process.stderr.write(`pier is serving ${s.publicUrl()}/simple/ (database ${s.db.describe})\n`);
  process.once('SIGINT', () => void server.stop('SIGINT'));
  process.once('SIGTERM', () => void server.stop('SIGTERM'));
}
