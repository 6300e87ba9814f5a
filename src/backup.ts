// `pier backup FOLDER`: a consistent copy of a running index. Every table is read in one
// snapshot (src/db/snapshot.ts) while the server goes on serving and taking uploads, and copied
// with transfer's row copy into FOLDER/pier.sqlite3, a SQLite index database; every blob that
// snapshot refers to is checked in the store (or, with `withBlobs`, copied into FOLDER/files and
// verified by SHA-256); FOLDER/manifest.json, written last, lists them. FOLDER is laid out as a
// data directory, so `pier transfer --data-dir FOLDER` restores it. A refusal or failure leaves
// FOLDER as it was.
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import type { Db } from './db/connect.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest, schemaStatus } from './db/migrate.js';
import { readSnapshot } from './db/snapshot.js';
import { openBlobStore, type BlobStore } from './storage/blob-store.js';
import { mapLimit } from './client/concurrency.js';
import {
  copyRows,
  copyVerified,
  referencedBlobs,
  stillReferenced,
  type ReferencedBlob,
  type TransferProgress,
} from './transfer.js';

export const BACKUP_FORMAT = 'pier-backup/1';
export const BACKUP_DATABASE = 'pier.sqlite3';
export const BACKUP_FILES = 'files';
export const BACKUP_MANIFEST = 'manifest.json';

/** Blobs checked or copied at once: enough to hide a remote store's latency. */
const BLOB_CONCURRENCY = 8;

