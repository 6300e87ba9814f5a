// @backends: runs on the embedded default and on PostgreSQL with S3.
// `pier serve --workers 2`: two processes on one port behave as one index. Requests (each on a
// connection of its own, which node:cluster hands to the workers in turn) are served by both
// workers, as their log lines' pids show; uploads through both land in one index; a password
// throttle counts the failures of both; /metrics through either is the sum of both; a killed
// worker is replaced while the port goes on answering; SIGTERM with uploads in flight lets them
// finish and pier exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { openServices } from '../../src/services.js';
import { runPier, startPierProcess, type PierProcess } from '../support/server.js';
import { backendEnv } from '../support/backend.js';
import { tempDir } from '../support/tmp.js';
import { multipart, slowUpload, uploadParts, type UploadOutcome } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { onFreshConnection } from '../support/fresh-connection.js';

let pier: PierProcess;
let env: Record<string, string>;
let token: string;
const PROJECT = 'cluster-demo';
const PROBES = 12;

interface LogLine {
  pid: number;
  msg: string;
  url?: string;
  method?: string;
  status?: number;
}

function logLines(of: PierProcess = pier): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of of.output().split('\n'))
    if (line.startsWith('{'))
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // a line cut by the end of the output so far
      }
  return lines;
}

/** The pids of the workers that said they serve, in order. */
const workerPids = (of: PierProcess = pier) =>
  logLines(of)
    .filter((l) => l.msg === 'pier is serving')
    .map((l) => l.pid);

/** The pids that logged an answer to a request whose URL contains `marker`. */
async function pidsThatAnswered(marker: string, expected: number): Promise<Set<number>> {
  const lines = () => logLines().filter((l) => l.msg === 'request' && l.url?.includes(marker));
  const until = Date.now() + 5000;
  while (lines().length < expected && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(lines().length, expected, pier.output());
  return new Set(lines().map((l) => l.pid));
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function wheelUpload(version: string, size = 1024) {
  const wheel = await makeWheel({
    name: PROJECT,
    version,
    extra: { 'cluster_demo/data.bin': randomBytes(size) },
  });
  return multipart(await uploadParts({ ...wheel, fields: { name: PROJECT, version } }));
}

async function listedFiles(): Promise<number> {
  const page = await onFreshConnection(`${pier.url}/simple/${PROJECT}/`, {
    headers: { accept: 'application/vnd.pypi.simple.v1+json' },
  });
  assert.equal(page.status, 200, page.body);
  return (JSON.parse(page.body) as { files: unknown[] }).files.length;
}

before(async () => {
  env = {
    PIER_DATA_DIR: tempDir('pier-workers-'),
    PIER_METRICS_ALLOW: '127.0.0.1',
    ...backendEnv(),
  };
  pier = await startPierProcess(env, ['--workers', '2']);
  const add = await runPier(
    ['user', 'add', 'clu', '--may-create-projects', '--password-stdin'],
    env,
    'clu-password-1',
  );
  assert.equal(add.code, 0, add.stderr);
  token = (await runPier(['token', 'create', '--user', 'clu'], env)).stdout.trim();
});

after(async () => {
  await pier?.stop();
});

test('two workers start, and the primary says so once', async () => {
  assert.match(
    pier.output(),
    /pier is serving \S+\/simple\/ \(database \S+, 2 workers: configured\)/,
  );
  await pier.waitForOutput(/"msg":"pier is serving"[\s\S]*"msg":"pier is serving"/);
  const pids = workerPids();
  assert.equal(pids.length, 2);
  assert.equal(new Set(pids).size, 2);
  assert.ok(!pids.includes(pier.child.pid!), 'the primary serves no requests itself');
});

test('requests on new connections are served by both workers', async () => {
  for (let i = 0; i < PROBES; i++) {
    const res = await onFreshConnection(`${pier.url}/healthz?probe=${i}`);
    assert.equal(res.status, 200);
  }
  assert.deepEqual(
    [...(await pidsThatAnswered('/healthz?probe=', PROBES))].sort(),
    workerPids().sort(),
  );
});

test('uploads through both workers land in one index, listed by both at once', async () => {
  const uploads = 6;
  for (let i = 0; i < uploads; i++) {
    const { body, contentType } = await wheelUpload(`1.${i}`);
    const res = await onFreshConnection(`${pier.url}/legacy/?upload=${i}`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'content-length': body.length,
        authorization: basic('__token__', token),
      },
      body,
    });
    assert.equal(res.status, 200, res.body);
    // Both workers (two new connections) list the new file at once, whichever stored it, though
    // each has the page of the version before in its cache.
    assert.equal(await listedFiles(), i + 1);
    assert.equal(await listedFiles(), i + 1);
  }
  assert.equal((await pidsThatAnswered('/legacy/?upload=', uploads)).size, 2);
});

