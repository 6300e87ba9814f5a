// `npm run bench`: runs each benchmark, prints a table of ratios measured in this run, and writes
// bench/results/<timestamp>-<commit>.json. `--smoke` runs every benchmark with tiny sizes and
// durations (for CI: it keeps the code from rotting, its numbers mean little). Names given as
// arguments select benchmarks. Exits non-zero if any benchmark throws.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Benchmark, Row } from './lib/bench.js';
import {
  environment,
  formatTable,
  interferenceWarnings,
  writeRecord,
  type RunRecord,
} from './lib/results.js';
import { simplePage } from './simple-page.js';
import { upload } from './upload.js';
import { exchanges } from './exchanges.js';
import { startup } from './startup.js';
import { projectsScale } from './projects-scale.js';
import { stopBackends } from './lib/backends.js';
import { publishBench } from './publish.js';
import { proxyBench } from './proxy.js';
import { attestationsBench } from './attestations.js';
import { workersBench } from './workers.js';
import { pipInstallBench } from './pip-install.js';

const BENCHMARKS: Benchmark[] = [
  simplePage,
  upload,
  exchanges,
  publishBench,
  projectsScale,
  proxyBench,
  attestationsBench,
  workersBench,
  pipInstallBench,
  startup,
];

function parseArgs(argv: string[]): { smoke: boolean; selected: Benchmark[] } {
  const flags = argv.filter((a) => a.startsWith('-'));
  const names = argv.filter((a) => !a.startsWith('-'));
  const unknown = [
    ...flags.filter((f) => f !== '--smoke'),
    ...names.filter((n) => !BENCHMARKS.some((b) => b.name === n)),
  ];
  if (unknown.length > 0)
    throw new Error(
      `unknown argument ${unknown.join(', ')}; usage: run.js [--smoke] [${BENCHMARKS.map((b) => b.name).join('|')} ...]`,
    );
  return {
    smoke: flags.includes('--smoke'),
    selected: names.length ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS,
  };
}

// On Ctrl-C or a CI timeout, exit through process.exit so that the servers and load generators
// this run started are killed (see spawnNode) and the current temporary folder is removed.
let currentTmp: string | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping\n`);
    process.exit(130);
  });
process.once('exit', () => {
  if (currentTmp) rmSync(currentTmp, { recursive: true, force: true });
});

async function main(): Promise<number> {
  const { smoke, selected } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const rows: Row[] = [];
  const errors: RunRecord['errors'] = [];
  for (const bench of selected) {
    const tmp = mkdtempSync(join(tmpdir(), `pier-bench-${bench.name}-`));
    currentTmp = tmp;
    const log = (message: string) => {
      const at = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`${at}s [${bench.name}] ${message}\n`);
    };
    try {
      log(smoke ? 'starting (smoke)' : 'starting');
      rows.push(...(await bench.run({ smoke, tmp, log })));
    } catch (err) {
      log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      errors.push({ benchmark: bench.name, error: String(err) });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      currentTmp = null;
    }
  }
  await stopBackends();
  const record: RunRecord = {
    mode: smoke ? 'smoke' : 'full',
    environment: environment(),
    rows,
    errors,
  };
  const env = record.environment;
  console.log(
    `\npier benchmarks (${record.mode}) at ${env.commit}${env.dirty ? ' (dirty)' : ''}, ` +
      `node ${env.node}, ${env.cores} x ${env.cpu}, ${env.date}\n`,
  );
  console.log(formatTable(rows));
  const warnings = interferenceWarnings(rows);
  if (warnings.length > 0) console.log(`\n${warnings.join('\n')}`);
  for (const e of errors) console.log(`\n${e.benchmark} FAILED: ${e.error}`);
  console.log(`\nwritten to ${writeRecord(record)}`);
  console.log(`took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