export class BackupError extends Error {
  constructor(
    message: string,
    /** The referenced blobs that are missing or wrong, one line each. */
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** Transfer's progress, and a backup taken again because files were deleted meanwhile. */
export type BackupProgress = (
  event: Parameters<TransferProgress>[0] | { stage: 'again'; deleted: number },
) => void;

/**
 * Snapshots taken before giving up when, each time, files are deleted (and their blobs with
 * them) between the snapshot and the check of their blobs.
 */
const ATTEMPTS = 3;

export interface BackupResult {
  folder: string;
  format: string;
  taken_at: string;
  tables: Record<string, number>;
  blobs: number;
  bytes: number;
  with_blobs: boolean;
}

/** FOLDER, made ready for a backup (new or empty, mode 0700), and how to put it back as it was. */
async function claimFolder(folder: string): Promise<{ restore(): Promise<void> }> {
  const existing = await stat(folder).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new BackupError(`${folder} is not a folder: pier backs up into a new or empty folder`);
  if (existing) {
    const entries = await readdir(folder);
    if (entries.length > 0)
      throw new BackupError(
        `${folder} is not empty (it holds ${entries.length} entries, e.g. ${entries[0]}): pier backs up into a new or empty folder`,
      );
    // The copy holds password and token hashes: for its owner only.
    await chmod(folder, 0o700);
    return {
      async restore() {
        for (const entry of await readdir(folder))
          await rm(join(folder, entry), { recursive: true, force: true });
        await chmod(folder, existing.mode & 0o7777);
      },
    };
  }
  const created = await mkdir(folder, { recursive: true, mode: 0o700 });
  return {
    async restore() {
      await rm(created ?? folder, { recursive: true, force: true });
    },
  };
}

/** The rows, copied from one snapshot into a new SQLite index database at `path` (mode 0600). */
async function copyDatabase(
  source: Db,
  path: string,
  progress: BackupProgress,
): Promise<{ blobs: ReferencedBlob[]; tables: Record<string, number>; migrations: string[] }> {
  // Created before SQLite opens it, so that it (and its -wal and -shm files) are never readable
  // by others, whatever the umask.
  await (await open(path, 'wx', 0o600)).close();
  const target = openDatabase(`sqlite://${path}`);
  try {
    await migrateToLatest(target);
    const copied = await readSnapshot(source, async (snapshot) => {
      const blobs = await referencedBlobs(snapshot);
      const tables = await target.kysely
        .transaction()
        .execute((trx) => copyRows(snapshot, trx, 'sqlite', progress));
      return { blobs, tables };
    });
    const migrations = (await schemaStatus(target)).applied;
    // One self-contained file: no -wal or -shm beside it, whoever opens it later.
    await sql`pragma journal_mode = delete`.execute(target.kysely);
    return { ...copied, migrations };
  } finally {
    await target.close();
  }
}

interface BlobProblem {
  blob: ReferencedBlob;
  /** One line for the operator. */
  line: string;
}

/** Each referenced blob that the store lacks or holds with another size. */
async function checkBlobs(
  blobs: BlobStore,
  referenced: ReferencedBlob[],
  progress: BackupProgress,
): Promise<BlobProblem[]> {
  let done = 0;
  const problems = await mapLimit(referenced, BLOB_CONCURRENCY, async (blob) => {
    const info = await blobs.stat(blob.key);
    progress({ stage: 'blob', done: ++done, total: referenced.length, filename: blob.filename });
    if (!info) return { blob, line: `missing: ${blob.filename} (blob ${blob.key})` };
    if (info.size !== blob.size)
      return {
        blob,
        line: `wrong size: ${blob.filename} (blob ${blob.key}) is ${info.size} bytes, the index says ${blob.size}`,
      };
    return null;
  });
  return problems.filter((p) => p !== null);
}

/** Each referenced blob copied into `folder` (unless there already) and read back there. */
async function copyBlobs(
  from: BlobStore,
  folder: string,
  referenced: ReferencedBlob[],
  progress: BackupProgress,
): Promise<BlobProblem[]> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const to = await openBlobStore(`file://${folder}`);
  try {
    let done = 0;
    const problems = await mapLimit(referenced, BLOB_CONCURRENCY, async (blob) => {
      try {
        await copyVerified(from, to, blob);
        return null;
      } catch (err) {
        return {
          blob,
          line: (await from.stat(blob.key))
            ? `not copied: ${(err as Error).message}`
            : `missing: ${blob.filename} (blob ${blob.key})`,
        };
      } finally {
        progress({
          stage: 'blob',
          done: ++done,
          total: referenced.length,
          filename: blob.filename,
        });
      }
    });
    return problems.filter((p) => p !== null);
  } finally {
    to.close();
  }
}

/**
 * manifest.json, written under another name and renamed into place: its presence says the
 * backup is complete. Blobs go one per line, so that a million of them are never one string.
 */
async function writeManifest(
  folder: string,
  header: Record<string, unknown>,
  blobs: ReferencedBlob[],
): Promise<void> {
  const part = join(folder, `${BACKUP_MANIFEST}.part`);
  const out = await open(part, 'wx', 0o600);
  try {
    const head = JSON.stringify(header, null, 2);
    let chunk = `${head.slice(0, -2)},\n  "blobs": [`;
    for (const [i, b] of blobs.entries()) {
      const entry = { key: b.key, size: b.size, sha256: b.sha256, filename: b.filename };
      chunk += `${i ? ',' : ''}\n    ${JSON.stringify(entry)}`;
      if (chunk.length > 65536) {
        await out.write(chunk);
        chunk = '';
      }
    }
    await out.write(`${chunk}${blobs.length ? '\n  ' : ''}]\n}\n`);
    await out.sync();
  } finally {
    await out.close();
  }
  await rename(part, join(folder, BACKUP_MANIFEST));
}

export async function backupIndex(
  source: { db: Db; blobs: BlobStore },
  folderArg: string,
  options: { withBlobs: boolean; pierVersion: string },
  progress: BackupProgress = () => undefined,
): Promise<BackupResult> {
  const folder = resolve(folderArg);
  const claimed = await claimFolder(folder);
  try {
    for (let attempt = 1; ; attempt++) {
      const takenAt = new Date();
      const database = join(folder, BACKUP_DATABASE);
      const { blobs, tables, migrations } = await copyDatabase(source.db, database, progress);
      const problems = options.withBlobs
        ? await copyBlobs(source.blobs, join(folder, BACKUP_FILES), blobs, progress)
        : await checkBlobs(source.blobs, blobs, progress);
      if (problems.length > 0) {
        // Deleting a file removes its blob once the row is gone: a file deleted after the
        // snapshot is no loss, and the next snapshot no longer has it.
        const still = await stillReferenced(
          source.db.kysely,
          problems.map((p) => p.blob.key),
        );
        if (still.size === 0 && attempt < ATTEMPTS) {
          progress({ stage: 'again', deleted: problems.length });
          await rm(database);
          continue;
        }
        const lost = still.size > 0 ? problems.filter((p) => still.has(p.blob.key)) : problems;
        throw new BackupError(
          `${lost.length} of the ${blobs.length} files the index refers to are missing from ${source.blobs.describe} or differ from what the index recorded; no backup was written to ${folder}`,
          lost.map((p) => p.line),
        );
      }
      return await seal(folder, source, options, { takenAt, blobs, tables, migrations });
    }
  } catch (err) {
    await claimed.restore();
    throw err;
  }
}

/** The manifest, written last: the backup is complete. */
async function seal(
  folder: string,
  source: { db: Db; blobs: BlobStore },
  options: { withBlobs: boolean; pierVersion: string },
  copy: {
    takenAt: Date;
    blobs: ReferencedBlob[];
    tables: Record<string, number>;
    migrations: string[];
  },
): Promise<BackupResult> {
  const { takenAt, blobs, tables, migrations } = copy;
  const result: BackupResult = {
    folder,
    format: BACKUP_FORMAT,
    taken_at: takenAt.toISOString(),
    tables,
    blobs: blobs.length,
    bytes: blobs.reduce((sum, b) => sum + b.size, 0),
    with_blobs: options.withBlobs,
  };
  await writeManifest(
    folder,
    {
      format: BACKUP_FORMAT,
      pier_version: options.pierVersion,
      taken_at: result.taken_at,
      source: {
        dialect: source.db.dialect,
        database: source.db.describe,
        storage: source.blobs.describe,
      },
      schema: { migrations },
      database: BACKUP_DATABASE,
      files: options.withBlobs ? BACKUP_FILES : null,
      tables,
      bytes: result.bytes,
    },
    blobs,
  );
  return result;
}
