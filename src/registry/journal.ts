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

/**
 * The index's serial as a reader sees it: the latest change among the projects that reader may
 * see. The journal's own maximum would move with every change to a private project, telling a
 * stranger when one is active; so it is taken over the visible projects only (quarantined ones
 * included: their status is public).
 */
export function indexSerial(visible: readonly { last_serial: number }[]): number {
  let serial = 0;
  for (const project of visible) if (project.last_serial > serial) serial = project.last_serial;
  return serial;
}
