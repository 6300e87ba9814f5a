/**
 * `ByteSource` implementations over a Buffer and over a file.
 *
 * The file source keeps no descriptor open between calls (the interface has no `close`): each
 * `read` opens, reads and closes, and each `stream` is an `fs.ReadStream` that closes itself when
 * it ends or is destroyed. The zip reader batches its small reads, so the cost stays small.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ByteSource } from './archive-common.js';

const STREAM_CHUNK = 64 * 1024;

function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`invalid byte range: offset ${offset}, length ${length}`);
  }
  if (offset + length > size) {
    throw new RangeError(`byte range ${offset}+${length} is beyond the end (${size} bytes)`);
  }
}

/** `[start, end]` inclusive, clamped to the source like `fs.createReadStream`; null if empty. */
function streamRange(size: number, start = 0, end = size - 1): [number, number] | null {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0) {
    throw new RangeError(`invalid stream range: ${start}-${end}`);
  }
  const last = Math.min(end, size - 1);
  return start > last ? null : [start, last];
}

function emptyStream(): Readable {
  return Readable.from([], { objectMode: false });
}

export function byteSourceFromBuffer(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    bytes: buf,
    async read(offset: number, length: number): Promise<Buffer> {
      checkRange(buf.length, offset, length);
      return buf.subarray(offset, offset + length);
    },
    stream(start?: number, end?: number): Readable {
      const range = streamRange(buf.length, start, end);
      if (range === null) return emptyStream();
      const [first, last] = range;
      function* chunks(): Generator<Buffer> {
        for (let at = first; at <= last; at += STREAM_CHUNK) {
          yield buf.subarray(at, Math.min(at + STREAM_CHUNK, last + 1));
        }
      }
      return Readable.from(chunks(), { objectMode: false });
    },
  };
}

export async function byteSourceFromFile(path: string): Promise<ByteSource> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`not a regular file: ${path}`);
  const size = info.size;
  return {
    size,
    async read(offset: number, length: number): Promise<Buffer> {
      checkRange(size, offset, length);
      const out = Buffer.allocUnsafe(length);
      if (length === 0) return out;
      const handle = await open(path, 'r');
      try {
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead === 0) throw new RangeError(`unexpected end of file at ${offset + done}`);
          done += bytesRead;
        }
        return out;
      } finally {
        await handle.close();
      }
    },
    stream(start?: number, end?: number): Readable {
      const range = streamRange(size, start, end);
      if (range === null) return emptyStream();
      return createReadStream(path, {
        start: range[0],
        end: range[1],
        highWaterMark: STREAM_CHUNK,
      });
    },
  };
}
