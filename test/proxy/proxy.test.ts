// @backends: runs on the embedded default and on PostgreSQL with S3.
// The upstream proxy against a static folder index with relative links: pages in both formats
// on pier's origin, files checked and cached, one upstream request for many, the guard, and
// every failure leaving nothing wrong in the cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import {
  addStaticProject,
  startStaticIndex,
  type StaticIndex,
  type StaticProjectOptions,
} from '../support/static-index.js';
import { postUpload, sha256, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { tempDir } from '../support/tmp.js';
import { testCertificates } from '../support/tls.js';

const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json';
let upstream: StaticIndex;
let root: string;
let pier: TestServer;
const wheels: Record<string, { filename: string; content: Buffer; metadata: string }> = {};

async function addProject(root: string, name: string, opts: StaticProjectOptions = {}) {
  wheels[name] = (await addStaticProject(root, name, opts))[0]!;
}

before(async () => {
  root = tempDir('pier-static-index-');
  for (const name of [
    'static-pkg',
    'many',
    'stale-pkg',
    'acme-internal',
    'shadowed',
    'secret',
    'taken-upstream',
  ])
    await addProject(root, name);
  await addProject(root, 'bad-hash', { wrongHash: true });
  // Large enough to arrive in many chunks: the answer has begun when the hash is found wrong.
  await addProject(root, 'bad-big', { wrongHash: true, payload: randomBytes(2 * 1024 * 1024) });
  await addProject(root, 'big-good', { payload: randomBytes(2 * 1024 * 1024) });
  upstream = await startStaticIndex(root);
  pier = await startServer({
    upstreamUrl: `${upstream.url}/simple/`,
    upstreamExclude: 'acme-*',
    upstreamTimeout: 1,
    upstreamMaxPageSize: '100KiB',
  });
});

after(async () => {
  await pier.close();
  await upstream.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${pier.url}${path}`, { headers, redirect: 'manual' });

/** Everything the cache holds, to compare before and after a failure. */
async function cacheState() {
  const db = pier.services.db.kysely;
  const pages = await db
    .selectFrom('upstream_pages')
    .selectAll()
    .orderBy('normalized_name')
    .execute();
  const blobs = await db.selectFrom('upstream_blobs').selectAll().orderBy('sha256').execute();
  const keys: string[] = [];
  for await (const k of pier.services.blobs.keys()) keys.push(k);
  return { pages, blobs, keys: keys.sort() };
}

test('a name pier does not host lists the upstream files, on pier’s own URLs, in both formats', async () => {
  const w = wheels['static-pkg']!;
  const res = await get('/simple/static-pkg/', { accept: JSON_ACCEPT });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), JSON_ACCEPT);
  assert.equal(res.headers.get('x-pier-upstream'), 'miss');
  const doc = (await res.json()) as {
    name: string;
    files: Record<string, unknown>[];
    versions: string[];
  };
  assert.equal(doc.name, 'static-pkg');
  assert.deepEqual(doc.versions, ['1.0']);
  assert.equal(doc.files.length, 1);
  const f = doc.files[0]!;
  assert.equal(f.filename, w.filename);
  assert.equal(f.url, `${pier.url}/proxy/static-pkg/${sha256(w.content)}/${w.filename}`);
  assert.deepEqual(f.hashes, { sha256: sha256(w.content) });
  assert.equal(f['requires-python'], '>=3.8');
  assert.deepEqual(f['core-metadata'], { sha256: sha256(Buffer.from(w.metadata)) });
  assert.equal(f.yanked, false);

  const html = await get('/simple/static-pkg/', { accept: 'text/html' });
  assert.equal(html.headers.get('x-pier-upstream'), 'hit');
  const text = await html.text();
  assert.match(text, new RegExp(`href="${pier.url}/proxy/static-pkg/${sha256(w.content)}/`));
  assert.match(text, /data-requires-python="&gt;=3.8"/);
  assert.doesNotMatch(text, new RegExp(upstream.url));
});

test('a file is fetched once, checked, stored and then served from the cache', async () => {
  const w = wheels['static-pkg']!;
  const path = `/proxy/static-pkg/${sha256(w.content)}/${w.filename}`;
  const first = await get(path);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-pier-upstream'), 'miss');
  assert.deepEqual(Buffer.from(await first.arrayBuffer()), w.content);
  // The row is written once the hash is confirmed, just after the last byte.
  for (let i = 0; i < 100; i++) {
    const row = await pier.services.db.kysely
      .selectFrom('upstream_blobs')
      .selectAll()
      .where('sha256', '=', sha256(w.content))
      .executeTakeFirst();
    if (row) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const before = upstream.requests.length;
  const second = await get(path);
  assert.equal(second.headers.get('x-pier-upstream'), 'hit');
  assert.deepEqual(Buffer.from(await second.arrayBuffer()), w.content);
  assert.equal(upstream.requests.length, before, 'the second download never reached the upstream');

  const meta = await get(`${path}.metadata`);
  assert.equal(meta.status, 200);
  assert.equal(await meta.text(), w.metadata);
});

test('50 concurrent first requests for one name make one upstream request', async () => {
  const before = upstream.requests.filter((p) => p === '/simple/many/').length;
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => get('/simple/many/', { accept: JSON_ACCEPT })),
  );
  for (const a of answers) assert.equal(a.status, 200);
  assert.equal(upstream.requests.filter((p) => p === '/simple/many/').length - before, 1);
});

