// Moving an index to other storage — the embedded default to PostgreSQL and S3, or back — with
// one command (`pier transfer`). Every blob is copied and read back from the target, and its
// SHA-256 checked against the database, before any row is written; then all rows are copied,
// ids and all, in one transaction on the target. A failure leaves the target's database empty.
// Blobs and rows are read in one snapshot of the source (src/db/snapshot.ts). `pier backup`
// (src/backup.ts) is made of the same parts.
import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Db, DialectName } from './db/connect.js';
import { readSnapshot } from './db/snapshot.js';
import type { Database } from './db/schema.js';
import type { BlobStore } from './storage/blob-store.js';

/**
 * Tables in an order that satisfies their foreign keys; `id` says whether they have a serial id,
 * `key` is their primary key, by which their rows are read a page at a time.
 */
export const TABLES: { name: keyof Database; id: boolean; key: readonly string[] }[] = [
  { name: 'users', id: true, key: ['id'] },
  // Organisations and teams (src/orgs): before the projects they own.
  { name: 'organizations', id: true, key: ['id'] },
  { name: 'organization_members', id: false, key: ['organization_id', 'user_id'] },
  { name: 'teams', id: true, key: ['id'] },
  { name: 'team_members', id: false, key: ['team_id', 'user_id', 'source'] },
  { name: 'group_team_mappings', id: false, key: ['provider', 'group_name', 'team_id'] },
  { name: 'projects', id: true, key: ['id'] },
  { name: 'project_roles', id: false, key: ['project_id', 'user_id'] },
  { name: 'team_project_roles', id: false, key: ['team_id', 'project_id'] },
  { name: 'releases', id: true, key: ['id'] },
  { name: 'files', id: true, key: ['id'] },
  { name: 'file_metadata', id: false, key: ['file_id'] },
  { name: 'file_attestations', id: true, key: ['id'] },
  { name: 'filename_registry', id: false, key: ['filename'] },
  { name: 'tokens', id: true, key: ['id'] },
  { name: 'token_projects', id: false, key: ['token_id', 'project_id'] },
  { name: 'journal', id: true, key: ['id'] },
  { name: 'audit_events', id: true, key: ['id'] },
  { name: 'oidc_issuers', id: true, key: ['id'] },
  { name: 'publishers', id: true, key: ['id'] },
  { name: 'publisher_projects', id: false, key: ['publisher_id', 'project_id'] },
  { name: 'oidc_jtis', id: false, key: ['issuer_url', 'jti'] },
  { name: 'namespaces', id: true, key: ['id'] },
  { name: 'namespace_owners', id: false, key: ['namespace_id', 'user_id'] },
  // The upstream proxy's cache (src/proxy): pages, checked files, the run-time exclude list.
  { name: 'upstream_pages', id: false, key: ['normalized_name'] },
  { name: 'upstream_blobs', id: false, key: ['sha256'] },
  { name: 'upstream_excludes', id: false, key: ['pattern'] },
  // Staged releases (src/registry/staged) and their files, awaiting approval.
  { name: 'staged_releases', id: true, key: ['id'] },
  { name: 'staged_files', id: true, key: ['id'] },
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

/** How many rows a table is read in at a time (bounded memory, whatever the index's size). */
export const PAGE_ROWS = 1000;

/**
 * A table's rows a page at a time, in the order of `key` (its primary key, so the order is total
 * and each page starts after the last row of the one before). Read them in one snapshot.
 */
export async function* pagesOf(
  db: Kysely<Database>,
  table: keyof Database,
  key: readonly string[],
  columns: readonly string[] | '*' = '*',
  pageRows = PAGE_ROWS,
): AsyncGenerator<Record<string, unknown>[]> {
  const keyList = sql.join(key.map((k) => sql.ref(k)));
  const selected = columns === '*' ? sql`*` : sql.join(columns.map((c) => sql.ref(c)));
  let after: unknown[] | null = null;
  for (;;) {
    const where: RawBuilder<unknown> =
      after === null ? sql`` : sql`WHERE (${keyList}) > (${sql.join(after)})`;
    const { rows } = await sql<Record<string, unknown>>`SELECT ${selected} FROM ${sql.table(
      table,
    )} ${where} ORDER BY ${keyList} LIMIT ${pageRows}`.execute(db);
    if (rows.length > 0) yield rows;
    if (rows.length < pageRows) return;
    const last = rows[rows.length - 1]!;
    after = key.map((k) => last[k]);
  }
}

/**
 * Every blob the database refers to, a page at a time: each hosted file's, each staged file's,
 * then each file cached from the upstream (checked against the sha256 it was kept for). Read it
 * in the same snapshot as the rows it goes with.
 */
export async function* referencedBlobPages(db: Kysely<Database>): AsyncGenerator<ReferencedBlob[]> {
  for (const table of ['files', 'staged_files'] as const)
    for await (const page of pagesOf(
      db,
      table,
      ['id'],
      ['id', 'filename', 'blob_key', 'sha256', 'size'],
    ))
      yield page.map((f) => ({
        key: String(f.blob_key),
        sha256: String(f.sha256),
        size: Number(f.size),
        filename: String(f.filename),
      }));
  for await (const page of pagesOf(
    db,
    'upstream_blobs',
    ['sha256'],
    ['sha256', 'blob_key', 'size'],
  ))
    yield page.map((b) => ({
      key: String(b.blob_key),
      sha256: String(b.sha256),
      size: Number(b.size),
      filename: `upstream file ${String(b.sha256)}`,
    }));
}

/** How many blobs the database refers to (for progress). */
export async function countReferencedBlobs(db: Kysely<Database>): Promise<number> {
  let total = 0;
  for (const table of ['files', 'staged_files', 'upstream_blobs'] as const) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    total += Number(row.n);
  }
  return total;
}

/** Every blob the database refers to, as one list (a backup's manifest holds them all). */
export async function referencedBlobs(db: Kysely<Database>): Promise<ReferencedBlob[]> {
  const all: ReferencedBlob[] = [];
  for await (const page of referencedBlobPages(db)) all.push(...page);
  return all;
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
    let copied = 0;
    for await (const page of pagesOf(from, table.name, table.key))
      for (let i = 0; i < page.length; i += 200) {
        const rows = page.slice(i, i + 200);
        await to
          .insertInto(table.name)
          .values(rows as never)
          .execute();
        copied += rows.length;
      }
    counts[table.name] = copied;
    progress({ stage: 'table', table: table.name, rows: copied });
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
    // 1. Every file's bytes, verified by hash at the target, a page of the list at a time.
    const total = await countReferencedBlobs(snapshot);
    let done = 0;
    for await (const page of referencedBlobPages(snapshot))
      for (const file of page) {
        await copyVerified(source.blobs, target.blobs, file);
        progress({ stage: 'blob', done: ++done, total, filename: file.filename });
      }
    // 2. Every row, ids kept, in one transaction.
    const rows = await target.db.kysely
      .transaction()
      .execute((trx) => copyRows(snapshot, trx, target.db.dialect, progress));
    return { files: done, rows };
  });
}
