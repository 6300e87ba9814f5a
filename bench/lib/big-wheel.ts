// A valid wheel of any size, written to disk as it is generated (never held in memory): a
// package whose payload member is `payloadBytes` of random bytes, STORED, and the dist-info
// files pier checks (METADATA, WHEEL, and a RECORD with every member's sha256).
import { createHash, randomFillSync, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { metadataText } from '../../test/support/dists.js';

export interface BigWheel {
  path: string;
  filename: string;
  name: string;
  version: string;
  size: number;
}

const CHUNK = 1024 * 1024;

/** `total` random bytes in 1 MiB chunks, each also fed to `hash`. */
function randomBytes(total: number, hash: Hash): Readable {
  let left = total;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(left, CHUNK)));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

const recordHash = (h: Hash) => `sha256=${h.digest('base64url')}`;

export async function writeBigWheel(
  dir: string,
  payloadBytes: number,
  name = 'bench-upload',
  version = '1.0.0',
): Promise<BigWheel> {
  const pkg = name.replace(/[-_.]+/g, '_');
  const distInfo = `${pkg}-${version}.dist-info`;
  const filename = `${pkg}-${version}-py3-none-any.whl`;
  const path = join(dir, filename);
  const zip = new yazl.ZipFile();
  const record: string[] = [];
  const add = (member: string, content: string) => {
    const bytes = Buffer.from(content);
    zip.addBuffer(bytes, member);
    record.push(`${member},${recordHash(createHash('sha256').update(bytes))},${bytes.length}`);
  };

  add(`${pkg}/__init__.py`, '');
  const payloadHash = createHash('sha256');
  const payload = `${pkg}/payload.bin`;
  zip.addReadStream(randomBytes(payloadBytes, payloadHash), payload, {
    compress: false,
    size: payloadBytes,
  });
  add(`${distInfo}/METADATA`, metadataText(name, version));
  add(
    `${distInfo}/WHEEL`,
    'Wheel-Version: 1.0\nGenerator: pier-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  );
  // RECORD last: yazl asks for its stream only once the payload has been written and hashed.
  zip.addReadStreamLazy(`${distInfo}/RECORD`, (done) => {
    record.splice(1, 0, `${payload},${recordHash(payloadHash)},${payloadBytes}`);
    record.push(`${distInfo}/RECORD,,`);
    done(null, Readable.from([Buffer.from(`${record.join('\n')}\n`)]));
  });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
  return { path, filename, name, version, size: (await stat(path)).size };
}
