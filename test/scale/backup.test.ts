// @backends: runs on the embedded default and on PostgreSQL with S3.
// `pier backup` of a running index: taken while uploads go on, the copy is one consistent
// snapshot (no file without its release, its blob or its audit event; no upload half in), and
// `pier transfer --data-dir BACKUP` restores it into a fresh index that serves the same pages and
// bytes to pip. Refusals (a folder that is not empty, a file whose blob is gone) change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { backendName, freshBackend } from '../support/backend.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeSdist, makeWheel } from '../support/dists.js';
import { sample } from '../support/fixtures.js';
import { createVenv, exec, pipInstall } from '../support/python.js';
import { clientView } from '../support/client-view.js';
import { indexSnapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tmp.js';
import { backupIndex } from '../../src/backup.js';

/** Journal rows added so that copying the database takes long enough for uploads to land in it. */
const PADDING_ROWS = 40_000;

let source: TestServer;
let token: string;
/** Every file of project `busy` whose upload was answered 200, in order. */
const busyUploaded: string[] = [];

interface Manifest {
  format: string;
  pier_version: string;
  taken_at: string;
  source: { dialect: string; database: string; storage: string };
  schema: { migrations: string[] };
  database: string;
  files: string | null;
  tables: Record<string, number>;
  blobs: { key: string; size: number; sha256: string; filename: string }[];
}

function readManifest(folder: string): Manifest {
  return JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Manifest;
}

/** A fresh index on the backend under test, or the embedded default in a new folder. */
function restoreTarget(): { dataDir: string; databaseUrl: string; storageUrl: string } {
  const dataDir = tempDir('pier-restore-');
  if (backendName() === 'postgres') {
    const b = freshBackend();
    return { dataDir, databaseUrl: b.databaseUrl!, storageUrl: b.storageUrl! };
  }
  return {
    dataDir,
    databaseUrl: `sqlite://${join(dataDir, 'pier.sqlite3')}`,
    storageUrl: `file://${join(dataDir, 'files')}`,
  };
}

/** `pier transfer` from a backup folder (and, without its files, the live store). */
function restore(
  folder: string,
  target: { databaseUrl: string; storageUrl: string },
  storageUrl?: string,
) {
  return runPier(
    [
      'transfer',
      '--data-dir',
      folder,
      ...(storageUrl ? ['--storage-url', storageUrl] : []),
      '--to-database-url',
      target.databaseUrl,
      '--to-storage-url',
      target.storageUrl,
    ],
    {},
  );
}

async function upload(spec: Parameters<typeof uploadParts>[0]) {
  const res = await postUpload(source.listenUrl, token, await uploadParts(spec));
  assert.equal(res.status, 200, res.body);
}

async function uploadDist(
  file: { filename: string; content: Buffer },
  name: string,
  version: string,
) {
  await upload({ ...file, fields: { name, version } });
}

async function uploadBusy(): Promise<string> {
  const version = `1.0.${busyUploaded.length}`;
  const wheel = await makeWheel({ name: 'busy', version, extra: { 'data.bin': version } });
  await uploadDist(wheel, 'busy', version);
  busyUploaded.push(wheel.filename);
  return wheel.filename;
}

before(async () => {
  source = await startServer();
  token = await source.userWithToken('keeper', { mayCreateProjects: true });
  await upload({ path: sample('sample').wheel });
  await uploadDist(await makeSdist({ name: 'kept', version: '1.0' }), 'kept', '1.0');
  await uploadDist(await makeWheel({ name: 'kept', version: '1.0' }), 'kept', '1.0');
  await uploadDist(await makeWheel({ name: 'kept', version: '1.1' }), 'kept', '1.1');
  await uploadDist(await makeWheel({ name: 'kept', version: '0.9' }), 'kept', '0.9');
  await source.services.manage.setYanked(OPERATOR, 'kept', '1.1', true, 'kept yanked');
  await source.services.manage.delete(OPERATOR, 'kept', '0.9');
  await uploadBusy();
  const rows = Array.from({ length: 500 }, () => ({ project_id: null, action: 'padding', at: 1 }));
  for (let i = 0; i < PADDING_ROWS; i += rows.length)
    await source.services.db.kysely.insertInto('journal').values(rows).execute();
});

after(() => source.close());

test('a backup taken while uploads go on is one consistent snapshot, and restores', async (t) => {
  const done: { filename: string; at: number }[] = [];
  let stop = false;
  const uploader = (async () => {
    while (!stop) done.push({ filename: await uploadBusy(), at: Date.now() });
  })();
  const folder = join(tempDir('pier-backup-'), 'during');
  let started = 0;
  let finished = 0;
  let backup: Awaited<ReturnType<typeof runPier>>;
  try {
    while (done.length < 2) await new Promise((r) => setTimeout(r, 10));
    started = Date.now();
    backup = await runPier(['backup', folder], source.env());
    finished = Date.now();
  } finally {
    stop = true;
    await uploader;
  }
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stdout, /^backed up \d+ rows and \d+ files .*checked in the store/);
  const during = done.filter((d) => d.at > started && d.at < finished).length;
  assert.ok(during >= 2, `only ${during} uploads finished while the backup ran`);
  t.diagnostic(`${during} uploads finished during the ${finished - started} ms backup`);

  assert.deepEqual(readdirSync(folder).sort(), ['manifest.json', 'pier.sqlite3']);
  const manifest = readManifest(folder);
  const db = new BetterSqlite3(join(folder, 'pier.sqlite3'), { readonly: true });
  try {
    const all = (query: string) => db.prepare(query).all() as Record<string, unknown>[];
    const busy = all(
      `select f.filename from files f join projects p on p.id = f.project_id where p.name = 'busy' order by f.id`,
    ).map((r) => r.filename as string);
    // Every upload that finished before the backup started is in it; some that finished while it
    // ran are not (the snapshot was taken early and held); every file in it was a whole upload.
    for (const d of done.filter((d) => d.at < started)) assert.ok(busy.includes(d.filename));
    assert.ok(busy.length < busyUploaded.length, 'the snapshot saw every upload');
    assert.deepEqual(busy, busyUploaded.slice(0, busy.length));
    // Each file has its release, project, name registration, metadata and audit event; each
    // project's serial is its latest journal row: nothing was read from before or after.
    assert.deepEqual(
      all(`select f.filename from files f
           left join releases r on r.id = f.release_id and r.project_id = f.project_id
           left join projects p on p.id = f.project_id
           left join filename_registry n on n.filename = f.filename
           left join file_metadata m on m.file_id = f.id
           where r.id is null or p.id is null or n.filename is null
              or (m.file_id is null and f.filename like '%.whl')`),
      [],
    );
    const audited = all(
      `select json_extract(details_json, '$.filename') as filename from audit_events
       where action = 'upload' and project_name = 'busy' order by id`,
    ).map((r) => r.filename as string);
    assert.deepEqual(audited, busy);
    assert.deepEqual(
      all(`select p.name from projects p
           where p.last_serial != (select max(j.id) from journal j where j.project_id = p.id)`),
      [],
    );
    // The manifest names every file's blob, and counts what the copy holds.
    const files = all('select filename, blob_key, size, sha256 from files order by id');
    assert.deepEqual(
      manifest.blobs,
      files.map((f) => ({ key: f.blob_key, size: f.size, sha256: f.sha256, filename: f.filename })),
    );
    for (const [table, rows] of Object.entries(manifest.tables))
      assert.equal(
        (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n,
        rows,
        table,
      );
  } finally {
    db.close();
  }
  assert.equal(manifest.format, 'pier-backup/1');
  assert.equal(manifest.source.dialect, backendName());
  assert.equal(manifest.files, null);
  assert.ok(manifest.schema.migrations.includes('0001-initial'));
  assert.ok(Math.abs(Date.parse(manifest.taken_at) - started) < 10_000);
  assert.equal(statSync(folder).mode & 0o777, 0o700);
  assert.equal(statSync(join(folder, 'pier.sqlite3')).mode & 0o777, 0o600);

  // Restored with the live store's files: transfer verifies each, and the new index serves
  // exactly the files the backup holds.
  const target = restoreTarget();
  const restored = await restore(folder, target, source.sameData().storageUrl);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(
    restored.stderr,
    new RegExp(`files: ${manifest.blobs.length}/${manifest.blobs.length} copied and verified`),
  );
  const there = await startServer(target);
  try {
    const view = await clientView(there, { projects: ['busy'] });
    const page = JSON.parse(view.get('/simple/busy/ json')!) as {
      files: { filename: string; hashes: { sha256: string } }[];
    };
    const expected = manifest.blobs.filter((b) => b.filename.startsWith('busy-'));
    assert.deepEqual(
      page.files.map((f) => [f.filename, f.hashes.sha256]).sort(),
      expected.map((b) => [b.filename, b.sha256]).sort(),
    );
  } finally {
    await there.close();
  }
});

test('a backup with its files restores into a fresh index serving the same pages and bytes', async () => {
  const projects = ['pier-sample', 'kept', 'busy'];
  const view = await clientView(source, { projects });
  const folder = tempDir('pier-backup-');
  const backup = await runPier(['backup', folder, '--with-blobs', '--json'], source.env());
  assert.equal(backup.code, 0, backup.stderr);
  const summary = JSON.parse(backup.stdout) as {
    blobs: number;
    with_blobs: boolean;
    folder: string;
  };
  const manifest = readManifest(folder);
  assert.equal(summary.blobs, manifest.blobs.length);
  assert.equal(summary.with_blobs, true);
  assert.equal(manifest.files, 'files');
  assert.equal(statSync(folder).mode & 0o777, 0o700);

  // The backup alone (its database and files) is the source: the live store is not needed.
  const target = restoreTarget();
  const restored = await restore(folder, target);
  assert.equal(restored.code, 0, restored.stderr);
  const there = await startServer(target);
  try {
    const after = await clientView(there, { projects });
    assert.deepEqual([...after.keys()].sort(), [...view.keys()].sort());
    for (const [path, body] of view) assert.equal(after.get(path), body, path);
    // pip installs from the restored index.
    const venv = await createVenv();
    const pip = await pipInstall(venv, `${there.listenUrl}/simple/`, ['pier-sample==1.0.0'], [], {
      PIP_CONFIG_FILE: '/dev/null',
    });
    assert.equal(pip.code, 0, pip.stdout + pip.stderr);
    const greeting = await exec(venv.python, [
      '-c',
      'import pier_sample; print(pier_sample.GREETING)',
    ]);
    assert.equal(greeting.stdout.trim(), 'hello from pier-sample');
  } finally {
    await there.close();
  }
});

test('a folder that is not empty is refused, and nothing changes', async () => {
  const before = await indexSnapshot(source);
  const folder = tempDir('pier-backup-');
  writeFileSync(join(folder, 'keep.txt'), 'mine');
  const refused = await runPier(['backup', folder], source.env());
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error: .* is not empty .*new or empty folder/);
  assert.deepEqual(readdirSync(folder), ['keep.txt']);
  assert.equal(readFileSync(join(folder, 'keep.txt'), 'utf8'), 'mine');
  const file = join(folder, 'keep.txt');
  const notFolder = await runPier(['backup', file], source.env());
  assert.equal(notFolder.code, 1);
  assert.match(notFolder.stderr, /is not a folder/);
  assert.deepEqual(await indexSnapshot(source), before);
});

