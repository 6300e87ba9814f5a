/**
 * Cheap format checks for Warehouse's `File is both a zip and a tar file` (§2.3 step 19), which
 * it decides with `zipfile.is_zipfile` and `tarfile.is_tarfile`.
 *
 * - zip: the end-of-central-directory record parses (yauzl) and, if the archive has entries, the
 *   first central-directory record has its signature; at most ~64 KiB read from the end.
 * - tar: the first 512 bytes are a valid tar header, or the file is gzip and the first 512
 *   inflated bytes are (at most 64 KiB read, at most 4 KiB of it inflated).
 *   bzip2 and xz compressed tars, which `tarfile.is_tarfile` also recognises, are not checked.
 */
import zlib from 'node:zlib';
import { InvalidArchiveError, looksLikeTarHeader, type ByteSource } from './archive-common.js';
import { openZip } from './archive-zip.js';

const GZIP_PREFIX = 64 * 1024;
const DEFLATE_INPUT = 4096;

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export async function isZipArchive(source: ByteSource): Promise<boolean> {
  const notZip = (err: unknown): false => {
    if (err instanceof InvalidArchiveError) return false;
    throw err; // the byte source failed: not an answer about the file
  };
  let open;
  try {
    open = await openZip(source);
  } catch (err) {
    return notZip(err);
  }
  try {
    if (open.zip.entryCount > 0) await open.next();
    return true;
  } catch (err) {
    return notZip(err);
  } finally {
    open.close();
  }
}

export async function startsWithTar(source: ByteSource): Promise<boolean> {
  const head = await source.read(0, Math.min(512, source.size));
  if (looksLikeTarHeader(head)) return true;
  if (!isGzip(head)) return false;
  const prefix = await source.read(0, Math.min(GZIP_PREFIX, source.size));
  return looksLikeTarHeader(inflatePrefix(prefix, 512));
}

/**
 * The first `want` bytes the first gzip member of `gzipped` inflates to (fewer if it is shorter,
 * truncated or corrupt). The gzip header (RFC 1952) is skipped by hand and the deflate data
 * inflated with `inflateRawSync`, which stops at the member's end: what follows it (a zip's
 * records, in a polyglot) does not matter. At most `DEFLATE_INPUT` compressed bytes are
 * inflated, so the output is bounded (deflate expands at most ~1032:1).
 */
function inflatePrefix(gzipped: Buffer, want: number): Buffer {
  const FHCRC = 2;
  const FEXTRA = 4;
  const FNAME = 8;
  const FCOMMENT = 16;
  if (gzipped.length < 10 || gzipped[2] !== 8) return Buffer.alloc(0);
  const flags = gzipped[3] ?? 0;
  let at = 10;
  if (flags & FEXTRA) at += 2 + gzipped.readUInt16LE(Math.min(at, gzipped.length - 2));
  if (flags & FNAME) at = gzipped.indexOf(0, at) + 1;
  if (at > 0 && flags & FCOMMENT) at = gzipped.indexOf(0, at) + 1;
  if (at > 0 && flags & FHCRC) at += 2;
  if (at <= 0 || at >= gzipped.length) return Buffer.alloc(0);
  try {
    const out = zlib.inflateRawSync(gzipped.subarray(at, at + DEFLATE_INPUT), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      maxOutputLength: DEFLATE_INPUT * 1100,
    });
    return out.subarray(0, want);
  } catch {
    return Buffer.alloc(0);
  }
}
