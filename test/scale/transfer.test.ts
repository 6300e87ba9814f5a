// @backends: runs on the embedded default and on PostgreSQL with S3.
// Moving a populated index from the embedded default (SQLite and a folder) to the backend under
// test — PostgreSQL and S3, or another SQLite file and folder — with `pier transfer`, and back:
// the target serves identical Simple pages, JSON documents and files, and the old tokens work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { backendName, freshBackend } from '../support/backend.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { clientView } from '../support/client-view.js';
import { makeSdist, makeWheel } from '../support/dists.js';
import { tempDir } from '../support/tmp.js';

const PUBLIC_URL = 'http://pier.test';
let sourceDir: string;
let source: TestServer;
let token: string;
let readToken: string;

function embedded(dir: string) {
  return {
    dataDir: dir,
    databaseUrl: `sqlite://${join(dir, 'pier.sqlite3')}`,
    storageUrl: `file://${join(dir, 'files')}`,
  };
}

/** Everything a client can read of an index, by path. */
function snapshot(server: TestServer): Promise<Map<string, string>> {
  return clientView(server, {
    token: readToken,
    projects: ['moved-a', 'moved-b', 'hidden-c'],
    paths: ['/namespaces', '/namespace/moved'],
  });
}

before(async () => {
  sourceDir = tempDir('pier-transfer-source-');
  source = await startServer({ ...embedded(sourceDir), publicUrl: PUBLIC_URL });
  token = await source.userWithToken('mover', { mayCreateProjects: true });
  readToken = await source.userWithToken('mover', { scope: 'read' });
  for (const [name, version] of [
    ['moved-a', '1.0'],
    ['moved-a', '1.1'],
    ['moved-b', '0.1'],
    ['hidden-c', '2.0'],
  ] as const) {
    const w = await makeWheel({
      name,
      version,
      extra: { 'data.bin': Buffer.alloc(70_000, version.length) },
    });
    const res = await postUpload(
      source.listenUrl,
      token,
      await uploadParts({ ...w, fields: { name, version } }),
    );
    assert.equal(res.status, 200, res.body);
  }
  const s = await makeSdist({ name: 'moved-a', version: '1.0' });
  assert.equal(
    (
      await postUpload(
        source.listenUrl,
        token,
        await uploadParts({ ...s, fields: { name: 'moved-a', version: '1.0' } }),
      )
    ).status,
    200,
  );
  await source.services.manage.setYanked(
    OPERATOR,
    'moved-a',
    '1.1',
    true,
    'moved but still yanked',
  );
  await source.services.manage.delete(OPERATOR, 'moved-b', '0.1');
  const gone = await makeWheel({ name: 'moved-b', version: '0.2' });
  assert.equal(
    (
      await postUpload(
        source.listenUrl,
        token,
        await uploadParts({ ...gone, fields: { name: 'moved-b', version: '0.2' } }),
      )
    ).status,
    200,
  );
  await source.services.projects.update(OPERATOR, 'hidden-c', { private: true });
  // A file's PEP 740 attestation (its row as an upload writes it; verification is not what moves).
  const attested = await source.services.db.kysely
    .selectFrom('files')
    .select('id')
    .where('filename', 'like', 'moved_a-1.0-%.whl')
    .executeTakeFirstOrThrow();
  await source.services.db.kysely
    .insertInto('file_attestations')
    .values({
      file_id: attested.id,
      position: 0,
      predicate_type: 'https://docs.pypi.org/attestations/publish/v1',
      publisher_id: null,
      publisher_json: JSON.stringify({ kind: 'Google', email: 'release@example.com' }),
      identity_json: JSON.stringify({ san: 'release@example.com', fields: {} }),
      attestation_json: JSON.stringify({ version: 1, envelope: { statement: 'e30=' } }),
      created_at: Date.now(),
    })
    .execute();
  // A PEP 752 reservation travels too: the pages' namespaces and the namespace endpoints.
  await source.services.namespaces.reserve(OPERATOR, 'moved', 'mover');
});

after(() => source.close());

test('transfer the embedded default to the backend under test and back, identical for clients', async () => {
  const before = await snapshot(source);
  await source.close();

  const targetDir = tempDir('pier-transfer-target-');
  const target =
    backendName() === 'postgres' ? { dataDir: targetDir, ...freshBackend() } : embedded(targetDir);
  const moved = await runPier(
    ['transfer', '--to-database-url', target.databaseUrl!, '--to-storage-url', target.storageUrl!],
    { PIER_DATA_DIR: sourceDir },
  );
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stderr, /files: 5\/5 copied and verified/);
  assert.match(moved.stderr, /transferred 5 files and \d+ rows/);

  const there = await startServer({ ...target, publicUrl: PUBLIC_URL });
  try {
    const after = await snapshot(there);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    assert.ok(
      [...before.keys()].some((k) => k.includes('/integrity/moved-a/1.0/')),
      'the attested file has its provenance',
    );
    for (const [path, body] of before) assert.equal(after.get(path), body, path);
    // Filenames stay used after the move: the deleted file's name is still refused.
    const reused = await makeWheel({ name: 'moved-b', version: '0.1' });
    const res = await postUpload(
      there.listenUrl,
      token,
      await uploadParts({ ...reused, fields: { name: 'moved-b', version: '0.1' } }),
    );
    assert.equal(res.status, 400);
    assert.match(res.body, /previously used/);
    // New rows get ids after the copied ones.
    const fresh = await makeWheel({ name: 'moved-b', version: '0.3' });
    assert.equal(
      (
        await postUpload(
          there.listenUrl,
          token,
          await uploadParts({ ...fresh, fields: { name: 'moved-b', version: '0.3' } }),
        )
      ).status,
      200,
    );
  } finally {
    await there.close();
  }

  // A second transfer into a target that holds an index is refused.
  const again = await runPier(
    ['transfer', '--to-database-url', target.databaseUrl!, '--to-storage-url', target.storageUrl!],
    { PIER_DATA_DIR: sourceDir },
  );
  assert.equal(again.code, 1);
  assert.match(again.stderr, /only into an empty database/);

  // And back to a new embedded default.
  const backDir = tempDir('pier-transfer-back-');
  const back = embedded(backDir);
  const returned = await runPier(
    ['transfer', '--to-database-url', back.databaseUrl, '--to-storage-url', back.storageUrl],
    {
      PIER_DATA_DIR: targetDir,
      PIER_DATABASE_URL: target.databaseUrl!,
      PIER_STORAGE_URL: target.storageUrl!,
    },
  );
  assert.equal(returned.code, 0, returned.stderr);
  const home = await startServer({ ...back, publicUrl: PUBLIC_URL });
  try {
    const roundTrip = await snapshot(home);
    for (const [path, body] of before)
      if (!path.includes('moved-b') && path !== '/simple/ json')
        assert.equal(roundTrip.get(path), body, path);
    const b = JSON.parse(roundTrip.get('/simple/moved-b/ json')!) as {
      files: { filename: string }[];
    };
    assert.deepEqual(
      b.files.map((f) => f.filename),
      ['moved_b-0.2-py3-none-any.whl', 'moved_b-0.3-py3-none-any.whl'],
    );
  } finally {
    await home.close();
  }
});
