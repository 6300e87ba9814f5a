// Moving an index to other storage — the embedded default to PostgreSQL and S3, or back — with
// one command (`pier transfer`). Every blob is copied and read back from the target, and its
// SHA-256 checked against the database, before any row is written; then all rows are copied,
// ids and all, in one transaction on the target. A failure leaves the target's database empty.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Db } from './db/connect.js';
import type { Database } from './db/schema.js';
import type { BlobStore } from './storage/blob-store.js';

/** Tables in an order that satisfies their foreign keys; `id` says whether they have a serial id. */
export const TABLES: { name: keyof Database; id: boolean; order: string }[] = [
  { name: 'users', id: true, order: 'id' },
  { name: 'projects', id: true, order: 'id' },
  { name: 'project_roles', id: false, order: 'project_id' },
  { name: 'releases', id: true, order: 'id' },
  { name: 'files', id: true, order: 'id' },
  { name: 'file_metadata', id: false, order: 'file_id' },
  { name: 'file_attestations', id: true, order: 'id' },
  { name: 'filename_registry', id: false, order: 'filename' },
  { name: 'tokens', id: true, order: 'id' },
  { name: 'token_projects', id: false, order: 'token_id' },
  { name: 'journal', id: true, order: 'id' },
  { name: 'audit_events', id: true, order: 'id' },
  { name: 'oidc_issuers', id: true, order: 'id' },
  { name: 'publishers', id: true, order: 'id' },
  { name: 'publisher_projects', id: false, order: 'publisher_id' },
  { name: 'oidc_jtis', id: false, order: 'jti' },
  { name: 'namespaces', id: true, order: 'id' },
  { name: 'namespace_owners', id: false, order: 'namespace_id' },
  // The upstream proxy's cache (src/proxy): pages, checked files, the run-time exclude list.
  { name: 'upstream_pages', id: false, order: 'normalized_name' },
  { name: 'upstream_blobs', id: false, order: 'sha256' },
  { name: 'upstream_excludes', id: false, order: 'pattern' },
];

export class TransferError extends Error {}

export interface TransferProgress {
  (
    event:
      | { stage: 'blob'; done: number; total: number; filename: string }
      | { stage: 'table'; table: string; rows: number },
  ): void;
}

async function sha256Of(stream: AsyncIterable<unknown>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function isEmpty(db: Kysely<Database>): Promise<boolean> {
  for (const table of ['users', 'projects', 'files', 'tokens'] as const) {
    const row = await db
      .selectFrom(table)
      .select(sql<number>`1`.as('x'))
      .limit(1)
      .executeTakeFirst();
    if (row) return false;
  }
  return true;
}

export async function transferIndex(
  source: { db: Db; blobs: BlobStore },
  target: { db: Db; blobs: BlobStore },
  progress: TransferProgress = () => undefined,
): Promise<{ files: number; rows: Record<string, number> }> {
  if (!(await isEmpty(target.db.kysely)))
    throw new TransferError(
      'The target already holds an index: pier transfers only into an empty database.',
    );

  // 1. Every file's bytes, verified by hash at the target.
  const hosted = await source.db.kysely
    .selectFrom('files')
    .select(['filename', 'blob_key', 'sha256', 'size'])
    .orderBy('id')
    .execute();
  // Files cached from the upstream are checked the same way, against the sha256 they were kept for.
  const cached = await source.db.kysely
    .selectFrom('upstream_blobs')
    .select(['sha256', 'blob_key', 'size'])
    .orderBy('sha256')
    .execute();
  const files = [
    ...hosted,
    ...cached.map((b) => ({
      filename: `upstream file ${b.sha256}`,
      blob_key: b.blob_key,
      sha256: b.sha256,
      size: Number(b.size),
    })),
  ];
  let done = 0;
  for (const file of files) {
    const existing = await target.blobs.stat(file.blob_key);
    if (!existing) await target.blobs.put(file.blob_key, await source.blobs.read(file.blob_key));
    const copied = await sha256Of(await target.blobs.read(file.blob_key));
    if (copied.sha256 !== file.sha256 || copied.size !== file.size)
      throw new TransferError(
        `${file.filename}: the copy's sha256 is ${copied.sha256} (${copied.size} bytes), the index says ${file.sha256} (${file.size} bytes)`,
      );
    progress({ stage: 'blob', done: ++done, total: files.length, filename: file.filename });
  }

  // 2. Every row, ids kept, in one transaction.
  const counts: Record<string, number> = {};
  await target.db.kysely.transaction().execute(async (trx) => {
    for (const table of TABLES) {
      const rows = await source.db.kysely
        .selectFrom(table.name)
        .selectAll()
        .orderBy(table.order as never)
        .execute();
      for (let i = 0; i < rows.length; i += 200)
        await trx
          .insertInto(table.name)
          .values(rows.slice(i, i + 200) as never)
          .execute();
      counts[table.name] = rows.length;
      progress({ stage: 'table', table: table.name, rows: rows.length });
    }
    if (target.db.dialect === 'postgres') {
      // Serial ids continue after the copied ones.
      for (const table of TABLES.filter((t) => t.id))
        await sql`SELECT setval(pg_get_serial_sequence(${table.name}, 'id'), COALESCE((SELECT MAX(id) FROM ${sql.table(table.name)}), 0) + 1, false)`.execute(
          trx,
        );
    }
  });
  return { files: files.length, rows: counts };
}
