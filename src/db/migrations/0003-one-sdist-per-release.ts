import { sql, type Kysely } from 'kysely';

/**
 * One sdist per release, enforced by the database too: the upload checks it, but two processes
 * taking two different sdists of one release at the same moment could both pass that check.
 */
export const oneSdistPerRelease = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('files_one_sdist_per_release')
      .on('files')
      .column('release_id')
      .unique()
      .where(sql.ref('packagetype'), '=', 'sdist')
      .execute();
  },
};
