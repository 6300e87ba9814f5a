import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';
import {
  DEFAULT_ARCHIVE_LIMITS,
  InvalidArchiveError,
  byteSourceFromBuffer,
  byteSourceFromFile,
  inspectSdist,
  inspectWheel,
  type ByteSource,
} from '../../src/packaging/archive.js';

const MiB = 1024 * 1024;
const MTIME = new Date('2024-01-01T00:00:00Z');
const METADATA = Buffer.from(
  'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\nLong description\n',
);
const WHEEL = 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n';
const PKG_INFO = Buffer.from('Metadata-Version: 2.2\nName: foo\nVersion: 1.0\n');

// ---------------------------------------------------------------------------------------------
// Builders: real zips (yazl) and real tars (tar-stream), plus byte patches for what the
// writers refuse to produce (bad names, other compression methods, lying sizes).

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface ZipMember {
  name: string;
  data: Buffer | string | (() => Readable);
  compress?: boolean;
  /** Deflate level; 1 builds the big test zips several times faster than the default 6. */
  level?: number;
}

async function zipOf(members: ZipMember[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const m of members) {
    const options =
      m.compress === false
        ? { compress: false, mtime: MTIME }
        : { compressionLevel: m.level ?? 6, mtime: MTIME };
    if (typeof m.data === 'function') zip.addReadStream(m.data(), m.name, options);
    else zip.addBuffer(Buffer.from(m.data), m.name, options);
  }
  zip.end();
  return collect(zip.outputStream as Readable);
}

function wheelMembers(distInfo = 'foo-1.0.dist-info'): ZipMember[] {
  return [
    { name: 'foo/__init__.py', data: 'X = 1\n' },
    { name: `${distInfo}/METADATA`, data: METADATA },
    { name: `${distInfo}/WHEEL`, data: WHEEL },
    { name: `${distInfo}/RECORD`, data: 'foo/__init__.py,,\n' },
  ];
}

/** Zeros as a stream, `total` bytes, without holding them. */
function zeros(total: number): () => Readable {
  return () => {
    const chunk = Buffer.alloc(Math.min(MiB, total));
    function* gen(): Generator<Buffer> {
      for (let left = total; left > 0; left -= chunk.length) {
        yield left >= chunk.length ? chunk : chunk.subarray(0, left);
      }
    }
    return Readable.from(gen(), { objectMode: false });
  };
}

interface CentralRecord {
  at: number;
  name: string;
  local: number;
}

function centralRecords(zip: Buffer): CentralRecord[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const records: CentralRecord[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    records.push({ at, name, local: zip.readUInt32LE(at + 42) });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return records;
}

function record(zip: Buffer, name: string): CentralRecord {
  const found = centralRecords(zip).find((r) => r.name === name);
  assert.ok(found, `no member ${name}`);
  return found;
}

/** Renames a member in place (same byte length), in the central directory and local header. */
function renameMember(zip: Buffer, from: string, to: string): Buffer {
  assert.equal(Buffer.byteLength(from), Buffer.byteLength(to));
  const out = Buffer.from(zip);
  const r = record(out, from);
  out.write(to, r.at + 46);
  out.write(to, r.local + 30);
  return out;
}

function setMethod(zip: Buffer, name: string, method: number): Buffer {
  const out = Buffer.from(zip);
  const r = record(out, name);
  out.writeUInt16LE(method, r.at + 10);
  out.writeUInt16LE(method, r.local + 8);
  return out;
}

/** Makes the central directory lie about a member's uncompressed size. */
function setDeclaredSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  out.writeUInt32LE(size, record(out, name).at + 24);
  return out;
}

/** The zip's offsets moved by `delta`, for prepending `delta` bytes of something else. */
function shiftZip(zip: Buffer, delta: number): Buffer {
  const out = Buffer.from(zip);
  for (const r of centralRecords(out)) out.writeUInt32LE(r.local + delta, r.at + 42);
  const eocd = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  out.writeUInt32LE(out.readUInt32LE(eocd + 16) + delta, eocd + 16);
  return out;
}

interface TarMember {
  name: string;
  data?: Buffer | string;
  type?: tar.Header['type'];
  linkname?: string;
  pax?: Record<string, string>;
}

async function tarOf(members: TarMember[]): Promise<Buffer> {
  const pack = tar.pack();
  const out = collect(pack);
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: m.name,
        type: m.type ?? 'file',
        mode: m.type === 'directory' ? 0o755 : 0o644,
        mtime: MTIME,
        ...(m.linkname === undefined ? {} : { linkname: m.linkname }),
        ...(m.pax === undefined ? {} : { pax: m.pax }),
      };
      pack.entry(header, Buffer.from(m.data ?? ''), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  return out;
}

function sdistMembers(top = 'foo-1.0'): TarMember[] {
  return [
    { name: `${top}/`, type: 'directory' },
    { name: `${top}/PKG-INFO`, data: PKG_INFO },
    { name: `${top}/pyproject.toml`, data: '[project]\nname = "foo"\n' },
    { name: `${top}/src/foo/__init__.py`, data: 'X = 1\n' },
  ];
}

async function sdistOf(members: TarMember[]): Promise<Buffer> {
  return zlib.gzipSync(await tarOf(members));
}

