// Staged releases (src/registry/staged, docs/trusted-publishing.md "Staged releases"): uploads
// that land in a release installers do not see until an owner or maintainer approves it, then
// appear all at once. Shaped as PEP 694's publishing sessions (draft): one session per project
// and version, with its files, a state and an unguessable token naming its preview.
// - `projects.stage_uploads`: the project's policy, every upload is staged;
// - `publisher_projects.stage_only`: a trusted publisher's link to a project stages its uploads
//   (on the link, like `access`, so it is the same for every provider).
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function stagedReleases(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;
      await db.schema
        .alterTable('projects')
        .addColumn('stage_uploads', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('publisher_projects')
        .addColumn('stage_only', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await idColumn(db.schema.createTable('staged_releases'), dialect)
        // PEP 694's session token: random, names the preview index and the session in URLs.
        .addColumn('token', 'text', (c) => c.notNull().unique())
        .addColumn('project_id', 'bigint', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('canonical_version', 'text', (c) => c.notNull())
        // open | approved | rejected | expired
        .addColumn('state', 'text', (c) => c.notNull())
        // Who staged it, as the audit log names actors; the token and the publisher, if any.
        .addColumn('staged_by', 'text', (c) => c.notNull())
        .addColumn('staged_by_token_id', 'bigint')
        .addColumn('staged_by_publisher_id', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .addColumn('decided_by', 'text')
        .addColumn('decided_by_user_id', 'bigint')
        // The filenames it held, kept after a rejection or expiry deletes its files.
        .addColumn('filenames_json', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      // At most one open session per release: every staged upload of a version joins it.
      await sql`CREATE UNIQUE INDEX staged_releases_open ON staged_releases (project_id, canonical_version) WHERE state = 'open'`.execute(
        db,
      );
      await db.schema
        .createIndex('staged_releases_expiry')
        .on('staged_releases')
        .columns(['state', 'expires_at'])
        .execute();
      await idColumn(db.schema.createTable('staged_files'), dialect)
        .addColumn('staged_release_id', 'bigint', (c) =>
          c.notNull().references('staged_releases.id').onDelete('cascade'),
        )
        // The columns of `files`, as the approval will insert them.
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
        .addColumn('metadata_content', blob)
        .addColumn('comment', 'text')
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .addColumn('uploader_user_id', 'bigint')
        .addColumn('uploader_token_id', 'bigint')
        .addColumn('provenance_json', 'text')
        // The release's metadata as this file recorded it (the first file's makes the release).
        .addColumn('release_metadata_json', 'text', (c) => c.notNull())
        // PEP 740: the verified attestations, stored with the file at approval.
        .addColumn('attestations_json', 'text')
        .execute();
      await db.schema
        .createIndex('staged_files_release')
        .on('staged_files')
        .column('staged_release_id')
        .execute();
    },
  };
}
