// pier at the size of a large company index: 100,000 projects and 1,000,000 files (a smoke run:
// 200 and 2,000). The other projects are inserted directly into the database (each with one
// release and ten file rows; their blobs are not written, since nothing here reads them); one
// project of 30 real wheels is uploaded through pier. Each figure is measured on that index and
// on an index of 10 projects, in the same run, under the same load:
// - a project's Simple page, an upload and a token exchange: within 1.2 of the small index;
// - the root /simple/ page (every project, as pip asks for it): served with flat memory, its
//   resident-set growth under load reported against a bound;
// - start-up time and resident memory at that size (reported).
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { githubClaims, startTestIssuer, type TestIssuer } from '../test/support/oidc-issuer.js';
import { makeWheel } from '../test/support/dists.js';
import { postUpload, uploadParts } from '../test/support/upload.js';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { runLoadInProcess, type LoadResult } from './lib/load.js';
import {
  pierCli,
  rssBytes,
  sampleRss,
  startPier,
  uploadToken,
  type ServerProcess,
} from './lib/processes.js';
import { median } from './lib/stats.js';

const TARGET_PROJECT = 'scale-target';
const AUDIENCE = 'pier-bench';
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const MiB = 1024 * 1024;
/** The root page may grow the server's resident set by no more than this under load. */
const ROOT_RSS_BOUND = 64 * MiB;
const WITHIN = { op: '>=', value: 1 / 1.2 } as const;

/** `count` other projects, each with one release and `files` file rows, in one transaction. */
function insertProjects(dataDir: string, count: number, files: number): void {
  const db = new Database(join(dataDir, 'pier.sqlite3'));
  const now = Date.now();
  db.transaction(() => {
    const project = db.prepare(
      "insert into projects (name, normalized_name, similarity_key, private, status, created_at, last_serial) values (?, ?, ?, 0, 'active', ?, 1)",
    );
    const release = db.prepare(
      "insert into releases (project_id, version, canonical_version, is_prerelease, metadata_json, yanked, created_at) values (?, '1.0', '1', 0, '{}', 0, ?)",
    );
    const file = db.prepare(
      "insert into files (project_id, release_id, filename, packagetype, python_version, size, md5, sha256, blake2_256, blob_key, uploaded_at) values (?, ?, ?, 'bdist_wheel', ?, 1, ?, ?, ?, ?, ?)",
    );
    let n = 0;
    for (let i = 0; i < count; i++) {
      const name = `filler-${i}`;
      const p = project.run(name, name, `fi11er${i}`, now).lastInsertRowid;
      const r = release.run(p, now).lastInsertRowid;
      for (let f = 0; f < files; f++, n++) {
        const hex = n.toString(16).padStart(64, '0');
        const tag = `cp3${f}`;
        file.run(
          p,
          r,
          `filler_${i}-1.0-${tag}-${tag}-manylinux_2_28_x86_64.whl`,
          tag,
          hex.slice(0, 32),
          hex,
          hex,
          `filler-${n}`,
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
      return rows;
    } finally {
      await Promise.all([small?.pier.stop(), large?.pier.stop()]);
      await issuer.close();
    }
  },
};
