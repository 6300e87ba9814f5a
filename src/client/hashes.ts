// The digests of a file. SHA-256 always: it is sent with the upload (an index needs one digest
// to check the bytes it received against; PyPI and pier accept SHA-256 alone, as uv sends it
// where BLAKE2 is unavailable) and compared by --skip-existing. MD5 and BLAKE2b-256 only when
// asked for (--print-hash and the action's summary print all three, as the pypa action does);
// then BLAKE2b-256 is sent too, as twine sends it. BLAKE2b-256 is BLAKE2b with a 32-byte digest,
// not the first half of BLAKE2b-512, which is why it comes from hash-wasm, loaded only then.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileHashes {
  sha256: string;
  /** Computed with `all` only. */
  md5?: string;
  /** Computed with `all` only. */
  blake2_256?: string;
}

interface Updatable {
  update(data: Uint8Array): unknown;
}

let hashWasm: Promise<typeof import('hash-wasm')> | null = null;

/**
 * Starts loading BLAKE2b-256 (hash-wasm compiles its WebAssembly off the main thread, once), so
 * that the first file's digests need not wait for it: call it as soon as all digests will be
 * wanted.
 */
export function prepareAllDigests(): Promise<typeof import('hash-wasm')> {
  hashWasm ??= import('hash-wasm').then(async (m) => {
    await m.createBLAKE2b(256);
    return m;
  });
  return hashWasm;
}

async function digesters(all: boolean) {
  const sha256 = createHash('sha256');
  if (!all)
    return { each: [sha256] as Updatable[], done: () => ({ sha256: sha256.digest('hex') }) };
  const md5 = createHash('md5');
  const { createBLAKE2b } = await prepareAllDigests();
  const blake2 = await createBLAKE2b(256);
  blake2.init();
  return {
    each: [sha256, md5, blake2] as Updatable[],
    done: (): FileHashes => ({
      sha256: sha256.digest('hex'),
      md5: md5.digest('hex'),
      blake2_256: blake2.digest('hex'),
    }),
  };
}

/** The digests of bytes in memory. */
export async function hashBytes(bytes: Uint8Array, all: boolean): Promise<FileHashes> {
  const d = await digesters(all);
  for (const h of d.each) h.update(bytes);
  return d.done();
}

/** The digests of a file, read as a stream. */
export async function hashFile(path: string, all: boolean): Promise<FileHashes> {
  const d = await digesters(all);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    for (const h of d.each) h.update(chunk as Buffer);
  return d.done();
}

/** The lines the pypa action's print-hash prints for a file. */
export function hashLines(filename: string, hashes: FileHashes): string[] {
  return [
    filename,
    `  SHA256:     ${hashes.sha256}`,
    `  MD5:        ${hashes.md5 ?? '(not computed)'}`,
    `  BLAKE2-256: ${hashes.blake2_256 ?? '(not computed)'}`,
  ];
}
