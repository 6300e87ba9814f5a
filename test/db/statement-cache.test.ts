// The SQLite connection Kysely drives prepares each statement once and hands it out again,
// except while it is still iterating; the cache is bounded, and results stay correct when the
// schema changes under a cached statement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { cachingStatements } from '../../src/db/connect.js';

function database() {
  const db = new BetterSqlite3(':memory:');
  db.exec('create table t (a integer); insert into t values (1), (2), (3)');
  return { db, cached: cachingStatements(db) };
}

test('the same SQL gets the same prepared statement', () => {
  const { cached } = database();
  const first = cached.prepare('select a from t order by a');
  assert.equal(cached.prepare('select a from t order by a'), first);
  assert.notEqual(cached.prepare('select a from t where a = ?'), first);
  assert.deepEqual(first.all([]), [{ a: 1 }, { a: 2 }, { a: 3 }]);
});

test('a statement still iterating is not handed out again', () => {
  const { cached } = database();
  const sql = 'select a from t order by a';
  const iterating = cached.prepare(sql);
  const rows = iterating.iterate([]) as IterableIterator<{ a: number }>;
  assert.equal(rows.next().value?.a, 1);
  const other = cached.prepare(sql);
  assert.notEqual(other, iterating);
  assert.deepEqual(other.all([]), [{ a: 1 }, { a: 2 }, { a: 3 }]);
  assert.equal(rows.next().value?.a, 2);
  for (const _ of rows); // finish: the cached one is free again
  assert.equal(cached.prepare(sql), iterating);
});

test('at most 256 statements are kept; the least recently used goes first', () => {
  const { cached } = database();
  const keep = cached.prepare('select 0 as n');
  const firstOthers = cached.prepare('select 1 as n');
  for (let i = 2; i <= 255; i++) cached.prepare(`select ${i} as n`);
  cached.prepare('select 0 as n'); // used again: now the most recent
  cached.prepare('select 256 as n'); // 257th: drops `select 1`, the least recently used
  assert.equal(cached.prepare('select 0 as n'), keep);
  assert.notEqual(cached.prepare('select 1 as n'), firstOthers);
});

test('a cached statement follows a change of the schema', () => {
  const { db, cached } = database();
  const sql = 'select * from t order by a';
  assert.deepEqual(cached.prepare(sql).all([]), [{ a: 1 }, { a: 2 }, { a: 3 }]);
  db.exec("alter table t add column b text default 'x'");
  assert.deepEqual(cached.prepare(sql).all([])[0], { a: 1, b: 'x' });
});

test('close closes the connection', () => {
  const { db, cached } = database();
  cached.close();
  assert.equal(db.open, false);
});
