// @backends: runs on the embedded default and on PostgreSQL with S3.
// `pier transfer` and `pier backup` read every table a page at a time (src/transfer.ts
// `pagesOf`), so their memory does not grow with the index: each page starts after the last key
// of the one before, by the whole primary key. With pages of two rows, every row of a table with
// a one-column key and of one with a two-column key comes back exactly once, in key order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pagesOf, TABLES } from '../../src/transfer.js';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
after(async () => server?.close());

test('pages by the primary key: every row once, in order, whatever the page size', async () => {
  server = await startServer();
  const { auth, projects, db } = server.services;
  for (const name of ['ann', 'bob', 'cat'])
    await auth.addUser(OPERATOR, { username: name, password: `${name}-password` });
  for (const name of ['paged-a', 'paged-b', 'paged-c'])
    await projects.create(OPERATOR, name, 'ann');
  for (const project of ['paged-a', 'paged-c'])
    for (const user of ['bob', 'cat'])
      await projects.setRole(OPERATOR, project, user, 'maintainer');

  for (const table of ['users', 'projects', 'project_roles'] as const) {
    const { key } = TABLES.find((t) => t.name === table)!;
    const all = (await db.kysely.selectFrom(table).selectAll().execute()) as Record<
      string,
      unknown
    >[];
    const byKey = (r: Record<string, unknown>) => key.map((k) => String(r[k])).join('/');
    for (const size of [1, 2, 3, 1000]) {
      const pages: Record<string, unknown>[][] = [];
      for await (const page of pagesOf(db.kysely, table, key, '*', size)) pages.push(page);
      assert.ok(
        pages.every((p) => p.length > 0 && p.length <= size),
        `${table}: pages of at most ${size}`,
      );
      const rows = pages.flat();
      assert.equal(rows.length, all.length, `${table}, pages of ${size}: every row`);
      assert.equal(
        new Set(rows.map(byKey)).size,
        all.length,
        `${table}, pages of ${size}: once each`,
      );
      assert.deepEqual(
        rows.map(byKey),
        [...rows]
          .sort((a, b) => {
            for (const k of key) {
              const [x, y] = [a[k], b[k]];
              const c =
                typeof x === 'number' || /^\d+$/.test(String(x))
                  ? Number(x) - Number(y)
                  : String(x).localeCompare(String(y));
              if (c !== 0) return c;
            }
            return 0;
          })
          .map(byKey),
        `${table}, pages of ${size}: in key order`,
      );
    }
  }
  // The composite-key table really spans several pages of two (4 roles + 3 owners).
  assert.ok((await db.kysely.selectFrom('project_roles').selectAll().execute()).length >= 5);
});
