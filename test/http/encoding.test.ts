// @backends: runs on the embedded default and on PostgreSQL with S3.
// Compressed answers (src/http/encoding.ts): every Simple page (HTML and JSON, the fast path and
// the Fastify routes), the JSON API and `.metadata` files, in each coding a client may ask for,
// read as raw bytes (fetch would decode them and hide the headers' truth).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { createVenv, exec, pipInstall } from '../support/python.js';
import { compressedBodies, NO_ACCEPTABLE_CODING } from '../../src/http/encoding.js';

const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

let server: TestServer;
let token: string;
let metadataPath: string;

interface Raw {
  status: number;
  statusText: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** One request, its answer's bytes exactly as sent. */
function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function decode(body: Buffer, coding: string | undefined): Buffer {
  if (coding === undefined) return body;
  if (coding === 'gzip') return gunzipSync(body);
  if (coding === 'br') return brotliDecompressSync(body);
  throw new Error(`unexpected content-encoding ${coding}`);
}

async function uploadVersion(version: string) {
  const w = await makeWheel({ name: 'squeeze', version, salt: `squeezed ${version}` });
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({ ...w, fields: { name: 'squeeze', version } }),
  );
  assert.equal(res.status, 200, res.body);
}

before(async () => {
  server = await startServer();
  token = await server.userWithToken('alice', { mayCreateProjects: true });
  for (let i = 0; i < 6; i++) await uploadVersion(`1.0.${i}`);
  const page = JSON.parse(
    (await raw('/simple/squeeze/', { accept: PIP_ACCEPT })).body.toString(),
  ) as { files: { url: string; 'core-metadata': unknown }[] };
  assert.ok(page.files[0]!['core-metadata']);
  metadataPath = `${new URL(page.files[0]!.url).pathname}.metadata`;
});

after(() => server.close());

/** Every endpoint that compresses, with the request headers that select its format. */
function endpoints(): { name: string; path: string; headers: Record<string, string> }[] {
  return [
    { name: 'project page, HTML (fast path)', path: '/simple/squeeze/', headers: {} },
    {
      name: 'project page, JSON (fast path)',
      path: '/simple/squeeze/',
      headers: { accept: PIP_ACCEPT },
    },
    { name: 'project page, HTML (route)', path: '/simple/v1+html/squeeze/', headers: {} },
    {
      name: 'project page, JSON (route, credentials)',
      path: '/simple/squeeze/',
      headers: { accept: PIP_ACCEPT, authorization: `Basic ${btoa(`__token__:${token}`)}` },
    },
    { name: 'root, HTML', path: '/simple/', headers: {} },
    { name: 'root, JSON', path: '/simple/', headers: { accept: PIP_ACCEPT } },
    { name: 'JSON API', path: '/pypi/squeeze/json', headers: {} },
    { name: 'JSON API, a version', path: '/pypi/squeeze/1.0.1/json', headers: {} },
    { name: '.metadata', path: metadataPath, headers: {} },
  ];
}

/** Accept-Encoding → the coding answered (undefined: none, the body as it is). */
const CODINGS: [string | undefined, string | undefined][] = [
  [undefined, undefined],
  ['identity', undefined],
  ['gzip', 'gzip'],
  ['br', 'br'],
  ['gzip;q=0', undefined],
  ['*', 'br'],
  ['gzip, deflate', 'gzip'], // pip's (requests')
  ['gzip, deflate, br, zstd', 'br'], // a browser's
  ['br;q=0.5, gzip', 'gzip'],
  ['identity;q=0, gzip', 'gzip'],
  ['*;q=0, identity', undefined],
];

const header = (ae: string | undefined): Record<string, string> =>
  ae === undefined ? {} : { 'accept-encoding': ae };

