#!/usr/bin/env node
// Runs every compiled test file (build/test/**/*.test.js) with node's test runner, a few at a
// time, and prints each file's wall time so that a slow test is visible in CI logs.
//
//   node scripts/run-tests.mjs [substring ...]
//
// Files whose source starts with an `// @backends` line touch the database or the blob store:
// they run once on the embedded default (SQLite and a folder) and once on PostgreSQL with S3
// (a real PostgreSQL server and s3rver, started once for the whole run).
//
// Environment:
//   PIER_TEST_CONCURRENCY  files run at once (default: 2, the CI machine's core count)
//   PIER_TEST_TIMEOUT      seconds before a file is killed (default: 600)
//   PIER_TEST_BACKENDS     comma-separated: sqlite, postgres (default: both)
//   PIER_TEST_VERBOSE      1: print every file's output, not only a failing one's (the figures
//                          a soak prints)
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { startPostgres, startS3 } from './test-services.mjs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'build', 'test');
const filters = process.argv.slice(2);
const concurrency = Number(process.env.PIER_TEST_CONCURRENCY ?? 2);
const timeoutMs = Number(process.env.PIER_TEST_TIMEOUT ?? 600) * 1000;
const backends = (process.env.PIER_TEST_BACKENDS ?? 'sqlite,postgres')
  .split(',')
  .map((b) => b.trim());
for (const b of backends)
  if (b !== 'sqlite' && b !== 'postgres') {
    console.error(`unknown backend '${b}' in PIER_TEST_BACKENDS (sqlite, postgres)`);
    process.exit(2);
  }

function usesBackends(file) {
  return readFileSync(file, 'utf8').slice(0, 200).startsWith('// @backends');
}

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (entry.endsWith('.test.js')) out.push(full);
  }
  return out;
}

function runSetup() {
  return new Promise((resolve, reject) => {
    const setup = join(testRoot, 'support', 'global-setup.js');
    try {
      statSync(setup);
    } catch {
      resolve(undefined);
      return;
    }
    const started = Date.now();
    const child = spawn(process.execPath, ['--enable-source-maps', setup], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) => {
      console.log(`setup: ${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (code === 0) resolve(undefined);
      else reject(new Error(`global setup failed with exit code ${code}`));
    });
  });
}

let serviceEnv = {};

function runFile({ file, backend }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--test', '--test-reporter=spec', file],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...serviceEnv, FORCE_COLOR: '0', PIER_TEST_BACKEND: backend },
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs / 1000}s]\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const tests = /(?:#|ℹ) tests (\d+)/.exec(output)?.[1] ?? '?';
      resolve({ file, backend, code, seconds, output, tests });
    });
  });
}

const started = Date.now();
let files = findTests(testRoot).sort();
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files found (did the TypeScript build run?)');
  process.exit(1);
}

const jobs = [];
for (const file of files) {
  if (!usesBackends(file)) jobs.push({ file, backend: 'sqlite' });
  else for (const backend of backends) jobs.push({ file, backend });
}

const stops = [];

async function migrateTemplate(pg) {
  const { execFileSync } = await import('node:child_process');
  execFileSync(pg.psql, [pg.adminUrl, '-qAtc', 'CREATE DATABASE pier_template'], { stdio: 'pipe' });
  const url = new URL(pg.adminUrl);
  url.pathname = '/pier_template';
  execFileSync(process.execPath, [join(root, 'bin', 'pier.cjs'), 'migrate'], {
    stdio: 'pipe',
    env: {
      ...process.env,
      PIER_DATABASE_URL: url.href,
      PIER_DATA_DIR: join(root, '.cache', 'pg-template'),
    },
  });
}
async function stopServices() {
  for (const stop of stops.splice(0)) await stop().catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => stopServices().then(() => process.exit(130)));

try {
  await runSetup();
  if (jobs.some((j) => j.backend === 'postgres')) {
    const t = Date.now();
    const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
    stops.push(pg.stop, s3.stop);
    // Test databases are copies of a template that `pier migrate` brought up to date, as an
    // operator would before `pier serve` on PostgreSQL.
    await migrateTemplate(pg);
    serviceEnv = {
      PIER_TEST_PG_ADMIN_URL: pg.adminUrl,
      PIER_TEST_PSQL: pg.psql,
      PIER_TEST_S3_ENDPOINT: s3.endpoint,
      PIER_TEST_S3_BUCKET: s3.bucket,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    console.log(`services: PostgreSQL and s3rver in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }
} catch (err) {
  console.error(err.message);
  await stopServices();
  process.exit(1);
}

const results = [];
const queue = [...jobs];
async function worker() {
  while (queue.length > 0) {
    const job = queue.shift();
    const r = await runFile(job);
    results.push(r);
    const name = relative(testRoot, r.file) + (usesBackends(r.file) ? ` [${r.backend}]` : '');
    const mark = r.code === 0 ? 'ok  ' : 'FAIL';
    console.log(
      `${mark} ${name.padEnd(62)} ${String(r.tests).padStart(4)} tests ${r.seconds.toFixed(1).padStart(7)}s`,
    );
    if (r.code !== 0 || process.env.PIER_TEST_VERBOSE === '1')
      console.log(r.output.replace(/^/gm, '    | '));
  }
}
await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));

await stopServices();
const failed = results.filter((r) => r.code !== 0);
const total = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  `\n${results.length} runs, ${failed.length} failed, ${total}s in all` +
    (failed.length
      ? `\nfailed: ${failed.map((r) => `${relative(testRoot, r.file)} [${r.backend}]`).join(', ')}`
      : ''),
);
process.exit(failed.length ? 1 : 0);
