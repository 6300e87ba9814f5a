// Organisations and teams (src/orgs, docs/organizations.md): an organisation owns projects; its
// teams hold roles in them; a user's memberships come from an administrator's hand or from the
// groups an identity provider sends at sign-in. A pending publisher of an organisation creates
// a project the organisation owns.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function organizations(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // `name` as it was created; `name_key` lowercased, unique, as user names are (an
      // organisation and a user never share a name: src/orgs/names.ts).
      await idColumn(db.schema.createTable('organizations'), dialect)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      // Who belongs to it: `owner` (owner of every project it owns) or `member`.
      await db.schema
        .createTable('organization_members')
        .addColumn('organization_id', 'bigint', (c) =>
          c.notNull().references('organizations.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'bigint', (c) =>
          c.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('organization_members_pk', ['organization_id', 'user_id'])
        .execute();
      await db.schema
        .createIndex('organization_members_user')
        .on('organization_members')
        .column('user_id')
        .execute();

      await idColumn(db.schema.createTable('teams'), dialect)
        .addColumn('organization_id', 'bigint', (c) =>
          c.notNull().references('organizations.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('teams_org_name', ['organization_id', 'name_key'])
        .execute();

      // A membership per source: '' added by hand, else the identity provider whose groups
      // gave it. A user is in the team while any row exists; syncing one provider's groups
      // touches that provider's rows only.
      await db.schema
        .createTable('team_members')
        .addColumn('team_id', 'bigint', (c) =>
          c.notNull().references('teams.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'bigint', (c) =>
          c.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'user_id', 'source'])
        .execute();
      await db.schema
        .createIndex('team_members_user')
        .on('team_members')
        .column('user_id')
        .execute();

      // A team's role in a project of its organisation.
      await db.schema
        .createTable('team_project_roles')
        .addColumn('team_id', 'bigint', (c) =>
          c.notNull().references('teams.id').onDelete('cascade'),
        )
        .addColumn('project_id', 'bigint', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('team_project_roles_pk', ['team_id', 'project_id'])
        .execute();
      await db.schema
        .createIndex('team_project_roles_project')
        .on('team_project_roles')
        .column('project_id')
        .execute();

      // (identity provider, group claim value) → team.
      await db.schema
        .createTable('group_team_mappings')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('team_id', 'bigint', (c) =>
          c.notNull().references('teams.id').onDelete('cascade'),
        )
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_team_mappings_pk', ['provider', 'group_name', 'team_id'])
        .execute();

      await db.schema
        .alterTable('projects')
        .addColumn('organization_id', 'bigint', (c) => c.references('organizations.id'))
        .execute();
      await db.schema
        .createIndex('projects_organization')
        .on('projects')
        .column('organization_id')
        .execute();
      // A pending publisher of an organisation: the project it creates belongs to it.
      await db.schema
        .alterTable('publishers')
        .addColumn('organization_id', 'bigint', (c) =>
          c.references('organizations.id').onDelete('cascade'),
        )
        .execute();
    },
  };
}
