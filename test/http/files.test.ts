// @backends: runs on the embedded default and on PostgreSQL with S3.
// File downloads: HEAD, Range, ETag and caching, as installers that read a wheel's central
// directory over HTTP (uv, poetry, pip's fast-deps) need.
import { test, before, after } from 'node:test';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { postUpload, sha256, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';

let server: TestServer;
let url: string;
let content: Buffer;

before(async () => {
  server = await startServer();
  const token = await server.userWithToken('alice', { mayCreateProjects: true });
  const w = await makeWheel({
    name: 'ranged',
    version: '1.0+local.1',
    extra: { 'data.bin': Buffer.alloc(5000, 3) },
  });
  content = w.content;
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({ ...w, fields: { name: 'ranged', version: '1.0+local.1' } }),
  );
  assert.equal(res.status, 200, res.body);
  const page = (await (
    await fetch(`${server.url}/simple/ranged/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    })
  ).json()) as { files: { url: string }[] };
  url = page.files[0]!.url;
});

after(() => server.close());

test('a local version’s "+" is percent-encoded in the URL and the file downloads whole', async () => {
  assert.match(url, /ranged-1\.0%2Blocal\.1-py3-none-any\.whl$/);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  assert.equal(res.headers.get('content-length'), String(content.length));
  assert.equal(res.headers.get('accept-ranges'), 'bytes');
  assert.equal(res.headers.get('etag'), `"${sha256(content)}"`);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(content));
});

test('HEAD gives the headers and no body', async () => {
  const res = await fetch(url, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(content.length));
  assert.equal((await res.arrayBuffer()).byteLength, 0);
});

test('Range requests: a slice, an open end, a suffix, and an unsatisfiable one', async () => {
  const slice = await fetch(url, { headers: { range: 'bytes=10-19' } });
  assert.equal(slice.status, 206);
  assert.equal(slice.headers.get('content-range'), `bytes 10-19/${content.length}`);
  assert.ok(Buffer.from(await slice.arrayBuffer()).equals(content.subarray(10, 20)));

  const open = await fetch(url, { headers: { range: `bytes=${content.length - 5}-` } });
  assert.equal(open.status, 206);
  assert.ok(Buffer.from(await open.arrayBuffer()).equals(content.subarray(content.length - 5)));

  // The zip's end-of-central-directory record, as lazy wheel readers fetch it.
  const suffix = await fetch(url, { headers: { range: 'bytes=-22' } });
  assert.equal(suffix.status, 206);
  const eocd = Buffer.from(await suffix.arrayBuffer());
  assert.equal(eocd.readUInt32LE(0), 0x06054b50);

  const beyond = await fetch(url, { headers: { range: `bytes=${content.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${content.length}`);

  const several = await fetch(url, { headers: { range: 'bytes=0-1,5-6' } });
  assert.equal(several.status, 200, 'several ranges: the whole file is a valid answer');
});

test('If-Range with another ETag sends the whole file', async () => {
  const res = await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': '"something-else"' } });
  assert.equal(res.status, 200);
  assert.equal((await res.arrayBuffer()).byteLength, content.length);
});

test('If-None-Match with the ETag: 304', async () => {
  const res = await fetch(url, { headers: { 'if-none-match': `"${sha256(content)}"` } });
  assert.equal(res.status, 304);
});

test('a path whose hash does not match the file: 404', async () => {
  const wrong = url.replace(
    /\/packages\/(..)/,
    (_m, a: string) => `/packages/${a === '00' ? '01' : '00'}`,
  );
  assert.equal((await fetch(wrong)).status, 404);
  assert.equal((await fetch(`${server.url}/packages/aa/bb/cc/nothing.whl`)).status, 404);
});

test('a file larger than an S3 multipart part (8 MiB) is stored whole and served back intact', async () => {
  const token = await server.userWithToken('bigfiles', { mayCreateProjects: true });
  const payload = randomBytes(17 * 1024 * 1024);
  const w = await makeWheel({
    name: 'large-file',
    version: '1.0',
    extra: { 'payload.bin': payload },
  });
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({ ...w, fields: { name: 'large-file', version: '1.0' } }),
  );
  assert.equal(res.status, 200, res.body);
  const page = (await (
    await fetch(`${server.url}/simple/large-file/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    })
  ).json()) as {
    files: { url: string; size: number; hashes: { sha256: string } }[];
  };
  assert.equal(page.files[0]!.size, w.content.length);
  const body = Buffer.from(await (await fetch(page.files[0]!.url)).arrayBuffer());
  assert.equal(sha256(body), sha256(w.content));
});
