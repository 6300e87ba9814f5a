// @backends: runs on the embedded default and on PostgreSQL with S3.
// Another pier as the upstream (a real `pier serve` on its own data, PEP 691 JSON with ETags):
// what its pages say — hashes, requires-python, yanks with their reasons, sizes, upload times,
// core-metadata — is carried over onto pier's own URLs; its files and .metadata files come
// through byte for byte; a project private on the upstream never leaks through pier (pier asks
// anonymously); and a page past its lifetime is revalidated: a 304 keeps it, a yank upstream
// shows at the next refresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, sha256, uploadParts } from '../support/upload.js';
import { makeWheel, metadataText } from '../support/dists.js';

const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json';
let upstream: TestServer;
let pier: TestServer;
const metadataOf = new Map<string, string>();

interface JsonFile {
  filename: string;
  url: string;
  hashes: Record<string, string>;
  'requires-python': string | null;
  yanked: boolean | string;
  size: number;
  'upload-time': string | null;
  'core-metadata': false | Record<string, string>;
}

async function upload(token: string, name: string, version: string, requiresPython: string) {
  const metadata = metadataText(name, version).replace(
    'Requires-Python: >=3.8\n',
    `Requires-Python: ${requiresPython}\n`,
  );
  const w = await makeWheel({ name, version, metadata, salt: `${name} ${version}` });
  metadataOf.set(w.filename, metadata);
  const res = await postUpload(
    upstream.url,
    token,
    await uploadParts({ ...w, fields: { name, version } }),
  );
  assert.equal(res.status, 200, res.body);
}

before(async () => {
  upstream = await startServer();
  const token = await upstream.userWithToken('public', { mayCreateProjects: true });
  await upload(token, 'up-lib', '1.0', '>=3.8');
  await upload(token, 'up-lib', '1.1', '<4,>=3.9');
  await upstream.services.manage.setYanked(OPERATOR, 'up-lib', '1.1', true, 'broken "build"');
  await upload(token, 'up-secret', '1.0', '>=3.8');
  await upstream.services.projects.update(OPERATOR, 'up-secret', { private: true });
  pier = await startServer({ upstreamUrl: `${upstream.url}/simple/` });
});

after(async () => {
  await pier.close();
  await upstream.close();
});

async function jsonPage(server: TestServer, name: string) {
  const res = await fetch(`${server.url}/simple/${name}/`, { headers: { accept: JSON_ACCEPT } });
  assert.equal(res.status, 200);
  return { res, doc: (await res.json()) as { name: string; files: JsonFile[] } };
}

test('a page of another pier is carried over whole, on pier’s own URLs, in both formats', async () => {
  const { doc: theirs } = await jsonPage(upstream, 'up-lib');
  const { res, doc: ours } = await jsonPage(pier, 'up-lib');
  assert.equal(res.headers.get('x-pier-upstream'), 'miss');
  assert.equal(ours.files.length, 2);
  // Everything but the URL, and of the digests the sha256 pier checks downloads against.
  const comparable = ({ url: _url, hashes, ...rest }: JsonFile) => ({
    ...rest,
    hashes: { sha256: hashes.sha256 },
  });
  assert.deepEqual(ours.files.map(comparable), theirs.files.map(comparable));
  const yanked = ours.files.find((f) => f.filename.includes('-1.1-'))!;
  assert.equal(yanked.yanked, 'broken "build"');
  assert.equal(yanked['requires-python'], '<4,>=3.9');
  assert.ok(typeof yanked['upload-time'] === 'string' && yanked['upload-time'].length > 0);
  for (const f of ours.files) assert.ok(f.url.startsWith(`${pier.url}/proxy/up-lib/`), f.url);

  const html = await (
    await fetch(`${pier.url}/simple/up-lib/`, { headers: { accept: 'text/html' } })
  ).text();
  assert.match(html, /data-yanked="broken &#34;build&#34;"/);
  assert.match(html, /data-requires-python="&lt;4,&gt;=3.9"/);
  assert.match(html, /data-core-metadata="sha256=[0-9a-f]{64}"/);
  assert.doesNotMatch(html, new RegExp(upstream.url));
});

test('files and .metadata files of another pier come through pier byte for byte', async () => {
  const { doc } = await jsonPage(pier, 'up-lib');
  for (const f of doc.files) {
    const res = await fetch(f.url);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), f.hashes.sha256);
    const meta = await fetch(`${f.url}.metadata`);
    assert.equal(meta.status, 200);
    const text = await meta.text();
    assert.equal(text, metadataOf.get(f.filename));
    assert.deepEqual(f['core-metadata'], { sha256: sha256(Buffer.from(text)) });
  }
});

test('a project private on the upstream never leaks through pier', async () => {
  // The upstream hides it from anonymous readers, and pier asks as one.
  assert.equal((await fetch(`${upstream.url}/simple/up-secret/`)).status, 404);
  for (const path of ['/simple/up-secret/', '/pypi/up-secret/json'])
    assert.equal((await fetch(`${pier.url}${path}`)).status, 404, path);
  const hostedOnUpstream = await upstream.services.db.kysely
    .selectFrom('files')
    .select(['filename', 'sha256'])
    .where('filename', 'like', 'up_secret-%')
    .executeTakeFirstOrThrow();
  const file = `/proxy/up-secret/${hostedOnUpstream.sha256}/${hostedOnUpstream.filename}`;
  assert.equal((await fetch(`${pier.url}${file}`)).status, 404);
  await pier.services.proxy.drain();
  const row = await pier.services.db.kysely
    .selectFrom('upstream_pages')
    .select(['found', 'files_json'])
    .where('normalized_name', '=', 'up-secret')
    .executeTakeFirstOrThrow();
  assert.deepEqual(row, { found: 0, files_json: '[]' }, 'only "not there" was cached');
});

test('past its lifetime a page is revalidated: a 304 keeps it, a yank upstream shows next', async () => {
  const expire = () =>
    pier.services.db.kysely
      .updateTable('upstream_pages')
      .set({ checked_at: 0 })
      .where('normalized_name', '=', 'up-lib')
      .execute();
  await pier.services.proxy.drain();
  await expire();
  const { res: kept, doc: same } = await jsonPage(pier, 'up-lib');
  assert.equal(kept.headers.get('x-pier-upstream'), 'revalidated');
  assert.equal(same.files.find((f) => f.filename.includes('-1.0-'))!.yanked, false);

  await upstream.services.manage.setYanked(OPERATOR, 'up-lib', '1.0', true, 'superseded');
  const { res: fresh, doc: before } = await jsonPage(pier, 'up-lib');
  assert.equal(fresh.headers.get('x-pier-upstream'), 'hit', 'still fresh: not asked');
  assert.equal(before.files.find((f) => f.filename.includes('-1.0-'))!.yanked, false);
  await pier.services.proxy.drain();
  await expire();
  const { res: changed, doc: after } = await jsonPage(pier, 'up-lib');
  assert.equal(changed.headers.get('x-pier-upstream'), 'miss');
  assert.equal(after.files.find((f) => f.filename.includes('-1.0-'))!.yanked, 'superseded');
});
