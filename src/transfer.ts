// Moving an index to other storage — the embedded default to PostgreSQL and S3, or back — with
// one command (`pier transfer`). Every blob is copied and read back from the target, and its
// SHA-256 checked against the database, before any row is written; then all rows are copied,
// ids and all, in one transaction on the target. A failure leaves the target's database empty.
// Blobs and rows are read in one snapshot of the source (src/db/snapshot.ts). `pier backup`
// (src/backup.ts) is made of the same parts.
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Db, DialectName } from './db/connect.js';
import { readSnapshot } from './db/snapshot.js';
import type { Database } from './db/schema.js';
import type { BlobStore } from './storage/blob-store.js';

/** Tables in an order that satisfies their foreign keys; `id` says whether they have a serial id. */
export const TABLES: { name: keyof Database; id: boolean; order: string }[] = [
  { name: 'users', id: true, order: 'id' },
  // Organisations and teams (src/orgs): before the projects they own.
  { name: 'organizations', id: true, order: 'id' },
  { name: 'organization_members', id: false, order: 'organization_id' },
  { name: 'teams', id: true, order: 'id' },
  { name: 'team_members', id: false, order: 'team_id' },
  { name: 'group_team_mappings', id: false, order: 'provider' },
  { name: 'projects', id: true, order: 'id' },
  { name: 'project_roles', id: false, order: 'project_id' },
  { name: 'team_project_roles', id: false, order: 'team_id' },
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
  // Staged releases (src/registry/staged) and their files, awaiting approval.
  { name: 'staged_releases', id: true, order: 'id' },
  { name: 'staged_files', id: true, order: 'id' },
];

export class TransferError extends Error {}

export interface TransferProgress {
  (
    event:
      | { stage: 'blob'; done: number; total: number; filename: string }
      | { stage: 'table'; table: string; rows: number },
  ): void;
}

/** A blob the index refers to, with what it must hold. */
export interface ReferencedBlob {
  key: string;
  sha256: string;
  size: number;
  /** What refers to it, for messages: a filename, or `upstream file <sha256>`. */
  filename: string;
}

/**
 * Every blob the database refers to: each hosted file's, then each file cached from the
 * upstream (checked against the sha256 it was kept for). Read it in the same snapshot as the
 * rows it goes with.
 */
export async function referencedBlobs(db: Kysely<Database>): Promise<ReferencedBlob[]> {
  const hosted = await db
    .selectFrom('files')
    .select(['filename', 'blob_key', 'sha256', 'size'])
    .orderBy('id')
    .execute();
  const staged = await db
    .selectFrom('staged_files')
    .select(['filename', 'blob_key', 'sha256', 'size'])
    .orderBy('id')
    .execute();
  const cached = await db
    .selectFrom('upstream_blobs')
    .select(['sha256', 'blob_key', 'size'])
    .orderBy('sha256')
    .execute();
  return [
    ...[...hosted, ...staged].map((f) => ({
      key: f.blob_key,
      sha256: f.sha256,
      size: Number(f.size),
      filename: f.filename,
    })),
    ...cached.map((b) => ({
      key: b.blob_key,
      sha256: b.sha256,
      size: Number(b.size),
      filename: `upstream file ${b.sha256}`,
    })),
  ];
}

/** Which of `keys` rows refer to now (outside any snapshot). */
export async function stillReferenced(
  db: Kysely<Database>,
  keys: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const some = keys.slice(i, i + 500);
    for (const table of ['files', 'staged_files', 'upstream_blobs'] as const)
      for (const row of await db
        .selectFrom(table)
        .select('blob_key')
        .where('blob_key', 'in', some)
        .execute())
        found.add(row.blob_key);
  }
  return found;
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

/**
 * Copies one blob (unless the target has it already) and reads the copy back from the target:
 * its SHA-256 and size must be the ones the index recorded, or TransferError.
 */
export async function copyVerified(
  from: BlobStore,
  to: BlobStore,
  blob: ReferencedBlob,
): Promise<void> {
  const existing = await to.stat(blob.key);
  if (!existing) await to.put(blob.key, await from.read(blob.key));
  const copied = await sha256Of(await to.read(blob.key));
  if (copied.sha256 !== blob.sha256 || copied.size !== blob.size)
    throw new TransferError(
      `${blob.filename}: the copy's sha256 is ${copied.sha256} (${copied.size} bytes), the index says ${blob.sha256} (${blob.size} bytes)`,
    );
}

/**
 * Every row of every table, ids kept, from `from` (read it in one snapshot) into `to` (one
 * transaction on the target). Returns the rows copied per table.
 */
export async function copyRows(
  from: Kysely<Database>,
  to: Transaction<Database>,
  dialect: DialectName,
  progress: TransferProgress = () => undefined,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const rows = await from
      .selectFrom(table.name)
      .selectAll()
      .orderBy(table.order as never)
      .execute();
    for (let i = 0; i < rows.length; i += 200)
      await to
        .insertInto(table.name)
        .values(rows.slice(i, i + 200) as never)
        .execute();
    counts[table.name] = rows.length;
    progress({ stage: 'table', table: table.name, rows: rows.length });
  }
  if (dialect === 'postgres') {
    // Serial ids continue after the copied ones.
    for (const table of TABLES.filter((t) => t.id))
      await sql`SELECT setval(pg_get_serial_sequence(${table.name}, 'id'), COALESCE((SELECT MAX(id) FROM ${sql.table(table.name)}), 0) + 1, false)`.execute(
        to,
      );
  }
  return counts;
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
  // The blobs and the rows come from one snapshot of the source.
  return readSnapshot(source.db, async (snapshot) => {
    // 1. Every file's bytes, verified by hash at the target.
    const files = await referencedBlobs(snapshot);
    let done = 0;
    for (const file of files) {
      await copyVerified(source.blobs, target.blobs, file);
      progress({ stage: 'blob', done: ++done, total: files.length, filename: file.filename });
    }
    // 2. Every row, ids kept, in one transaction.
    const rows = await target.db.kysely
      .transaction()
      .execute((trx) => copyRows(snapshot, trx, target.db.dialect, progress));
    return { files: files.length, rows };
  });
}
