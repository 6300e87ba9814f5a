import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function trustedPublishing(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Issuers an administrator added (the built-in ones are constants in the code).
      await idColumn(db.schema.createTable('oidc_issuers'), dialect)
        .addColumn('url', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('insecure', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('api_url', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      // Trusted publishers, and pending ones (pending_name set, no project yet).
      await idColumn(db.schema.createTable('publishers'), dialect)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('issuer_url', 'text', (c) => c.notNull())
        .addColumn('lookup_key', 'text', (c) => c.notNull())
        .addColumn('identity_key', 'text', (c) => c.notNull())
        .addColumn('config_json', 'text', (c) => c.notNull())
        .addColumn('pending_name', 'text')
        .addColumn('pending_normalized_name', 'text')
        .addColumn('added_by_user_id', 'bigint', (c) =>
          c.references('users.id').onDelete('set null'),
        )
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('publishers_lookup')
        .on('publishers')
        .columns(['issuer_url', 'kind', 'lookup_key'])
        .execute();
      // One trusted publisher per trust rule (shared by the projects that trust it)…
      await db.schema
        .createIndex('publishers_identity')
        .on('publishers')
        .column('identity_key')
        .unique()
        .where(sql.ref('pending_name'), 'is', null)
        .execute();
      // …and one pending publisher per trust rule across the index, as on PyPI.
      await db.schema
        .createIndex('publishers_pending_identity')
        .on('publishers')
        .column('identity_key')
        .unique()
        .where(sql.ref('pending_name'), 'is not', null)
        .execute();

      await db.schema
        .createTable('publisher_projects')
        .addColumn('publisher_id', 'bigint', (c) =>
          c.notNull().references('publishers.id').onDelete('cascade'),
        )
        .addColumn('project_id', 'bigint', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('publisher_projects_pk', ['publisher_id', 'project_id'])
        .execute();
      await db.schema
        .createIndex('publisher_projects_project')
        .on('publisher_projects')
        .column('project_id')
        .execute();

      // OIDC tokens already exchanged: (issuer, jti) once only, kept until the token expires.
      await db.schema
        .createTable('oidc_jtis')
        .addColumn('issuer_url', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('oidc_jtis_pk', ['issuer_url', 'jti'])
        .execute();
      await db.schema
        .createIndex('oidc_jtis_expiry')
        .on('oidc_jtis')
        .column('expires_at')
        .execute();
    },
  };
}
