// @backends: runs on the embedded default database and on PostgreSQL; the blob store is always
// this test's own s3rver, stopped and started again on the same port and folder.
// While S3 is unreachable, uploads answer 503 with a one-line reason and change nothing; pages
// already in the index are still served; once S3 is back, uploads work again without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startServer, REPO_ROOT, type TestServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { filesWithoutBlobs, indexSnapshot } from '../support/snapshot.js';

let server: TestServer;
let token: string;
let s3: ChildProcess | null = null;
const s3Dir = tempDir('pier-s3-outage-');
let s3Port = 0;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function startS3(): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'scripts', 's3rver.mjs'), s3Dir, String(s3Port), 'outage'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => out.includes('s3rver ready') && resolve());
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}:\n${out}`)));
  });
  s3 = child;
}

async function stopS3(): Promise<void> {
  const child = s3;
  s3 = null;
  if (!child || child.exitCode !== null) return;
  // Killed outright, as a crash or a network cut would leave it.
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

before(async () => {
  // s3rver's fixed credentials (the runner sets them only for its PostgreSQL+S3 runs).
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  s3Port = await freePort();
  await startS3();
  server = await startServer({
    storageUrl: `s3://outage/files?endpoint=${encodeURIComponent(`http://127.0.0.1:${s3Port}`)}&region=us-east-1`,
  });
  token = await server.userWithToken('outage', { mayCreateProjects: true });
});

after(async () => {
  await server?.close();
  await stopS3();
});

async function upload(version: string) {
  const wheel = await makeWheel({ name: 'outage', version });
  return postUpload(
    server.url,
    token,
    await uploadParts({
      filename: wheel.filename,
      content: wheel.content,
      fields: { name: 'outage', version },
    }),
  );
}

test('S3 down: uploads 503 and change nothing, pages still served; S3 back: uploads work', async () => {
  assert.equal((await upload('1.0')).status, 200);
  const page = await fetch(`${server.url}/simple/outage/`);
  assert.equal(page.status, 200);
  const pageBefore = await page.text();
  const snapshotBefore = await indexSnapshot(server);

  await stopS3();
  const started = Date.now();
  const refused = await upload('2.0');
  assert.equal(refused.status, 503, refused.body);
  assert.match(refused.statusText, /blob storage is unavailable/i);
  assert.equal(refused.body.trim().split('\n').length, 1);
  console.log(`# upload refused after ${Date.now() - started} ms with S3 down`);

  // Reads of what the index holds go on, and show nothing of the refused upload.
  for (const path of ['/simple/outage/', '/simple/', '/pypi/outage/json', '/project/outage/']) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.doesNotMatch(await res.text(), /outage-2\.0/, path);
  }
  assert.equal(await (await fetch(`${server.url}/simple/outage/`)).text(), pageBefore);
  // A download needs the blob store: refused the same way, never a hang or a 500.
  const href = /href="([^"]+\.whl)[^"]*"/.exec(pageBefore)![1]!;
  const download = await fetch(new URL(href, `${server.url}/simple/outage/`));
  assert.equal(download.status, 503);

  await startS3();
  assert.deepEqual(await indexSnapshot(server), snapshotBefore);
  const again = await upload('2.0');
  assert.equal(again.status, 200, again.body);
  assert.match(await (await fetch(`${server.url}/simple/outage/`)).text(), /outage-2\.0/);
  assert.deepEqual(await filesWithoutBlobs(server.services), []);
});
