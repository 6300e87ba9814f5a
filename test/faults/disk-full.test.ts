// Filesystem blob store only: an upload that fills the disk is refused with 507 and a one-line
// reason, leaves no temporary file and no row, and uploads work again once space is freed.
// The blob folder is a 4 MiB tmpfs mounted for this test (the test runs as root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { indexSnapshot } from '../support/snapshot.js';

let server: TestServer;
let token: string;
let filesDir: string;
let mounted = false;

before(async () => {
  server = await startServer();
  filesDir = join(server.dataDir, 'files');
  mkdirSync(filesDir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', filesDir]);
  mounted = true;
  token = await server.userWithToken('filler', { mayCreateProjects: true });
});

after(async () => {
  await server?.close();
  if (mounted) execFileSync('umount', ['-l', filesDir]);
});

/** A wheel whose content is incompressible: `size` random bytes, stored. */
const bigWheel = (version: string, size: number) =>
  makeWheel({ name: 'filler', version, extra: { 'filler/blob.bin': randomBytes(size) } });

async function upload(wheel: { filename: string; content: Buffer }, version: string) {
  return postUpload(
    server.url,
    token,
    await uploadParts({
      filename: wheel.filename,
      content: wheel.content,
      fields: { name: 'filler', version },
    }),
  );
}

test('an upload that fills the disk is refused with 507, leaving nothing behind', async () => {
  assert.equal((await upload(await bigWheel('1.0', 1024), '1.0')).status, 200);
  // Most of the space taken by something else.
  writeFileSync(join(filesDir, 'ballast'), randomBytes(3 * 1024 * 1024));
  const before = await indexSnapshot(server);
  const res = await upload(await bigWheel('2.0', 2 * 1024 * 1024), '2.0');
  assert.equal(res.status, 507, res.body);
  assert.match(res.statusText, /storage is full/i);
  assert.doesNotMatch(res.body.trim(), /\n/);
  assert.deepEqual(await indexSnapshot(server), before);
  assert.deepEqual(readdirSync(join(filesDir, 'tmp')), []);
  const page = await fetch(`${server.url}/simple/filler/`);
  assert.doesNotMatch(await page.text(), /filler-2\.0/);

  rmSync(join(filesDir, 'ballast'));
  const again = await upload(await bigWheel('2.0', 2 * 1024 * 1024), '2.0');
  assert.equal(again.status, 200, again.body);
  assert.match(await (await fetch(`${server.url}/simple/filler/`)).text(), /filler-2\.0/);
});
