// Writing a blob around the page cache (Linux O_DIRECT). Copying an upload into the page cache
// costs the kernel about 1.8 CPU-seconds per GiB on the virtual machines pier was measured on,
// more than any single digest; a direct write moves the same bytes for a few hundredths of that.
//
// O_DIRECT wants buffers, offsets and lengths aligned to the device's block size. Node cannot
// allocate an aligned Buffer, but a WebAssembly memory starts on a page boundary: the bytes are
// gathered there in stages of 4 MiB, each written at its offset while the next one fills. The
// tail that is not a whole block is written through a second, ordinary descriptor of the same
// file; a file smaller than one stage is written plainly altogether (the index reads a new file
// again at once to inspect it, and a small one costs the page cache little). If the filesystem
// refuses direct I/O (tmpfs, some network filesystems) — at open or at
// any write — the same positional writes go through the ordinary descriptor instead. Durability
// is unchanged: the file is fsynced before the stream finishes, and renamed into place after.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

const ALIGN = 4096;
const STAGE = 4 * 1024 * 1024;
const STAGES = 3;
const WASM_PAGE = 64 * 1024;
/** Stage sets kept for reuse: allocating 12 MiB per upload made the garbage collector run hot. */
const POOLED_SETS = 8;

// The one WebAssembly API used here (the compiler's libraries for Node do not declare it).
declare const WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };

/** Whether this platform has O_DIRECT at all (Linux). */
export const DIRECT_IO_AVAILABLE = typeof constants.O_DIRECT === 'number' && constants.O_DIRECT > 0;

function isInvalid(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'EINVAL';
}

const freeSets: Buffer[][] = [];
let pooledSets = 0;

/** A set of aligned stages: a kept one, a new kept one, or (all in use) one of its own. */
function acquireStages(): { stages: Buffer[]; pooled: boolean } {
  const kept = freeSets.pop();
  if (kept) return { stages: kept, pooled: true };
  const memory = new WebAssembly.Memory({ initial: (STAGE * STAGES) / WASM_PAGE });
  const stages = Array.from({ length: STAGES }, (_, i) =>
    Buffer.from(memory.buffer, i * STAGE, STAGE),
  );
  if (pooledSets >= POOLED_SETS) return { stages, pooled: false };
  pooledSets++;
  return { stages, pooled: true };
}

export class DirectFileWriter extends Writable {
  /** Bytes accepted so far. */
  size = 0;
  private readonly stages: Buffer[];
  private readonly pooled: boolean;
  private readonly pending: (Promise<void> | null)[];
  private current = 0;
  private filled = 0;
  private position = 0;
  private directOk: boolean;
  /** The O_DIRECT descriptor, opened at the first whole stage (a small file never needs it). */
  private direct: Promise<FileHandle | null> | null = null;

  private constructor(
    private readonly path: string,
    private readonly plain: FileHandle,
    direct: boolean,
  ) {
    super({ highWaterMark: STAGE });
    ({ stages: this.stages, pooled: this.pooled } = acquireStages());
    this.pending = this.stages.map(() => null);
    this.directOk = direct && DIRECT_IO_AVAILABLE;
  }

  /** Creates `path` (which must not exist) for writing; `direct: false` writes plainly. */
  static async create(path: string, options: { direct?: boolean } = {}): Promise<DirectFileWriter> {
    const plain = await open(path, 'wx');
    return new DirectFileWriter(path, plain, options.direct !== false);
  }

  /** The O_DIRECT descriptor, or null where the filesystem refuses direct I/O. */
  private directHandle(): Promise<FileHandle | null> {
    this.direct ??= open(this.path, constants.O_WRONLY | constants.O_DIRECT).catch(
      (err: unknown) => {
        if (isInvalid(err)) return null;
        throw err;
      },
    );
    return this.direct;
  }

  /** Whether direct I/O is still in use (false if it was off or the filesystem refused it). */
  get usedDirectIo(): boolean {
    return this.directOk;
  }

