// The services the second test backend needs, started once per test run: a real PostgreSQL
// server (Debian's, which refuses to run as root, so it runs as the postgres user in a temporary
// folder it owns) and s3rver for S3. Both listen on loopback only.
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function postgresBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

async function waitFor(check, what, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts PostgreSQL; resolves to { adminUrl, psql, stop }. Tests run it with fsync off (their data
 * is disposable); benchmarks pass { durable: true } to measure what users would run.
 */
export async function startPostgres({ durable = false } = {}) {
  const bin = postgresBin();
  if (!bin)
    throw new Error(
      'PostgreSQL server not found under /usr/lib/postgresql (apt-get install postgresql)',
    );
  const dir = mkdtempSync(join(tmpdir(), 'pier-pg-'));
  const asRoot = userInfo().uid === 0;
  const run = (cmd, args, options = {}) =>
    asRoot
      ? spawn('runuser', ['-u', 'postgres', '--', cmd, ...args], options)
      : spawn(cmd, args, options);
  if (asRoot) {
    chmodSync(dir, 0o700);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  await new Promise((resolve, reject) => {
    const init = run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    init.stdout.on('data', (d) => (out += d));
    init.stderr.on('data', (d) => (out += d));
    init.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`initdb failed:\n${out}`)),
    );
  });
  const port = await freePort();
  // Test data is disposable: fsync is off for tests (only for tests) to keep the suite fast.
  const server = run(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-p',
      String(port),
      ...(durable ? [] : ['-c', 'fsync=off']),
      '-c',
      'max_connections=400',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  server.stdout.on('data', (d) => (log += d));
  server.stderr.on('data', (d) => (log += d));
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const psql = join(bin, 'psql');
  await waitFor(() => {
    if (server.exitCode !== null) throw new Error(`postgres exited:\n${log}`);
    try {
      execFileSync(psql, [adminUrl, '-qAtc', 'select 1'], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  }, 'PostgreSQL');
  return {
    adminUrl,
    psql,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (server.exitCode !== null) return done();
        server.once('exit', done);
        // runuser does not pass signals on: stop the postmaster itself (fast shutdown).
        try {
          const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
          process.kill(pid, 'SIGINT');
        } catch {
          server.kill('SIGKILL');
        }
      }),
  };
}

/** Starts s3rver in its own process; resolves to { endpoint, bucket, stop }. */
export async function startS3() {
  const dir = mkdtempSync(join(tmpdir(), 'pier-s3-'));
  const port = await freePort();
  const bucket = 'pier-test';
  const child = spawn(
    process.execPath,
    [join(root, 'scripts', 's3rver.mjs'), dir, String(port), bucket],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`s3rver exited:\n${out}`);
    return out.includes('s3rver ready');
  }, 's3rver');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}
