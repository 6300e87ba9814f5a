// The digests of a file: SHA-256 and BLAKE2b-256 (sent with the upload, as twine sends them) and
// MD5 (printed, as the pypa action prints it). BLAKE2b-256 is BLAKE2b with a 32-byte digest, not
// the first half of BLAKE2b-512.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createBLAKE2b } from 'hash-wasm';

export interface FileHashes {
  sha256: string;
  md5: string;
  blake2_256: string;
}

export async function hashFile(path: string): Promise<FileHashes> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  const blake2 = await createBLAKE2b(256);
  blake2.init();
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const buf = chunk as Buffer;
    sha256.update(buf);
    md5.update(buf);
    blake2.update(buf);
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex'), blake2_256: blake2.digest('hex') };
}

/** The lines the pypa action's print-hash prints for a file. */
export function hashLines(filename: string, hashes: FileHashes): string[] {
  return [
    filename,
    `  SHA256:     ${hashes.sha256}`,
    `  MD5:        ${hashes.md5}`,
    `  BLAKE2-256: ${hashes.blake2_256}`,
  ];
}
