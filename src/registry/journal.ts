// The journal: one row per change to a project, numbered. A project's last_serial is the number
// of its latest change; caches of rendered pages compare it with the database on every request,
// so a change made through any process is seen by the very next request to every other.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export async function bumpSerial(
  db: Kysely<Database>,
  projectId: number,
  action: string,
): Promise<number> {
  const row = await db
    .insertInto('journal')
    .values({ project_id: projectId, action, at: Date.now() })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .updateTable('projects')
    .set({ last_serial: row.id })
    .where('id', '=', projectId)
    .execute();
  return row.id;
}

/** The index-wide serial: the number of the latest change to any project. */
export async function currentSerial(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('journal')
    .select((eb) => eb.fn.max('id').as('serial'))
    .executeTakeFirst();
  return Number(row?.serial ?? 0);
}
