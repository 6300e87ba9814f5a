// Writing a blob around the page cache (Linux O_DIRECT). Copying an upload into the page cache
// costs the kernel about 1.8 CPU-seconds per GiB on the virtual machines pier was measured on,
// more than any single digest; a direct write moves the same bytes for a few hundredths of that.
//
// O_DIRECT wants buffers, offsets and lengths aligned to the device's block size. Node cannot
// allocate an aligned Buffer, but a WebAssembly memory starts on a page boundary: the bytes are
// gathered there in stages of 4 MiB, each written at its offset while the next one fills. The
// tail that is not a whole block is written through a second, ordinary descriptor of the same
// file. If the filesystem refuses direct I/O (tmpfs, some network filesystems) — at open or at
// any write — the same positional writes go through the ordinary descriptor instead. Durability
// is unchanged: the file is fsynced before the stream finishes, and renamed into place after.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

const ALIGN = 4096;
const STAGE = 4 * 1024 * 1024;
const STAGES = 3;
const WASM_PAGE = 64 * 1024;

// The one WebAssembly API used here (the compiler's libraries for Node do not declare it).
declare const WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };

/** Whether this platform has O_DIRECT at all (Linux). */
export const DIRECT_IO_AVAILABLE = typeof constants.O_DIRECT === 'number' && constants.O_DIRECT > 0;

function isInvalid(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'EINVAL';
}

export class DirectFileWriter extends Writable {
  /** Bytes accepted so far. */
  size = 0;
  private readonly stages: Buffer[];
  private readonly pending: (Promise<void> | null)[];
  private current = 0;
  private filled = 0;
  private position = 0;
  private directOk: boolean;

  private constructor(
    private readonly direct: FileHandle | null,
    private readonly plain: FileHandle,
  ) {
    super({ highWaterMark: STAGE });
    const memory = new WebAssembly.Memory({ initial: (STAGE * STAGES) / WASM_PAGE });
    this.stages = Array.from({ length: STAGES }, (_, i) =>
      Buffer.from(memory.buffer, i * STAGE, STAGE),
    );
    this.pending = this.stages.map(() => null);
    this.directOk = direct !== null;
  }

  /** Creates `path` (which must not exist) for writing; `direct: false` writes plainly. */
  static async create(path: string, options: { direct?: boolean } = {}): Promise<DirectFileWriter> {
    let direct: FileHandle | null = null;
    if (DIRECT_IO_AVAILABLE && options.direct !== false) {
      try {
        direct = await open(
          path,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT,
          0o644,
        );
      } catch (err) {
        if (!isInvalid(err)) throw err;
      }
    }
    const plain = await open(path, direct ? 'r+' : 'wx').catch(async (err: unknown) => {
      await direct?.close();
      throw err;
    });
    return new DirectFileWriter(direct, plain);
  }

  /** Whether the bytes went around the page cache (false once the filesystem refused it). */
  get usedDirectIo(): boolean {
    return this.directOk;
  }

  /** Writes `length` bytes of `buffer` at `position`: directly when allowed, else plainly. */
  private async writeAt(buffer: Buffer, length: number, position: number): Promise<void> {
    if (this.directOk && this.direct) {
      try {
        await this.writeAll(this.direct, buffer, length, position);
        return;
      } catch (err) {
        if (!isInvalid(err)) throw err;
        this.directOk = false; // the filesystem refuses direct I/O: plain writes from now on
      }
    }
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

  /** Sends the current stage (full) to disk and moves to the next, waiting if it is busy. */
  private async flushStage(): Promise<void> {
    const i = this.current;
    const length = this.filled;
    const at = this.position;
    this.pending[i] = this.writeAt(this.stages[i]!, length, at);
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
    const run = async () => {
      for (let at = 0; at < chunk.length;) {
        const n = Math.min(STAGE - this.filled, chunk.length - at);
        chunk.copy(this.stages[this.current]!, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled === STAGE) await this.flushStage();
      }
    };
    // The common case — the chunk fits in the current stage — completes synchronously.
    if (this.filled + chunk.length < STAGE) {
      chunk.copy(this.stages[this.current]!, this.filled);
      this.filled += chunk.length;
      callback();
      return;
    }
    run().then(() => callback(), callback);
  }

  override _final(callback: (e?: Error) => void): void {
    const finish = async () => {
      // The whole blocks of the last stage directly, the rest through the plain descriptor.
      const stage = this.stages[this.current]!;
      const whole = this.filled - (this.filled % ALIGN);
      const writes: Promise<void>[] = [];
      if (whole > 0) writes.push(this.writeAt(stage, whole, this.position));
      if (this.filled > whole)
        writes.push(
          this.writeAll(
            this.plain,
            stage.subarray(whole),
            this.filled - whole,
            this.position + whole,
          ),
        );
      await Promise.all([...this.pending.filter((p) => p !== null), ...writes]);
      this.pending.fill(null);
      // Durable before 'finish': the data, written either way, and the file's size.
      await this.plain.sync();
    };
    finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (e: Error | null) => void): void {
    // Writes still in flight finish (or fail) before the descriptors close.
    Promise.allSettled(this.pending.filter((p) => p !== null))
      .then(() => this.close())
      .then(
        () => callback(error),
        () => callback(error),
      );
  }

  private handlesClosed = false;
  async close(): Promise<void> {
    if (this.handlesClosed) return;
    this.handlesClosed = true;
    await Promise.allSettled([this.direct?.close(), this.plain.close()]);
  }
}