test('each endpoint, in each coding: the exact bytes, an ETag per coding, Vary, Content-Length, 304 and HEAD', async () => {
  for (const e of endpoints()) {
    const plain = await raw(e.path, e.headers);
    assert.equal(plain.status, 200, e.name);
    assert.equal(plain.headers['content-encoding'], undefined, e.name);
    const plainEtag = plain.headers.etag!;
    assert.match(plainEtag, /^"[^"]+"$/, e.name);
    const etags = new Map<string | undefined, string>();
    for (const [ae, coding] of CODINGS) {
      const what = `${e.name}, Accept-Encoding: ${ae ?? '(none)'}`;
      const headers = { ...e.headers, ...header(ae) };
      const res = await raw(e.path, headers);
      assert.equal(res.status, 200, what);
      assert.equal(res.headers['content-encoding'], coding, what);
      assert.equal(res.headers['content-length'], String(res.body.length), what);
      assert.ok(
        decode(res.body, coding).equals(plain.body),
        `${what}: decodes to the uncompressed bytes`,
      );
      // Compression pays off beyond a few hundred bytes (the root's JSON is smaller).
      if (coding !== undefined && plain.body.length > 1000)
        assert.ok(res.body.length < plain.body.length / 2, what);
      assert.match(res.headers.vary ?? '', /(^|, )Accept-Encoding(,|$)/, what);
      const etag = res.headers.etag!;
      assert.equal(etag, coding ? `${plainEtag.slice(0, -1)}-${coding}"` : plainEtag, what);
      if (etags.has(coding)) assert.equal(etags.get(coding), etag, what);
      etags.set(coding, etag);

      const revalidated = await raw(e.path, { ...headers, 'if-none-match': etag });
      assert.equal(revalidated.status, 304, what);
      assert.equal(revalidated.body.length, 0, what);
      assert.equal(revalidated.headers.etag, etag, what);
      assert.equal(revalidated.headers.vary, res.headers.vary, `${what}: Vary on the 304`);

      const head = await raw(e.path, headers, 'HEAD');
      assert.equal(head.status, 200, what);
      assert.equal(head.body.length, 0, what);
      assert.equal(head.headers['content-length'], String(res.body.length), `${what}: HEAD`);
      assert.equal(head.headers['content-encoding'], coding, `${what}: HEAD`);
      assert.equal(head.headers.etag, etag, `${what}: HEAD`);
    }
    assert.equal(new Set(etags.values()).size, 3, `${e.name}: identity, gzip and br differ`);
    // Another coding's ETag does not revalidate this one: the answer is the asked-for coding.
    const gzipped = await raw(e.path, {
      ...e.headers,
      'accept-encoding': 'gzip',
      'if-none-match': plainEtag,
    });
    assert.equal(gzipped.status, 200, e.name);
    assert.equal(gzipped.headers['content-encoding'], 'gzip', e.name);
    const asIs = await raw(e.path, { ...e.headers, 'if-none-match': etags.get('gzip')! });
    assert.equal(asIs.status, 200, e.name);
    assert.ok(asIs.body.equals(plain.body), e.name);
    // A cache holding both sends both: the one of the coding asked for matches.
    const both = await raw(e.path, {
      ...e.headers,
      'accept-encoding': 'br',
      'if-none-match': `${plainEtag}, ${etags.get('br')!}`,
    });
    assert.equal(both.status, 304, e.name);
    assert.equal(both.headers.etag, etags.get('br'), e.name);
  }
});

test('an Accept-Encoding that excludes every coding: 406 with the reason, for each endpoint', async () => {
  for (const e of endpoints()) {
    for (const ae of ['identity;q=0', '*;q=0', 'gzip;q=0, br;q=0, identity;q=0']) {
      const res = await raw(e.path, { ...e.headers, 'accept-encoding': ae });
      assert.equal(res.status, 406, `${e.name}, ${ae}`);
      // The JSON API's errors say it in their JSON body only, as PyPI's do.
      if (!e.path.startsWith('/pypi/'))
        assert.equal(res.statusText, NO_ACCEPTABLE_CODING, `${e.name}, ${ae}`);
      assert.ok(res.body.toString().includes(NO_ACCEPTABLE_CODING), `${e.name}, ${ae}`);
    }
  }
  // It changed nothing: the next request is answered as before.
  assert.equal((await raw('/simple/squeeze/', { 'accept-encoding': 'gzip' })).status, 200);
});

test('a page that changes gets a new compressed body; the old variant is never served for it', async () => {
  const before = await raw('/simple/squeeze/', { accept: PIP_ACCEPT, 'accept-encoding': 'gzip' });
  const rootBefore = await raw('/simple/', { 'accept-encoding': 'br' });
  const apiBefore = await raw('/pypi/squeeze/json', { 'accept-encoding': 'gzip' });
  await uploadVersion('2.0.0');
  await server.services.projects.create(OPERATOR, 'Squeeze_Two', 'alice'); // a new root entry
  for (const [path, headers, old] of [
    ['/simple/squeeze/', { accept: PIP_ACCEPT, 'accept-encoding': 'gzip' }, before],
    ['/simple/', { 'accept-encoding': 'br' }, rootBefore],
    ['/pypi/squeeze/json', { 'accept-encoding': 'gzip' }, apiBefore],
  ] as const) {
    const after = await raw(path, { ...headers, 'if-none-match': old.headers.etag! });
    assert.equal(after.status, 200, path);
    assert.notEqual(after.headers.etag, old.headers.etag, path);
    const plain = await raw(path, 'accept' in headers ? { accept: headers.accept } : {});
    const coding = headers['accept-encoding'];
    assert.ok(decode(after.body, coding).equals(plain.body), `${path}: the new version`);
    assert.ok(!decode(after.body, coding).equals(decode(old.body, coding)), path);
    if (path === '/simple/squeeze/') assert.match(plain.body.toString(), /squeeze-2\.0\.0/);
  }
});

