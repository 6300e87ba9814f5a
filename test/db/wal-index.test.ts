// The Simple API's freshness check keeps a project's row while SQLite's WAL-index header stays the
// same. These tests hold the rule it rests on — the header changes with every commit, made by
// this connection, another one, or another process, and only then — and check that a header
// that cannot be trusted (missing, torn, uninitialised) makes every read go to the database.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import {
  UnchangedSinceCommit,
  WAL_INDEX_HEADER_SIZE,
  WalIndexHeader,
} from '../../src/db/wal-index.js';
import { tempDir } from '../support/tmp.js';

function walDatabase() {
  const path = join(tempDir('pier-wal-index-'), 'db.sqlite3');
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.exec("create table t (k text primary key, v integer); insert into t values ('a', 1)");
  return { path, db };
}

/** Runs SQL in another process, as the CLI or a second `pier serve` would. */
function inAnotherProcess(path: string, sql: string): void {
  execFileSync(process.execPath, [
    '-e',
    `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
     const db = new D(process.argv[1]); db.exec(process.argv[2]); db.close();`,
    path,
    sql,
  ]);
}

const copy = (b: Buffer | null) =>
  b === null ? null : Buffer.from(b.subarray(0, WAL_INDEX_HEADER_SIZE));

test('the header changes with every commit, from this connection or another process, and only then', () => {
  const { path, db } = walDatabase();
  const header = new WalIndexHeader(path);
  const first = copy(header.read());
  assert.ok(first, 'a WAL database has a header');
  db.prepare('select v from t').all();
  assert.deepEqual(copy(header.read()), first, 'reading commits nothing');

  db.prepare("update t set v = 2 where k = 'a'").run();
  const second = copy(header.read());
  assert.notDeepEqual(second, first);

  inAnotherProcess(path, "update t set v = 3 where k = 'a'");
  const third = copy(header.read());
  assert.notDeepEqual(third, second);

  // A transaction rolled back commits nothing.
  db.exec("begin immediate; update t set v = 4 where k = 'a'; rollback");
  assert.deepEqual(copy(header.read()), third);

  // After a checkpoint the next writer starts the WAL over: the header still changes.
  db.pragma('wal_checkpoint(TRUNCATE)');
  const afterCheckpoint = copy(header.read());
  db.prepare("update t set v = 5 where k = 'a'").run();
  assert.notDeepEqual(copy(header.read()), afterCheckpoint);
  header.close();
  db.close();
});

test('a header that cannot be trusted reads as null', () => {
  const dir = tempDir('pier-wal-index-');
  const path = join(dir, 'db.sqlite3');
  assert.equal(new WalIndexHeader(path).read(), null, 'no -shm file');

  const good = Buffer.alloc(2 * WAL_INDEX_HEADER_SIZE);
  good.writeUInt32LE(3007000, 0);
  good[12] = 1; // isInit
  good.writeUInt32LE(7, 16); // mxFrame
  good.copy(good, WAL_INDEX_HEADER_SIZE, 0, WAL_INDEX_HEADER_SIZE);
  const cases: [string, (b: Buffer) => Buffer | null, boolean][] = [
    ['both copies agree', (b) => b, true],
    ['a writer is between the two copies', (b) => (b.writeUInt32LE(8, 16), b), false],
    ['not initialised', (b) => ((b[12] = 0), (b[12 + WAL_INDEX_HEADER_SIZE] = 0), b), false],
    [
      'another version',
      (b) => (b.writeUInt32LE(3007001, 0), b.writeUInt32LE(3007001, WAL_INDEX_HEADER_SIZE), b),
      false,
    ],
    ['shorter than two copies', (b) => b.subarray(0, 60), false],
  ];
  for (const [what, make, trusted] of cases) {
    writeFileSync(`${path}-shm`, make(Buffer.from(good))!);
    const read = new WalIndexHeader(path).read();
    assert.equal(read !== null, trusted, what);
  }
});

test('values are kept while nothing is committed and read again after any commit', () => {
  const { path, db } = walDatabase();
  const statement = db.prepare<[string], { v: number }>('select v from t where k = ?');
  let loads = 0;
  const values = new UnchangedSinceCommit(new WalIndexHeader(path), (k: string) => {
    loads++;
    return statement.get(k)?.v;
  });
  assert.equal(values.get('a'), 1);
  assert.equal(values.get('a'), 1);
  assert.equal(values.get('missing'), undefined);
  assert.equal(values.get('missing'), undefined);
  assert.equal(loads, 2, 'one load per key while nothing is committed');
  for (let v = 2; v <= 30; v++) {
    if (v % 3 === 0) inAnotherProcess(path, `update t set v = ${v} where k = 'a'`);
    else db.prepare(`update t set v = ${v} where k = 'a'`).run();
    assert.equal(values.get('a'), v, `the commit setting ${v} is seen by the very next read`);
  }
  inAnotherProcess(path, "insert into t values ('missing', 99)");
  assert.equal(values.get('missing'), 99, 'a row made elsewhere is seen at once');
  db.close();
});

test("the Simple API's project head sees another process's commit on the very next read", async () => {
  const path = join(tempDir('pier-wal-index-'), 'pier.sqlite3');
  const db = openDatabase(`sqlite:${path}`);
  await migrateToLatest(db);
  await db.kysely
    .insertInto('projects')
    .values({
      name: 'Fresh',
      normalized_name: 'fresh',
      similarity_key: 'fresh',
      private: 0,
      status: 'active',
      created_at: 0,
      last_serial: 1,
    })
    .execute();
  assert.equal((await db.hot.projectHead('fresh'))?.last_serial, 1);
  for (let serial = 2; serial <= 12; serial++) {
    assert.equal((await db.hot.projectHead('fresh'))?.last_serial, serial - 1, 'kept');
    if (serial % 2) inAnotherProcess(path, `update projects set last_serial = ${serial}`);
    else await db.kysely.updateTable('projects').set({ last_serial: serial }).execute();
    assert.equal((await db.hot.projectHead('fresh'))?.last_serial, serial);
  }
  assert.equal(await db.hot.projectHead('other'), undefined);
  inAnotherProcess(
    path,
    "insert into projects (name, normalized_name, similarity_key, private, status, created_at, last_serial) values ('other', 'other', 'other', 0, 'active', 0, 1)",
  );
  assert.equal((await db.hot.projectHead('other'))?.last_serial, 1);
  await db.close();
});
