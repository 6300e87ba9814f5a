// `pier serve` from start to its first answered request: the process is spawned, and /healthz is
// asked until it answers 200. A new embedded index (which migrates itself and creates its first
// administrator), and an existing one on PostgreSQL and S3. Reported: no baseline, no target.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchContext, Benchmark, Row } from './lib/bench.js';
import { EMBEDDED, POSTGRES_S3, type Backend } from './lib/backends.js';
import { PIER_BIN } from './lib/paths.js';
import { cleanEnv } from './lib/processes.js';
import { median } from './lib/stats.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startOnce(dataDir: string, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [PIER_BIN, 'serve', '--port', String(port)], {
    env: cleanEnv({ PIER_DATA_DIR: dataDir, PIER_LOG_LEVEL: 'warn', PIER_WORKERS: '1', ...env }),
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`pier exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) return (performance.now() - started) / 1000;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
      if (performance.now() - started > 30_000) throw new Error('pier did not answer within 30 s');
    }
  } finally {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

async function measure(ctx: BenchContext, backend: Backend, fresh: boolean): Promise<number[]> {
  const runs = ctx.smoke ? 1 : 5;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = join(ctx.tmp, `${backend.name}-${fresh ? 'new' : 'existing'}-${i}`);
    const env = await backend.fresh(dataDir);
    if (!fresh) await startOnce(dataDir, env); // the index exists (migrated, admin created)
    times.push(await startOnce(dataDir, env));
  }
  return times;
}

function row(kase: string, times: number[]): Row {
  const seconds = median(times);
  return {
    benchmark: 'startup',
    case: kase,
    pier: { value: seconds * 1000, unit: 'ms' },
    baseline: null,
    result: { value: seconds * 1000, unit: 'ms' },
    target: null,
    met: true,
    otherCpu: null,
    details: { 'runs (ms)': times.map((t) => Math.round(t * 1000)) },
  };
}

export const startup: Benchmark = {
  name: 'startup',
  async run(ctx) {
    ctx.log('pier serve on a new embedded index');
    const fresh = await measure(ctx, EMBEDDED, true);
    ctx.log('pier serve on an existing embedded index');
    const existing = await measure(ctx, EMBEDDED, false);
    ctx.log('pier serve on PostgreSQL and S3');
    const postgres = await measure(ctx, POSTGRES_S3, false);
    return [
      row('pier serve to first answer, new embedded index', fresh),
      row('pier serve to first answer, existing embedded index', existing),
      row('pier serve to first answer, postgres+s3', postgres),
    ];
  },
};
