/**
 * yauzl over a `ByteSource`: open a zip without loading it, walk its central directory, and read
 * one member's bytes with a hard cap on what is inflated.
 *
 * yauzl is used through `fromRandomAccessReader` with `decodeStrings: false`, so that member names
 * are decoded here (`getFileNameLowLevel`, keeping backslashes) and judged by pier's own rules with
 * clear messages rather than yauzl's. Member data is read directly from the source and inflated
 * with node:zlib inside one `pipeline`, which destroys every stream on any error or early stop.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import {
  InvalidArchiveError,
  Messages,
  isSourceError,
  markSourceError,
  quoteName,
  type ByteSource,
} from './archive-common.js';

/** Bytes fetched per source read; central-directory records are served from this window. */
const READ_WINDOW = 256 * 1024;

export const STORED = 0;
export const DEFLATED = 8;

class ByteSourceReader extends yauzl.RandomAccessReader {
  private window: { start: number; data: Buffer } | null = null;

  constructor(private readonly source: ByteSource) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end > this.source.size) {
      return new Readable({
        read() {
          this.destroy(new Error('unexpected EOF'));
        },
      });
    }
    if (end <= start) return Readable.from([], { objectMode: false });
    return trackSourceErrors(this.source.stream(start, end - 1) as Readable);
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    // yauzl's callback also takes the number of bytes read (an EOF check).
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    this.fetch(position, length).then(
      (data) => {
        data.copy(buffer, offset);
        done(null, length);
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private async fetch(position: number, length: number): Promise<Buffer> {
    const size = this.source.size;
    if (position < 0 || length < 0 || position + length > size) {
      throw new Error(`unexpected EOF: ${length} bytes at ${position} of ${size}`);
    }
    const w = this.window;
    if (w && position >= w.start && position + length <= w.start + w.data.length) {
      return w.data.subarray(position - w.start, position - w.start + length);
    }
    if (length >= READ_WINDOW) return this.readSource(position, length);
    const data = await this.readSource(position, Math.min(READ_WINDOW, size - position));
    this.window = { start: position, data };
    return data.subarray(0, length);
  }

  private async readSource(position: number, length: number): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await this.source.read(position, length);
    } catch (err) {
      throw markSourceError(err);
    }
    if (data.length !== length) {
      throw markSourceError(new Error(`byte source returned ${data.length} bytes, not ${length}`));
    }
    return data;
  }
}

/** Source stream errors are storage trouble, reported as they are rather than as a bad zip. */
function trackSourceErrors(stream: Readable): Readable {
  stream.on('error', markSourceError);
  return stream;
}

/** A structural error: the archive's fault (`File is not a zipfile`) unless the source failed. */
function notZip(err: unknown): unknown {
  return isSourceError(err) ? err : new InvalidArchiveError(Messages.notZip, { cause: err });
}

export interface OpenZip {
  readonly zip: yauzl.ZipFile;
  /** The next central-directory entry, or null after the last. */
  next(): Promise<yauzl.Entry | null>;
  close(): void;
}

function noop(): void {}

/** Opens the zip; rejects with `File is not a zipfile` if its end records cannot be read. */
export async function openZip(source: ByteSource): Promise<OpenZip> {
  const reader = new ByteSourceReader(source);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    try {
      yauzl.fromRandomAccessReader(
        reader,
        source.size,
        {
          lazyEntries: true,
          autoClose: false,
          decodeStrings: false,
          validateEntrySizes: true,
          strictFileNames: true,
        },
        (err, zipfile) => (err ? reject(err) : resolve(zipfile)),
      );
    } catch (err) {
      reject(err);
    }
  }).catch((err: unknown) => {
    throw notZip(err);
  });
  let closed = false;
  return {
    zip,
    next(): Promise<yauzl.Entry | null> {
      return new Promise((resolve, reject) => {
        const onEntry = (entry: yauzl.Entry): void => {
          cleanup();
          resolve(entry);
        };
        const onEnd = (): void => {
          cleanup();
          resolve(null);
        };
        const onError = (err: Error): void => {
          cleanup();
          reject(notZip(err));
        };
        const cleanup = (): void => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
        };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      // Nothing is in flight once an inspector closes, but an 'error' without a listener
      // would crash the process, so keep one for good.
      zip.on('error', noop);
      zip.close();
    },
  };
}

