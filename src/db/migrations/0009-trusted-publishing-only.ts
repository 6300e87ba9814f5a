// Trusted-publishing-only projects: uploads come from the project's trusted publishers alone
// (src/auth/permissions.ts projectTakesUploadsFrom); API tokens and passwords cannot upload.
import type { Kysely } from 'kysely';

export const trustedPublishingOnly = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('projects')
      .addColumn('trusted_publishing_only', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
