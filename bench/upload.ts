// A large upload streamed to `pier serve`, against the least any index must do with the same
// bytes: read them and compute md5, sha256 and BLAKE2b-256, in this process, one after another.
// Also the server's peak memory growth while it takes the file (it must stream, not buffer).
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBLAKE2b } from 'hash-wasm';
import {
  QUIET_CPU,
  meets,
  ratioRow,
  type BenchContext,
  type Benchmark,
  type Row,
} from './lib/bench.js';
import { writeBigWheel, type BigWheel } from './lib/big-wheel.js';
import {
  cpuSeconds,
  machineCpu,
  mainThreadCpuSeconds,
  sampleRss,
  startPier,
  uploadToken,
} from './lib/processes.js';
import { streamUpload } from './lib/stream-upload.js';
import { getJson } from './lib/http.js';
import { EMBEDDED, POSTGRES_S3, type Backend } from './lib/backends.js';
import { round2 } from './lib/stats.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const THROUGHPUT_TARGET = { op: '>=', value: 0.7 } as const;
const RSS_TARGET = { op: '<', value: 100 } as const; // MiB

interface Digests {
  md5: string;
  sha256: string;
  blake2_256: string;
}

/**
 * The baseline: read the file once, each chunk through the three digests in turn. Reads of 1 MiB
 * are the fastest way to read it here (64 KiB reads cost about 15% more on the 2-core VM).
 */
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

/** CPU counters of the server, of this process and of the whole machine, at one moment. */
function counters(pid: number) {
  return {
    at: performance.now(),
    server: cpuSeconds(pid) ?? NaN,
    main: mainThreadCpuSeconds(pid) ?? NaN,
    machine: machineCpu() ?? NaN,
    self: process.cpuUsage(),
  };
}

/** CPU seconds used between two moments: pier (its event loop and the rest), this, others. */
function cpuBetween(a: ReturnType<typeof counters>, b: ReturnType<typeof counters>) {
  const selfSeconds = (b.self.user + b.self.system - a.self.user - a.self.system) / 1e6;
  const server = b.server - a.server;
  return {
    seconds: (b.at - a.at) / 1000,
    eventLoop: b.main - a.main,
    otherThreads: server - (b.main - a.main),
    self: selfSeconds,
    others: Math.max(0, b.machine - a.machine - server - selfSeconds),
  };
}

const sizeName = (bytes: number) =>
  bytes >= GiB
    ? `${(bytes / GiB).toFixed(bytes % GiB ? 2 : 0)} GiB`
    : `${(bytes / MiB).toFixed(bytes % MiB ? 2 : 0)} MiB`;

