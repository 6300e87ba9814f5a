// What an index holds, counted: rows of every table an upload writes, blobs, and partial writes
// of the filesystem store. Equal snapshots before and after a refused or failed request prove it
// changed nothing.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../src/db/schema.js';
import type { Services } from '../../src/services.js';

export function countFiles(dir: string): number {
  let n = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e);
    n += statSync(p).isDirectory() ? countFiles(p) : 1;
  }
  return n;
}

/** Rows of one table: the tables a refusal must leave as they were. */
export async function countRows(services: Services, table: keyof Database): Promise<number> {
  return Number(
    (
      await services.db.kysely
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
}

/** Blobs in the store. */
export async function countBlobs(services: Services): Promise<number> {
  let blobs = 0;
  for await (const _key of services.blobs.keys()) blobs++;
  return blobs;
}

export async function indexSnapshot(server: { services: Services; dataDir: string }) {
  const count = (table: keyof Database) => countRows(server.services, table);
  return {
    projects: await count('projects'),
    releases: await count('releases'),
    files: await count('files'),
    registry: await count('filename_registry'),
    metadata: await count('file_metadata'),
    attestations: await count('file_attestations'),
    blobs: await countBlobs(server.services),
    partial: countFiles(join(server.dataDir, 'files', 'tmp')),
  };
}

/** Files whose blob is missing from the store: must always be none. */
export async function filesWithoutBlobs(services: Services): Promise<string[]> {
  const rows = await services.db.kysely
    .selectFrom('files')
    .select(['filename', 'blob_key'])
    .execute();
  const missing: string[] = [];
  for (const row of rows)
    if (!(await services.blobs.stat(row.blob_key))) missing.push(row.filename);
  return missing;
}
