import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function initial(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;

      await idColumn(db.schema.createTable('users'), dialect)
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('username_key', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('may_create_projects', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await idColumn(db.schema.createTable('projects'), dialect)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('normalized_name', 'text', (c) => c.notNull().unique())
        .addColumn('similarity_key', 'text', (c) => c.notNull())
        .addColumn('private', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_serial', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('projects_similarity_key')
        .on('projects')
        .column('similarity_key')
        .execute();

      await db.schema
        .createTable('project_roles')
        .addColumn('project_id', 'bigint', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'bigint', (c) =>
          c.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('project_roles_pk', ['project_id', 'user_id'])
        .execute();
      await db.schema
        .createIndex('project_roles_user')
        .on('project_roles')
        .column('user_id')
        .execute();

      await idColumn(db.schema.createTable('releases'), dialect)
        .addColumn('project_id', 'bigint', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('canonical_version', 'text', (c) => c.notNull())
        .addColumn('is_prerelease', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('requires_python', 'text')
        .addColumn('summary', 'text')
        .addColumn('metadata_json', 'text', (c) => c.notNull())
        .addColumn('yanked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('yanked_reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('releases_project_version', ['project_id', 'canonical_version'])
        .execute();

      await idColumn(db.schema.createTable('files'), dialect)
        .addColumn('project_id', 'bigint', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('release_id', 'bigint', (c) =>
          c.notNull().references('releases.id').onDelete('cascade'),
        )
        .addColumn('filename', 'text', (c) => c.notNull().unique())
        .addColumn('packagetype', 'text', (c) => c.notNull())
        .addColumn('python_version', 'text', (c) => c.notNull())
        .addColumn('requires_python', 'text')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('md5', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('blake2_256', 'text', (c) => c.notNull())
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('metadata_sha256', 'text')
        .addColumn('metadata_blake2_256', 'text')
        .addColumn('comment', 'text')
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .addColumn('uploader_user_id', 'bigint')
        .addColumn('uploader_token_id', 'bigint')
        .addColumn('provenance_json', 'text')
        .execute();
      await db.schema.createIndex('files_project').on('files').column('project_id').execute();
      await db.schema.createIndex('files_release').on('files').column('release_id').execute();
      await db.schema.createIndex('files_blake2').on('files').column('blake2_256').execute();

      await db.schema
        .createTable('file_metadata')
        .addColumn('file_id', 'bigint', (c) =>
          c.primaryKey().references('files.id').onDelete('cascade'),
        )
        .addColumn('content', blob, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('filename_registry')
        .addColumn('filename', 'text', (c) => c.primaryKey())
        .addColumn('blake2_256', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('filename_registry_blake2')
        .on('filename_registry')
        .column('blake2_256')
        .execute();

      await idColumn(db.schema.createTable('tokens'), dialect)
        .addColumn('user_id', 'bigint', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('publisher_id', 'bigint')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('display_prefix', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('project_limited', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('claims_json', 'text')
        .execute();
      await db.schema.createIndex('tokens_user').on('tokens').column('user_id').execute();
      await db.schema.createIndex('tokens_publisher').on('tokens').column('publisher_id').execute();

      await db.schema
        .createTable('token_projects')
        .addColumn('token_id', 'bigint', (c) =>
          c.notNull().references('tokens.id').onDelete('cascade'),
        )
        .addColumn('project_id', 'bigint', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addPrimaryKeyConstraint('token_projects_pk', ['token_id', 'project_id'])
        .execute();

      await idColumn(db.schema.createTable('journal'), dialect)
        .addColumn('project_id', 'bigint')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();

      await idColumn(db.schema.createTable('audit_events'), dialect)
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_user_id', 'bigint')
        .addColumn('actor_token_id', 'bigint')
        .addColumn('project_id', 'bigint')
        .addColumn('project_name', 'text')
        .addColumn('ip', 'text')
        .addColumn('details_json', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_events_project')
        .on('audit_events')
        .columns(['project_id', 'id'])
        .execute();
    },
  };
}
