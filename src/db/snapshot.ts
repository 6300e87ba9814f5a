// One consistent view of the whole database while others go on writing: every table read inside
// `fn` sees the same committed state, so a copy made table by table never holds a file without
// its release, or an audit event of an upload whose file it lacks.
import { sql, type Kysely } from 'kysely';
import type { Db } from './connect.js';
import type { Database } from './schema.js';

/**
 * Runs `fn` in one read-only snapshot: on PostgreSQL a REPEATABLE READ READ ONLY transaction; on
 * SQLite a deferred read transaction, whose snapshot (in WAL mode) is taken at its first read and
 * kept to its end while writers go on. It takes no write lock: uploads are never held up by it.
 */
export async function readSnapshot<T>(
  db: Db,
  fn: (reader: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (db.dialect === 'postgres')
    return db.kysely
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(fn);
  // Not kysely.transaction(): pier's SQLite transactions begin IMMEDIATE, taking the write lock.
  return db.kysely.connection().execute(async (connection) => {
    await sql`begin deferred`.execute(connection);
    try {
      const result = await fn(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (err) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw err;
    }
  });
}