/** One measurement, on a fresh pier: the baseline, the upload, the baseline again. */
async function measure(
  ctx: BenchContext,
  wheel: BigWheel,
  attempt: number,
  backend: Backend = EMBEDDED,
) {
  const dataDir = join(ctx.tmp, `pier-data-${backend.name}-${attempt}`);
  const env = await backend.fresh(dataDir);
  const token = await uploadToken(dataDir, 'bench', env);
  const pier = await startPier(dataDir, { ...env, PIER_MAX_UPLOAD_SIZE: '2GiB' });
  try {
    // The baseline before and after the upload (the file is in the page cache for all three),
    // so a change in the machine's load during the run weighs on both sides.
    const start = counters(pier.pid);
    const before = await hashFile(wheel.path);
    ctx.log(`uploading ${wheel.filename}`);
    const rss = sampleRss(pier.pid, 50);
    const uploadStart = counters(pier.pid);
    const answer = await streamUpload(pier.url, token, formFields(wheel, before.digests), wheel);
    const uploadCpu = cpuBetween(uploadStart, counters(pier.pid));
    const memory = rss.stop();
    pier.assertAlive();
    if (answer.status !== 200) throw new Error(`upload: ${answer.status} ${answer.body}`);
    const after = await hashFile(wheel.path);
    const whole = cpuBetween(start, counters(pier.pid));

    const page = await getJson<{ files: { filename: string; size: number; hashes: Digests }[] }>(
      `${pier.url}/simple/${wheel.name}/`,
    );
    const listed = page.files.find((f) => f.filename === wheel.filename);
    if (listed?.size !== wheel.size || listed.hashes.sha256 !== before.digests.sha256)
      throw new Error(`the index lists ${JSON.stringify(listed)}, not the uploaded file`);
    return { answer, before, after, uploadCpu, memory, otherCpu: whole.others / whole.seconds };
  } finally {
    await pier.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const payload = ctx.smoke ? 16 * MiB : GiB;
  const t = performance.now();
  const wheel = await writeBigWheel(ctx.tmp, payload);
  ctx.log(
    `wrote ${wheel.filename} (${sizeName(wheel.size)}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  // On a shared machine, measure again (up to 3 times) while other processes disturb it.
  let m = await measure(ctx, wheel, 1);
  for (let attempt = 2; !ctx.smoke && attempt <= 3 && !(m.otherCpu <= QUIET_CPU); attempt++) {
    ctx.log(`other processes used ${m.otherCpu.toFixed(2)} cores meanwhile: measuring again`);
    const again = await measure(ctx, wheel, attempt);
    if (!(again.otherCpu >= m.otherCpu)) m = again;
  }
  const { answer, before, after, uploadCpu, memory, otherCpu } = m;
  ctx.log('the same upload on PostgreSQL and S3');
  const onS3 = await measure(ctx, wheel, 1, POSTGRES_S3);

  const size = `${sizeName(payload)} wheel`;
  const mibPerSecond = (seconds: number) => wheel.size / MiB / seconds;
  const digestSeconds = (before.seconds + after.seconds) / 2;
  if (memory.startBytes === null) ctx.log('no /proc: memory growth not measured');
  const growth = (memory.peakBytes - (memory.startBytes ?? memory.peakBytes)) / MiB;
  return [
    ratioRow(
      'upload',
      `${size}, streamed POST /legacy/`,
      { value: mibPerSecond(answer.seconds), unit: 'MiB/s' },
      { name: 'md5+sha256+blake2b in-process', value: mibPerSecond(digestSeconds) },
      THROUGHPUT_TARGET,
      otherCpu,
      {
        'file bytes': wheel.size,
        'upload seconds': round2(answer.seconds),
        'seconds from the last byte sent to the answer': round2(answer.tailSeconds),
        'digest seconds, before and after the upload': [
          round2(before.seconds),
          round2(after.seconds),
        ],
        'pier CPU seconds in its event loop thread': round2(uploadCpu.eventLoop),
        'pier CPU seconds in its other threads': round2(uploadCpu.otherThreads),
        'uploading client CPU seconds': round2(uploadCpu.self),
        "other processes' CPU seconds during the upload": round2(uploadCpu.others),
      },
    ),
    ratioRow(
      'upload',
      `${size}, streamed POST /legacy/, postgres+s3`,
      { value: mibPerSecond(onS3.answer.seconds), unit: 'MiB/s' },
      {
        name: 'md5+sha256+blake2b in-process',
        value: mibPerSecond((onS3.before.seconds + onS3.after.seconds) / 2),
      },
      null,
      onS3.otherCpu,
      {
        'upload seconds': round2(onS3.answer.seconds),
        'seconds from the last byte sent to the answer': round2(onS3.answer.tailSeconds),
        'server peak RSS growth MiB': round2(
          (onS3.memory.peakBytes - (onS3.memory.startBytes ?? onS3.memory.peakBytes)) / MiB,
        ),
        'embedded default MiB/s': round2(mibPerSecond(answer.seconds)),
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
      otherCpu,
      details: {
        'RSS before MiB': round2((memory.startBytes ?? NaN) / MiB),
        'RSS peak MiB': round2(memory.peakBytes / MiB),
        samples: memory.samples,
        'sampling interval ms': 50,
      },
    },
  ];
}

export const upload: Benchmark = { name: 'upload', run };
