// The Simple page of a project with many files, under 16 concurrent keep-alive clients, as HTML,
// as pip asks for it (JSON), and revalidated with If-None-Match (304) — against a bare node:http
// server sending the very same status, headers and bytes, loaded the same way in the same run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWheel } from '../test/support/dists.js';
import { postUpload, uploadParts } from '../test/support/upload.js';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { getOnce } from './lib/http.js';
import { runLoad, type LoadResult } from './lib/load.js';
import {
  startBare,
  startPier,
  uploadToken,
  type CannedResponse,
  type ServerProcess,
} from './lib/processes.js';

const PROJECT = 'bench-simple';
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
/** Headers that belong to the connection, not the answer. */
const CONNECTION_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
const CONNECTIONS = 16;
const TARGET = { op: '>=', value: 0.7 } as const;

interface Case {
  name: string;
  accept: string;
  ifNoneMatch: string | null;
  status: number;
}

/** pier's answer without the headers of the connection (node:http writes its own). */
async function answerOf(url: string, headers: Record<string, string>) {
  const answer = await getOnce(url, headers);
  for (const h of CONNECTION_HEADERS) delete answer.headers[h];
  return answer;
}

function requestHeaders(c: Case): Record<string, string> {
  return { accept: c.accept, ...(c.ifNoneMatch ? { 'if-none-match': c.ifNoneMatch } : {}) };
}

/** `count` distinct wheels of one project, uploaded through POST /legacy/. */
async function uploadWheels(url: string, token: string, count: number): Promise<void> {
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
  const cases: Case[] = [
    { name: 'HTML (Accept: text/html)', accept: 'text/html', ifNoneMatch: null, status: 200 },
    { name: "JSON (pip's Accept)", accept: PIP_ACCEPT, ifNoneMatch: null, status: 200 },
    { name: '304 (JSON, If-None-Match)', accept: PIP_ACCEPT, ifNoneMatch: etag, status: 304 },
  ];
  const canned: CannedResponse[] = [];
  for (const c of cases) {
    const answer = await answerOf(page, requestHeaders(c));
    if (answer.status !== c.status) throw new Error(`${c.name}: pier answered ${answer.status}`);
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

function describe(prefix: string, r: LoadResult): Record<string, number> {
  const d: Record<string, number> = {
    [`${prefix} requests`]: r.requests,
    [`${prefix} p50 ms`]: r.p50Ms,
    [`${prefix} p99 ms`]: r.p99Ms,
    [`${prefix} server CPU (cores)`]: r.serverCpu ?? NaN,
    [`${prefix} client CPU (cores)`]: r.clientCpu,
  };
  return d;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const files = ctx.smoke ? 5 : 300;
  const load = { connections: CONNECTIONS, warmupMs: ctx.smoke ? 200 : 2000 };
  const durationMs = ctx.smoke ? 500 : 10_000;
  const dataDir = join(ctx.tmp, 'pier-data');
  const token = await uploadToken(dataDir);
  const pier = await startPier(dataDir);
  let bare: ServerProcess | null = null;
  try {
    ctx.log(`uploading ${files} wheels of '${PROJECT}'`);
    await uploadWheels(pier.url, token, files);
    const [cases, canned] = await recordAnswers(pier.url, files);
    const cannedFile = join(ctx.tmp, 'responses.json');
    writeFileSync(cannedFile, JSON.stringify(canned));
    bare = await startBare(cannedFile, ctx.tmp);
    await checkReplay(bare.url, cases, canned);

    const rows: Row[] = [];
    for (const c of cases) {
      const measure = async (server: ServerProcess) => {
        const result = await runLoad({
          ...load,
          url: `${server.url}/simple/${PROJECT}/`,
          headers: requestHeaders(c),
          durationMs,
          expectStatus: c.status,
          serverPid: server.pid,
        });
        server.assertAlive();
        return result;
      };
      ctx.log(`${c.name}: ${CONNECTIONS} clients for ${durationMs / 1000} s each`);
      const p = await measure(pier);
      const b = await measure(bare);
      rows.push(
        ratioRow(
          'simple-page',
          c.name,
          { value: p.requestsPerSecond, unit: 'req/s' },
          { name: 'bare node:http', value: b.requestsPerSecond },
          TARGET,
          {
            files,
            'response bytes': p.bytesPerRequest,
            connections: CONNECTIONS,
            seconds: durationMs / 1000,
            ...describe('pier', p),
            ...describe('bare', b),
          },
        ),
      );
    }
    return rows;
  } finally {
    await Promise.all([pier.stop(), bare?.stop()]);
  }
}

export const simplePage: Benchmark = { name: 'simple-page', run };