/** The member's name, decoded as yauzl would (UTF-8 flag, Info-ZIP Unicode Path), backslashes kept. */
export function entryName(entry: yauzl.Entry): string {
  return yauzl.getFileNameLowLevel(
    entry.generalPurposeBitFlag,
    entry.fileNameRaw,
    entry.extraFields,
    true,
  );
}

function corrupt(name: string, detail: string, cause?: unknown): InvalidArchiveError {
  return new InvalidArchiveError(Messages.zip(`Member ${quoteName(name)} is corrupt (${detail})`), {
    cause,
  });
}

/**
 * The member's uncompressed bytes. Refuses a member whose declared size exceeds `maxBytes`, and
 * stops inflating as soon as the actual output exceeds the declared size, so at most
 * `min(declared, maxBytes)` bytes are ever produced whatever the compressed data says. Checks the
 * local header's name against the central directory, the size and the CRC-32.
 */
export async function readMember(
  source: ByteSource,
  open: OpenZip,
  entry: yauzl.Entry,
  name: string,
  maxBytes: number,
): Promise<Buffer> {
  if (entry.uncompressedSize > maxBytes) {
    throw new InvalidArchiveError(
      Messages.zip(`Member ${quoteName(name)} is larger than ${maxBytes} bytes`),
    );
  }
  let header: yauzl.LocalFileHeader;
  try {
    header = await open.zip.readLocalFileHeaderPromise(entry);
  } catch (err) {
    if (isSourceError(err)) throw err;
    throw corrupt(name, 'unreadable local header', err);
  }
  if (!header.fileName.equals(entry.fileNameRaw)) {
    throw new InvalidArchiveError(
      Messages.zip(
        `Local header of member ${quoteName(name)} does not match the central directory`,
      ),
    );
  }
  const start = header.fileDataStart;
  const end = start + entry.compressedSize;
  if (end > source.size) throw corrupt(name, 'data runs past the end of the file');

  const declared = entry.uncompressedSize;
  const data =
    source.bytes !== undefined
      ? inflateInMemory(source.bytes.subarray(start, end), entry.compressionMethod, name, declared)
      : await inflateStreamed(source, start, end, entry.compressionMethod, name, declared);
  if (data.length !== declared)
    throw corrupt(name, `${data.length} bytes instead of the declared ${declared}`);
  if (zlib.crc32(data) !== entry.crc32) throw corrupt(name, 'bad CRC-32');
  return data;
}

/**
 * A member of an archive held in memory, inflated in one call: zlib stops at `declared + 1`
 * bytes (`maxOutputLength`), so a bomb produces no more than that either.
 */
function inflateInMemory(
  compressed: Buffer,
  method: number,
  name: string,
  declared: number,
): Buffer {
  if (method !== DEFLATED) {
    if (compressed.length > declared)
      throw corrupt(name, `more than the declared ${declared} bytes`);
    return compressed;
  }
  if (compressed.length === 0) return Buffer.alloc(0);
  try {
    return zlib.inflateRawSync(compressed, { maxOutputLength: declared + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw corrupt(name, `more than the declared ${declared} bytes`);
    throw corrupt(name, err instanceof Error ? err.message : String(err), err);
  }
}

/** A member read from the source as a stream, stopping as soon as it passes `declared` bytes. */
async function inflateStreamed(
  source: ByteSource,
  start: number,
  end: number,
  method: number,
  name: string,
  declared: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      total += chunk.length;
      if (total > declared) {
        callback(corrupt(name, `more than the declared ${declared} bytes`));
        return;
      }
      chunks.push(chunk);
      callback();
    },
  });
  const raw =
    end === start
      ? Readable.from([], { objectMode: false })
      : trackSourceErrors(source.stream(start, end - 1) as Readable);
  try {
    if (method === DEFLATED) {
      await pipeline(raw, zlib.createInflateRaw(), sink);
    } else {
      await pipeline(raw, sink);
    }
  } catch (err) {
    if (err instanceof InvalidArchiveError || isSourceError(err)) throw err;
    throw corrupt(name, err instanceof Error ? err.message : String(err), err);
  }
  return Buffer.concat(chunks, total);
}
