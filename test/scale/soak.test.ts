// @backends: runs on the embedded default and on PostgreSQL with S3.
// A bounded soak: mixed traffic (Simple pages, the JSON API, downloads, uploads, web pages, and
// token exchanges of fresh tokens from a real issuer, `pier dev-oidc`'s, that pier verifies
// against its JWKS) for PIER_SOAK_SECONDS (default 30; 600 for the ten-minute run by hand). Zero
// errors; latency percentiles and the slope of resident memory are printed; memory is held to a
// generous bound.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { startDevOidc, type DevOidcServer } from '../../src/dev-oidc/index.js';
import { RELEASE_JOB_FIELDS } from '../support/dev-oidc.js';

const seconds = Number(process.env.PIER_SOAK_SECONDS ?? 30);
let server: TestServer;
let issuer: DevOidcServer;
after(async () => {
  await server?.close();
  await issuer?.close();
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

test(
  `soak: ${seconds} s of mixed traffic, zero errors`,
  { timeout: (seconds + 60) * 1000 },
  async () => {
    [server, issuer] = await Promise.all([startServer(), startDevOidc()]);
    const token = await server.userWithToken('soak', { mayCreateProjects: true });
    let uploaded = 0;
    const upload = async () => {
      const version = `1.${uploaded++}`;
      const wheel = await makeWheel({ name: 'soak', version });
      const parts = await uploadParts({
        filename: wheel.filename,
        content: wheel.content,
        fields: { name: 'soak', version },
      });
      const res = await postUpload(server.url, token, parts);
      return res.status;
    };
    assert.equal(await upload(), 200);
    const page = await (await fetch(`${server.url}/simple/soak/`)).text();
    const file = new URL(/href="([^"]+\.whl)/.exec(page)![1]!, `${server.url}/simple/soak/`).href;
    // The job the development issuer's tokens describe (octo-org/octo-repo, release.yml) is
    // trusted to publish 'soak'; every exchange posts a token signed for it just before.
    await server.services.issuers.add(OPERATOR, {
      kind: 'github',
      url: issuer.url,
      insecure: true,
    });
    await server.services.publishers.add(OPERATOR, 'soak', {
      kind: 'github',
      issuerUrl: issuer.url,
      fields: RELEASE_JOB_FIELDS,
    });
    const audience = new URL(server.url).host;
    let minted = '';
    const exchange = async () => {
      const res = await fetch(`${server.url}/_/oidc/mint-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: await issuer.mintToken(audience) }),
      });
      const body = (await res.json()) as { token?: unknown };
      if (res.status !== 200) return res.status;
      if (typeof body.token !== 'string') return 'no token in the answer';
      minted = body.token;
      return 200;
    };
    const get = async (url: string) => {
      const res = await fetch(url);
      await res.arrayBuffer();
      return res.status;
    };
    const kinds: [string, () => Promise<number | string>][] = [
      ['simple', () => get(`${server.url}/simple/soak/`)],
      ['json', () => get(`${server.url}/pypi/soak/json`)],
      ['download', () => get(file)],
      ['web', () => get(`${server.url}/project/soak/`)],
      ['upload', upload],
      ['exchange', exchange],
    ];
    const latencies = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
    const errors: string[] = [];
    const memory: [number, number][] = [];
    const started = Date.now();
    const until = started + seconds * 1000;
    const sampler = setInterval(
      () => memory.push([(Date.now() - started) / 1000, process.memoryUsage().rss / 2 ** 20]),
      500,
    );
    let n = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          const [kind, run] = kinds[n++ % kinds.length]!;
          const t = performance.now();
          const status = await run().catch((err: Error) => err.message);
          latencies.get(kind)!.push(performance.now() - t);
          if (status !== 200) errors.push(`${kind}: ${status}`);
        }
      }),
    );
    clearInterval(sampler);
    for (const [kind, list] of latencies) {
      const sorted = [...list].sort((a, b) => a - b);
      console.log(
        `# soak ${kind}: ${sorted.length} requests, p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
          `p95 ${percentile(sorted, 95).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
      );
    }
    const half = memory.slice(Math.floor(memory.length / 2));
    const mibPerMinute = slope(half) * 60;
    const peak = Math.max(...memory.map(([, m]) => m));
    console.log(
      `# soak memory: peak ${peak.toFixed(0)} MiB RSS, slope over the second half ${mibPerMinute.toFixed(1)} MiB/min`,
    );
    assert.deepEqual(errors.slice(0, 10), []);
    assert.ok(latencies.get('exchange')!.length > 0, 'no exchange ran');
    // The last token minted under load is an upload token for 'soak'.
    const wheel = await makeWheel({ name: 'soak', version: '2.0' });
    const parts = await uploadParts({ ...wheel, fields: { name: 'soak', version: '2.0' } });
    const res = await postUpload(server.url, minted, parts);
    assert.equal(res.status, 200, res.body);
    assert.ok(peak < 1024, `resident memory reached ${peak} MiB`);
  },
);
