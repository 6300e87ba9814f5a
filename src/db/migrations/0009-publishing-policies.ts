// Publishing policies an operator can grant (docs/trusted-publishing.md):
// - trusted-publishing-only projects: uploads come from the project's trusted publishers alone
//   (src/auth/permissions.ts projectTakesUploadsFrom); API tokens and passwords cannot upload;
// - trusted access for reads: a publisher's link to a project says what the job's token may do
//   there, `upload` (and read) or `read` only (src/oidc/exchange.ts).
import type { Kysely } from 'kysely';

export const publishingPolicies = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('projects')
      .addColumn('trusted_publishing_only', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('publisher_projects')
      .addColumn('access', 'text', (c) => c.notNull().defaultTo('upload'))
      .execute();
  },
};
