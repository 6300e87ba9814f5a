// A large upload streamed to `pier serve`, against the least any index must do with the same
// bytes: read them and compute md5, sha256 and BLAKE2b-256, in this process, one after another.
// Also the server's peak memory growth while it takes the file (it must stream, not buffer).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBLAKE2b } from 'hash-wasm';
import { meets, ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { writeBigWheel, type BigWheel } from './lib/big-wheel.js';
import { cpuSeconds, sampleRss, startPier, uploadToken } from './lib/processes.js';
import { streamUpload } from './lib/stream-upload.js';
import { getJson } from './lib/http.js';

const MiB = 1024 * 1024;
const THROUGHPUT_TARGET = { op: '>=', value: 0.7 } as const;
const RSS_TARGET = { op: '<', value: 100 } as const; // MiB

interface Digests {
  md5: string;
  sha256: string;
  blake2_256: string;
}

/** The baseline: read the file once, each chunk through the three digests in turn. */
async function hashFile(path: string): Promise<{ digests: Digests; seconds: number }> {
  const started = performance.now();
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  const blake2 = await createBLAKE2b(256);
  blake2.init();
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
    blake2.update(chunk as Buffer);
  }
  const digests = {
    md5: md5.digest('hex'),
    sha256: sha256.digest('hex'),
    blake2_256: blake2.digest('hex'),
  };
  return { digests, seconds: (performance.now() - started) / 1000 };
}

/** The fields twine sends, digests included (pier checks them against the bytes). */
function formFields(wheel: BigWheel, d: Digests): [string, string][] {
  return [
    [':action', 'file_upload'],
    ['protocol_version', '1'],
    ['name', wheel.name],
    ['version', wheel.version],
    ['filetype', 'bdist_wheel'],
    ['pyversion', 'py3'],
    ['metadata_version', '2.1'],
    ['summary', 'synthetic'],
    ['requires_python', '>=3.8'],
    ['md5_digest', d.md5],
    ['sha256_digest', d.sha256],
    ['blake2_256_digest', d.blake2_256],
  ];
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const payload = ctx.smoke ? 16 * MiB : 1024 * MiB;
  const t = performance.now();
  const wheel = await writeBigWheel(ctx.tmp, payload);
  ctx.log(
    `wrote ${wheel.filename} (${(wheel.size / MiB).toFixed(0)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const baseline = await hashFile(wheel.path);

  const dataDir = join(ctx.tmp, 'pier-data');
  const token = await uploadToken(dataDir);
  const pier = await startPier(dataDir, { PIER_MAX_UPLOAD_SIZE: '2GiB' });
  try {
    ctx.log(`uploading ${wheel.filename}`);
    const rss = sampleRss(pier.pid, 50);
    const cpu0 = cpuSeconds(pier.pid);
    const answer = await streamUpload(pier.url, token, formFields(wheel, baseline.digests), wheel);
    const cpu1 = cpuSeconds(pier.pid);
    const memory = rss.stop();
    pier.assertAlive();
    if (answer.status !== 200) throw new Error(`upload: ${answer.status} ${answer.body}`);

    const page = await getJson<{ files: { filename: string; size: number; hashes: Digests }[] }>(
      `${pier.url}/simple/${wheel.name}/`,
    );
    const listed = page.files.find((f) => f.filename === wheel.filename);
    if (listed?.size !== wheel.size || listed.hashes.sha256 !== baseline.digests.sha256)
      throw new Error(`the index lists ${JSON.stringify(listed)}, not the uploaded file`);

    const size = `${(payload / MiB).toFixed(0)} MiB wheel`;
    const mibPerSecond = (seconds: number) => wheel.size / MiB / seconds;
    if (memory.startBytes === null) ctx.log('no /proc: memory growth not measured');
    const growth = (memory.peakBytes - (memory.startBytes ?? memory.peakBytes)) / MiB;
    return [
      ratioRow(
        'upload',
        `${size}, streamed POST /legacy/`,
        { value: mibPerSecond(answer.seconds), unit: 'MiB/s' },
        { name: 'md5+sha256+blake2b in-process', value: mibPerSecond(baseline.seconds) },
        THROUGHPUT_TARGET,
        {
          'file bytes': wheel.size,
          'upload seconds': answer.seconds,
          'seconds after the last byte': answer.tailSeconds,
          'digest seconds': baseline.seconds,
          'pier CPU seconds': cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : NaN,
        },
      ),
      {
        benchmark: 'upload',
        case: `${size}, server peak RSS growth`,
        pier: { value: growth, unit: 'MiB' },
        baseline: null,
        result: { value: growth, unit: 'MiB' },
        target: RSS_TARGET,
        met: memory.startBytes !== null && meets(growth, RSS_TARGET),
        details: {
          'RSS before MiB': (memory.startBytes ?? NaN) / MiB,
          'RSS peak MiB': memory.peakBytes / MiB,
          samples: memory.samples,
        },
      },
    ];
  } finally {
    await pier.stop();
  }
}

export const upload: Benchmark = { name: 'upload', run };