test('a password throttle counts the failures made at both workers', async () => {
  const add = await runPier(['user', 'add', 'thr', '--password-stdin'], env, 'thr-password-1');
  assert.equal(add.code, 0, add.stderr);
  // Five wrong passwords (the per-account limit), spread over both workers.
  for (let i = 0; i < 5; i++) {
    const res = await onFreshConnection(`${pier.url}/api/whoami?wrong=${i}`, {
      headers: { authorization: basic('thr', `wrong-${i}`) },
    });
    assert.equal(res.status, 401, res.body);
  }
  assert.equal((await pidsThatAnswered('/api/whoami?wrong=', 5)).size, 2);
  // Now the right password is not even checked, at either worker: one worker alone has seen
  // fewer than five failures, so a per-process count would let it through.
  for (let i = 0; i < 2; i++) {
    const res = await onFreshConnection(`${pier.url}/api/whoami?right=${i}`, {
      headers: { authorization: basic('thr', 'thr-password-1') },
    });
    assert.equal(res.status, 429, res.body);
    assert.match(res.body, /Too many failed sign-in attempts for this account/);
    assert.ok(Number(res.headers['retry-after']) > 0);
  }
  assert.equal((await pidsThatAnswered('/api/whoami?right=', 2)).size, 2);
});

test('/metrics through either worker shows the sum over both', async () => {
  const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);
  const healthz =
    /^pier_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} (\d+)$/m;
  const stored = /^pier_uploads_total\{result="stored"\} (\d+)$/m;
  // A count kept in the database, which each worker reports: shown once, not once per worker.
  const failures = /^pier_oidc_unverified_exchange_failures\{[^}]*\} (\d+)$/gm;
  const refused = await onFreshConnection(`${pier.url}/_/oidc/mint-token`, {
    method: 'POST',
    body: Buffer.from(JSON.stringify({ token: 'not-a-jwt' })),
  });
  assert.equal(refused.status, 422, refused.body);
  const scrapes = [];
  for (let i = 0; i < 2; i++) {
    const res = await onFreshConnection(`${pier.url}/metrics?scrape=${i}`);
    assert.equal(res.status, 200, res.body);
    scrapes.push(res.body);
  }
  assert.equal((await pidsThatAnswered('/metrics?scrape=', 2)).size, 2);
  for (const text of scrapes) {
    assert.equal(metric(text, healthz), PROBES, text);
    assert.equal(metric(text, stored), 6, text);
    const failed = [...text.matchAll(failures)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(failed, 1, text);
    // Each series once: summed, not listed per worker.
    assert.equal(text.match(new RegExp(healthz.source, 'gm'))!.length, 1);
  }
});

