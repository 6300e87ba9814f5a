// @backends: runs on the embedded default and on PostgreSQL with S3.
// Schema migrations: the embedded default migrates itself on start; on PostgreSQL `pier serve`
// refuses a schema older or newer than it knows and says to run `pier migrate`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { runPier, startPierProcess } from '../support/server.js';
import { backendEnv, backendName } from '../support/backend.js';
import { tempDir } from '../support/tmp.js';
import { openDatabase } from '../../src/db/connect.js';

/** A database with no schema at all (on PostgreSQL: not a copy of the migrated template). */
function emptyDatabase(): Record<string, string> {
  const env: Record<string, string> = { PIER_DATA_DIR: tempDir('pier-schema-') };
  if (backendName() === 'postgres') {
    const admin = process.env.PIER_TEST_PG_ADMIN_URL!;
    const name = `pier_empty_${randomUUID().replace(/-/g, '')}`;
    execFileSync(
      process.env.PIER_TEST_PSQL ?? 'psql',
      [admin, '-qAtc', `CREATE DATABASE ${name}`],
      { stdio: 'pipe' },
    );
    const url = new URL(admin);
    url.pathname = `/${name}`;
    Object.assign(env, backendEnv(), { PIER_DATABASE_URL: url.href });
  }
  return env;
}

async function addFutureMigration(env: Record<string, string>) {
  const db = openDatabase(env.PIER_DATABASE_URL ?? `sqlite://${env.PIER_DATA_DIR}/pier.sqlite3`);
  try {
    await db.kysely
      .insertInto('kysely_migration' as never)
      .values({ name: '9999-from-the-future', timestamp: new Date().toISOString() } as never)
      .execute();
  } finally {
    await db.close();
  }
}

if (backendName() === 'postgres') {
  test('PostgreSQL: serve refuses an unmigrated database and says to run pier migrate', async () => {
    const env = emptyDatabase();
    const refused = await runPier(['serve', '--port', '0'], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /The database schema is older than this pier \(missing 0001-initial, .*\)\. Run 'pier migrate' first\./,
    );
    const migrated = await runPier(['migrate'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /applied: 0001-initial, 0002-trusted-publishing/);
    const pier = await startPierProcess(env);
    await pier.stop();
  });

  test('PostgreSQL: serve refuses a schema newer than it knows', async () => {
    const env = emptyDatabase();
    assert.equal((await runPier(['migrate'], env)).code, 0);
    await addFutureMigration(env);
    const refused = await runPier(['serve', '--port', '0'], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /The database schema is newer than this pier \(it has 9999-from-the-future\)\. Upgrade pier\./,
    );
  });
} else {
  test('the embedded default migrates its own schema on start', async () => {
    const env = emptyDatabase();
    const pier = await startPierProcess(env);
    await pier.stop();
    const status = await runPier(['migrate'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /the schema is up to date \(\d+ migrations\)/);
  });

  test('the embedded default refuses a schema newer than it knows', async () => {
    const env = emptyDatabase();
    assert.equal((await runPier(['migrate'], env)).code, 0);
    await addFutureMigration(env);
    const refused = await runPier(['serve', '--port', '0'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not know \(9999-from-the-future\)/);
  });
}
