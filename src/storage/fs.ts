// Blob store on a local folder. A write goes to tmp/<random>.part, is fsynced, then renamed
// into place (rename is atomic), so a crash leaves either the whole blob or a .part file
// that sweep() removes.
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { byteSourceFromFile, type ByteSource } from '../packaging/archive.js';
import type { BlobInfo, BlobStore } from './blob-store.js';
import { DirectFileWriter } from './direct-writer.js';

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class FileBlobStore implements BlobStore {
  readonly describe: string;
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.describe = `file://${root}`;
    this.tmpDir = join(root, 'tmp');
  }

  private path(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`invalid blob key: ${key}`);
    return join(this.root, 'blobs', key.slice(0, 2), key.slice(2, 4), key);
  }

  async put(key: string, source: Readable): Promise<BlobInfo> {
    const final = this.path(key);
    const part = join(this.tmpDir, `${randomUUID()}.part`);
    // Around the page cache where the filesystem allows it (see direct-writer.ts); fsynced
    // before the stream finishes either way. Folders are made when a write finds them missing
    // (the first time, or after someone removed them), not checked before every upload.
    const out = await missingFolderMade(this.tmpDir, () => DirectFileWriter.create(part));
    try {
      await pipeline(source, out);
      await missingFolderMade(dirname(final), () => rename(part, final));
      await syncDir(dirname(final));
    } catch (err) {
      await unlink(part).catch(() => undefined);
      throw err;
    }
    return { size: out.size };
  }

  async stat(key: string): Promise<BlobInfo | null> {
    try {
      const s = await stat(this.path(key));
      return { size: s.size };
    } catch {
      return null;
    }
  }

  async open(key: string): Promise<ByteSource> {
    return byteSourceFromFile(this.path(key));
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const path = this.path(key);
    // Open first so a missing blob is an error here rather than on the response stream.
    const fh = await open(path, 'r');
    return createReadStream('', { fd: fh, start: range?.start, end: range?.end });
  }

  async directUrl(): Promise<string | null> {
    return null;
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async *keys(): AsyncIterable<string> {
    const root = join(this.root, 'blobs');
    const walk = async function* (dir: string, depth: number): AsyncIterable<string> {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const name of names.sort()) {
        if (depth < 2) yield* walk(join(dir, name), depth + 1);
        else if (KEY_RE.test(name)) yield name;
      }
    };
    yield* walk(root, 0);
  }

  close(): void {}

  async sweep(olderThanMs: number): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch {
      return 0;
    }
    const cutoff = Date.now() - olderThanMs;
    for (const name of names) {
      if (!name.endsWith('.part')) continue;
      const p = join(this.tmpDir, name);
      try {
        if ((await stat(p)).mtimeMs < cutoff) {
          await unlink(p);
          removed++;
        }
      } catch {
        // raced with another sweeper
      }
    }
    return removed;
  }
}

/** `action`, and once more after making `folder` if it failed because a folder was missing. */
async function missingFolderMade<T>(folder: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(folder, { recursive: true });
    return action();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh.close();
  }
}