test('a killed worker is replaced and the port keeps answering', async () => {
  const [victim, survivor] = workerPids();
  process.kill(victim!, 'SIGKILL');
  await pier.waitForOutput(new RegExp(`worker ${victim} was killed by SIGKILL; starting another`));
  // While the replacement starts, the other worker takes every new connection.
  for (let i = 0; i < 6; i++)
    assert.equal((await onFreshConnection(`${pier.url}/healthz?meanwhile=${i}`)).status, 200);
  await pier.waitForOutput(/("msg":"pier is serving"[\s\S]*){3}/, 20_000);
  const replacement = workerPids()[2]!;
  assert.ok(![victim, survivor].includes(replacement));
  for (let i = 0; i < 8; i++)
    assert.equal((await onFreshConnection(`${pier.url}/healthz?after=${i}`)).status, 200);
  assert.deepEqual(
    [...(await pidsThatAnswered('/healthz?after=', 8))].sort(),
    [survivor!, replacement].sort(),
  );
});

test('SIGTERM with uploads in flight at both workers: they finish, pier exits 0', async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const inFlight: Promise<UploadOutcome>[] = [];
  for (let i = 0; i < 4; i++) {
    const { body, contentType } = await wheelUpload(`2.${i}`, 512 * 1024);
    inFlight.push(slowUpload(`${pier.url}/legacy/?draining=${i}`, token, body, contentType, gate));
  }
  // Each upload has sent half of its body (its request is being handled) when the signal comes.
  await new Promise((r) => setTimeout(r, 300));
  const signalled = Date.now();
  const exited = pier.stop();
  await pier.waitForOutput(/SIGTERM: draining 2 workers/);
  await new Promise((r) => setTimeout(r, 100));
  open();
  const outcomes = await Promise.all(inFlight);
  const code = await exited;
  const seconds = (Date.now() - signalled) / 1000;
  console.log(`# exit ${code} after ${seconds.toFixed(1)} s; outcomes ${JSON.stringify(outcomes)}`);
  assert.equal(code, 0, pier.output());
  assert.ok(seconds < 30, `took ${seconds} s`);
  assert.deepEqual(
    outcomes,
    inFlight.map(() => ({ status: 200 })),
  );
  assert.equal((await pidsThatAnswered('/legacy/?draining=', 4)).size, 2);

  // Every answered upload is in the index.
  const config = loadConfig({
    env: {},
    cwd: env.PIER_DATA_DIR!,
    flags: {
      dataDir: env.PIER_DATA_DIR,
      databaseUrl: env.PIER_DATABASE_URL,
      storageUrl: env.PIER_STORAGE_URL,
    },
  });
  const services = await openServices(config);
  try {
    const files = await services.db.kysely.selectFrom('files').select('filename').execute();
    assert.equal(files.length, 6 + 4);
  } finally {
    await services.close();
  }
});

test('SIGTERM to the primary and every worker at once (systemd, Ctrl-C): one drain, exit 0', async () => {
  const other = await startPierProcess(
    { PIER_DATA_DIR: tempDir('pier-workers-group-'), ...backendEnv() },
    ['--workers', '2'],
  );
  await other.waitForOutput(/("msg":"pier is serving"[\s\S]*){2}/);
  const exited = new Promise<number | null>((resolve) => other.child.once('exit', resolve));
  for (const pid of [other.child.pid!, ...workerPids(other)]) process.kill(pid, 'SIGTERM');
  assert.equal(await exited, 0, other.output());
});

test('workers that cannot start: pier serve says why and exits 1, without spinning', async () => {
  const started = Date.now();
  const run = await runPier(['serve', '--port', '0', '--workers', '2'], {
    PIER_DATA_DIR: tempDir('pier-workers-broken-'),
    ...backendEnv(),
    PIER_TLS_CERT: '/nonexistent/cert.pem',
    PIER_TLS_KEY: '/nonexistent/key.pem',
  });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /error: .*\/nonexistent\/cert\.pem/);
  assert.match(run.stderr, /a worker exited with 1 before it could serve: the start failed/);
  assert.doesNotMatch(run.stderr, /starting another/);
  assert.ok(Date.now() - started < 20_000);
});
