// The Simple page of a project with many files, under 16 concurrent keep-alive clients, as HTML,
// as pip asks for it (JSON, uncompressed and gzip-compressed), and revalidated with If-None-Match
// (304) — against a bare node:http server sending the very same status, headers and bytes (the
// compressed ones as pier compressed them), loaded the same way in the same run. The compressed
// case is also measured against nginx's `gzip_static` serving pier's own compressed bytes (the
// .gz file beside the plain one), in the same rounds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWheel } from '../test/support/dists.js';
import { postUpload, uploadParts } from '../test/support/upload.js';
import {
  ratioRow,
  unmeasuredRow,
  type BenchContext,
  type Benchmark,
  type Row,
} from './lib/bench.js';
import { EMBEDDED, POSTGRES_S3, type Backend } from './lib/backends.js';
import { getOnce } from './lib/http.js';
import { nginxMissing, startNginx } from './lib/nginx.js';
import { runLoadInProcess, type LoadResult } from './lib/load.js';
import {
  startBare,
  startPier,
  uploadToken,
  type CannedResponse,
  type ServerProcess,
} from './lib/processes.js';
import { median, mean, round2 } from './lib/stats.js';
import { quietestRounds, roundSettings } from './lib/rounds.js';

export const PROJECT = 'bench-simple';
export const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
/** Headers that belong to the connection, not the answer. */
const CONNECTION_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
/** What pip (requests) sends. */
export const PIP_ACCEPT_ENCODING = 'gzip, deflate';
export const CONNECTIONS = 16;
const TARGET = { op: '>=', value: 0.7 } as const;
const GZIP_TARGET = { op: '>=', value: 0.8 } as const;

interface Case {
  name: string;
  accept: string;
  ifNoneMatch: string | null;
  acceptEncoding: string | null;
  status: number;
  target: typeof TARGET | typeof GZIP_TARGET;
}

/** pier's answer without the headers of the connection (node:http writes its own). */
export async function answerOf(url: string, headers: Record<string, string>) {
  const answer = await getOnce(url, headers);
  for (const h of CONNECTION_HEADERS) delete answer.headers[h];
  return answer;
}

function requestHeaders(c: Case): Record<string, string> {
  return {
    accept: c.accept,
    ...(c.ifNoneMatch ? { 'if-none-match': c.ifNoneMatch } : {}),
    ...(c.acceptEncoding ? { 'accept-encoding': c.acceptEncoding } : {}),
  };
}

