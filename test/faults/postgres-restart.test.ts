// PostgreSQL restarted under traffic, on a PostgreSQL of this test's own (so that restarting it
// disturbs no other test) with the filesystem blob store. Requests in flight while it is down
// fail cleanly (a 5xx with a one-line reason, never a hang); pier recovers without a restart;
// nothing half-written is ever listed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, runPier, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { filesWithoutBlobs } from '../support/snapshot.js';

interface Postgres {
  adminUrl: string;
  psql: string;
  stop(): Promise<void>;
}

let pg: Postgres;
let server: TestServer;
let token: string;
let dataDir = '';
let port = '';
let restarted: ChildProcess | null = null;

const psql = (sql: string, url = pg.adminUrl) =>
  execFileSync(pg.psql, [url, '-qAtc', sql], { stdio: 'pipe' }).toString().trim();

before(async () => {
  const services = (await import(
    pathToFileURL(join(REPO_ROOT, 'scripts', 'test-services.mjs')).href
  )) as { startPostgres(): Promise<Postgres> };
  pg = await services.startPostgres();
  dataDir = psql('show data_directory');
  port = new URL(pg.adminUrl).port;
  psql('CREATE DATABASE pier_restart');
  const url = new URL(pg.adminUrl);
  url.pathname = '/pier_restart';
  assert.equal((await runPier(['migrate'], { PIER_DATABASE_URL: url.href })).code, 0);
  server = await startServer({ databaseUrl: url.href, storageUrl: undefined });
  token = await server.userWithToken('restart', { mayCreateProjects: true });
});

after(async () => {
  await server?.close();
  if (restarted && restarted.exitCode === null) await stopPostmaster();
  await pg?.stop();
});

function postmasterPid(): number {
  return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Fast shutdown (SIGINT): sessions are cut, as an operator's restart would cut them. */
async function stopPostmaster(): Promise<void> {
  const pid = postmasterPid();
  process.kill(pid, 'SIGINT');
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The same server again, on the same folder and port. */
async function startPostmaster(): Promise<void> {
  const bin = dirname(pg.psql);
  const socketDir = dirname(dataDir);
  restarted = spawn(
    'runuser',
    [
      '-u',
      'postgres',
      '--',
      join(bin, 'postgres'),
      '-D',
      dataDir,
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-p',
      port,
      '-c',
      'fsync=off',
    ],
    { stdio: 'ignore' },
  );
  restarted.unref();
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      psql('select 1');
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface Answer {
  kind: 'read' | 'upload';
  version?: string;
  status: number;
  reason: string;
  ms: number;
}

let uploads = 0;
async function oneRequest(kind: 'read' | 'upload'): Promise<Answer> {
  const started = Date.now();
  // A hang is a failure: every request must be answered well within this.
  const signal = AbortSignal.timeout(20_000);
  if (kind === 'read') {
    const res = await fetch(`${server.url}/pypi/restart/json`, { signal });
    const body = await res.text();
    return { kind, status: res.status, reason: body, ms: Date.now() - started };
  }
  const version = `1.${uploads++}`;
  const wheel = await makeWheel({ name: 'restart', version });
  const parts = await uploadParts({
    filename: wheel.filename,
    content: wheel.content,
    fields: { name: 'restart', version },
  });
  const res = await postUpload(server.url, token, parts);
  return { kind, version, status: res.status, reason: res.body, ms: Date.now() - started };
}

test('PostgreSQL restarted under traffic: clean 5xx while down, recovery, nothing half-written', async () => {
  assert.equal((await oneRequest('upload')).status, 200);
  const answers: Answer[] = [];
  let running = true;
  const traffic = Array.from({ length: 4 }, async (_, i) => {
    while (running) answers.push(await oneRequest(i === 0 ? 'upload' : 'read'));
  });
  await new Promise((r) => setTimeout(r, 500));
  await stopPostmaster();
  await new Promise((r) => setTimeout(r, 1500));
  await startPostmaster();
  // Recovery without restarting pier: the first requests after the restart succeed.
  await new Promise((r) => setTimeout(r, 1000));
  running = false;
  await Promise.all(traffic);

  const failed = answers.filter((a) => a.status !== 200);
  const slowest = Math.max(...answers.map((a) => a.ms));
  console.log(
    `# ${answers.length} requests, ${failed.length} refused while PostgreSQL was down ` +
      `(${[...new Set(failed.map((a) => a.status))].join(', ')}), slowest ${slowest} ms`,
  );
  assert.ok(failed.length > 0, 'the restart was not noticed');
  for (const a of failed) {
    assert.equal(a.status, 503, a.reason);
    const reason =
      a.kind === 'read' ? (JSON.parse(a.reason) as { message: string }).message : a.reason.trim();
    // A refused connection cannot name its service; a cut session can.
    assert.match(
      reason,
      /^(The database|A service pier depends on .*) is unavailable; try again later$/,
    );
  }
  for (const a of await Promise.all([oneRequest('read'), oneRequest('upload')]))
    assert.equal(a.status, 200, a.reason);

  // Every answered upload is listed, no refused one is, and every listed file has its blob.
  const listed = (await (await fetch(`${server.url}/pypi/restart/json`)).json()) as {
    releases: Record<string, unknown[]>;
  };
  for (const a of answers.filter((x) => x.kind === 'upload')) {
    const files = listed.releases[a.version!] ?? [];
    assert.equal(files.length, a.status === 200 ? 1 : 0, `${a.version}: ${a.status}`);
  }
  assert.deepEqual(await filesWithoutBlobs(server.services), []);
});
