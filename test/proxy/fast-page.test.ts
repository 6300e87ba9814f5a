// @backends: runs on the embedded default and on PostgreSQL with S3.
// Cached proxied pages answered on the fast path of anonymous Simple reads (src/proxy/fast-page.ts)
// keep every guarantee of the full route: an exclude added by another process, a project created
// locally, a page refreshed by another process all apply at the next request; a page past its
// freshness lifetime is asked for again; an index that requires authentication answers nothing
// anonymously. The proxy's full lookup is counted, to show which requests the fast path answered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPier, startServer, type TestServer } from '../support/server.js';
import { addStaticProject, startStaticIndex, type StaticIndex } from '../support/static-index.js';
import { tempDir } from '../support/tmp.js';
import { PAGE_FRESH_MS } from '../../src/proxy/rules.js';

const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json';
let root: string;
let upstream: StaticIndex;
let pier: TestServer;
let fullLookups = 0;

before(async () => {
  root = tempDir('pier-static-index-');
  for (const name of ['fast-a', 'fast-b', 'fast-c', 'fast-d']) await addStaticProject(root, name);
  upstream = await startStaticIndex(root);
  pier = await startServer({ upstreamUrl: `${upstream.url}/simple/` });
  await pier.userWithToken('team', { mayCreateProjects: true });
  const proxy = pier.services.proxy;
  const page = proxy.page.bind(proxy);
  proxy.page = (name) => {
    fullLookups++;
    return page(name);
  };
});

after(async () => {
  await pier.close();
  await upstream.close();
});

async function get(server: TestServer, name: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/simple/${name}/`, {
    headers: { accept: JSON_ACCEPT, ...headers },
  });
  const body =
    res.status === 200 ? ((await res.json()) as { files: { filename: string }[] }) : null;
  return { res, files: body?.files.map((f) => f.filename) ?? null };
}

/** Fetches the page into the cache and checks that the next request is answered from memory. */
async function cached(name: string) {
  await get(pier, name);
  await pier.services.proxy.drain();
  await get(pier, name); // rendered, if the first answer was not stored yet
  const before = fullLookups;
  const { res } = await get(pier, name);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-pier-upstream'), 'hit');
  assert.equal(fullLookups, before, 'answered on the fast path');
}

test('a cached, fresh proxied page is answered on the fast path with the route’s headers', async () => {
  await cached('fast-a');
  const before = fullLookups;
  const { res } = await get(pier, 'fast-a');
  const etag = res.headers.get('etag')!;
  assert.equal(res.headers.get('cache-control'), 'max-age=600, public');
  assert.equal(res.headers.get('x-pypi-last-serial'), '0');
  const revalidated = await get(pier, 'fast-a', { 'if-none-match': etag });
  assert.equal(revalidated.res.status, 304);
  assert.equal(revalidated.res.headers.get('x-pier-upstream'), 'hit');
  const html = await fetch(`${pier.url}/simple/fast-a/`, { headers: { accept: 'text/html' } });
  assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(await html.text(), /fast_a-1\.0-py3-none-any\.whl/);
  assert.equal(fullLookups, before, 'all answered on the fast path');
});

test('an exclude added by another process (the CLI) applies at the next request', async () => {
  await cached('fast-a');
  const added = await runPier(['upstream', 'exclude', 'add', 'fast-*'], pier.env());
  assert.equal(added.code, 0, added.stderr);
  assert.equal((await get(pier, 'fast-a')).res.status, 404);
  const removed = await runPier(['upstream', 'exclude', 'remove', 'fast-*'], pier.env());
  assert.equal(removed.code, 0, removed.stderr);
  const { res } = await get(pier, 'fast-a');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-pier-upstream'), 'hit');
});

test('a project created locally by another process is the whole answer at the next request', async () => {
  await cached('fast-b');
  const made = await runPier(
    ['project', 'create', 'fast-b', '--owner', 'team', '--shadow-upstream'],
    pier.env(),
  );
  assert.equal(made.code, 0, made.stderr);
  const { res, files } = await get(pier, 'fast-b');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-pier-upstream'), null, 'the local project, not the upstream');
  assert.deepEqual(files, []);
});

test('a page refreshed by another pier process is what the next request lists', async () => {
  await cached('fast-c');
  assert.deepEqual((await get(pier, 'fast-c')).files, ['fast_c-1.0-py3-none-any.whl']);
  await addStaticProject(root, 'fast-c', { versions: ['1.0', '2.0'] });
  const other = await startServer({ ...pier.sameData(), upstreamUrl: `${upstream.url}/simple/` });
  try {
    await other.services.db.kysely
      .updateTable('upstream_pages')
      .set({ checked_at: 0 })
      .where('normalized_name', '=', 'fast-c')
      .execute();
    const refreshed = await get(other, 'fast-c');
    assert.equal(refreshed.res.headers.get('x-pier-upstream'), 'miss');
    await other.services.proxy.drain();
  } finally {
    await other.close();
  }
  const requests = upstream.requests.length;
  const { res, files } = await get(pier, 'fast-c');
  assert.equal(res.headers.get('x-pier-upstream'), 'hit');
  assert.deepEqual(files, ['fast_c-1.0-py3-none-any.whl', 'fast_c-2.0-py3-none-any.whl']);
  assert.equal(upstream.requests.length, requests, 'from the stored page');
});

test('past its freshness lifetime a page is asked for again, not served from memory', async () => {
  await cached('fast-d');
  await pier.services.db.kysely
    .updateTable('upstream_pages')
    .set({ checked_at: Date.now() - PAGE_FRESH_MS - 1000 })
    .where('normalized_name', '=', 'fast-d')
    .execute();
  const requests = upstream.requests.filter((p) => p === '/simple/fast-d/').length;
  const { res } = await get(pier, 'fast-d');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-pier-upstream'), 'miss', 'the static index sends no ETag');
  assert.equal(upstream.requests.filter((p) => p === '/simple/fast-d/').length, requests + 1);
});

test('an index that requires authentication answers a cached page to no anonymous reader', async () => {
  await cached('fast-d');
  const guarded = await startServer({
    ...pier.sameData(),
    upstreamUrl: `${upstream.url}/simple/`,
    readAccess: 'authenticated',
  });
  try {
    assert.equal((await get(guarded, 'fast-d')).res.status, 401);
    const token = await guarded.userWithToken('team', { scope: 'read' });
    const auth = { authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}` };
    const { res } = await get(guarded, 'fast-d', auth);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-pier-upstream'), 'hit');
    assert.equal(res.headers.get('cache-control'), 'max-age=0, private');
  } finally {
    await guarded.close();
  }
});