/** `count` distinct wheels of one project, uploaded through POST /legacy/. */
export async function uploadWheels(url: string, token: string, count: number): Promise<void> {
  const uploadOne = async (i: number) => {
    const version = `1.0.${i}`;
    const wheel = await makeWheel({ name: PROJECT, version, salt: `bench ${i}` });
    const parts = await uploadParts({ ...wheel, fields: { name: PROJECT, version } });
    const res = await postUpload(url, token, parts);
    if (res.status !== 200)
      throw new Error(`upload of ${wheel.filename}: ${res.status} ${res.body}`);
  };
  await uploadOne(0); // creates the project
  let next = 1;
  const worker = async () => {
    while (next < count) await uploadOne(next++);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** pier's answer for each case, checked to list every file; the bare server replays them. */
async function recordAnswers(url: string, files: number): Promise<[Case[], CannedResponse[]]> {
  const page = `${url}/simple/${PROJECT}/`;
  const html = await answerOf(page, { accept: 'text/html' });
  const json = await answerOf(page, { accept: PIP_ACCEPT });
  const listed = (JSON.parse(json.body.toString()) as { files: unknown[] }).files.length;
  const anchors = html.body.toString().split('<a ').length - 1;
  if (html.status !== 200 || json.status !== 200 || listed !== files || anchors !== files)
    throw new Error(`expected ${files} files, got HTML ${anchors}, JSON ${listed}`);
  const etag = json.headers.etag;
  if (!etag) throw new Error('the JSON page has no ETag');
  const plain = { ifNoneMatch: null, acceptEncoding: null, status: 200, target: TARGET } as const;
  const cases: Case[] = [
    { ...plain, name: 'HTML (Accept: text/html)', accept: 'text/html' },
    { ...plain, name: "JSON (pip's Accept)", accept: PIP_ACCEPT },
    {
      ...plain,
      name: '304 (JSON, If-None-Match)',
      accept: PIP_ACCEPT,
      ifNoneMatch: etag,
      status: 304,
    },
    {
      ...plain,
      name: "JSON, gzip (pip's Accept and Accept-Encoding)",
      accept: PIP_ACCEPT,
      acceptEncoding: PIP_ACCEPT_ENCODING,
      target: GZIP_TARGET,
    },
  ];
  const canned: CannedResponse[] = [];
  for (const c of cases) {
    const answer = await answerOf(page, requestHeaders(c));
    if (answer.status !== c.status) throw new Error(`${c.name}: pier answered ${answer.status}`);
    if (c.acceptEncoding && answer.headers['content-encoding'] !== 'gzip')
      throw new Error(`${c.name}: pier did not compress the page`);
    canned.push({ ...c, headers: answer.headers, body: answer.body.toString('base64') });
  }
  return [cases, canned];
}

/** The bare server must send exactly what pier sent. */
async function checkReplay(url: string, cases: Case[], canned: CannedResponse[]): Promise<void> {
  for (const [i, c] of cases.entries()) {
    const answer = await getOnce(`${url}/simple/${PROJECT}/`, requestHeaders(c));
    if (answer.status !== c.status || answer.body.toString('base64') !== canned[i]!.body)
      throw new Error(`${c.name}: the bare server's answer differs from pier's`);
  }
}

const GZIP_STATIC_CASE = "JSON, gzip, against nginx's gzip_static of pier's compressed bytes";

/**
 * nginx serving the page as files: the JSON body pier sent and, beside it, the gzip-compressed
 * body pier sent (`index.json.gz`), which `gzip_static` sends to a client accepting gzip.
 */
async function startGzipStatic(ctx: BenchContext, plain: Buffer, gzipped: Buffer) {
  const root = join(ctx.tmp, 'nginx-root');
  const dir = join(root, 'simple', PROJECT);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.json'), plain);
  writeFileSync(join(dir, 'index.json.gz'), gzipped);
  const nginx = await startNginx({
    root,
    dir: join(ctx.tmp, 'nginx'),
    server: `    location /simple/${PROJECT}/ {
      types { }
      default_type application/vnd.pypi.simple.v1+json;
      index index.json;
      gzip_static on;
      gzip_vary on;
    }`,
  });
  const answer = await getOnce(`${nginx.url}/simple/${PROJECT}/`, {
    accept: PIP_ACCEPT,
    'accept-encoding': PIP_ACCEPT_ENCODING,
  });
  if (
    answer.status !== 200 ||
    answer.headers['content-encoding'] !== 'gzip' ||
    !answer.body.equals(gzipped)
  ) {
    await nginx.stop();
    throw new Error(`nginx's gzip_static did not send pier's compressed page (${answer.status})`);
  }
  return nginx;
}

/** Per-round figures of one server, for the JSON file. */
function describe(prefix: string, runs: LoadResult[]): Row['details'] {
  return {
    [`${prefix} req/s per round`]: runs.map((r) => Math.round(r.requestsPerSecond)),
    [`${prefix} p50 ms (median of rounds)`]: round2(median(runs.map((r) => r.p50Ms))),
    [`${prefix} p99 ms (median of rounds)`]: round2(median(runs.map((r) => r.p99Ms))),
    [`${prefix} server CPU (cores)`]: round2(mean(runs.map((r) => r.serverCpu ?? NaN))),
    [`${prefix} load generator CPU (cores)`]: round2(mean(runs.map((r) => r.clientCpu))),
    [`${prefix} other processes' CPU (cores)`]: round2(mean(runs.map((r) => r.otherCpu ?? NaN))),
  };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const embedded = await runOn(ctx, EMBEDDED, null);
  const postgres = await runOn(ctx, POSTGRES_S3, embedded);
  return [...embedded, ...postgres];
}

/**
 * The cases on one backend. On the embedded default each case is compared with the bare server;
 * on PostgreSQL and S3 with the embedded default's result (reported: the issue sets no target).
 */
async function runOn(ctx: BenchContext, backend: Backend, reference: Row[] | null): Promise<Row[]> {
  const files = ctx.smoke ? 5 : 300;
  const settings = roundSettings(ctx, 3);
  const { rounds, roundMs, warmupMs } = settings;
  const dataDir = join(ctx.tmp, `pier-data-${backend.name}`);
  const env = await backend.fresh(dataDir);
  const token = await uploadToken(dataDir, 'bench', env);
  const pier = await startPier(dataDir, env);
  let bare: ServerProcess | null = null;
  let nginx: ServerProcess | null = null;
  try {
    ctx.log(`uploading ${files} wheels of '${PROJECT}'`);
    await uploadWheels(pier.url, token, files);
    const [cases, canned] = await recordAnswers(pier.url, files);
    const cannedFile = join(ctx.tmp, 'responses.json');
    writeFileSync(cannedFile, JSON.stringify(canned));
    if (!reference) {
      bare = await startBare(cannedFile, ctx.tmp);
      await checkReplay(bare.url, cases, canned);
    }
    const noNginx = reference ? null : nginxMissing();
    if (!reference && !noNginx) {
      const json = (gzip: boolean) =>
        Buffer.from(
          canned.find(
            (a) =>
              a.accept === PIP_ACCEPT && !a.ifNoneMatch && (a.acceptEncoding !== null) === gzip,
          )!.body,
          'base64',
        );
      nginx = await startGzipStatic(ctx, json(false), json(true));
    }

    const rows: Row[] = [];
    for (const c of cases) {
      const load = async (server: ServerProcess, durationMs = roundMs) => {
        const result = await runLoadInProcess({
          url: `${server.url}/simple/${PROJECT}/`,
          headers: requestHeaders(c),
          connections: CONNECTIONS,
          durationMs,
          expectStatus: c.status,
          serverPid: server.pid,
        });
        server.assertAlive();
        return result;
      };
      if (reference) {
        // Against the embedded default's figure for the same case.
        ctx.log(
          `${c.name} on ${backend.name}: ${CONNECTIONS} clients, ${rounds} x ${roundMs / 1000} s`,
        );
        await load(pier, warmupMs);
        const runs: LoadResult[] = [];
        for (let i = 0; i < rounds; i++) runs.push(await load(pier));
        const embeddedRow = reference.find((r) => r.case === c.name)!;
        rows.push(
          ratioRow(
            'simple-page',
            `${c.name}, ${backend.name}`,
            { value: median(runs.map((r) => r.requestsPerSecond)), unit: 'req/s' },
            { name: 'embedded default', value: embeddedRow.pier.value },
            null,
            mean(runs.map((r) => r.otherCpu ?? 0)),
            { files, connections: CONNECTIONS, rounds, ...describe('pier', runs) },
          ),
        );
        continue;
      }
      ctx.log(`${c.name}: ${CONNECTIONS} clients, ${rounds} x ${roundMs / 1000} s per server`);
      // nginx joins the rounds of the compressed case only.
      const withNginx = c.acceptEncoding !== null && nginx !== null;
      await load(pier, warmupMs);
      await load(bare!, warmupMs);
      if (withNginx) await load(nginx!, warmupMs);
      const servers = { pier, bare: bare!, nginx: nginx! };
      const { chosen, measured } = await quietestRounds(
        settings,
        withNginx ? (['pier', 'bare', 'nginx'] as const) : (['pier', 'bare'] as const),
        (name) => load(servers[name]),
      );
      const p = chosen.map((x) => x.results.pier);
      const b = chosen.map((x) => x.results.bare);
      rows.push(
        ratioRow(
          'simple-page',
          c.name,
          { value: median(p.map((r) => r.requestsPerSecond)), unit: 'req/s' },
          { name: 'bare node:http', value: median(b.map((r) => r.requestsPerSecond)) },
          c.target,
          mean(chosen.map((x) => x.other)),
          {
            files,
            'response body bytes': p[0]!.bytesPerRequest,
            connections: CONNECTIONS,
            rounds,
            'rounds measured (pairs)': measured,
            'seconds per round': roundMs / 1000,
            ...describe('pier', p),
            ...describe('bare', b),
          },
        ),
      );
      if (c.acceptEncoding !== null && noNginx)
        rows.push(unmeasuredRow('simple-page', GZIP_STATIC_CASE, noNginx));
      if (withNginx) {
        const n = chosen.map((x) => (x.results as Record<'nginx', LoadResult>).nginx);
        rows.push(
          ratioRow(
            'simple-page',
            GZIP_STATIC_CASE,
            { value: median(p.map((r) => r.requestsPerSecond)), unit: 'req/s' },
            { name: 'nginx gzip_static', value: median(n.map((r) => r.requestsPerSecond)) },
            null,
            mean(chosen.map((x) => x.other)),
            {
              files,
              'response body bytes': n[0]!.bytesPerRequest,
              connections: CONNECTIONS,
              rounds,
              'rounds measured (triples)': measured,
              'seconds per round': roundMs / 1000,
              'nginx worker processes': 1,
              ...describe('pier', p),
              ...describe('nginx', n),
            },
          ),
        );
      }
    }
    return rows;
  } finally {
    await Promise.all([pier.stop(), bare?.stop(), nginx?.stop()]);
  }
}

export const simplePage: Benchmark = { name: 'simple-page', run };
