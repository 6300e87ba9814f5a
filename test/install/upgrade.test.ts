// @backends: runs on the embedded default and on PostgreSQL with S3.
// Upgrading an index made by the first release (migrations 0001–0004): its rows and files, as
// that release wrote them (test/install/index-0004/, made by pier at that schema), are loaded into
// a database migrated to 0004 only, then today's `pier migrate` upgrades it, and today's
// `pier serve` serves everything it held: users and their tokens, projects, roles, releases,
// files with their hashes, yanks, trusted publishers and the audit log.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Migrator, sql, type Kysely } from 'kysely';
import { REPO_ROOT, runPier, startPierProcess, type PierProcess } from '../support/server.js';
import { backendEnv, backendName } from '../support/backend.js';
import { makeWheel } from '../support/dists.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { tempDir } from '../support/tmp.js';
import { openDatabase } from '../../src/db/connect.js';
import { migrations } from '../../src/db/migrate.js';
import { openBlobStore } from '../../src/storage/blob-store.js';

const FIXTURE = join(REPO_ROOT, 'test', 'install', 'index-0004');
const old = JSON.parse(readFileSync(join(FIXTURE, 'index.json'), 'utf8')) as {
  migrations: string[];
  tables: Record<string, Record<string, unknown>[]>;
  blobs: string[];
  token: string;
  files: string[];
};

/** Settings of an empty index: nothing in its database, nothing in its storage. */
function emptyIndex(): Record<string, string> {
  const env: Record<string, string> = { PIER_DATA_DIR: tempDir('pier-upgrade-') };
  if (backendName() === 'postgres') {
    const admin = process.env.PIER_TEST_PG_ADMIN_URL!;
    const name = `pier_upgrade_${randomUUID().replace(/-/g, '')}`;
    execFileSync(
      process.env.PIER_TEST_PSQL ?? 'psql',
      [admin, '-qAtc', `CREATE DATABASE ${name}`],
      {
        stdio: 'pipe',
      },
    );
    const url = new URL(admin);
    url.pathname = `/${name}`;
    env.PIER_STORAGE_URL = backendEnv().PIER_STORAGE_URL!;
    env.PIER_DATABASE_URL = url.href;
  } else {
    env.PIER_DATABASE_URL = `sqlite://${join(env.PIER_DATA_DIR!, 'pier.sqlite3')}`;
    env.PIER_STORAGE_URL = `file://${join(env.PIER_DATA_DIR!, 'files')}`;
  }
  return env;
}

/** The index as the first release left it: its schema, its rows, its files. */
async function oldIndex(env: Record<string, string>): Promise<void> {
  const db = openDatabase(env.PIER_DATABASE_URL!);
  try {
    const all = migrations(db.dialect);
    const previous = Object.fromEntries(old.migrations.map((name) => [name, all[name]!]));
    const { error } = await new Migrator({
      db: db.kysely,
      provider: { getMigrations: async () => previous },
    }).migrateToLatest();
    if (error) throw error;
    const k = db.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
    for (const [table, rows] of Object.entries(old.tables)) {
      for (const row of rows) {
        const values = Object.fromEntries(
          Object.entries(row).map(([c, v]) => [
            c,
            v && typeof v === 'object' && 'base64' in v
              ? Buffer.from((v as { base64: string }).base64, 'base64')
              : v,
          ]),
        );
        await k.insertInto(table).values(values).execute();
      }
      if (db.dialect === 'postgres' && rows.length > 0 && 'id' in rows[0]!)
        await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT MAX(id) FROM ${sql.table(table)}))`.execute(
          db.kysely,
        );
    }
  } finally {
    await db.close();
  }
  const blobs = await openBlobStore(env.PIER_STORAGE_URL!);
  try {
    for (const key of old.blobs)
      await blobs.put(key, Readable.from([readFileSync(join(FIXTURE, 'blobs', key))]));
  } finally {
    blobs.close();
  }
}

let pier: PierProcess | undefined;
after(() => pier?.stop());

test('pier migrate upgrades an index of the first release, and it serves all it held', async () => {
  const env = emptyIndex();
  await oldIndex(env);

  const migrated = await runPier(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const today = Object.keys(migrations(backendName()));
  const added = today.filter((m) => !old.migrations.includes(m));
  assert.equal(
    migrated.stdout.trim(),
    added.length
      ? `applied: ${added.join(', ')}`
      : `the schema is up to date (${today.length} migrations)`,
  );

  pier = await startPierProcess(env);
  const headers = { authorization: `Bearer ${old.token}` };
  const whoami = await fetch(`${pier.url}/api/whoami`, { headers });
  assert.equal(whoami.status, 200, 'a token of the old index still works');
  assert.match(await whoami.text(), /alice/);

  const page = (await (
    await fetch(`${pier.url}/simple/old-project/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    })
  ).json()) as {
    files: { filename: string; url: string; hashes: { sha256: string }; yanked: unknown }[];
  };
  assert.deepEqual(page.files.map((f) => f.filename).sort(), [...old.files].sort());
  const stored = new Map(old.tables.files!.map((f) => [f.filename as string, f.sha256 as string]));
  for (const f of page.files) {
    assert.equal(f.hashes.sha256, stored.get(f.filename));
    const download = await fetch(new URL(f.url, pier.url));
    const bytes: Buffer = Buffer.from(await download.arrayBuffer());
    assert.equal(createHash('sha256').update(bytes).digest('hex'), f.hashes.sha256, f.filename);
    assert.equal(f.yanked, f.filename.includes('-2.0') ? 'broken build' : false, f.filename);
  }

  const users = await runPier(['user', 'list'], env);
  assert.deepEqual(
    users.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]),
    ['alice', 'bob'],
  );
  const publishers = await runPier(['publisher', 'list', 'old-project'], env);
  assert.match(
    publishers.stdout,
    /acme\/old-project.*https:\/\/ghe\.example\.com\/_services\/token/,
  );
  const audit = await runPier(['audit', '--project', 'old-project', '--json'], env);
  const actions = audit.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { action: string }).action);
  assert.equal(actions.filter((a) => a === 'upload').length, 3);
  assert.ok(actions.includes('yank') && actions.includes('role-set'), actions.join(' '));

  // And it goes on: a new release with the old token, a new user (ids continue past the old).
  const w = await makeWheel({ name: 'old-project', version: '3.0' });
  const up = await postUpload(
    pier.url,
    old.token,
    await uploadParts({ ...w, fields: { name: 'old-project', version: '3.0' } }),
  );
  assert.equal(up.status, 200, up.body);
  const added3 = await runPier(['user', 'add', 'carol'], env);
  assert.equal(added3.code, 0, added3.stderr);
});