/** Waits (up to 3 s) until the cache is back to `snapshot`: clean-up follows the failed answer. */
async function cacheReturnsTo(snapshot: Awaited<ReturnType<typeof cacheState>>, what: string) {
  const until = Date.now() + 3000;
  for (;;) {
    const now = await cacheState();
    try {
      assert.deepEqual(now, snapshot, what);
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Whether a download completed: a 200 whose whole body arrived. */
async function downloaded(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    const body = await res.arrayBuffer();
    return res.status === 200 && body.byteLength > 0;
  } catch {
    return false;
  }
}

for (const name of ['bad-hash', 'bad-big']) {
  test(`bytes that do not match the listed sha256 fail the download and are never kept (${name})`, async () => {
    const page = (await (await get(`/simple/${name}/`, { accept: JSON_ACCEPT })).json()) as {
      files: { url: string }[];
    };
    await pier.services.proxy.drain(); // the page is stored just after it is answered
    const snapshot = await cacheState();
    assert.equal(await downloaded(page.files[0]!.url), false, 'the client’s download fails');
    await cacheReturnsTo(snapshot, 'nothing was kept');
    // Never served from the cache afterwards: the next try fails the same way.
    assert.equal(await downloaded(page.files[0]!.url), false);
    await cacheReturnsTo(snapshot, 'nothing was kept the second time');
  });
}

test('a client that goes away mid-download leaves nothing half-kept; the next download completes', async () => {
  const w = wheels['big-good']!;
  const url = `${pier.url}/proxy/big-good/${sha256(w.content)}/${w.filename}`;
  await get('/simple/big-good/');
  await pier.services.proxy.drain();
  const snapshot = await cacheState();
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  const reader = res.body!.getReader();
  await reader.read();
  abort.abort();
  // Either nothing was kept, or — when every byte had already arrived before the client left —
  // the whole checked file; never a blob without its row, nor a row for other bytes.
  const until = Date.now() + 3000;
  for (;;) {
    const now = await cacheState();
    const added = now.blobs.filter((b) => !snapshot.blobs.some((o) => o.sha256 === b.sha256));
    const expectedKeys = [...snapshot.keys, ...added.map((b) => b.blob_key)].sort();
    const consistent =
      added.every((b) => b.sha256 === sha256(w.content)) &&
      JSON.stringify(now.keys) === JSON.stringify(expectedKeys);
    if (consistent) break;
    if (Date.now() > until)
      assert.fail(`the cache holds a partial copy: ${JSON.stringify(now.keys)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const full = await fetch(url);
  assert.equal(full.status, 200);
  assert.equal(sha256(Buffer.from(await full.arrayBuffer())), sha256(w.content));
});

test('the guard: a hosted name is the whole answer, private ones fall through for no reader', async () => {
  const before = upstream.requests.length;
  await pier.services.projects.create(OPERATOR, 'shadowed', undefined, { shadowUpstream: true });
  const shadowed = await get('/simple/shadowed/', { accept: JSON_ACCEPT });
  assert.equal(shadowed.status, 200);
  assert.equal(shadowed.headers.get('x-pier-upstream'), null);
  assert.deepEqual(((await shadowed.json()) as { files: unknown[] }).files, []);

  await pier.services.projects.create(OPERATOR, 'secret', undefined, { shadowUpstream: true });
  await pier.services.projects.update(OPERATOR, 'secret', { private: true });
  const hidden = await get('/simple/secret/', { accept: JSON_ACCEPT });
  const missing = await get('/simple/no-such-name-anywhere-local/', { accept: JSON_ACCEPT });
  assert.equal(hidden.status, 404);
  assert.equal(await hidden.text(), '404 Not Found');
  // The files of an upstream project of a hosted name are not served either.
  const w = wheels['shadowed']!;
  const file = await get(`/proxy/shadowed/${sha256(w.content)}/${w.filename}`);
  assert.equal(file.status, 404);
  assert.equal(missing.status, 404);
  assert.deepEqual(
    upstream.requests.slice(before),
    ['/simple/no-such-name-anywhere-local/'],
    'only the name pier does not host was asked of the upstream',
  );
});

test('creating a project whose name exists upstream needs an administrator’s explicit choice', async () => {
  const userToken = await pier.userWithToken('uploader', { mayCreateProjects: true });
  const adminToken = await pier.userWithToken('root', { admin: true, scope: 'admin' });
  const db = pier.services.db.kysely;
  const snapshot = async () => ({
    projects: await db.selectFrom('projects').selectAll().orderBy('id').execute(),
    files: await db.selectFrom('files').selectAll().orderBy('id').execute(),
    keys: (await cacheState()).keys,
  });
  const before = await snapshot();
  const w = await makeWheel({ name: 'taken-upstream', version: '2.0' });
  const upload = await postUpload(
    pier.url,
    userToken,
    await uploadParts({ ...w, fields: { name: 'taken-upstream', version: '2.0' } }),
  );
  assert.equal(upload.status, 409);
  assert.match(upload.statusText, /exists on the upstream index/);
  const api = (token: string, body: unknown) =>
    fetch(`${pier.url}/api/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const plain = await api(adminToken, { name: 'Taken.Upstream' });
  assert.equal(plain.status, 409);
  const notAdmin = await api(userToken, { name: 'taken-upstream', shadow_upstream: true });
  assert.equal(notAdmin.status, 403);
  assert.deepEqual(await snapshot(), before, 'the refusals changed nothing');
  const chosen = await api(adminToken, { name: 'taken-upstream', shadow_upstream: true });
  assert.equal(chosen.status, 201);
  // A name the upstream does not have is created as before.
  const fresh = await makeWheel({ name: 'only-here', version: '1.0' });
  const ok = await postUpload(
    pier.url,
    userToken,
    await uploadParts({ ...fresh, fields: { name: 'only-here', version: '1.0' } }),
  );
  assert.equal(ok.status, 200, ok.body);
});

test('excluded names are never fetched, from configuration and from the run-time list', async () => {
  const before = upstream.requests.length;
  const res = await get('/simple/acme-internal/', { accept: JSON_ACCEPT });
  assert.equal(res.status, 404);
  await pier.services.proxy.addExclude(OPERATOR, 'static_*');
  const excluded = await get('/simple/static-pkg/', { accept: JSON_ACCEPT });
  assert.equal(excluded.status, 404, 'even a name already cached is no longer answered');
  await pier.services.proxy.removeExclude(OPERATOR, 'static-*');
  assert.equal(upstream.requests.length, before);
});

test('names in a reserved namespace (PEP 752) are never fetched, even when cached', async () => {
  const before = upstream.requests.length;
  await pier.services.auth.addUser(OPERATOR, { username: 'static-owner', password: null });
  await pier.services.namespaces.reserve(OPERATOR, 'static', 'static-owner');
  const reserved = await get('/simple/static-pkg/', { accept: JSON_ACCEPT });
  assert.equal(reserved.status, 404, 'a name in a reserved namespace is not taken from upstream');
  assert.equal((await get('/pypi/static-pkg/json')).status, 404);
  await pier.services.namespaces.release(OPERATOR, 'static');
  assert.equal((await get('/simple/static-pkg/', { accept: JSON_ACCEPT })).status, 200);
  assert.equal(upstream.requests.length, before, 'no upstream request while it was reserved');
});

test('the JSON API answers for a proxied project, with pier’s URLs', async () => {
  const w = wheels['static-pkg']!;
  const res = await get('/pypi/static-pkg/json');
  assert.equal(res.status, 200);
  const doc = (await res.json()) as {
    info: { name: string; version: string; requires_python: string };
    urls: { filename: string; url: string; digests: { sha256: string } }[];
    releases: Record<string, unknown[]>;
  };
  assert.equal(doc.info.name, 'static-pkg');
  assert.equal(doc.info.version, '1.0');
  assert.equal(doc.info.requires_python, '>=3.8');
  assert.deepEqual(Object.keys(doc.releases), ['1.0']);
  assert.equal(doc.urls[0]!.url, `${pier.url}/proxy/static-pkg/${sha256(w.content)}/${w.filename}`);
  assert.equal(doc.urls[0]!.digests.sha256, sha256(w.content));
  assert.equal((await get('/pypi/static-pkg/1.0/json')).status, 200);
  assert.equal((await get('/pypi/static-pkg/9.9/json')).status, 404);
  assert.equal((await get('/pypi/Static_Pkg/json')).status, 301);
});

test('/metrics and the audit log show hits, misses, upstream errors and bytes', async () => {
  const text = await (await get('/metrics')).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  assert.ok(value(/pier_upstream_cache_total\{kind="page",result="hit"\} (\d+)/) > 0, text);
  assert.ok(value(/pier_upstream_cache_total\{kind="page",result="miss"\} (\d+)/) > 0);
  assert.ok(value(/pier_upstream_cache_total\{kind="file",result="hit"\} (\d+)/) > 0);
  assert.ok(value(/pier_upstream_cache_total\{kind="file",result="miss"\} (\d+)/) > 0);
  assert.ok(value(/pier_upstream_errors_total (\d+)/) >= 2, 'the two wrong hashes');
  assert.ok(value(/pier_upstream_bytes_total\{direction="fetched"\} (\d+)/) > 2 * 1024 * 1024);
  assert.ok(value(/pier_upstream_bytes_total\{direction="served"\} (\d+)/) > 0);
  assert.ok(value(/pier_upstream_requests_total (\d+)/) > 0);
  const actions = (
    await pier.services.db.kysely.selectFrom('audit_events').select('action').execute()
  ).map((r) => r.action);
  for (const a of ['upstream-page-fetch', 'upstream-file-cache', 'upstream-error'])
    assert.ok(actions.includes(a), a);
});

test('reads that require authentication cover proxied pages and files; allow-list and minimum age', async () => {
  const w = wheels['static-pkg']!;
  const guarded = await startServer({
    upstreamUrl: `${upstream.url}/simple/`,
    readAccess: 'authenticated',
    upstreamAllow: 'static-*',
  });
  const aged = await startServer({ upstreamUrl: `${upstream.url}/simple/`, upstreamMinAge: 1 });
  try {
    const token = await guarded.userWithToken('reader', { scope: 'read' });
    const auth = { authorization: `Bearer ${token}`, accept: JSON_ACCEPT };
    const filePath = `/proxy/static-pkg/${sha256(w.content)}/${w.filename}`;
    const before = upstream.requests.length;
    assert.equal((await fetch(`${guarded.url}/simple/static-pkg/`)).status, 401);
    assert.equal((await fetch(`${guarded.url}${filePath}`)).status, 401);
    assert.equal((await fetch(`${guarded.url}/pypi/static-pkg/json`)).status, 401);
    assert.equal(upstream.requests.length, before, 'anonymous readers never reach the upstream');
    const page = await fetch(`${guarded.url}/simple/static-pkg/`, { headers: auth });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'max-age=0, private');
    const file = await fetch(`${guarded.url}${filePath}`, { headers: auth });
    assert.equal(file.status, 200);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), w.content);
    // Allow-list mode: a name outside it is not taken from the upstream at all.
    const outside = await fetch(`${guarded.url}/simple/many/`, { headers: auth });
    assert.equal(outside.status, 404);
    assert.ok(!upstream.requests.slice(before).includes('/simple/many/'));
    // A minimum age: a static index states no upload times, so no file can be shown old enough.
    const young = await fetch(`${aged.url}/simple/static-pkg/`, {
      headers: { accept: JSON_ACCEPT },
    });
    assert.equal(young.status, 200);
    assert.deepEqual(((await young.json()) as { files: unknown[] }).files, []);
    assert.equal((await fetch(`${aged.url}${filePath}`)).status, 404);
  } finally {
    await guarded.close();
    await aged.close();
  }
});

test('an HTTPS upstream is verified against the configured CA, never without it', async () => {
  const certs = testCertificates();
  const secure = await startStaticIndex(root, { cert: certs.cert, key: certs.key });
  const trusting = await startServer({
    upstreamUrl: `${secure.url}/simple/`,
    upstreamCa: certs.caCert,
  });
  const unaware = await startServer({ upstreamUrl: `${secure.url}/simple/` });
  try {
    const ok = await fetch(`${trusting.url}/simple/static-pkg/`, {
      headers: { accept: JSON_ACCEPT },
    });
    assert.equal(ok.status, 200);
    const refused = await fetch(`${unaware.url}/simple/static-pkg/`);
    assert.equal(refused.status, 502);
    assert.match(await refused.text(), /could not be reached/);
    assert.deepEqual(
      await unaware.services.db.kysely.selectFrom('upstream_pages').selectAll().execute(),
      [],
    );
  } finally {
    await trusting.close();
    await unaware.close();
    await secure.close();
  }
});

test('upstream failures: a cached page is served marked stale; an uncached name is a clear 502/504', async () => {
  const first = await get('/simple/stale-pkg/', { accept: JSON_ACCEPT });
  assert.equal(first.status, 200);
  const body = await first.text();
  await pier.services.proxy.drain();
  // Let the page's freshness lifetime pass.
  await pier.services.db.kysely.updateTable('upstream_pages').set({ checked_at: 0 }).execute();
  const failures: [StaticIndex['behaviour'], number][] = [
    ['status-500', 502],
    ['garbage-json', 502],
    ['garbage-html', 502],
    ['huge', 502],
    ['redirect-away', 502],
    ['slow', 504],
  ];
  try {
    for (const [behaviour, status] of failures) {
      upstream.behaviour = behaviour;
      const snapshot = await cacheState();
      const stale = await get('/simple/stale-pkg/', { accept: JSON_ACCEPT });
      assert.equal(stale.status, 200, behaviour);
      assert.equal(stale.headers.get('x-pier-upstream'), 'stale', behaviour);
      assert.equal(await stale.text(), body, behaviour);
      const started = Date.now();
      const cold = await get(`/simple/never-seen-${behaviour}/`, { accept: JSON_ACCEPT });
      assert.equal(cold.status, status, behaviour);
      assert.match(await cold.text(), /Upstream index: /, behaviour);
      assert.ok(Date.now() - started < 3000, `${behaviour}: answered within a bounded time`);
      assert.deepEqual(await cacheState(), snapshot, `${behaviour}: nothing was cached`);
    }
    // Down altogether.
    upstream.behaviour = 'normal';
    await upstream.close();
    const snapshot = await cacheState();
    const stale = await get('/simple/stale-pkg/', { accept: JSON_ACCEPT });
    assert.equal(stale.headers.get('x-pier-upstream'), 'stale');
    const cold = await get('/simple/never-seen-down/', { accept: JSON_ACCEPT });
    assert.equal(cold.status, 502);
    assert.deepEqual(await cacheState(), snapshot);
    // A cached file is still served while the upstream is down.
    const w = wheels['static-pkg']!;
    const file = await get(`/proxy/static-pkg/${sha256(w.content)}/${w.filename}`);
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('x-pier-upstream'), 'stale');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), w.content);
  } finally {
    upstream.behaviour = 'normal';
  }
});
