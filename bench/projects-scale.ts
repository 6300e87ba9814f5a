// pier at the size of a large company index: 100,000 projects and 1,000,000 files (a smoke run:
// 200 and 2,000). The other projects are inserted directly into the database (each with one
// release and ten file rows; their blobs are not written, since nothing here reads them); one
// project of 30 real wheels is uploaded through pier. Each figure is measured on that index and
// on an index of 10 projects, in the same run, under the same load:
// - a project's Simple page, an upload and a token exchange: within 1.2 of the small index;
// - the root /simple/ page (every project, as pip asks for it): served with flat memory, its
//   resident-set growth under load reported against a bound;
// - start-up time and resident memory at that size (reported);
// - `pier transfer` of the large index into a second embedded data folder: its time and peak
//   resident memory (reported), its verification passing, and the target holding every row.
// The filler file rows share ten small blobs (written to the store, with their real sha256 and
// size), so that a transfer can check every row's bytes without writing a million files first.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { githubClaims, startTestIssuer, type TestIssuer } from '../test/support/oidc-issuer.js';
import { makeWheel } from '../test/support/dists.js';
import { postUpload, uploadParts } from '../test/support/upload.js';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { runLoadInProcess, type LoadResult } from './lib/load.js';
import { PIER_BIN } from './lib/paths.js';
import {
  cleanEnv,
  pierCli,
  rssBytes,
  spawnNode,
  sampleRss,
  startPier,
  uploadToken,
  type ServerProcess,
} from './lib/processes.js';
import { median, round2 } from './lib/stats.js';

const TARGET_PROJECT = 'scale-target';
const AUDIENCE = 'pier-bench';
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const MiB = 1024 * 1024;
/** The root page may grow the server's resident set by no more than this under load. */
const ROOT_RSS_BOUND = 64 * MiB;
const WITHIN = { op: '>=', value: 1 / 1.2 } as const;

/** The blob every filler file row of tag `f` refers to, written where the file store keeps it. */
function fillerBlob(dataDir: string, f: number) {
  const key = `filler-blob-${f}`;
  const content = Buffer.from(`filler wheel bytes ${f}\n`);
  // The file store's layout (src/storage/fs.ts): blobs/<2 chars>/<2 chars>/<key>.
  const dir = join(dataDir, 'files', 'blobs', key.slice(0, 2), key.slice(2, 4));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, key), content);
  const digest = (algorithm: string) => createHash(algorithm).update(content).digest('hex');
  return { key, size: content.length, md5: digest('md5'), sha256: digest('sha256') };
}

/** `count` other projects, each with one release and `files` file rows, in one transaction. */
function insertProjects(dataDir: string, count: number, files: number): void {
  const db = new Database(join(dataDir, 'pier.sqlite3'));
  const now = Date.now();
  const blobs = Array.from({ length: files }, (_, f) => fillerBlob(dataDir, f));
  db.transaction(() => {
    const project = db.prepare(
      "insert into projects (name, normalized_name, similarity_key, private, status, created_at, last_serial) values (?, ?, ?, 0, 'active', ?, 1)",
    );
    const release = db.prepare(
      "insert into releases (project_id, version, canonical_version, is_prerelease, metadata_json, yanked, created_at) values (?, '1.0', '1', 0, '{}', 0, ?)",
    );
    const file = db.prepare(
      "insert into files (project_id, release_id, filename, packagetype, python_version, size, md5, sha256, blake2_256, blob_key, uploaded_at) values (?, ?, ?, 'bdist_wheel', ?, ?, ?, ?, ?, ?, ?)",
    );
    let n = 0;
    for (let i = 0; i < count; i++) {
      const name = `filler-${i}`;
      const p = project.run(name, name, `fi11er${i}`, now).lastInsertRowid;
      const r = release.run(p, now).lastInsertRowid;
      for (let f = 0; f < files; f++, n++) {
        const hex = n.toString(16).padStart(64, '0');
        const tag = `cp3${f}`;
        const blob = blobs[f]!;
        file.run(
          p,
          r,
          `filler_${i}-1.0-${tag}-${tag}-manylinux_2_28_x86_64.whl`,
          tag,
          blob.size,
          blob.md5,
          blob.sha256,
          hex,
          blob.key,
          now,
        );
      }
    }
  })();
  db.close();
}

