// The three digests PyPI records for every file (md5, sha256, BLAKE2b-256), computed while the
// upload streams through, with the size limit enforced on the way.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
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

export class DigestStream extends Transform {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  size = 0;
  private result: Digests | null = null;

  private constructor(
    private readonly blake2: IHasher,
    private readonly maxSize: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  static async create(maxSize: number): Promise<DigestStream> {
    return new DigestStream(await createBlake2b256(), maxSize);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSize) {
      done(new FileTooLargeError(`file exceeds ${this.maxSize} bytes`));
      return;
    }
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.blake2.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.result = {
      md5: this.md5.digest('hex'),
      sha256: this.sha256.digest('hex'),
      blake2_256: this.blake2.digest('hex'),
    };
    done();
  }

  digests(): Digests {
    if (!this.result) throw new Error('digests read before the stream ended');
    return this.result;
  }
}

export async function digestBuffer(data: Uint8Array): Promise<Digests> {
  const b = await createBlake2b256();
  b.update(data);
  return {
    md5: createHash('md5').update(data).digest('hex'),
    sha256: createHash('sha256').update(data).digest('hex'),
    blake2_256: b.digest('hex'),
  };
}