  /** Writes `length` bytes of `buffer` at `position`: directly when allowed, else plainly. */
  private async writeAt(buffer: Buffer, length: number, position: number): Promise<void> {
    const direct = this.directOk ? await this.directHandle() : null;
    if (direct) {
      try {
        await this.writeAll(direct, buffer, length, position);
        return;
      } catch (err) {
        if (!isInvalid(err)) throw err;
      }
    }
    this.directOk = false; // the filesystem refuses direct I/O: plain writes from now on
    await this.writeAll(this.plain, buffer, length, position);
  }

  private async writeAll(fh: FileHandle, buffer: Buffer, length: number, position: number) {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await fh.write(buffer, done, length - done, position + done);
      if (bytesWritten <= 0) throw new Error('short write');
      done += bytesWritten;
    }
  }

  /** Every write in flight; the first failure among them is kept for `_final`. */
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown = null;
  /** The asynchronous part of a `_write` or `_final` still running. */
  private working: Promise<void> | null = null;

  private track(write: Promise<void>): Promise<void> {
    this.inflight.add(write);
    write.then(
      () => this.inflight.delete(write),
      (err: unknown) => {
        this.inflight.delete(write);
        this.failure ??= err;
      },
    );
    return write;
  }

  /** Sends the current stage (full) to disk and moves to the next, waiting if it is busy. */
  private async flushStage(): Promise<void> {
    const i = this.current;
    const length = this.filled;
    const at = this.position;
    this.pending[i] = this.track(this.writeAt(this.stages[i]!, length, at));
    this.position += length;
    this.current = (i + 1) % STAGES;
    this.filled = 0;
    // The next stage is reused only once its previous write has finished.
    const busy = this.pending[this.current];
    if (busy) {
      this.pending[this.current] = null;
      await busy;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error) => void): void {
    this.size += chunk.length;
    // The common case — the chunk fits in the current stage — completes synchronously.
    if (this.filled + chunk.length < STAGE) {
      chunk.copy(this.stages[this.current]!, this.filled);
      this.filled += chunk.length;
      callback();
      return;
    }
    const run = async () => {
      for (let at = 0; at < chunk.length;) {
        // Destroyed meanwhile: the stages must not be touched again.
        if (this.destroyed) return;
        const n = Math.min(STAGE - this.filled, chunk.length - at);
        chunk.copy(this.stages[this.current]!, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled === STAGE) await this.flushStage();
      }
    };
    const working = run();
    this.working = working;
    working.then(
      () => callback(),
      (err: Error) => callback(err),
    );
  }

  override _final(callback: (e?: Error) => void): void {
    const finish = async () => {
      // The whole blocks of the last stage directly, the rest through the plain descriptor.
      const stage = this.stages[this.current]!;
      // A file smaller than one stage is written plainly: it costs the page cache little, and
      // the index reads it again at once to inspect it.
      const whole = this.position === 0 ? 0 : this.filled - (this.filled % ALIGN);
      if (whole > 0) this.track(this.writeAt(stage, whole, this.position));
      if (this.filled > whole)
        this.track(
          this.writeAll(
            this.plain,
            stage.subarray(whole),
            this.filled - whole,
            this.position + whole,
          ),
        );
      await Promise.allSettled([...this.inflight]);
      this.pending.fill(null);
      if (this.failure !== null) throw this.failure;
      // Durable before 'finish': the data, written either way, and the file's size.
      await this.plain.sync();
    };
    const working = finish();
    this.working = working;
    working.then(
      () => callback(),
      (err: Error) => callback(err),
    );
  }

  override _destroy(error: Error | null, callback: (e: Error | null) => void): void {
    // The stages go back to the pool only when nothing can touch them: the running `_write`
    // or `_final` has stopped and every write in flight has settled.
    const settle = async () => {
      if (this.working) await this.working.catch(() => undefined);
      await Promise.allSettled([...this.inflight]);
      await this.release();
    };
    settle().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private handlesClosed = false;
  /** Closes the descriptors and returns the stages to the pool (from `_destroy` only). */
  private async release(): Promise<void> {
    if (this.handlesClosed) return;
    this.handlesClosed = true;
    if (this.pooled) freeSets.push(this.stages);
    const direct = await this.direct?.catch(() => null);
    await Promise.allSettled([direct?.close(), this.plain.close()]);
  }
}
