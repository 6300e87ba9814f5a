// The upload's digests: small uploads kept and hashed whole at their end, larger ones handed to
// the digest workers block by block as they stream (with the bytes kept so far first); in the
// workers, or all in this thread with `inThread`. Either way the digests are those of the
// bytes, and only a small upload's bytes are kept.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, test } from 'node:test';
import { createBLAKE2b } from 'hash-wasm';
import {
  DigestStream,
  FileTooLargeError,
  SMALL_UPLOAD,
  digestBuffer,
} from '../../src/registry/upload/digests.js';

async function expected(data: Buffer) {
  const blake2 = await createBLAKE2b(256);
  blake2.init();
  blake2.update(data);
  return {
    md5: createHash('md5').update(data).digest('hex'),
    sha256: createHash('sha256').update(data).digest('hex'),
    blake2_256: blake2.digest('hex'),
  };
}

/** `data` through a DigestStream in chunks of `chunk` bytes; what passed through, and the stream. */
async function run(data: Buffer, chunk: number, options: { inThread?: boolean } = {}) {
  const hasher = await DigestStream.create(64 * 1024 * 1024, options);
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) parts.push(data.subarray(at, at + chunk));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(parts),
    hasher,
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  return { hasher, passed: Buffer.concat(out) };
}

// The digest workers are unreferenced (they never keep a server alive): a timer keeps this
// process running while it waits for them, as a server's listening socket does.
const keepAlive = setInterval(() => undefined, 60_000);
after(() => clearInterval(keepAlive));

const SIZES = [0, 1, SMALL_UPLOAD - 1, SMALL_UPLOAD, SMALL_UPLOAD + 1, 3 * SMALL_UPLOAD + 17];

for (const inThread of [false, true])
  test(`digests at each side of SMALL_UPLOAD, ${inThread ? 'in this thread' : 'in the workers'}`, async () => {
    for (const size of SIZES) {
      const data = randomBytes(size);
      for (const chunk of [64 * 1024, 1000 * 1000]) {
        const { hasher, passed } = await run(data, chunk, { inThread });
        assert.deepEqual(hasher.digests(), await expected(data), `${size} in ${chunk}`);
        assert.equal(hasher.size, size);
        assert.ok(passed.equals(data), 'every byte passes through, in order');
        const kept = hasher.bytes();
        if (size <= SMALL_UPLOAD) assert.ok(kept?.equals(data), `${size} kept`);
        else assert.equal(kept, null, `${size} not kept`);
      }
    }
  });

test('too large: the stream fails with FileTooLargeError', async () => {
  const hasher = await DigestStream.create(SMALL_UPLOAD + 10);
  await assert.rejects(
    pipeline(
      Readable.from([randomBytes(SMALL_UPLOAD), randomBytes(11)]),
      hasher,
      async function* (s) {
        for await (const _ of s) yield* [];
      },
    ),
    FileTooLargeError,
  );
  assert.equal(hasher.bytes(), null);
});

test('digestBuffer, called many times at once, gives each input its own digests', async () => {
  const inputs = Array.from({ length: 20 }, (_, i) => randomBytes(1000 * (i + 1)));
  const got = await Promise.all(inputs.map((b) => digestBuffer(b)));
  for (const [i, b] of inputs.entries()) assert.deepEqual(got[i], await expected(b));
});
