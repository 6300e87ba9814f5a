// The direct writer (O_DIRECT through page-aligned WebAssembly memory): every byte lands where it
// belongs whatever the sizes — empty, around the 4 KiB block and the 4 MiB stage, chunks that
// straddle stages — directly and through the plain descriptor alike; the file exists complete
// when the stream finishes; an existing file is never overwritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DIRECT_IO_AVAILABLE, DirectFileWriter } from '../../src/storage/direct-writer.js';
import { tempDir } from '../support/tmp.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [
  0,
  1,
  4 * KiB - 1,
  4 * KiB,
  4 * KiB + 1,
  4 * MiB - 1,
  4 * MiB,
  4 * MiB + 1,
  13 * MiB + 123,
];

/** `data` as a stream of chunks of the given sizes, cycled. */
function chunked(data: Buffer, sizes: number[]): Readable {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    parts.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(parts);
}

for (const direct of [true, false]) {
  test(`${direct ? 'direct' : 'plain'} writes: every size and chunking gives back the same bytes`, async () => {
    const dir = tempDir('pier-direct-');
    for (const size of SIZES)
      for (const chunks of [[64 * KiB], [1, 4095, 5 * MiB, 333]]) {
        const data = randomBytes(size);
        const path = join(dir, `${size}-${chunks.length}.part`);
        const writer = await DirectFileWriter.create(path, { direct });
        await pipeline(chunked(data, chunks), writer);
        assert.equal(writer.size, size);
        assert.ok(
          readFileSync(path).equals(data),
          `${size} bytes in chunks of ${chunks.join(',')}`,
        );
        if (!direct) assert.equal(writer.usedDirectIo, false);
      }
  });
}

test('direct I/O is used on this machine’s filesystem (Linux, ext4)', async () => {
  if (!DIRECT_IO_AVAILABLE) return;
  const writer = await DirectFileWriter.create(join(tempDir('pier-direct-'), 'big.part'));
  await pipeline(Readable.from([randomBytes(9 * MiB)]), writer);
  assert.equal(writer.usedDirectIo, true);
});

test('an existing file is refused, and left as it was', async () => {
  const path = join(tempDir('pier-direct-'), 'taken.part');
  writeFileSync(path, 'mine');
  for (const direct of [true, false])
    await assert.rejects(DirectFileWriter.create(path, { direct }), { code: 'EEXIST' });
  assert.equal(readFileSync(path, 'utf8'), 'mine');
});

test('a failing source fails the pipeline and the descriptors close', async () => {
  const path = join(tempDir('pier-direct-'), 'broken.part');
  const writer = await DirectFileWriter.create(path);
  const source = new Readable({
    read() {
      this.push(randomBytes(5 * MiB));
      this.destroy(new Error('connection reset'));
    },
  });
  await assert.rejects(pipeline(source, writer), /connection reset/);
  assert.ok(existsSync(path)); // the store removes its .part file (FileBlobStore.put)
  assert.equal(writer.destroyed, true);
});

test('stages are reused safely: many writers at once, some failing midway, each file exact', async () => {
  const dir = tempDir('pier-direct-');
  for (let round = 0; round < 2; round++) {
    const jobs = Array.from({ length: 12 }, async (_, i) => {
      const data = randomBytes(9 * MiB + i * 4099);
      const path = join(dir, `${round}-${i}.part`);
      const writer = await DirectFileWriter.create(path);
      const fails = i % 3 === 0;
      let sent = 0;
      const source = new Readable({
        read() {
          if (fails && sent >= 5 * MiB) return this.destroy(new Error('connection reset'));
          const n = Math.min(300 * KiB, data.length - sent);
          if (n === 0) return this.push(null);
          // Slices of different sizes, pushed a little apart, so the writers interleave.
          setImmediate(() => {
            this.push(data.subarray(sent, sent + n));
            sent += n;
          });
        },
      });
      if (fails) {
        await assert.rejects(pipeline(source, writer), /connection reset/);
        return;
      }
      await pipeline(source, writer);
      assert.ok(readFileSync(path).equals(data), `round ${round}, writer ${i}`);
    });
    await Promise.all(jobs);
  }
});
