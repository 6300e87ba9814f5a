// The primary of `pier serve --workers N`. It does the once-only start work (migrations of the
// embedded default, the schema check, the first administrator, leftover temporary blobs), then
// forks N workers that share the listening port (node:cluster hands each new connection to
// one of them in turn). It holds no database connection while they serve.
//
// - A worker that crashes is replaced, after a delay when workers keep dying at start
//   (src/cluster/backoff.ts). If no worker ever came up, the start failed: pier exits 1.
// - SIGTERM/SIGINT: every worker is told to drain (finish its requests in flight, as one
//   process does); the primary exits once they all have, 0 if every worker stopped cleanly.
// - /metrics through any worker is the sum over all of them (src/cluster/metrics.ts).
import cluster, { type Worker } from 'node:cluster';
import { effectivePublicUrl, type Config } from '../config.js';
import { openServices } from '../services.js';
import { startOnce } from '../cli/start-once.js';
import { DRAIN_TIMEOUT_MS } from '../cli/http-server.js';
import { EARLY_EXIT_MS, restartDelayMs } from './backoff.js';
import { MetricsAggregator } from './metrics.js';
import { fromWorker } from './messages.js';
import type { WorkerCount } from './worker-count.js';

interface WorkerState {
  forkedAt: number;
  listening: boolean;
}

function say(line: string): void {
  process.stderr.write(`pier: ${line}\n`);
}

function exitOf(code: number | null, signal: string | null): string {
  return signal ? `was killed by ${signal}` : `exited with ${code}`;
}

export async function runPrimary(config: Config, workers: WorkerCount): Promise<void> {
  const s = await openServices(config);
  let database: string;
  try {
    database = s.db.describe;
    await startOnce(s);
  } finally {
    await s.close();
  }

  const state = new Map<Worker, WorkerState>();
  const restarts = new Set<NodeJS.Timeout>();
  let everListening = false;
  let announced = false;
  let earlyExitsInARow = 0;
  let stopping = false;
  let exitCode = 0;
  const aggregator = new MetricsAggregator(() =>
    [...state].filter(([, st]) => st.listening).map(([w]) => w),
  );

  const fork = () => {
    const worker = cluster.fork();
    state.set(worker, { forkedAt: Date.now(), listening: false });
  };

  const finishIfDone = () => {
    if (state.size === 0) process.exit(exitCode);
  };

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: draining ${state.size} workers`);
    for (const t of restarts) clearTimeout(t);
    restarts.clear();
    // A worker still starting has no requests: SIGTERM ends it whether or not it is listening
    // for the signal yet (a message could arrive before it listens for messages).
    for (const [worker, st] of state)
      if (st.listening && worker.isConnected()) worker.send({ type: 'pier:drain' });
      else worker.process.kill('SIGTERM');
    // Each worker gives its requests DRAIN_TIMEOUT_MS; one that is still there after that hangs.
    const deadline = setTimeout(() => {
      say('workers still running after the drain timeout; killing them');
      for (const worker of state.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, DRAIN_TIMEOUT_MS + 5_000);
    deadline.unref();
    finishIfDone();
  };

  cluster.on('message', (worker, raw: unknown) => {
    if (aggregator.handle(worker, raw)) return;
    const m = fromWorker(raw);
    const st = state.get(worker);
    if (m?.type !== 'pier:listening' || !st) return;
    st.listening = true;
    everListening = true;
    const listening = [...state.values()].filter((x) => x.listening).length;
    if (!announced && listening >= workers.count) {
      announced = true;
      const url = effectivePublicUrl(config, { host: config.host, port: m.port });
      process.stderr.write(
        `pier is serving ${url}/simple/ (database ${database}, ${workers.count} workers: ${workers.reason})\n`,
      );
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const st = state.get(worker);
    state.delete(worker);
    if (stopping) {
      if (code !== 0 && st?.listening) exitCode = 1;
      return finishIfDone();
    }
    if (!everListening) {
      say(`a worker ${exitOf(code, signal)} before it could serve: the start failed`);
      exitCode = 1;
      return shutdown('start failed');
    }
    const early = st !== undefined && Date.now() - st.forkedAt < EARLY_EXIT_MS;
    earlyExitsInARow = early ? earlyExitsInARow + 1 : 0;
    const delay = restartDelayMs(earlyExitsInARow);
    say(
      `worker ${worker.process.pid} ${exitOf(code, signal)}; starting another` +
        (delay > 0 ? ` in ${delay / 1000} s` : ''),
    );
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!stopping) fork();
    }, delay);
    restarts.add(timer);
  });

  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  for (let i = 0; i < workers.count; i++) fork();
}
