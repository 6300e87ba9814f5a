// The upstream proxy (src/proxy): pages fetched from the upstream index, the files and metadata
// fetched through it (content-addressed by their SHA-256, shared by every pier process), and the
// names administrators keep from ever being taken from the upstream.
import type { Kysely } from 'kysely';

export const proxy = {
  async up(db: Kysely<unknown>): Promise<void> {
    // One row per name asked of the upstream: its files (found = 1) or its absence (found = 0).
    await db.schema
      .createTable('upstream_pages')
      .addColumn('normalized_name', 'text', (c) => c.primaryKey())
      .addColumn('found', 'integer', (c) => c.notNull())
      // The page's files as JSON (src/proxy/model.ts UpstreamFile[]), upstream URLs and all.
      .addColumn('files_json', 'text', (c) => c.notNull())
      .addColumn('etag', 'text')
      // When the upstream last confirmed this answer (ms since the epoch).
      .addColumn('checked_at', 'bigint', (c) => c.notNull())
      .execute();
    // A blob whose bytes were checked against the SHA-256 the page listed. A row is written only
    // after the check, so a blob without one is never served (and is swept).
    await db.schema
      .createTable('upstream_blobs')
      .addColumn('sha256', 'text', (c) => c.primaryKey())
      .addColumn('blob_key', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    // Name globs never fetched from the upstream, managed at run time (besides PIER_UPSTREAM_EXCLUDE).
    await db.schema
      .createTable('upstream_excludes')
      .addColumn('pattern', 'text', (c) => c.primaryKey())
      .addColumn('added_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