test('a file whose blob is gone is reported, the backup refused, and nothing changes', async () => {
  const gone = await source.services.db.kysely
    .selectFrom('files')
    .select(['filename', 'blob_key'])
    .where('filename', 'like', 'kept-1.0-%')
    .executeTakeFirstOrThrow();
  const chunks: Buffer[] = [];
  for await (const c of await source.services.blobs.read(gone.blob_key)) chunks.push(c as Buffer);
  await source.services.blobs.delete(gone.blob_key);
  try {
    const before = await indexSnapshot(source);
    const parent = tempDir('pier-backup-');
    const fresh = join(parent, 'new', 'backup');
    const checked = await runPier(['backup', fresh], source.env());
    assert.equal(checked.code, 1);
    assert.match(
      checked.stderr,
      new RegExp(`missing: ${gone.filename} \\(blob ${gone.blob_key}\\)`),
    );
    assert.match(
      checked.stderr,
      /error: 1 of the \d+ files the index refers to are missing .*no backup was written/,
    );
    assert.deepEqual(readdirSync(parent), []);

    const empty = join(parent, 'empty');
    mkdirSync(empty, { mode: 0o755 });
    const copied = await runPier(['backup', empty, '--with-blobs'], source.env());
    assert.equal(copied.code, 1);
    assert.match(copied.stderr, new RegExp(`missing: ${gone.filename}`));
    assert.deepEqual(readdirSync(empty), []);
    assert.equal(statSync(empty).mode & 0o777, 0o755);
    assert.deepEqual(await indexSnapshot(source), before);
  } finally {
    await source.services.blobs.put(gone.blob_key, Readable.from([Buffer.concat(chunks)]));
  }
});