/** Offset of the (last) ustar header block whose name field is `name`. */
function headerOffset(tarBuf: Buffer, name: string): number {
  for (let at = tarBuf.length - 512; at >= 0; at -= 512) {
    const field = tarBuf.subarray(at, at + 100);
    const end = field.indexOf(0);
    if (field.toString('utf8', 0, end === -1 ? 100 : end) === name) return at;
  }
  assert.fail(`no header ${name}`);
}

function fixChecksum(tarBuf: Buffer, at: number): void {
  tarBuf.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += tarBuf[i] ?? 0;
  tarBuf.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

function setTypeflag(tarBuf: Buffer, name: string, flag: string): Buffer {
  const out = Buffer.from(tarBuf);
  const at = headerOffset(out, name);
  out.write(flag, at + 156, 'latin1');
  fixChecksum(out, at);
  return out;
}

/**
 * A gzip stream of `parts` (each `{ data, times }`) built from Z_FULL_FLUSH deflate blocks: a
 * block is byte-aligned and independent, so repeating it repeats its output. This is what
 * streaming the bytes through a gzip that flushes after each part produces, without spending
 * seconds deflating gigabytes. The CRC-32 of the whole must be supplied.
 */
function flushedGzip(parts: { data: Buffer; times: number }[], crc: number, total: number): Buffer {
  const out: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])];
  for (const { data, times } of parts) {
    const block = zlib.deflateRawSync(data, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
    for (let i = 0; i < times; i++) out.push(block);
  }
  out.push(zlib.deflateRawSync(Buffer.alloc(0))); // empty final block
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  out.push(trailer);
  return Buffer.concat(out);
}

// ---------------------------------------------------------------------------------------------
// Measuring: wall time and the peak RSS growth while the promise runs.

interface Measured {
  error: unknown;
  ms: number;
  peakRssMiB: number;
}

async function measure(fn: () => Promise<unknown>): Promise<Measured> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const started = performance.now();
  let error: unknown = undefined;
  try {
    await fn();
  } catch (err) {
    error = err;
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - started;
  peak = Math.max(peak, process.memoryUsage.rss());
  return { error, ms, peakRssMiB: (peak - base) / MiB };
}