interface Index {
  size: number;
  dataDir: string;
  pier: ServerProcess;
  token: string;
  startupSeconds: number;
  startupRss: number | null;
}

async function upload(pier: ServerProcess, token: string, version: string): Promise<number> {
  const w = await makeWheel({ name: TARGET_PROJECT, version });
  const parts = await uploadParts({ ...w, fields: { name: TARGET_PROJECT, version } });
  const started = performance.now();
  const res = await postUpload(pier.url, token, parts);
  if (res.status !== 200) throw new Error(`upload: ${res.status} ${res.body}`);
  return performance.now() - started;
}

async function index(
  ctx: BenchContext,
  issuer: TestIssuer,
  projects: number,
  filesEach: number,
): Promise<Index> {
  const dataDir = join(ctx.tmp, `index-${projects}`);
  await pierCli(dataDir, ['migrate']);
  const t = performance.now();
  insertProjects(dataDir, projects - 1, filesEach);
  ctx.log(
    `${(projects - 1).toLocaleString('en-US')} projects with ${((projects - 1) * filesEach).toLocaleString('en-US')} files inserted in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const token = await uploadToken(dataDir);
  await pierCli(dataDir, ['project', 'create', TARGET_PROJECT, '--owner', 'bench']);
  await pierCli(dataDir, ['issuer', 'add', '--kind', 'github', '--url', issuer.url, '--insecure']);
  await pierCli(dataDir, [
    'publisher',
    'add',
    TARGET_PROJECT,
    '--repository',
    'octo-org/octo-repo',
    '--workflow',
    'release.yml',
    '--environment',
    'release',
    '--owner-id',
    '65',
    '--issuer',
    issuer.url,
  ]);
  const env = { PIER_OIDC_AUDIENCE: AUDIENCE };
  // Start-up at this size: from spawn to the line that says pier is serving.
  const started = performance.now();
  const pier = await startPier(dataDir, env);
  const startupSeconds = (performance.now() - started) / 1000;
  const startupRss = rssBytes(pier.pid);
  const files = ctx.smoke ? 3 : 30;
  for (let i = 0; i < files; i++) await upload(pier, token, `1.${i}`);
  return { size: projects, dataDir, pier, token, startupSeconds, startupRss };
}

async function exchange(pier: ServerProcess, issuer: TestIssuer): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await issuer.sign(githubClaims(issuer.url, AUDIENCE, { exp: now + 600 }));
  const started = performance.now();
  const res = await fetch(`${pier.url}/_/oidc/mint-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: jwt }),
  });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`exchange: ${res.status} ${body}`);
  return performance.now() - started;
}

/** `measure` on each index in turn, `rounds` times, alternating which goes first. */
async function alternate(
  small: Index,
  large: Index,
  rounds: number,
  measure: (i: Index, round: number) => Promise<number>,
): Promise<[number[], number[]]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++)
    for (const i of r % 2 === 0 ? [small, large] : [large, small])
      (i === small ? a : b).push(await measure(i, r));
  return [a, b];
}

const label = (n: number) => n.toLocaleString('en-US');

/** Rows of each table that says how big an index is. */
function counts(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'pier.sqlite3'), { readonly: true });
  try {
    const out: Record<string, number> = {};
    for (const table of ['projects', 'releases', 'files', 'tokens', 'publishers'])
      out[table] = (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    return out;
  } finally {
    db.close();
  }
}

/**
 * `pier transfer` of `source` (its server stopped, as docs/operations.md asks) into a new
 * embedded data folder, as an operator runs it: wall time, and the process's resident set
 * sampled every 50 ms. It exits non-zero unless every file's copy matched its sha256; the
 * target must then hold every row.
 */