test('a file deleted between the snapshot and the check of its blob: the backup is taken again', async () => {
  await uploadDist(await makeWheel({ name: 'short-lived', version: '1.0' }), 'short-lived', '1.0');
  const doomed = await source.services.db.kysely
    .selectFrom('files')
    .select('blob_key')
    .where('filename', '=', 'short_lived-1.0-py3-none-any.whl')
    .executeTakeFirstOrThrow();
  // The store as the backup sees it, with the one thing a test cannot time from outside: the
  // release is deleted (row, then blob, as `pier delete` does) just before its blob is checked.
  const store = source.services.blobs;
  let deleted = false;
  const blobs = new Proxy(store, {
    get(target, prop) {
      if (prop === 'stat')
        return async (key: string) => {
          if (key === doomed.blob_key && !deleted) {
            deleted = true;
            await source.services.manage.delete(OPERATOR, 'short-lived', '1.0');
          }
          return target.stat(key);
        };
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  const folder = tempDir('pier-backup-');
  const events: unknown[] = [];
  const result = await backupIndex(
    { db: source.services.db, blobs },
    folder,
    { withBlobs: false, pierVersion: 'test' },
    (e) => events.push(e),
  );
  assert.ok(deleted);
  assert.deepEqual(
    events.filter((e) => (e as { stage: string }).stage === 'again'),
    [{ stage: 'again', deleted: 1 }],
  );
  const manifest = readManifest(folder);
  assert.equal(result.blobs, manifest.blobs.length);
  assert.ok(!manifest.blobs.some((b) => b.key === doomed.blob_key));
  assert.ok(manifest.blobs.length > 0);
});
