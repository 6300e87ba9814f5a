// @backends: runs on the embedded default and on PostgreSQL with S3.
// `pier transfer` carries the proxy's cache: pages, checked files and the exclude list arrive,
// and the target serves them with the upstream gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATOR, runPier, startServer } from '../support/server.js';
import { backendName, freshBackend } from '../support/backend.js';
import { startStaticIndex } from '../support/static-index.js';
import { makeWheel } from '../support/dists.js';
import { sha256 } from '../support/upload.js';
import { tempDir } from '../support/tmp.js';

const embedded = (dir: string) => ({
  dataDir: dir,
  databaseUrl: `sqlite://${join(dir, 'pier.sqlite3')}`,
  storageUrl: `file://${join(dir, 'files')}`,
});

test('the cache moves with the index', async () => {
  const root = tempDir('pier-static-index-');
  const w = await makeWheel({ name: 'carried', version: '1.0' });
  mkdirSync(join(root, 'simple', 'carried'), { recursive: true });
  mkdirSync(join(root, 'files'));
  writeFileSync(join(root, 'files', w.filename), w.content);
  writeFileSync(
    join(root, 'simple', 'carried', 'index.html'),
    `<a href="../../files/${w.filename}#sha256=${sha256(w.content)}">${w.filename}</a>`,
  );
  const upstream = await startStaticIndex(root);
  const sourceDir = tempDir('pier-transfer-source-');
  const upstreamUrl = `${upstream.url}/simple/`;
  const source = await startServer({ ...embedded(sourceDir), upstreamUrl });
  const path = `/proxy/carried/${sha256(w.content)}/${w.filename}`;
  const first = await fetch(`${source.url}${path}`);
  assert.deepEqual(Buffer.from(await first.arrayBuffer()), w.content);
  for (let i = 0; i < 100; i++) {
    const rows = await source.services.db.kysely.selectFrom('upstream_blobs').selectAll().execute();
    if (rows.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await source.services.proxy.addExclude(OPERATOR, 'acme-*');
  await source.close();
  await upstream.close();

  const targetDir = tempDir('pier-transfer-target-');
  const target =
    backendName() === 'postgres' ? { dataDir: targetDir, ...freshBackend() } : embedded(targetDir);
  const moved = await runPier(
    ['transfer', '--to-database-url', target.databaseUrl!, '--to-storage-url', target.storageUrl!],
    { PIER_DATA_DIR: sourceDir },
  );
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stderr, /files: 1\/1 copied and verified/);

  const there = await startServer({ ...target, upstreamUrl, upstreamOffline: true });
  try {
    const page = await fetch(`${there.url}/simple/carried/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), new RegExp(`${there.url}${path}`.replace(/[.]/g, '\\.')));
    const file = await fetch(`${there.url}${path}`);
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('x-pier-upstream'), 'hit');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), w.content);
    assert.deepEqual(await there.services.proxy.excludes(), [
      { pattern: 'acme-*', source: 'admin' },
    ]);
  } finally {
    await there.close();
  }
});