test('each body is compressed once per version and coding, however many requests ask', async () => {
  await uploadVersion('3.0.0'); // a version no request has seen
  const start = compressedBodies.compressions;
  const ask = (ae: string, accept = 'text/html') =>
    raw('/simple/squeeze/', { accept, 'accept-encoding': ae });
  // Concurrent first requests share one compression; later ones are a lookup.
  const first = await Promise.all(Array.from({ length: 8 }, () => ask('gzip')));
  for (let i = 0; i < 8; i++) await ask('gzip');
  assert.equal(compressedBodies.compressions - start, 1);
  for (let i = 0; i < 8; i++) await ask('br');
  for (let i = 0; i < 8; i++) await ask('gzip', PIP_ACCEPT);
  assert.equal(compressedBodies.compressions - start, 3, 'HTML gzip, HTML br, JSON gzip');
  const later = await ask('gzip');
  assert.ok(first.every((r) => r.body.equals(later.body)));
  // The same through the Fastify route and for the JSON API and .metadata.
  const routed = compressedBodies.compressions;
  for (let i = 0; i < 4; i++) {
    await raw('/simple/v1+html/squeeze/', { 'accept-encoding': 'gzip' });
    await raw('/pypi/squeeze/3.0.0/json', { 'accept-encoding': 'gzip' });
    await raw(metadataPath, { 'accept-encoding': 'br' });
  }
  // The pinned HTML root's body differs from text/html's only in its media type, not its bytes.
  assert.ok(compressedBodies.compressions - routed <= 3);
  const settled = compressedBodies.compressions;
  for (let i = 0; i < 4; i++) {
    await raw('/simple/v1+html/squeeze/', { 'accept-encoding': 'gzip' });
    await raw('/pypi/squeeze/3.0.0/json', { 'accept-encoding': 'gzip' });
    await raw(metadataPath, { 'accept-encoding': 'br' });
  }
  assert.equal(compressedBodies.compressions, settled);
});

test('a Range of a .metadata file is of its bytes as they are', async () => {
  const plain = await raw(metadataPath);
  const res = await raw(metadataPath, { 'accept-encoding': 'gzip', range: 'bytes=0-9' });
  assert.equal(res.status, 206);
  assert.equal(res.headers['content-encoding'], undefined);
  assert.ok(res.body.equals(plain.body.subarray(0, 10)));
  assert.equal(res.headers.etag, plain.headers.etag);
});

test('pip installs through gzip-compressed pages', async () => {
  const seen: { path: string; asked: string | undefined; coding: unknown }[] = [];
  // Runs before pier's own handler, to see the headers of every answer, the fast path's too.
  const record = (req: IncomingMessage, res: ServerResponse) => {
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    let coding: unknown;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a) => typeof a === 'object' && a !== null);
      coding = (headers as Record<string, unknown> | undefined)?.['content-encoding'];
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    res.on('finish', () =>
      seen.push({
        path: req.url ?? '',
        asked: req.headers['accept-encoding'],
        coding: coding ?? res.getHeader('content-encoding'),
      }),
    );
  };
  server.app.server.prependListener('request', record);
  try {
    const venv = await createVenv();
    // Debian's pip reads PEP 658 metadata from HTML pages only: the HTML-pinned root too.
    for (const root of ['/simple/', '/simple/v1+html/']) {
      const r = await pipInstall(venv, `${server.url}${root}`, ['squeeze==1.0.3'], ['--force']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const imported = await exec(venv.python, ['-c', 'import squeeze; print(squeeze.SALT)']);
    assert.equal(imported.stdout.trim(), 'squeezed 1.0.3');
  } finally {
    server.app.server.off('request', record);
  }
  const pages = seen.filter((s) => s.path.startsWith('/simple/'));
  assert.ok(pages.length >= 2);
  for (const p of pages) {
    assert.match(p.asked ?? '', /gzip/, p.path);
    assert.equal(p.coding, 'gzip', p.path);
  }
  const metadata = seen.filter((s) => s.path.endsWith('.metadata'));
  assert.ok(metadata.length >= 1, 'pip read a .metadata file');
  // pip downloads files, .metadata among them, with Accept-Encoding: identity (its bytes are
  // hashed as they are): it gets them so.
  for (const m of metadata)
    assert.equal(m.coding, /gzip/.test(m.asked ?? '') ? 'gzip' : undefined, m.path);
});
