// The three digests PyPI records for every file (md5, sha256, BLAKE2b-256), computed while the
// upload streams through, with the size limit enforced on the way.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Algorithm } from './digest-worker.js';
import { createBLAKE2b, type IHasher } from 'hash-wasm';

export interface Digests {
  md5: string;
  sha256: string;
  blake2_256: string;
}

export class FileTooLargeError extends Error {}

/** BLAKE2b with a 32-byte digest. Not the first half of BLAKE2b-512: the length is a parameter. */
export async function createBlake2b256(): Promise<IHasher> {
  const h = await createBLAKE2b(256);
  h.init();
  return h;
}

/** Something that hashes a stream of chunks: in this thread, or in the digest worker. */
interface Hashers {
  /** A promise when too many bytes wait to be hashed: the stream waits for it (backpressure). */
  update(chunk: Buffer): Promise<void> | undefined;
  digests(): Promise<Digests>;
  abort(): void;
}

class LocalHashers implements Hashers {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  constructor(private readonly blake2: IHasher) {}
  update(chunk: Buffer): undefined {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.blake2.update(chunk);
    return undefined;
  }
  async digests(): Promise<Digests> {
    return {
      md5: this.md5.digest('hex'),
      sha256: this.sha256.digest('hex'),
      blake2_256: this.blake2.digest('hex'),
    };
  }
  abort(): void {}
}

/**
 * Bytes go to the workers in shared-memory blocks of 1 MiB, each filled again once both workers
 * have hashed it: the memory hashing needs is a fixed pool of blocks, whatever the garbage
 * collector does, and no byte is copied twice.
 */
const BLOCK = 1024 * 1024;
const BLOCKS = 16;
const BLOCKS_PER_UPLOAD = 6;
/**
 * Which worker computes what. Alone, md5 runs at 723 MiB/s, sha256 1,716, BLAKE2b 915 here, which
 * suggests md5 alone in one worker; measured in the upload benchmark, that split was slower
 * (0.49–0.65 of the baseline over six runs) than md5 and sha256 together (0.58–0.68 over four):
 * both workers share two cores with the event loop and the kernel's writes either way.
 */
const SHARES: Algorithm[][] = [['md5', 'sha256'], ['blake2_256']];

interface Session {
  blocksInFlight: number;
  acks: Map<number, number>;
  waiter: (() => void) | null;
  digests: Partial<Digests>;
  answers: number;
  done: (d: Digests) => void;
  fail: (e: Error) => void;
}

/** The digest workers, shared by every upload of this process. */
/** A Map that tells when it turns from empty to busy and back. */
class BusyMap<K, V> extends Map<K, V> {
  constructor(private readonly onChange: (busy: boolean) => void) {
    super();
  }
  override set(key: K, value: V): this {
    const was = this.size;
    super.set(key, value);
    if (was === 0 && this.size > 0) this.onChange(true);
    return this;
  }
  override delete(key: K): boolean {
    const deleted = super.delete(key);
    if (deleted && this.size === 0) this.onChange(false);
    return deleted;
  }
  override clear(): void {
    super.clear();
    this.onChange(false);
  }
}

class DigestWorkers {
  private workers: Worker[] | null = null;
  private nextId = 1;
  private readonly sessions = new BusyMap<number, Session>((busy) => {
    // Referenced while a digest is being computed, so that a command line process (`pier
    // import`) waits for it; unreferenced when idle, so that they never keep a process alive.
    for (const w of this.workers ?? [])
      if (busy) w.ref();
      else w.unref();
  });
  private readonly blocks = Array.from({ length: BLOCKS }, () => new SharedArrayBuffer(BLOCK));
  private readonly views = this.blocks.map((b) => new Uint8Array(b));
  private readonly free = Array.from({ length: BLOCKS }, (_, i) => i);
  private readonly blockWaiters: (() => void)[] = [];

  ensure(): Worker[] {
    if (this.workers) return this.workers;
    const failAll = (err: Error) => {
      for (const w of this.workers ?? []) void w.terminate();
      this.workers = null;
      for (const session of this.sessions.values()) session.fail(err);
      this.sessions.clear();
    };
    this.workers = SHARES.map((algorithms) => {
      const worker = new Worker(new URL('./digest-worker.js', import.meta.url), {
        workerData: { algorithms, blocks: this.blocks },
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
      });
      worker.on(
        'message',
        (m: { type: string; id: number; slot?: number; message?: string } & Partial<Digests>) =>
          this.answer(m),
      );
      worker.on('error', failAll);
      worker.on('exit', (code) => failAll(new Error(`digest worker exited with ${code}`)));
      // Unreferenced after the listeners are in place: idle workers never keep a process alive.
      worker.unref();
      return worker;
    });
    return this.workers;
  }

