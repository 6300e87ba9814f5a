// One distribution before anything is sent: checked (inspect.ts) and hashed (hashes.ts) from
// the same bytes. A file of up to IN_MEMORY_LIMIT is read once, whole, and both work on that
// copy — which the upload can then send, so that the bytes sent are the bytes checked: most
// distributions are small, and one read beats a stream per member and a stream for the
// digests. A larger file is read as streams, so memory stays bounded whatever its size.
import { readFileSync } from 'node:fs';
import { byteSourceFromBuffer } from '../packaging/archive.js';
import type { Distribution } from './discover.js';
import { PublishError } from './errors.js';
import { hashBytes, hashFile, type FileHashes } from './hashes.js';
import { checkDistribution, type CheckedDistribution } from './inspect.js';

export const IN_MEMORY_LIMIT = 32 * 1024 * 1024;

export interface Examined {
  d: CheckedDistribution;
  hashes: FileHashes;
  /** The file's bytes, when it was read whole. */
  bytes: Buffer | null;
}

export async function examineDistribution(
  file: Distribution,
  options: { verifyMetadata: boolean; allDigests: boolean },
): Promise<Examined> {
  if (file.size > IN_MEMORY_LIMIT) {
    const d = await checkDistribution(file, { verifyMetadata: options.verifyMetadata });
    return { d, hashes: await hashFile(file.path, options.allDigests), bytes: null };
  }
  // Read synchronously: nothing else waits on this process while it checks, and one call
  // replaces the open, stat, read and close that each take a trip through the thread pool.
  const bytes = readFileSync(file.path);
  if (bytes.length !== file.size)
    throw new PublishError(
      'invalid-distribution',
      `${file.path} changed while it was being read (${file.size} bytes, then ${bytes.length})`,
      { hints: ['Publish once the build has finished writing its files.'] },
    );
  const d = await checkDistribution(file, {
    verifyMetadata: options.verifyMetadata,
    source: byteSourceFromBuffer(bytes),
  });
  return { d, hashes: await hashBytes(bytes, options.allDigests), bytes };
}
