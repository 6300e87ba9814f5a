// PEP 752 namespaces (src/namespaces): the reserved namespaces and the users each is granted to.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function namespaces(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // A reserved namespace: `name` as the administrator wrote it, `normalized_name` (PEP 503)
      // is what names are matched against and what the API shows.
      await idColumn(db.schema.createTable('namespaces'), dialect)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('normalized_name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      // Its owners: the users with an active grant for it (at least one while it exists).
      await db.schema
        .createTable('namespace_owners')
        .addColumn('namespace_id', 'bigint', (c) =>
          c.notNull().references('namespaces.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'bigint', (c) =>
          c.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('namespace_owners_pk', ['namespace_id', 'user_id'])
        .execute();
      await db.schema
        .createIndex('namespace_owners_user')
        .on('namespace_owners')
        .column('user_id')
        .execute();
    },
  };
}