async function transfer(ctx: BenchContext, source: Index) {
  const target = join(ctx.tmp, `transfer-${source.size}`);
  mkdirSync(target, { recursive: true });
  const started = performance.now();
  const child = spawnNode(
    [
      PIER_BIN,
      'transfer',
      '--to-database-url',
      `sqlite://${join(target, 'pier.sqlite3')}`,
      '--to-storage-url',
      `file://${join(target, 'files')}`,
    ],
    {
      cwd: source.dataDir,
      env: cleanEnv({ PIER_DATA_DIR: source.dataDir, PIER_LOG_LEVEL: 'warn' }),
    },
  );
  const rss = sampleRss(child.pid!);
  let stderr = '';
  child.stdout.resume();
  // Keep the end of its output: one progress line per 100 files.
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = (performance.now() - started) / 1000;
  const memory = rss.stop();
  if (code !== 0) throw new Error(`pier transfer exited with ${code}:\n${stderr}`);
  const before = counts(source.dataDir);
  const after = counts(target);
  if (JSON.stringify(before) !== JSON.stringify(after))
    throw new Error(
      `the transfer's target holds ${JSON.stringify(after)}, the source ${JSON.stringify(before)}`,
    );
  return {
    seconds,
    peakBytes: memory.peakBytes,
    counts: after,
    last: stderr.trim().split('\n').pop(),
  };
}