function archiveError(message: string | RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(
      err instanceof InvalidArchiveError,
      `expected InvalidArchiveError, got ${String(err)}`,
    );
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

const wheel = (buf: Buffer, limits?: Parameters<typeof inspectWheel>[4]) =>
  inspectWheel(byteSourceFromBuffer(buf), 'foo-1.0-py3-none-any.whl', 'foo', '1.0', limits);
/** The same, read from a file: members are then streamed and inflated chunk by chunk. */
async function wheelFromFile(buf: Buffer, limits?: Parameters<typeof inspectWheel>[4]) {
  const dir = await mkdtemp(join(tmpdir(), 'pier-archive-file-'));
  try {
    const path = join(dir, 'foo-1.0-py3-none-any.whl');
    await writeFile(path, buf);
    return await inspectWheel(
      await byteSourceFromFile(path),
      'foo-1.0-py3-none-any.whl',
      'foo',
      '1.0',
      limits,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
/** Where a member's bytes are inflated differs with the source: in memory, or streamed. */
const WHEEL_READERS = [
  ['in memory', wheel],
  ['from a file', wheelFromFile],
] as const;
const sdist = (buf: Buffer, limits?: Parameters<typeof inspectSdist>[2]) =>
  inspectSdist(byteSourceFromBuffer(buf), 'foo-1.0.tar.gz', limits);

// ---------------------------------------------------------------------------------------------

describe('byte sources', () => {
  const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pier-archive-'));
    await writeFile(join(dir, 'blob'), data);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const kind of ['buffer', 'file'] as const) {
    it(`${kind}: exact reads, inclusive stream ranges, out-of-range rejects`, async () => {
      const source: ByteSource =
        kind === 'buffer'
          ? byteSourceFromBuffer(data)
          : await byteSourceFromFile(join(dir, 'blob'));
      assert.equal(source.size, data.length);
      assert.deepEqual(await source.read(1000, 70_000), data.subarray(1000, 71_000));
      assert.deepEqual(await source.read(data.length, 0), Buffer.alloc(0));
      await assert.rejects(source.read(data.length - 10, 11), RangeError);
      await assert.rejects(source.read(-1, 1), RangeError);
      assert.deepEqual(await collect(source.stream() as Readable), data);
      assert.deepEqual(
        await collect(source.stream(5, 200_004) as Readable),
        data.subarray(5, 200_005),
      );
      assert.deepEqual(await collect(source.stream(10, 10) as Readable), data.subarray(10, 11));
      assert.deepEqual(
        await collect(source.stream(299_990, 10_000_000) as Readable),
        data.subarray(299_990),
      );
      assert.deepEqual(await collect(source.stream(20, 19) as Readable), Buffer.alloc(0));
    });
  }
});

describe('inspectWheel', () => {
  it('reads METADATA unchanged, WHEEL, RECORD presence and every member name', async () => {
    const buf = await zipOf(wheelMembers());
    const w = await wheel(buf);
    assert.equal(w.metadataPath, 'foo-1.0.dist-info/METADATA');
    assert.deepEqual(w.metadata, METADATA);
    assert.equal(w.wheelFile, WHEEL);
    assert.equal(w.hasRecord, true);
    assert.equal(w.distInfoDir, 'foo-1.0.dist-info');
    assert.deepEqual(w.members, [
      'foo/__init__.py',
      'foo-1.0.dist-info/METADATA',
      'foo-1.0.dist-info/WHEEL',
      'foo-1.0.dist-info/RECORD',
    ]);
  });

  it('reads STORED members and reports a missing RECORD', async () => {
    const members = wheelMembers()
      .filter((m) => !m.name.endsWith('RECORD'))
      .map((m) => ({ ...m, compress: false }));
    const w = await wheel(await zipOf(members));
    assert.deepEqual(w.metadata, METADATA);
    assert.equal(w.hasRecord, false);
  });

  it('works over a file source', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pier-archive-'));
    try {
      await writeFile(join(dir, 'w.whl'), await zipOf(wheelMembers()));
      const source = await byteSourceFromFile(join(dir, 'w.whl'));
      const w = await inspectWheel(source, 'foo-1.0-py3-none-any.whl', 'foo', '1.0');
      assert.deepEqual(w.metadata, METADATA);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('falls back to the one .dist-info matching the filename (§3.5)', () => {
    it('when the directory is spelled differently', async () => {
      const buf = await zipOf(wheelMembers('Foo.Bar-1.0.0.dist-info'));
      const w = await inspectWheel(
        byteSourceFromBuffer(buf),
        'foo_bar-1.0-py3-none-any.whl',
        'foo_bar',
        '1.0',
      );
      assert.equal(w.distInfoDir, 'Foo.Bar-1.0.0.dist-info');
      assert.equal(w.metadataPath, 'Foo.Bar-1.0.0.dist-info/METADATA');
      assert.deepEqual(w.metadata, METADATA);
      assert.equal(w.hasRecord, true);
    });

    it('not when the version differs', async () => {
      const buf = await zipOf(wheelMembers('foo-1.1.dist-info'));
      await assert.rejects(wheel(buf), archiveError('WHEEL not found at foo-1.0.dist-info/WHEEL'));
    });

    it('not when two directories match', async () => {
      const buf = await zipOf([
        ...wheelMembers('Foo-1.0.dist-info'),
        ...wheelMembers('FOO-1.0.0.dist-info').slice(1),
      ]);
      await assert.rejects(wheel(buf), archiveError('WHEEL not found at foo-1.0.dist-info/WHEEL'));
    });
  });

  it('WHEEL missing', async () => {
    const buf = await zipOf(wheelMembers().filter((m) => !m.name.endsWith('/WHEEL')));
    await assert.rejects(wheel(buf), archiveError('WHEEL not found at foo-1.0.dist-info/WHEEL'));
  });

  it('METADATA missing: a complete Warehouse message, without the prefix', async () => {
    const buf = await zipOf(wheelMembers().filter((m) => !m.name.endsWith('/METADATA')));
    await assert.rejects(wheel(buf), (err: unknown) => {
      assert.ok(err instanceof InvalidArchiveError);
      assert.equal(
        err.message,
        "Wheel 'foo-1.0-py3-none-any.whl' does not contain the required METADATA file: foo-1.0.dist-info/METADATA",
      );
      assert.equal(err.distributionFilePrefix, false);
      assert.equal(err.responseMessage, err.message);
      return true;
    });
  });

  describe('not a zip', () => {
    const cases: [string, () => Promise<Buffer>][] = [
      ['empty file', async () => Buffer.alloc(0)],
      ['text', async () => Buffer.from('hello, this is not a zip file at all\n'.repeat(100))],
      ['a tar.gz', () => sdistOf(sdistMembers())],
      [
        'truncated (end records cut off)',
        async () => (await zipOf(wheelMembers())).subarray(0, 300),
      ],
      [
        'truncated (central directory cut)',
        async () => {
          const buf = await zipOf(wheelMembers());
          const first = centralRecords(buf)[0] as CentralRecord;
          return Buffer.concat([buf.subarray(0, first.at + 10), buf.subarray(buf.length - 22)]);
        },
      ],
    ];
    for (const [label, make] of cases) {
      it(label, async () => {
        await assert.rejects(wheel(await make()), (err: unknown) => {
          archiveError('File is not a zipfile')(err);
          assert.equal(
            (err as InvalidArchiveError).responseMessage,
            'Invalid distribution file. File is not a zipfile',
          );
          return true;
        });
      });
    }
  });

  it('refuses compression methods other than STORED and DEFLATED', async () => {
    const buf = setMethod(await zipOf(wheelMembers()), 'foo/__init__.py', 12 /* bzip2 */);
    await assert.rejects(
      wheel(buf),
      archiveError('File does not use a supported compression type'),
    );
  });

  describe('member names', () => {
    const cases: [string, string, RegExp][] = [
      [
        'foo/aa/b.py',
        'foo/../b.py',
        /^ZIP archive not accepted: Member name 'foo\/\.\.\/b\.py' contains '\.\.' \(path traversal\)\.$/,
      ],
      ['foo/__init__.py', '../../../../etc/x', /contains '\.\.' \(path traversal\)/],
      ['foo/__init__.py', '/foo/__init__.p', /is an absolute path/],
      ['foo/__init__.py', 'C:/foo/init.py', /is an absolute path/],
      ['foo/__init__.py', 'foo\\__init__.py', /contains a backslash/],
      ['foo/__init__.py', 'foo/..\\..\\x.py', /contains a backslash/],
    ];
    for (const [from, to, message] of cases) {
      it(`refuses ${JSON.stringify(to)}`, async () => {
        const members = wheelMembers().map((m) =>
          m.name === 'foo/__init__.py' ? { ...m, name: from } : m,
        );
        const buf = renameMember(
          await zipOf(members),
          from,
          to.padEnd(from.length, 'y').slice(0, from.length),
        );
        await assert.rejects(wheel(buf), archiveError(message));
      });
    }

    it('refuses duplicate names', async () => {
      const buf = await zipOf([
        ...wheelMembers(),
        { name: 'foo-1.0.dist-info/METADATA', data: 'evil' },
      ]);
      await assert.rejects(
        wheel(buf),
        archiveError(/Duplicate member name 'foo-1.0.dist-info\/METADATA'/),
      );
    });
  });

  it('refuses more than maxMembers members before reading them', async () => {
    const buf = await zipOf([
      ...wheelMembers(),
      ...Array.from({ length: 10 }, (_, i) => ({ name: `foo/m${i}.py`, data: '' })),
    ]);
    await assert.rejects(
      wheel(buf, { maxMembers: 10 }),
      archiveError('ZIP archive not accepted: More than 10 members.'),
    );
    assert.equal((await wheel(buf, { maxMembers: 14 })).members.length, 14);
  });

  for (const [how, read] of WHEEL_READERS)
    it(`refuses corrupt METADATA data (bad deflate stream or CRC), ${how}`, async () => {
      const buf = await zipOf([
        ...wheelMembers().filter((m) => !m.name.endsWith('/METADATA')),
        { name: 'foo-1.0.dist-info/METADATA', data: METADATA.toString().repeat(50) },
      ]);
      const r = record(buf, 'foo-1.0.dist-info/METADATA');
      const dataStart =
        r.local + 30 + buf.readUInt16LE(r.local + 26) + buf.readUInt16LE(r.local + 28);
      for (const at of [dataStart + 2, dataStart + 10]) {
        const bad = Buffer.from(buf);
        bad[at] = (bad[at] ?? 0) ^ 0x55;
        await assert.rejects(
          read(bad),
          archiveError(
            /^ZIP archive not accepted: Member 'foo-1\.0\.dist-info\/METADATA' is corrupt/,
          ),
        );
      }
    });

  it('refuses a member whose local header names another file', async () => {
    const buf = Buffer.from(await zipOf(wheelMembers()));
    const r = record(buf, 'foo-1.0.dist-info/WHEEL');
    buf.write('X', r.local + 30);
    await assert.rejects(
      wheel(buf),
      archiveError(/Local header of member 'foo-1\.0\.dist-info\/WHEEL' does not match/),
    );
  });

  it('refuses a file that is both a zip and a tar', async () => {
    const zip = await zipOf(wheelMembers());
    const tarHeader = (await tarOf([{ name: 'x', data: '' }])).subarray(0, 512);
    await assert.rejects(
      wheel(Buffer.concat([tarHeader, shiftZip(zip, 512)])),
      archiveError('File is both a zip and a tar file'),
    );
    const gz = await sdistOf(sdistMembers());
    await assert.rejects(
      wheel(Buffer.concat([gz, shiftZip(zip, gz.length)])),
      archiveError('File is both a zip and a tar file'),
    );
    // The same zip behind bytes that are not a tar is fine.
    assert.ok(await wheel(Buffer.concat([Buffer.alloc(512, 7), shiftZip(zip, 512)])));
  });

  describe('zip bombs', () => {
    // 200 MiB of zeros deflated (level 1): about 900 KiB.
    let bomb: Buffer;
    let built = 0;
    before(async () => {
      const started = performance.now();
      bomb = await zipOf([
        ...wheelMembers().filter((m) => !m.name.endsWith('/METADATA')),
        { name: 'foo-1.0.dist-info/METADATA', data: zeros(200 * MiB), level: 1 },
      ]);
      built = performance.now() - started;
    });

    it('200 MiB of zeros as METADATA: refused by the compression ratio, nothing inflated', async (t) => {
      t.diagnostic(`zip bomb: ${bomb.length} bytes, built in ${built.toFixed(0)} ms`);
      const m = await measure(() => wheel(bomb));
      archiveError('File exceeds compression ratio of 50')(m.error);
      t.diagnostic(
        `ratio refusal: ${m.ms.toFixed(0)} ms, peak RSS +${m.peakRssMiB.toFixed(1)} MiB`,
      );
      assert.ok(m.ms < 500, `${m.ms} ms`);
    });

    it('the ratio rule applies only above the threshold', async () => {
      const members = [
        ...wheelMembers(),
        { name: 'foo/zeros.bin', data: zeros(60 * MiB), level: 1 },
      ];
      const buf = await zipOf(members);
      assert.ok((await wheel(buf)).hasRecord); // 60 MiB < 64 MiB: allowed whatever the ratio
      await assert.rejects(
        wheel(buf, { ratioThresholdBytes: 50 * MiB }),
        archiveError('File exceeds compression ratio of 50'),
      );
      await assert.rejects(
        wheel(buf, { ratioThresholdBytes: 50 * MiB, maxCompressionRatio: 20 }),
        archiveError('File exceeds compression ratio of 20'),
      );
    });

    for (const [how, read] of WHEEL_READERS)
      it(`a central directory that understates METADATA: inflating stops at the declared size, ${how}`, async (t) => {
        for (const declared of [1000, 10 * MiB]) {
          const lying = setDeclaredSize(bomb, 'foo-1.0.dist-info/METADATA', declared);
          const m = await measure(() => read(lying));
          archiveError(
            `ZIP archive not accepted: Member 'foo-1.0.dist-info/METADATA' is corrupt (more than the declared ${declared} bytes).`,
          )(m.error);
          t.diagnostic(
            `declared ${declared}: stopped in ${m.ms.toFixed(0)} ms, peak RSS +${m.peakRssMiB.toFixed(1)} MiB`,
          );
          assert.ok(m.ms < 1000, `${m.ms} ms`);
          assert.ok(m.peakRssMiB < 100, `${m.peakRssMiB} MiB`);
        }
      });

    it('METADATA over maxMetadataBytes: refused from the declared size, or when inflated past it', async (t) => {
      // Ratio rule disabled, so only the METADATA cap stands between the bomb and memory.
      const noRatio = { ratioThresholdBytes: Number.MAX_SAFE_INTEGER };
      await assert.rejects(
        wheel(bomb, noRatio),
        archiveError(
          `ZIP archive not accepted: Member 'foo-1.0.dist-info/METADATA' is larger than ${16 * MiB} bytes.`,
        ),
      );
      const lying = setDeclaredSize(bomb, 'foo-1.0.dist-info/METADATA', 16 * MiB);
      const m = await measure(() => wheel(lying, noRatio));
      archiveError(/is corrupt \(more than the declared 16777216 bytes\)/)(m.error);
      t.diagnostic(`16 MiB cap: ${m.ms.toFixed(0)} ms, peak RSS +${m.peakRssMiB.toFixed(1)} MiB`);
      assert.ok(m.ms < 1500, `${m.ms} ms`);
    });

    it('a small METADATA limit applies to honest sizes too', async () => {
      await assert.rejects(
        wheel(await zipOf(wheelMembers()), { maxMetadataBytes: 20 }),
        archiveError(/is larger than 20 bytes/),
      );
    });
  });
});

describe('inspectSdist', () => {
  it('reads PKG-INFO unchanged, the top-level directory and every member name', async () => {
    const s = await sdist(await sdistOf(sdistMembers()));
    assert.equal(s.topLevel, 'foo-1.0');
    assert.deepEqual(s.pkgInfo, PKG_INFO);
    assert.deepEqual(s.members, [
      'foo-1.0',
      'foo-1.0/PKG-INFO',
      'foo-1.0/pyproject.toml',
      'foo-1.0/src/foo/__init__.py',
    ]);
  });

  it('strips ./ prefixes, skips the ./ entry and applies pax and long names', async () => {
    const long = `foo-1.0/${'d'.repeat(120)}/${'f'.repeat(150)}.txt`;
    const buf = await sdistOf([
      { name: './', type: 'directory' },
      { name: './foo-1.0/', type: 'directory' },
      { name: './foo-1.0/PKG-INFO', data: PKG_INFO, pax: { comment: 'pax header first' } },
      { name: long, data: 'x' },
      { name: './foo-1.0/café.txt', data: 'é' },
    ]);
    const s = await sdist(buf);
    assert.equal(s.topLevel, 'foo-1.0');
    assert.deepEqual(s.pkgInfo, PKG_INFO);
    assert.deepEqual(s.members, ['foo-1.0', 'foo-1.0/PKG-INFO', long, 'foo-1.0/café.txt']);
  });

  it('works over a file source, and keeps symlinks that stay inside', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pier-archive-'));
    try {
      const members = [
        ...sdistMembers(),
        { name: 'foo-1.0/README', type: 'symlink' as const, linkname: 'src/../pyproject.toml' },
      ];
      await writeFile(join(dir, 's.tar.gz'), await sdistOf(members));
      const s = await inspectSdist(
        await byteSourceFromFile(join(dir, 's.tar.gz')),
        'foo-1.0.tar.gz',
      );
      assert.ok(s.members.includes('foo-1.0/README'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('not a tarfile', () => {
    const cases: [string, () => Promise<Buffer>][] = [
      ['empty file', async () => Buffer.alloc(0)],
      ['text', async () => Buffer.from('not a tarball\n'.repeat(100))],
      ['an uncompressed tar', () => tarOf(sdistMembers())],
      ['gzip of text', async () => zlib.gzipSync(Buffer.from('hello world\n'.repeat(1000)))],
      ['gzip of an empty tar', async () => zlib.gzipSync(Buffer.alloc(10240))],
      ['a wheel (zip)', () => zipOf(wheelMembers())],
      ['truncated gzip', async () => (await sdistOf(sdistMembers())).subarray(0, 200)],
      [
        'tar cut inside a member',
        async () => {
          const t = await tarOf([
            ...sdistMembers(),
            { name: 'foo-1.0/big', data: Buffer.alloc(100_000, 1) },
          ]);
          return zlib.gzipSync(t.subarray(0, 3000));
        },
      ],
      [
        'corrupt gzip data',
        async () => {
          const gz = Buffer.from(await sdistOf(sdistMembers()));
          for (let i = 20; i < gz.length - 20; i += 7) gz[i] = (gz[i] ?? 0) ^ 0xa5;
          return gz;
        },
      ],
      [
        'bad tar header checksum',
        async () => {
          const t = Buffer.from(await tarOf(sdistMembers()));
          t[headerOffset(t, 'foo-1.0/pyproject.toml') + 10] = 0x41;
          return zlib.gzipSync(t);
        },
      ],
    ];
    for (const [label, make] of cases) {
      it(label, async () => {
        await assert.rejects(sdist(await make()), archiveError('File is not a tarfile'));
      });
    }
  });

  it('reads a PKG-INFO spanning many stream chunks', async () => {
    const big = Buffer.concat([
      PKG_INFO,
      Buffer.from('\n' + 'A long description line.\n'.repeat(20_000)),
    ]);
    const s = await sdist(
      await sdistOf([
        ...sdistMembers().filter((m) => !m.name.endsWith('PKG-INFO')),
        { name: 'foo-1.0/PKG-INFO', data: big },
      ]),
    );
    assert.deepEqual(s.pkgInfo, big);
  });

  it('does not wait for the body of a directory entry that declares a size', async () => {
    const t = Buffer.from(await tarOf(sdistMembers()));
    const at = headerOffset(t, 'foo-1.0/');
    t.write('00000001000\0', at + 124, 'latin1');
    fixChecksum(t, at);
    const s = await sdist(zlib.gzipSync(t));
    assert.deepEqual(s.pkgInfo, PKG_INFO);
  });

  it('needs exactly one top-level directory', async () => {
    for (const members of [
      [...sdistMembers(), { name: 'bar-1.0/x', data: '' }],
      [{ name: 'PKG-INFO', data: PKG_INFO }, ...sdistMembers()],
    ]) {
      await assert.rejects(
        sdist(await sdistOf(members)),
        archiveError('Incorrect number of top-level directories in sdist'),
      );
    }
  });

  it('needs <top>/PKG-INFO, a regular file', async () => {
    const without = sdistMembers().filter((m) => !m.name.endsWith('PKG-INFO'));
    for (const members of [
      without,
      [...without, { name: 'foo-1.0/src/PKG-INFO', data: PKG_INFO }],
      [
        ...without,
        { name: 'foo-1.0/PKG-INFO', type: 'symlink' as const, linkname: 'pyproject.toml' },
      ],
      [{ name: 'PKG-INFO', data: PKG_INFO }],
    ]) {
      const top = members[0]?.name === 'PKG-INFO' ? 'PKG-INFO' : 'foo-1.0';
      await assert.rejects(
        sdist(await sdistOf(members)),
        archiveError(`PKG-INFO not found at ${top}/PKG-INFO`),
      );
    }
  });

  it('refuses a second PKG-INFO and one over maxMetadataBytes', async () => {
    await assert.rejects(
      sdist(await sdistOf([...sdistMembers(), { name: 'foo-1.0/PKG-INFO', data: 'Name: evil\n' }])),
      archiveError("tar archive not accepted: Duplicate member 'foo-1.0/PKG-INFO'."),
    );
    await assert.rejects(
      sdist(await sdistOf(sdistMembers()), { maxMetadataBytes: 10 }),
      archiveError("tar archive not accepted: Member 'foo-1.0/PKG-INFO' is larger than 10 bytes."),
    );
  });

  describe('refuses members that escape the top directory', () => {
    const cases: [string, TarMember, RegExp][] = [
      [
        '.. component',
        { name: 'foo-1.0/../../etc/passwd', data: 'x' },
        /Member name 'foo-1\.0\/\.\.\/\.\.\/etc\/passwd' contains '\.\.' \(path traversal\)/,
      ],
      [
        'absolute path',
        { name: '/etc/passwd', data: 'x' },
        /Member name '\/etc\/passwd' is an absolute path/,
      ],
      [
        'symlink out',
        { name: 'foo-1.0/evil', type: 'symlink', linkname: '../../etc/passwd' },
        /links to '\.\.\/\.\.\/etc\/passwd', outside foo-1\.0\//,
      ],
      [
        'absolute symlink',
        { name: 'foo-1.0/evil', type: 'symlink', linkname: '/etc/passwd' },
        /links to '\/etc\/passwd'/,
      ],
      [
        'symlink to a sibling',
        { name: 'foo-1.0/evil', type: 'symlink', linkname: '../bar-1.0/x' },
        /outside foo-1\.0\//,
      ],
      [
        'hard link out',
        { name: 'foo-1.0/evil', type: 'link', linkname: 'etc/passwd' },
        /links to 'etc\/passwd'/,
      ],
      [
        'device file',
        { name: 'foo-1.0/dev', type: 'character-device' },
        /is a device file or FIFO/,
      ],
      ['fifo', { name: 'foo-1.0/pipe', type: 'fifo' }, /is a device file or FIFO/],
    ];
    for (const [label, member, message] of cases) {
      it(label, async () => {
        await assert.rejects(
          sdist(await sdistOf([...sdistMembers(), member])),
          archiveError(message),
        );
      });
    }
  });

  it('refuses sparse members (GNU type S and pax GNU.sparse.*) and unknown types', async () => {
    const base = await tarOf([...sdistMembers(), { name: 'foo-1.0/holes', data: 'abc' }]);
    await assert.rejects(
      sdist(zlib.gzipSync(setTypeflag(base, 'foo-1.0/holes', 'S'))),
      archiveError('tar archive not accepted: Sparse members are not allowed.'),
    );
    await assert.rejects(
      sdist(zlib.gzipSync(setTypeflag(base, 'foo-1.0/holes', 'V'))),
      archiveError("tar archive not accepted: Member 'foo-1.0/holes' has an unsupported type 'V'."),
    );
    const pax = await sdistOf([
      ...sdistMembers(),
      {
        name: 'foo-1.0/holes',
        data: 'abc',
        pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0' },
      },
    ]);
    await assert.rejects(
      sdist(pax),
      archiveError('tar archive not accepted: Sparse members are not allowed.'),
    );
  });

  it('refuses a file that is both a zip and a tar', async () => {
    const gz = await sdistOf(sdistMembers());
    const zip = await zipOf(wheelMembers());
    await assert.rejects(
      sdist(Buffer.concat([gz, shiftZip(zip, gz.length)])),
      archiveError('File is both a zip and a tar file'),
    );
  });

  it('refuses more than maxMembers members', async () => {
    const members = [
      ...sdistMembers(),
      ...Array.from({ length: 20 }, (_, i) => ({ name: `foo-1.0/m${i}`, data: '' })),
    ];
    await assert.rejects(
      sdist(await sdistOf(members), { maxMembers: 20 }),
      archiveError('tar archive not accepted: More than 20 members.'),
    );
    assert.equal((await sdist(await sdistOf(members), { maxMembers: 24 })).members.length, 24);
  });

  describe('bombs', () => {
    const zeroMiB = Buffer.alloc(MiB);
    // zlib.crc32 of 2 GiB of zeros (2048 × zlib.crc32(1 MiB of zeros), chained).
    const CRC_2GIB_ZEROS = 0x4dbdf21c;

    it('the flushed-gzip builder makes valid gzip', () => {
      let crc = 0;
      for (let i = 0; i < 3; i++) crc = zlib.crc32(zeroMiB, crc);
      const gz = flushedGzip([{ data: zeroMiB, times: 3 }], crc, 3 * MiB);
      assert.deepEqual(zlib.gunzipSync(gz), Buffer.alloc(3 * MiB));
    });

    it('2 GiB of zeros through gzip: stopped by the ratio rule, quickly, in bounded memory', async (t) => {
      const gz = flushedGzip([{ data: zeroMiB, times: 2048 }], CRC_2GIB_ZEROS, 2048 * MiB);
      const m = await measure(() => sdist(gz));
      archiveError('File exceeds compression ratio of 50')(m.error);
      t.diagnostic(
        `gzip bomb (${gz.length} bytes → 2 GiB): ${m.ms.toFixed(0)} ms, peak RSS +${m.peakRssMiB.toFixed(1)} MiB`,
      );
      assert.ok(m.ms < 3000, `${m.ms} ms`);
      assert.ok(m.peakRssMiB < 200, `${m.peakRssMiB} MiB`);
    });

    it('a 2 GiB member after a valid PKG-INFO: same, the body is drained and counted', async (t) => {
      const head = await tarOf(sdistMembers());
      const prefix = head.subarray(0, head.length - 1024); // without the end-of-archive blocks
      const big = Buffer.from((await tarOf([{ name: 'foo-1.0/big', data: '' }])).subarray(0, 512));
      big.write(`${(2 * 1024 * MiB).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
      fixChecksum(big, 0);
      const start = Buffer.concat([prefix, big]);
      let crc = zlib.crc32(start);
      for (let i = 0; i < 2048; i++) crc = zlib.crc32(zeroMiB, crc);
      const gz = flushedGzip(
        [
          { data: start, times: 1 },
          { data: zeroMiB, times: 2048 },
        ],
        crc,
        start.length + 2048 * MiB,
      );
      const m = await measure(() => sdist(gz));
      archiveError('File exceeds compression ratio of 50')(m.error);
      t.diagnostic(`2 GiB member: ${m.ms.toFixed(0)} ms, peak RSS +${m.peakRssMiB.toFixed(1)} MiB`);
      assert.ok(m.ms < 3000, `${m.ms} ms`);
      assert.ok(m.peakRssMiB < 200, `${m.peakRssMiB} MiB`);
    });

    it('a million tiny members: stopped at maxMembers, quickly', async (t) => {
      // 1,000,000 empty files: one header block each (512 MiB of tar), 64 headers per deflate block.
      const header = Buffer.from(
        (await tarOf([{ name: 'foo-1.0/tiny', data: '' }])).subarray(0, 512),
      );
      const block = Buffer.concat(Array.from({ length: 64 }, () => header));
      const times = 1_000_000 / 64;
      let crc = 0;
      for (let i = 0; i < times; i++) crc = zlib.crc32(block, crc);
      const gz = flushedGzip([{ data: block, times }], crc, times * block.length);
      const m = await measure(() => sdist(gz));
      archiveError(
        `tar archive not accepted: More than ${DEFAULT_ARCHIVE_LIMITS.maxMembers} members.`,
      )(m.error);
      t.diagnostic(
        `1M members (${gz.length} bytes): ${m.ms.toFixed(0)} ms, peak RSS +${m.peakRssMiB.toFixed(1)} MiB`,
      );
      assert.ok(m.ms < 3000, `${m.ms} ms`);
      assert.ok(m.peakRssMiB < 200, `${m.peakRssMiB} MiB`);
    });
  });
});

describe('errors of the byte source itself pass through unchanged', () => {
  const failing = (good: Buffer, how: 'read' | 'stream'): ByteSource => {
    const inner = byteSourceFromBuffer(good);
    return {
      size: inner.size,
      read: (offset, length) =>
        how === 'read' ? Promise.reject(new Error('disk on fire')) : inner.read(offset, length),
      stream: (start, end) => {
        if (how === 'read') return inner.stream(start, end);
        return new Readable({
          read() {
            this.destroy(new Error('connection reset'));
          },
        });
      },
    };
  };

  it('wheel', async () => {
    const buf = await zipOf(wheelMembers());
    await assert.rejects(
      inspectWheel(failing(buf, 'read'), 'f.whl', 'foo', '1.0'),
      /^Error: disk on fire$/,
    );
    await assert.rejects(
      inspectWheel(failing(buf, 'stream'), 'f.whl', 'foo', '1.0'),
      /^Error: connection reset$/,
    );
  });

  it('sdist', async () => {
    const buf = await sdistOf(sdistMembers());
    await assert.rejects(inspectSdist(failing(buf, 'read'), 'f.tar.gz'), /^Error: disk on fire$/);
    await assert.rejects(
      inspectSdist(failing(buf, 'stream'), 'f.tar.gz'),
      /^Error: connection reset$/,
    );
  });
});

describe('no leaked file descriptors', { skip: !existsSync('/proc/self/fd') }, () => {
  it('after successes, refusals and early stops on file sources', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pier-archive-'));
    try {
      const files: Record<string, Buffer> = {
        'ok.whl': await zipOf(wheelMembers()),
        'cut.whl': (await zipOf(wheelMembers())).subarray(0, 200),
        'lying.whl': setDeclaredSize(
          await zipOf([
            ...wheelMembers().slice(0, 1),
            { name: 'foo-1.0.dist-info/METADATA', data: zeros(8 * MiB) },
            ...wheelMembers().slice(2),
          ]),
          'foo-1.0.dist-info/METADATA',
          1000,
        ),
        'ok.tar.gz': await sdistOf(sdistMembers()),
        'cut.tar.gz': (await sdistOf(sdistMembers())).subarray(0, 100),
        'bomb.tar.gz': flushedGzip([{ data: Buffer.alloc(MiB), times: 200 }], 0, 200 * MiB), // stopped before the CRC
        'traversal.tar.gz': await sdistOf([{ name: 'foo-1.0/../x', data: 'x' }, ...sdistMembers()]),
      };
      for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
      const count = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
      const before = await count();
      for (let round = 0; round < 3; round++) {
        for (const name of Object.keys(files)) {
          const source = await byteSourceFromFile(join(dir, name));
          const run = name.endsWith('.whl')
            ? inspectWheel(source, 'foo-1.0-py3-none-any.whl', 'foo', '1.0')
            : inspectSdist(source, 'foo-1.0.tar.gz');
          const ok = name.startsWith('ok');
          await (ok ? run : assert.rejects(run, InvalidArchiveError));
        }
      }
      // fs streams close their descriptor asynchronously after destroy; allow a moment.
      let now = await count();
      for (let i = 0; i < 50 && now > before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        now = await count();
      }
      assert.ok(now <= before, `descriptors: ${before} before, ${now} after`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('distributions built by Debian setuptools', () => {
  const python = '/usr/bin/python3';
  let dir: string;
  let dist: string;
  let skip: string | false = false;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pier-archive-build-'));
    dist = join(dir, 'dist');
    const project = join(dir, 'project');
    await mkdir(join(project, 'src', 'tiny_pkg'), { recursive: true });
    await writeFile(
      join(project, 'pyproject.toml'),
      [
        '[build-system]',
        'requires = ["setuptools>=61"]',
        'build-backend = "setuptools.build_meta"',
        '',
        '[project]',
        'name = "tiny-pkg"',
        'version = "1.0.0"',
        'description = "A tiny test package"',
        '',
      ].join('\n'),
    );
    await writeFile(join(project, 'src', 'tiny_pkg', '__init__.py'), 'X = 1\n');
    try {
      await promisify(execFile)(python, ['-m', 'build', '--no-isolation', '--outdir', dist, '.'], {
        cwd: project,
        timeout: 120_000,
      });
    } catch (err) {
      skip = `python3 -m build failed: ${String(err)}`;
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('wheel', async (t) => {
    if (skip) return t.skip(skip);
    const file = (await readdir(dist)).find((f) => f.endsWith('.whl')) as string;
    assert.equal(file, 'tiny_pkg-1.0.0-py3-none-any.whl');
    const [rawName, rawVersion] = file.split('-') as [string, string];
    const w = await inspectWheel(
      await byteSourceFromFile(join(dist, file)),
      file,
      rawName,
      rawVersion,
    );
    assert.equal(w.metadataPath, 'tiny_pkg-1.0.0.dist-info/METADATA');
    assert.match(
      w.metadata.toString(),
      /^Metadata-Version: 2\.\d+\nName: tiny-pkg\nVersion: 1\.0\.0\n/,
    );
    assert.match(w.wheelFile, /^Wheel-Version: 1\.0\n/);
    assert.equal(w.hasRecord, true);
    assert.ok(w.members.includes('tiny_pkg/__init__.py'));
  });

  it('sdist', async (t) => {
    if (skip) return t.skip(skip);
    const file = (await readdir(dist)).find((f) => f.endsWith('.tar.gz')) as string;
    const s = await inspectSdist(await byteSourceFromFile(join(dist, file)), file);
    assert.equal(s.topLevel, file.slice(0, -'.tar.gz'.length));
    assert.match(
      s.pkgInfo.toString(),
      /^Metadata-Version: 2\.\d+\nName: tiny-pkg\nVersion: 1\.0\.0\n/,
    );
    assert.ok(s.members.includes(`${s.topLevel}/PKG-INFO`));
    assert.ok(s.members.includes(`${s.topLevel}/pyproject.toml`));
  });
});
