// The upstream proxy: a cached proxied Simple page against a hosted project's page of as many
// files, a cached proxied file against a hosted file of the same size (both under the same
// concurrent load, on the same pier, in the same run); a cold page's time through pier against
// fetching it from the upstream directly; and 50 concurrent first requests for one name, counted
// at pier's upstream client.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { makeWheel } from '../test/support/dists.js';
import { postUpload, sha256, uploadParts } from '../test/support/upload.js';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { getOnce } from './lib/http.js';
import { runLoadInProcess, type LoadResult } from './lib/load.js';
import { startPier, uploadToken, type ServerProcess } from './lib/processes.js';
import { median, mean } from './lib/stats.js';

const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const CONNECTIONS = 16;

async function upload(url: string, token: string, name: string, version: string, payload = 0) {
  // Random bytes: the wheel (a zip) is as large as the payload.
  const extra = payload ? { 'data.bin': randomBytes(payload) } : undefined;
  const w = await makeWheel({ name, version, salt: `${name} ${version}`, extra });
  const res = await postUpload(url, token, await uploadParts({ ...w, fields: { name, version } }));
  if (res.status !== 200) throw new Error(`upload of ${w.filename}: ${res.status} ${res.body}`);
  return w;
}

async function upstreamRequests(pier: ServerProcess): Promise<number> {
  const text = (await getOnce(`${pier.url}/metrics`)).body.toString();
  return Number(/^pier_upstream_requests_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const files = ctx.smoke ? 3 : 50;
  const colds = ctx.smoke ? 2 : 15;
  const payload = ctx.smoke ? 10_000 : 1024 * 1024;
  const rounds = ctx.smoke ? 1 : 5;
  const roundMs = ctx.smoke ? 300 : 2000;
  const upDir = join(ctx.tmp, 'upstream');
  const pierDir = join(ctx.tmp, 'pier');
  const upToken = await uploadToken(upDir, 'bench');
  const upstream = await startPier(upDir);
  let pier: ServerProcess | null = null;
  try {
    ctx.log(`uploading ${files} wheels, a file and ${colds} projects to the upstream`);
    for (let i = 0; i < files; i++)
      await upload(upstream.url, upToken, 'bench-proxied', `1.0.${i}`);
    const upFile = await upload(upstream.url, upToken, 'proxied-file', '1.0', payload);
    for (let i = 0; i < colds; i++) await upload(upstream.url, upToken, `cold-${i}`, '1.0');
    await upload(upstream.url, upToken, 'burst', '1.0');

    const env = { PIER_UPSTREAM_URL: `${upstream.url}/simple/` };
    const token = await uploadToken(pierDir, 'bench', env);
    pier = await startPier(pierDir, env);
    ctx.log(`uploading the same to pier, hosted`);
    for (let i = 0; i < files; i++) await upload(pier.url, token, 'bench-hosted', `1.0.${i}`);
    const hostedFile = await upload(pier.url, token, 'hosted-file', '1.0', payload);

    // Warm the cache and find the two files' URLs.
    const pageOf = async (name: string) =>
      JSON.parse(
        (await getOnce(`${pier!.url}/simple/${name}/`, { accept: PIP_ACCEPT })).body.toString(),
      ) as {
        files: { url: string }[];
      };
    const proxiedUrl = (await pageOf('proxied-file')).files[0]!.url;
    const hostedUrl = (await pageOf('hosted-file')).files[0]!.url;
    const first = await getOnce(proxiedUrl);
    if (sha256(first.body) !== sha256(upFile.content)) throw new Error('proxied file differs');
    if (sha256((await getOnce(hostedUrl)).body) !== sha256(hostedFile.content))
      throw new Error('hosted file differs');
    await new Promise((r) => setTimeout(r, 300)); // the proxied file's row, just after its last byte
    if ((await getOnce(proxiedUrl)).headers['x-pier-upstream'] !== 'hit')
      throw new Error('the proxied file is not served from the cache');
    await pageOf('bench-proxied');

    const rows: Row[] = [];
    const compare = async (
      kase: string,
      proxied: string,
      hosted: string,
      headers: Record<string, string>,
      target: number,
    ) => {
      ctx.log(`${kase}: ${CONNECTIONS} clients, ${rounds} x ${roundMs / 1000} s each`);
      const load = (url: string) =>
        runLoadInProcess({
          url,
          headers,
          connections: CONNECTIONS,
          durationMs: roundMs,
          expectStatus: 200,
          serverPid: pier!.pid,
        });
      await load(proxied);
      await load(hosted);
      const p: LoadResult[] = [];
      const h: LoadResult[] = [];
      for (let i = 0; i < rounds; i++) {
        // Taking turns at going first, so that a drift in the machine's load favours neither.
        if (i % 2 === 0) {
          p.push(await load(proxied));
          h.push(await load(hosted));
        } else {
          h.push(await load(hosted));
          p.push(await load(proxied));
        }
      }
      rows.push(
        ratioRow(
          'proxy',
          kase,
          { value: median(p.map((r) => r.requestsPerSecond)), unit: 'req/s' },
          { name: 'hosted, same pier', value: median(h.map((r) => r.requestsPerSecond)) },
          { op: '>=', value: target },
          mean([...p, ...h].map((r) => r.otherCpu ?? 0)),
          {
            connections: CONNECTIONS,
            rounds,
            'proxied bytes per answer': p[0]!.bytesPerRequest,
            'hosted bytes per answer': h[0]!.bytesPerRequest,
          },
        ),
      );
    };
    await compare(
      `cached proxied Simple page (${files} files) vs hosted page`,
      `${pier.url}/simple/bench-proxied/`,
      `${pier.url}/simple/bench-hosted/`,
      { accept: PIP_ACCEPT },
      0.9,
    );
    await compare(
      `cached proxied file (${payload} B) vs hosted file`,
      proxiedUrl,
      hostedUrl,
      {},
      0.8,
    );

    ctx.log(`cold pages: ${colds} names, through pier and from the upstream directly`);
    const direct: number[] = [];
    const through: number[] = [];
    for (let i = 0; i < colds; i++) {
      const name = `cold-${i}`;
      await getOnce(`${upstream.url}/simple/${name}/`, { accept: PIP_ACCEPT });
      let t = performance.now();
      await getOnce(`${upstream.url}/simple/${name}/`, { accept: PIP_ACCEPT });
      direct.push(performance.now() - t);
      t = performance.now();
      const res = await getOnce(`${pier.url}/simple/${name}/`, { accept: PIP_ACCEPT });
      through.push(performance.now() - t);
      if (res.headers['x-pier-upstream'] !== 'miss') throw new Error(`${name} was not cold`);
    }
    rows.push(
      ratioRow(
        'proxy',
        'cold proxied page through pier vs the upstream directly (lower is better)',
        { value: median(through), unit: 'ms' },
        { name: 'upstream directly', value: median(direct) },
        { op: '<', value: 1.3 },
        null,
        {
          names: colds,
          'through pier ms': through.map((x) => Math.round(x * 10) / 10),
          'direct ms': direct.map((x) => Math.round(x * 10) / 10),
        },
      ),
    );

    ctx.log('50 concurrent first requests for one name');
    const before = await upstreamRequests(pier);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        getOnce(`${pier!.url}/simple/burst/`, { accept: PIP_ACCEPT }),
      ),
    );
    if (answers.some((a) => a.status !== 200)) throw new Error('a burst request failed');
    const made = (await upstreamRequests(pier)) - before;
    rows.push({
      benchmark: 'proxy',
      case: '50 concurrent first requests for one name: upstream requests',
      pier: { value: made, unit: 'requests' },
      baseline: null,
      result: { value: made, unit: 'requests' },
      target: { op: '<', value: 2 },
      met: made < 2,
      otherCpu: null,
      details: {},
    });
    return rows;
  } finally {
    await Promise.all([pier?.stop(), upstream.stop()]);
  }
}

export const proxyBench: Benchmark = { name: 'proxy', run };
