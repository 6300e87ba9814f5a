// A worker of `pier serve --workers N`: one server process on the shared port. The primary did
// the once-only start work (migrations, the first administrator); a worker opens the services
// without migrating, serves, and stops gracefully — on the primary's word, on SIGTERM/SIGINT
// sent to it directly (a terminal's Ctrl-C, systemd's whole control group), or when the
// primary is gone — each of them once.
import { openServices } from '../services.js';
import type { Config } from '../config.js';
import { startHttpServer, type RunningServer } from '../cli/http-server.js';
import { clusterMetrics } from './metrics.js';
import { fromPrimary } from './messages.js';

export async function runWorker(config: Config): Promise<void> {
  const started = Date.now();
  let server: RunningServer;
  try {
    const s = await openServices(config, { migrate: false });
    server = await startHttpServer(s, { started, metrics: clusterMetrics });
  } catch (err) {
    // The primary sees this exit before the worker ever listened.
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    server.stop(reason).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('the primary process exited'));
  process.on('message', (raw: unknown) => {
    if (fromPrimary(raw)?.type === 'pier:drain') stop('drain');
  });
  process.send?.({ type: 'pier:listening', port: server.port });
}
