// Where distribution files live. A blob is written once under a fresh key and never changed;
// it is only listed after the database row naming it commits, so a blob whose upload failed
// is invisible (and swept later), never half-visible.
import type { Readable } from 'node:stream';
import type { ByteSource } from '../packaging/archive.js';

export interface BlobInfo {
  size: number;
}

export interface BlobStore {
  /** Short description for logs (no credentials). */
  readonly describe: string;
  /**
   * Streams `source` into a new blob at `key`. Resolves once the blob is durably stored;
   * rejects (leaving nothing behind at `key`) if the source errors or is destroyed.
   */
  put(key: string, source: Readable): Promise<BlobInfo>;
  /** Size of a stored blob, or null if there is none. */
  stat(key: string): Promise<BlobInfo | null>;
  /** Random access to a stored blob, for reading archives. */
  open(key: string): Promise<ByteSource>;
  /** The blob's bytes from `start` to `end` inclusive (whole blob by default). */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** A URL the client may fetch directly instead (S3 presigned), or null to stream through pier. */
  directUrl(key: string, filename: string): Promise<string | null>;
  delete(key: string): Promise<void>;
  /** Removes leftovers of interrupted writes older than `olderThanMs`. */
  sweep(olderThanMs: number): Promise<number>;
  /** Every stored blob's key (for moving an index, and for tests). */
  keys(): AsyncIterable<string>;
  /** Releases connections. */
  close(): void;
}

export async function openBlobStore(url: string): Promise<BlobStore> {
  if (url.startsWith('file://') || url.startsWith('/')) {
    const { FileBlobStore } = await import('./fs.js');
    return new FileBlobStore(url.startsWith('file://') ? new URL(url).pathname : url);
  }
  if (url.startsWith('s3://')) {
    const { S3BlobStore, parseS3Url } = await import('./s3.js');
    return new S3BlobStore(parseS3Url(url));
  }
  throw new Error(`unsupported storage URL (expected file:// or s3://): ${url.split(':')[0]}:…`);
}