  private answer(
    m: { type: string; id: number; slot?: number; message?: string } & Partial<Digests>,
  ): void {
    const session = this.sessions.get(m.id);
    if (m.type === 'ack') {
      const left = (session?.acks.get(m.slot!) ?? 1) - 1;
      if (left > 0) {
        session!.acks.set(m.slot!, left);
        return;
      }
      session?.acks.delete(m.slot!);
      this.release(m.slot!);
      if (!session) return;
      session.blocksInFlight--;
      const wake = session.waiter;
      session.waiter = null;
      wake?.();
    } else if (!session) {
      return;
    } else if (m.type === 'digests') {
      for (const key of ['md5', 'sha256', 'blake2_256'] as const)
        if (m[key] !== undefined) session.digests[key] = m[key];
      if (++session.answers === SHARES.length) {
        this.sessions.delete(m.id);
        session.done(session.digests as Digests);
      }
    } else if (m.type === 'error') {
      this.sessions.delete(m.id);
      session.fail(new Error(`digest worker: ${m.message}`));
    }
  }

  private release(slot: number): void {
    this.free.push(slot);
    this.blockWaiters.shift()?.();
  }

  private async acquire(): Promise<number> {
    while (this.free.length === 0)
      await new Promise<void>((resolve) => this.blockWaiters.push(resolve));
    return this.free.pop()!;
  }

  /** The digests of bytes in shared memory, each worker hashing its share of the algorithms. */
  hashWhole(bytes: Uint8Array): Promise<Digests> {
    const workers = this.ensure();
    const id = this.nextId++;
    const digests = new Promise<Digests>((resolve, reject) => {
      this.sessions.set(id, {
        blocksInFlight: 0,
        acks: new Map(),
        waiter: null,
        digests: {},
        answers: 0,
        done: resolve,
        fail: reject,
      });
    });
    for (const w of workers) w.postMessage({ type: 'whole', id, bytes });
    return digests;
  }

  open(): Hashers {
    const workers = this.ensure();
    const id = this.nextId++;
    let resolveDigests!: (d: Digests) => void;
    let rejectDigests!: (e: Error) => void;
    const digests = new Promise<Digests>((resolve, reject) => {
      resolveDigests = resolve;
      rejectDigests = reject;
    });
    digests.catch(() => undefined);
    const session: Session = {
      blocksInFlight: 0,
      acks: new Map(),
      waiter: null,
      digests: {},
      answers: 0,
      done: resolveDigests,
      fail: (err: Error) => {
        rejectDigests(err);
        // A stream waiting for the workers goes on, to fail at its end.
        const wake = session.waiter;
        session.waiter = null;
        wake?.();
      },
    };
    this.sessions.set(id, session);
    for (const w of workers) w.postMessage({ type: 'start', id });
    let slot: number | null = null;
    let filled = 0;
    const send = () => {
      session.acks.set(slot!, workers.length);
      session.blocksInFlight++;
      for (const w of workers) w.postMessage({ type: 'data', id, slot, length: filled });
      slot = null;
      filled = 0;
    };
    const fill = async (chunk: Buffer): Promise<void> => {
      for (let at = 0; at < chunk.length;) {
        slot ??= this.free.length > 0 ? this.free.pop()! : await this.acquire();
        const n = Math.min(BLOCK - filled, chunk.length - at);
        this.views[slot]!.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === BLOCK) send();
      }
      while (session.blocksInFlight >= BLOCKS_PER_UPLOAD)
        await new Promise<void>((resolve) => (session.waiter = resolve));
    };
    return {
      update: (chunk) => {
        // The common case (a free block at hand, few in flight) stays synchronous.
        if (
          this.free.length > 1 &&
          session.blocksInFlight < BLOCKS_PER_UPLOAD - 1 &&
          chunk.length < BLOCK
        ) {
          slot ??= this.free.pop()!;
          const n = Math.min(BLOCK - filled, chunk.length);
          this.views[slot]!.set(chunk.subarray(0, n), filled);
          filled += n;
          if (filled === BLOCK) send();
          if (n === chunk.length) return undefined;
          return fill(chunk.subarray(n));
        }
        return fill(chunk);
      },
      digests: () => {
        if (slot !== null && filled > 0) send();
        else if (slot !== null) this.release(slot);
        slot = null;
        for (const w of workers) w.postMessage({ type: 'end', id });
        return digests;
      },
      abort: () => {
        if (slot !== null) this.release(slot);
        slot = null;
        this.sessions.delete(id);
        for (const w of workers) w.postMessage({ type: 'abort', id });
      },
    };
  }
}

let sharedWorkers: DigestWorkers | null = null;

