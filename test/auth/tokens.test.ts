// @backends: runs on the embedded default and on PostgreSQL with S3.
// A token's whole life has one home (src/auth/tokens.ts): the format, the stored hash, and the
// insertion of `tokens` rows with their project links, in the caller's transaction.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import {
  hashToken,
  insertToken,
  isWellFormedToken,
  TOKEN_PREFIX,
  tokenDisplayPrefix,
} from '../../src/auth/tokens.js';
import { freshBackend } from '../support/backend.js';
import { tempDir } from '../support/tmp.js';

const SRC = new URL('../../../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('only src/auth/tokens.ts inserts tokens and their project links', () => {
  const inserting = sources(SRC)
    .filter((path) =>
      /insertInto\(\s*'(tokens|token_projects)'\s*\)/.test(readFileSync(path, 'utf8')),
    )
    .map((path) => path.slice(SRC.length));
  assert.deepEqual(inserting, ['auth/tokens.ts']);
});

const backend = freshBackend();
const db = openDatabase(backend.databaseUrl ?? `sqlite://${tempDir()}/pier.sqlite3`);
after(() => db.close());

test('insertToken stores only the hash, and the token it returns is well formed', async () => {
  await migrateToLatest(db);
  const { id, raw } = await insertToken(db.kysely, {
    userId: null,
    publisherId: null,
    name: 'test token',
    scope: 'upload',
    projects: null,
    createdAt: 1_000,
    expiresAt: 2_000,
    claimsJson: null,
  });
  assert.ok(raw.startsWith(TOKEN_PREFIX) && isWellFormedToken(raw));
  const row = await db.kysely
    .selectFrom('tokens')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  assert.equal(row.token_hash, hashToken(raw));
  assert.equal(row.display_prefix, tokenDisplayPrefix(raw));
  assert.ok(!JSON.stringify(row).includes(raw), 'the token itself is never stored');
  assert.equal(Number(row.project_limited), 0);
  assert.equal(row.scope, 'upload');
  assert.equal(Number(row.expires_at), 2_000);
});

test('a token inserted in a transaction that fails leaves nothing behind', async () => {
  const before = await db.kysely.selectFrom('tokens').select('id').execute();
  await assert.rejects(
    db.kysely.transaction().execute(async (trx) => {
      await insertToken(trx, {
        userId: null,
        publisherId: null,
        name: 'rolled back',
        scope: 'read',
        // No such project: the link fails, and with it the whole token.
        projects: [{ projectId: 999_999 }],
        createdAt: 1_000,
        expiresAt: null,
        claimsJson: null,
      });
    }),
  );
  assert.deepEqual(await db.kysely.selectFrom('tokens').select('id').execute(), before);
});

test('every token is new: two insertions never share a token or a hash', async () => {
  const a = await insertToken(db.kysely, {
    userId: null,
    publisherId: null,
    name: 'a',
    scope: 'read',
    projects: [],
    createdAt: 1,
    expiresAt: null,
    claimsJson: null,
  });
  const b = await insertToken(db.kysely, {
    userId: null,
    publisherId: null,
    name: 'b',
    scope: 'read',
    projects: [],
    createdAt: 1,
    expiresAt: null,
    claimsJson: null,
  });
  assert.notEqual(a.raw, b.raw);
  assert.notEqual(hashToken(a.raw), hashToken(b.raw));
});
