// What an index holds, counted: rows of every table an upload writes, blobs, and partial writes
// of the filesystem store. Equal snapshots before and after a refused or failed request prove it
// changed nothing.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Services } from '../../src/services.js';

function countFiles(dir: string): number {
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

export async function indexSnapshot(server: { services: Services; dataDir: string }) {
  const db = server.services.db.kysely;
  const count = async (
    table: 'projects' | 'releases' | 'files' | 'filename_registry' | 'file_metadata',
  ) =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  let blobs = 0;
  for await (const _key of server.services.blobs.keys()) blobs++;
  return {
    projects: await count('projects'),
    releases: await count('releases'),
    files: await count('files'),
    registry: await count('filename_registry'),
    metadata: await count('file_metadata'),
    blobs,
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