/** Starts the digest worker ahead of the first upload (a server does so when it starts). */
export function startDigestWorker(): void {
  sharedWorkers ??= new DigestWorkers();
  sharedWorkers.ensure();
}

/**
 * Uploads up to this size are kept in memory while they stream and hashed whole once they end,
 * in one message to each digest worker (the bytes in shared memory, not copied again); the
 * archive checks then read the same bytes instead of reading the file back from storage. A
 * larger upload goes to the workers block by block as it streams (the bytes kept so far first),
 * and nothing of it is kept. Measured on the event loop, per 256 KiB upload: 0.9 ms to stream it
 * to the workers, 1.25 ms to hash it in this thread, about 0.2 ms as one message.
 */
export const SMALL_UPLOAD = 1024 * 1024;

let sharedBlake2: Promise<IHasher> | null = null;

/**
 * The digests of bytes in memory, in this thread. One BLAKE2b instance serves every call: each
 * use runs from init() to digest() without yielding.
 */
export async function digestBuffer(data: Uint8Array): Promise<Digests> {
  sharedBlake2 ??= createBlake2b256();
  const blake2 = await sharedBlake2;
  blake2.init();
  blake2.update(data);
  return {
    md5: createHash('md5').update(data).digest('hex'),
    sha256: createHash('sha256').update(data).digest('hex'),
    blake2_256: blake2.digest('hex'),
  };
}

export class DigestStream extends Transform {
  size = 0;
  private result: Digests | null = null;
  /** The chunks so far, while the upload is small; null once it went to the hashers. */
  private kept: Buffer[] | null = [];
  /** The whole upload, once a small one has ended. */
  private whole: Buffer | null = null;
  private hashers: Hashers | null = null;

  private constructor(
    private readonly maxSize: number,
    private readonly inThread: boolean,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  /**
   * Large uploads are hashed in the digest workers by default; `inThread` for callers that
   * cannot start threads.
   */
  static async create(
    maxSize: number,
    options: { inThread?: boolean } = {},
  ): Promise<DigestStream> {
    return new DigestStream(maxSize, options.inThread ?? false);
  }

  private async openHashers(): Promise<Hashers> {
    if (!this.inThread) {
      try {
        sharedWorkers ??= new DigestWorkers();
        return sharedWorkers.open();
      } catch {
        // fall back to this thread
      }
    }
    return new LocalHashers(await createBlake2b256());
  }

  /** The upload outgrew SMALL_UPLOAD: the hashers take over, starting with the bytes kept. */
  private async handOver(kept: Buffer[]): Promise<void> {
    const hashers = await this.openHashers();
    this.hashers = hashers;
    for (const chunk of kept) await hashers.update(chunk);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSize) {
      done(new FileTooLargeError(`file exceeds ${this.maxSize} bytes`));
      return;
    }
    if (this.kept !== null) {
      this.kept.push(chunk);
      if (this.size <= SMALL_UPLOAD) {
        done(null, chunk);
        return;
      }
      const kept = this.kept;
      this.kept = null;
      this.handOver(kept).then(
        () => done(null, chunk),
        (err: Error) => done(err),
      );
      return;
    }
    const wait = this.hashers!.update(chunk);
    if (wait) wait.then(() => done(null, chunk));
    else done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    let digests: Promise<Digests>;
    if (this.kept !== null) {
      // The whole upload, once, in memory the workers can read: hashed there, kept here.
      const whole = Buffer.from(new SharedArrayBuffer(Math.max(this.size, 1)), 0, this.size);
      let at = 0;
      for (const chunk of this.kept) {
        whole.set(chunk, at);
        at += chunk.length;
      }
      this.kept = null;
      this.whole = whole;
      digests = this.hashWhole(whole);
    } else digests = this.hashers!.digests();
    digests.then(
      (d) => {
        this.result = d;
        done();
      },
      (err: Error) => done(err),
    );
  }

  private hashWhole(whole: Buffer): Promise<Digests> {
    if (!this.inThread && whole.length > 0) {
      try {
        sharedWorkers ??= new DigestWorkers();
        return sharedWorkers.hashWhole(whole);
      } catch {
        // fall back to this thread
      }
    }
    return digestBuffer(whole);
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    // Destroyed once it ends, too (autoDestroy): the bytes of a finished upload stay readable.
    if (this.result === null) {
      this.hashers?.abort();
      this.kept = null;
      this.whole = null;
    }
    done(err);
  }

  digests(): Digests {
    if (!this.result) throw new Error('digests read before the stream ended');
    return this.result;
  }

  /** The whole upload, when it was small enough to keep (after the stream ended); else null. */
  bytes(): Buffer | null {
    return this.result ? this.whole : null;
  }
}
