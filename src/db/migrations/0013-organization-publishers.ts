// Organisation-wide trusted publishers (docs/organizations.md "Organisation-wide publishers"):
// a publisher registered by an administrator on an organisation, trusting a job for every
// project the organisation owns whose normalized name matches `org_wide_pattern` (a glob, `*`
// for all) at the time of each exchange. Such a row has `organization_id` set, no
// `pending_name` and no `publisher_projects` links: the exchange resolves its projects.
import { sql, type Kysely } from 'kysely';

export function organizationPublishers() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('publishers').addColumn('org_wide_pattern', 'text').execute();
      // One project publisher per trust rule (0002) stays so; an organisation-wide publisher is
      // unique per trust rule, organisation and pattern, and may share its rule with a project's.
      await db.schema.dropIndex('publishers_identity').execute();
      await db.schema
        .createIndex('publishers_identity')
        .on('publishers')
        .column('identity_key')
        .unique()
        .where(sql.ref('pending_name'), 'is', null)
        .where(sql.ref('org_wide_pattern'), 'is', null)
        .execute();
      await db.schema
        .createIndex('publishers_org_wide_identity')
        .on('publishers')
        .columns(['identity_key', 'organization_id', 'org_wide_pattern'])
        .unique()
        .where(sql.ref('org_wide_pattern'), 'is not', null)
        .execute();
    },
  };
}
