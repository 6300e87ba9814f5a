#!/usr/bin/env node
// Runs every compiled test file (build/test/**/*.test.js) with node's test runner, a few at a
// time, and prints each file's wall time so that a slow test is visible in CI logs.
//
//   node scripts/run-tests.mjs [substring ...]
//
// Environment:
//   PIER_TEST_CONCURRENCY  files run at once (default: 2, the CI machine's core count)
//   PIER_TEST_TIMEOUT      seconds before a file is killed (default: 600)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'build', 'test');
const filters = process.argv.slice(2);
const concurrency = Number(process.env.PIER_TEST_CONCURRENCY ?? 2);
const timeoutMs = Number(process.env.PIER_TEST_TIMEOUT ?? 600) * 1000;

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

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--test', '--test-reporter=spec', file],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
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
      resolve({ file, code, seconds, output, tests });
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

try {
  await runSetup();
} catch (err) {
  console.error(err.message);
  process.exit(1);
}

const results = [];
const queue = [...files];
async function worker() {
  while (queue.length > 0) {
    const file = queue.shift();
    const r = await runFile(file);
    results.push(r);
    const name = relative(testRoot, r.file);
    const mark = r.code === 0 ? 'ok  ' : 'FAIL';
    console.log(
      `${mark} ${name.padEnd(52)} ${String(r.tests).padStart(4)} tests ${r.seconds.toFixed(1).padStart(7)}s`,
    );
    if (r.code !== 0) console.log(r.output.replace(/^/gm, '    | '));
  }
}
await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));

const failed = results.filter((r) => r.code !== 0);
const total = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  `\n${results.length} files, ${failed.length} failed, ${total}s in all` +
    (failed.length ? `\nfailed: ${failed.map((r) => relative(testRoot, r.file)).join(', ')}` : ''),
);
process.exit(failed.length ? 1 : 0);