export const projectsScale: Benchmark = {
  name: 'projects-scale',
  async run(ctx): Promise<Row[]> {
    const [few, many] = ctx.smoke ? [10, 200] : [10, 100_000];
    const filesEach = 10;
    ctx.log(`an index of ${few} projects and one of ${label(many)}`);
    const issuer = await startTestIssuer();
    let small: Index | null = null;
    let large: Index | null = null;
    try {
      small = await index(ctx, issuer, few, filesEach);
      large = await index(ctx, issuer, many, filesEach);
      const rows: Row[] = [];
      const rounds = ctx.smoke ? 1 : 5;
      const roundMs = ctx.smoke ? 300 : 2000;
      const load = (i: Index, url: string, durationMs: number, headers: Record<string, string>) =>
        runLoadInProcess({
          url: `${i.pier.url}${url}`,
          headers,
          connections: 16,
          durationMs,
          expectStatus: 200,
          serverPid: i.pier.pid,
        });

      // A project's page.
      const page = `/simple/${TARGET_PROJECT}/`;
      await load(small, page, 500, { accept: PIP_ACCEPT });
      await load(large, page, 500, { accept: PIP_ACCEPT });
      const pages: [LoadResult[], LoadResult[]] = [[], []];
      await alternate(small, large, rounds, async (i) => {
        const r = await load(i, page, roundMs, { accept: PIP_ACCEPT });
        pages[i === small ? 0 : 1].push(r);
        return r.requestsPerSecond;
      });
      rows.push(
        ratioRow(
          'projects-scale',
          `/simple/<name>/ in an index of ${label(many)} projects`,
          { value: median(pages[1].map((r) => r.requestsPerSecond)), unit: 'req/s' },
          {
            name: `an index of ${few} projects`,
            value: median(pages[0].map((r) => r.requestsPerSecond)),
          },
          WITHIN,
          null,
          {
            'req/s per round, small index': pages[0].map((r) => Math.round(r.requestsPerSecond)),
            'req/s per round, large index': pages[1].map((r) => Math.round(r.requestsPerSecond)),
          },
        ),
      );

      // Uploads and exchanges, one at a time (their latency is what a release waits for).
      const each = ctx.smoke ? 2 : 15;
      const [smallUploads, largeUploads] = await alternate(small, large, each, (i, r) =>
        upload(i.pier, i.token, `2.${r}`),
      );
      rows.push(
        ratioRow(
          'projects-scale',
          `upload in an index of ${label(many)} projects (uploads/s, one at a time)`,
          { value: 1000 / median(largeUploads), unit: 'uploads/s' },
          { name: `an index of ${few} projects`, value: 1000 / median(smallUploads) },
          WITHIN,
          null,
          { 'ms, small index': smallUploads, 'ms, large index': largeUploads },
        ),
      );
      const [smallExchanges, largeExchanges] = await alternate(small, large, each * 2, (i) =>
        exchange(i.pier, issuer),
      );
      rows.push(
        ratioRow(
          'projects-scale',
          `token exchange in an index of ${label(many)} projects (exchanges/s, one at a time)`,
          { value: 1000 / median(largeExchanges), unit: 'exchanges/s' },
          { name: `an index of ${few} projects`, value: 1000 / median(smallExchanges) },
          WITHIN,
          null,
          { 'ms, small index': smallExchanges, 'ms, large index': largeExchanges },
        ),
      );

      // The root page of every project, as pip asks for it: its memory under load.
      const rootHeaders = { accept: PIP_ACCEPT, 'accept-encoding': 'gzip' };
      await load(large, '/simple/', 500, rootHeaders);
      const rss = sampleRss(large.pier.pid);
      const root = await load(large, '/simple/', ctx.smoke ? 500 : 10_000, rootHeaders);
      const memory = rss.stop();
      const growth = memory.peakBytes - (memory.startBytes ?? memory.peakBytes);
      rows.push({
        benchmark: 'projects-scale',
        case: `/simple/ of ${label(many)} projects under load: resident-set growth`,
        pier: { value: Math.round(growth / MiB), unit: 'MiB' },
        baseline: null,
        result: { value: Math.round(growth / MiB), unit: 'MiB' },
        target: { op: '<', value: ROOT_RSS_BOUND / MiB },
        met: growth < ROOT_RSS_BOUND,
        otherCpu: root.otherCpu,
        details: {
          'req/s': Math.round(root.requestsPerSecond),
          'response body bytes (gzip)': root.bytesPerRequest,
          'p99 ms': root.p99Ms,
          'RSS before (MiB)': Math.round((memory.startBytes ?? 0) / MiB),
          'RSS peak (MiB)': Math.round(memory.peakBytes / MiB),
        },
      });

      for (const i of [large, small])
        rows.push({
          benchmark: 'projects-scale',
          case: `pier serve start-up, index of ${label(i.size)} projects`,
          pier: { value: Math.round(i.startupSeconds * 1000), unit: 'ms' },
          baseline: null,
          result: { value: Math.round(i.startupSeconds * 1000), unit: 'ms' },
          target: null,
          met: true,
          otherCpu: null,
          details: { 'RSS after start-up (MiB)': Math.round((i.startupRss ?? 0) / MiB) },
        });

      // pier transfer of the large index, its server stopped first.
      await large.pier.stop();
      ctx.log(`pier transfer of the index of ${label(many)} projects`);
      const moved = await transfer(ctx, large);
      ctx.log(moved.last ?? '');
      rows.push(
        {
          benchmark: 'projects-scale',
          case: `pier transfer of ${label(many)} projects and ${label(moved.counts.files!)} files to a new embedded index, verified`,
          pier: { value: round2(moved.seconds), unit: 's' },
          baseline: null,
          result: { value: round2(moved.seconds), unit: 's' },
          target: null,
          met: true,
          otherCpu: null,
          details: { ...moved.counts, 'peak RSS (MiB)': Math.round(moved.peakBytes / MiB) },
        },
        {
          benchmark: 'projects-scale',
          case: `pier transfer of ${label(many)} projects: peak resident set`,
          pier: { value: Math.round(moved.peakBytes / MiB), unit: 'MiB' },
          baseline: null,
          result: { value: Math.round(moved.peakBytes / MiB), unit: 'MiB' },
          target: null,
          met: true,
          otherCpu: null,
          details: {},
        },
      );
      return rows;
    } finally {
      await Promise.all([small?.pier.stop(), large?.pier.stop()]);
      await issuer.close();
    }
  },
};
