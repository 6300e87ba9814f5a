// @backends: runs on the embedded default and on PostgreSQL with S3.
// The Simple API, checked field by field against the reference (§1), and the JSON API (§4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { postUpload, sha256, uploadParts } from '../support/upload.js';
import { makeSdist, makeWheel, metadataText } from '../support/dists.js';

let server: TestServer;
let token: string;
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const wheels: { filename: string; content: Buffer; metadata: string }[] = [];

async function upload(w: { filename: string; content: Buffer }, fields: Record<string, string>) {
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({ ...w, fields: { name: 'Demo.Pkg', ...fields } }),
  );
  assert.equal(res.status, 200, res.body);
}

before(async () => {
  server = await startServer();
  token = await server.userWithToken('alice', { mayCreateProjects: true });
  for (const [version, rp] of [
    ['1.0', '>=3.8'],
    ['1.10', '<4,>=3.9'],
    ['1.2rc1', ''],
  ] as const) {
    // The file's METADATA is what pier records, so each wheel declares its own Requires-Python.
    const metadata = metadataText('Demo.Pkg', version).replace(
      'Requires-Python: >=3.8\n',
      rp ? `Requires-Python: ${rp}\n` : '',
    );
    const w = await makeWheel({ name: 'Demo.Pkg', version, metadata });
    wheels.push({ ...w, metadata });
    await upload(w, { version, requires_python: rp });
  }
  const s = await makeSdist({ name: 'Demo.Pkg', version: '1.0' });
  await upload(s, { version: '1.0', filetype: 'sdist', pyversion: 'source' });
  await server.services.manage.setYanked(
    OPERATOR,
    'demo-pkg',
    '1.2rc1',
    true,
    'broken "build" <oops>',
  );
});

after(() => server.close());

async function get(path: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, { headers, redirect: 'manual' });
}

test('JSON project page: every field of PEP 691, 700, 714 and 792', async () => {
  const res = await get('/simple/demo-pkg/', { accept: PIP_ACCEPT });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
  const doc = (await res.json()) as Record<string, any>;
  assert.deepEqual(Object.keys(doc).sort(), [
    'files',
    'meta',
    'name',
    'namespaces',
    'project-status',
    'versions',
  ]);
  // PEP 752 raised the JSON API to 1.5 (the HTML API stays at 1.4, frozen by PEP 833).
  assert.equal(doc.meta['api-version'], '1.5');
  assert.equal(doc.namespaces, null);
  assert.equal(typeof doc.meta['_last-serial'], 'number');
  assert.equal(doc.name, 'demo-pkg');
  assert.deepEqual(doc['project-status'], { status: 'active' });
  assert.deepEqual(doc.versions, ['1.0', '1.2rc1', '1.10']);
  assert.deepEqual(
    doc.files.map((f: { filename: string }) => f.filename),
    [
      'demo_pkg-1.0-py3-none-any.whl',
      'demo_pkg-1.0.tar.gz',
      'demo_pkg-1.2rc1-py3-none-any.whl',
      'demo_pkg-1.10-py3-none-any.whl',
    ],
  );
  const wheel = doc.files[0];
  assert.deepEqual(Object.keys(wheel).sort(), [
    'core-metadata',
    'data-dist-info-metadata',
    'filename',
    'hashes',
    'provenance',
    'requires-python',
    'size',
    'upload-time',
    'url',
    'yanked',
  ]);
  assert.deepEqual(wheel.hashes, { sha256: sha256(wheels[0]!.content) });
  assert.equal(wheel['requires-python'], '>=3.8');
  assert.deepEqual(wheel['core-metadata'], { sha256: sha256(Buffer.from(wheels[0]!.metadata)) });
  assert.deepEqual(wheel['data-dist-info-metadata'], wheel['core-metadata']);
  assert.ok(
    !('dist-info-metadata' in wheel),
    'pip 22.3-23.0 crash on a JSON key named dist-info-metadata',
  );
  assert.equal(wheel.yanked, false);
  assert.equal(wheel.size, wheels[0]!.content.length);
  assert.match(wheel['upload-time'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/);
  assert.match(
    wheel.url,
    new RegExp(
      `^${server.url}/packages/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{60}/demo_pkg-1\\.0-py3-none-any\\.whl$`,
    ),
  );
  assert.equal(wheel.provenance, null);
  const sdist = doc.files[1];
  assert.equal(sdist['core-metadata'], false);
  assert.equal(sdist['requires-python'], '>=3.8');
  const yanked = doc.files[2];
  assert.equal(yanked.yanked, 'broken "build" <oops>');
  assert.equal(yanked['requires-python'], null);
  assert.equal(doc.files[3]['requires-python'], '<4,>=3.9');
});

test('HTML project page: PEP 503 anchors with every data attribute, escaped', async () => {
  const res = await get('/simple/demo-pkg/');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const html = await res.text();
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  assert.match(html, /<meta name="pypi:repository-version" content="1.4">/);
  assert.match(html, /<meta name="pypi:project-status" content="active">/);
  assert.match(html, /<title>Links for demo-pkg<\/title>/);
  assert.match(html, /<h1>Links for demo-pkg<\/h1>/);
  assert.match(html, /<!--SERIAL \d+-->\n$/);
  const anchors = [...html.matchAll(/<a ([^>]*)>([^<]*)<\/a><br \/>/g)];
  assert.equal(anchors.length, 4);
  for (const [, attrs, text] of anchors) {
    const href = /href="([^"]*)"/.exec(attrs!)![1]!;
    const url = new URL(href.replace(/&amp;/g, '&'));
    assert.equal(
      decodeURIComponent(url.pathname.split('/').pop()!),
      text,
      'the text is the last path component',
    );
    assert.match(url.hash, /^#sha256=[0-9a-f]{64}$/);
  }
  const [first, sdist, yanked, last] = anchors.map((a) => a[1]!);
  const metaHash = sha256(Buffer.from(wheels[0]!.metadata));
  assert.match(
    first!,
    new RegExp(
      `data-dist-info-metadata="sha256=${metaHash}" data-core-metadata="sha256=${metaHash}"`,
    ),
  );
  assert.match(first!, /data-requires-python="&gt;=3.8"/);
  assert.doesNotMatch(sdist!, /metadata=/);
  assert.match(yanked!, /data-yanked="broken &#34;build&#34; &lt;oops&gt;"/);
  assert.doesNotMatch(yanked!, /data-requires-python/);
  assert.match(last!, /data-requires-python="&lt;4,&gt;=3.9"/);
  assert.doesNotMatch(last!, /data-yanked/);
});

test('a yank without a reason is data-yanked="" in HTML and true in JSON', async () => {
  await server.services.manage.setYanked(OPERATOR, 'demo-pkg', '1.10', true);
  try {
    const html = await (await get('/simple/demo-pkg/')).text();
    assert.match(html, /data-yanked=""[^>]*>demo_pkg-1\.10-py3-none-any\.whl</);
    const json = (await (await get('/simple/demo-pkg/', { accept: PIP_ACCEPT })).json()) as {
      files: { yanked: unknown }[];
    };
    assert.equal(json.files[3]!.yanked, true);
  } finally {
    await server.services.manage.setYanked(OPERATOR, 'demo-pkg', '1.10', false);
  }
  const json = (await (await get('/simple/demo-pkg/', { accept: PIP_ACCEPT })).json()) as {
    files: { yanked: unknown }[];
  };
  assert.equal(json.files[3]!.yanked, false, 'unyank takes effect on the next request');
});

test('content negotiation follows Warehouse, with latest and ?format=', async () => {
  const cases: [string | undefined, string][] = [
    [undefined, 'text/html'],
    ['*/*', 'text/html'],
    ['application/json', 'text/html'],
    ['application/*', 'application/vnd.pypi.simple.v1+html'],
    ['application/vnd.pypi.simple.v1+json', 'application/vnd.pypi.simple.v1+json'],
    ['application/vnd.pypi.simple.latest+json', 'application/vnd.pypi.simple.v1+json'],
    ['text/html;q=0.5, */*', 'application/vnd.pypi.simple.v1+html'],
    ['application/vnd.pypi.simple.v1+json;q=0', 'text/html'],
  ];
  // Each twice in a row, then the next: a remembered answer must never outlive its header.
  for (const [accept, expected] of cases.flatMap((c) => [c, c])) {
    const res = await get('/simple/demo-pkg/', accept === undefined ? {} : { accept });
    assert.equal(res.headers.get('content-type')!.split(';')[0], expected, `Accept: ${accept}`);
    assert.equal(res.headers.get('vary'), 'Accept, Accept-Encoding, Authorization');
  }
  assert.equal(
    (await get('/simple/demo-pkg/', { accept: 'text/html' })).headers.get('content-type'),
    'text/html; charset=utf-8',
  );
  const res = await get('/simple/demo-pkg/?format=application/vnd.pypi.simple.v1+json', {
    accept: 'text/html',
  });
  assert.equal(res.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
  assert.equal(
    (await get('/simple/demo-pkg/', { accept: 'text/html' })).headers.get('content-type'),
    'text/html; charset=utf-8',
  );
});

test('the format-pinned roots ignore Accept', async () => {
  const html = await get('/simple/v1+html/demo-pkg/', { accept: PIP_ACCEPT });
  assert.equal(html.headers.get('content-type'), 'application/vnd.pypi.simple.v1+html');
  const json = await get('/simple/v1+json/demo-pkg/');
  assert.equal(json.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
});

test('non-normalized names get a 301 to the normalized URL; unknown projects a plain 404', async () => {
  const res = await get('/simple/Demo_Pkg/');
  assert.equal(res.status, 301);
  assert.equal(res.headers.get('location'), '/simple/demo-pkg/');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const slashless = await get('/simple/demo-pkg');
  assert.equal(slashless.status, 301);
  assert.equal(slashless.headers.get('location'), '/simple/demo-pkg/');
  const missing = await get('/simple/no-such-project/');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await missing.text(), '404 Not Found');
});

test('ETag and If-None-Match: 304, and a new ETag after a change', async () => {
  const first = await get('/simple/demo-pkg/');
  const etag = first.headers.get('etag')!;
  // fetch asks for gzip, so the ETag is the gzip representation's (test/http/encoding.test.ts).
  assert.match(etag, /^"[A-Za-z0-9_-]{22}-gzip"$/);
  assert.equal(first.headers.get('cache-control'), 'max-age=600, public');
  assert.match(first.headers.get('x-pypi-last-serial')!, /^\d+$/);
  const cached = await get('/simple/demo-pkg/', { 'if-none-match': etag });
  assert.equal(cached.status, 304);
  assert.equal(await cached.text(), '');
  const jsonEtag = (await get('/simple/demo-pkg/', { accept: PIP_ACCEPT })).headers.get('etag');
  assert.notEqual(jsonEtag, etag, 'each format has its own ETag');
  await server.services.manage.setYanked(OPERATOR, 'demo-pkg', '1.0', true, 'changed');
  try {
    const after = await get('/simple/demo-pkg/', { 'if-none-match': etag });
    assert.equal(after.status, 200);
    assert.notEqual(after.headers.get('etag'), etag);
  } finally {
    await server.services.manage.setYanked(OPERATOR, 'demo-pkg', '1.0', false);
  }
});

test('the project list in HTML and JSON', async () => {
  await server.services.projects.create(OPERATOR, 'Zeta_Project', 'alice');
  const html = await (await get('/simple/')).text();
  assert.match(html, /<title>Simple index<\/title>/);
  assert.match(html, new RegExp(`<a href="${server.url}/simple/demo-pkg/">Demo.Pkg</a>`));
  assert.ok(html.indexOf('demo-pkg') < html.indexOf('zeta-project'));
  const json = (await (await get('/simple/', { accept: PIP_ACCEPT })).json()) as Record<
    string,
    any
  >;
  assert.equal(json.meta['api-version'], '1.5');
  assert.deepEqual(
    json.projects.map((p: { name: string }) => p.name),
    ['Demo.Pkg', 'Zeta_Project'],
  );
  assert.equal(typeof json.projects[0]['_last-serial'], 'number');
});

test('the .metadata file is the wheel’s METADATA, byte for byte, with the advertised hash', async () => {
  const json = (await (await get('/simple/demo-pkg/', { accept: PIP_ACCEPT })).json()) as {
    files: { url: string; 'core-metadata': { sha256: string } }[];
  };
  const res = await fetch(`${json.files[0]!.url}.metadata`);
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body.toString(), wheels[0]!.metadata);
  assert.equal(sha256(body), json.files[0]!['core-metadata'].sha256);
  const sdistMeta = await fetch(`${(json.files[1] as { url: string }).url}.metadata`);
  assert.equal(sdistMeta.status, 404, 'sdists have no metadata file');
});

test('JSON API: project and release documents with the fields tools use', async () => {
  const res = await get('/pypi/demo-pkg/json');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'max-age=900, public');
  const doc = (await res.json()) as Record<string, any>;
  assert.equal(doc.info.name, 'Demo.Pkg');
  assert.equal(doc.info.version, '1.10', 'the newest non-yanked final release');
  assert.equal(doc.info.requires_python, '<4,>=3.9');
  assert.equal(doc.info.yanked, false);
  assert.deepEqual(Object.keys(doc.releases), ['1.10', '1.2rc1', '1.0']);
  assert.equal(doc.releases['1.0'].length, 2);
  const file = doc.urls[0];
  assert.equal(file.filename, 'demo_pkg-1.10-py3-none-any.whl');
  assert.equal(file.packagetype, 'bdist_wheel');
  assert.equal(file.digests.sha256, sha256(wheels[1]!.content));
  assert.match(file.digests.blake2b_256, /^[0-9a-f]{64}$/);
  assert.equal(file.md5_digest, file.digests.md5);
  assert.match(file.upload_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.match(file.upload_time_iso_8601, /Z$/);
  assert.equal(doc.releases['1.2rc1'][0].yanked, true);
  assert.equal(doc.releases['1.2rc1'][0].yanked_reason, 'broken "build" <oops>');
  assert.deepEqual(doc.ownership.roles, [{ role: 'Owner', user: 'alice' }]);
  assert.equal(typeof doc.last_serial, 'number');

  const release = (await (await get('/pypi/demo-pkg/1.0.0/json')).json()) as Record<string, any>;
  assert.equal(release.info.version, '1.0', 'versions are looked up by their canonical form');
  assert.equal(release.urls.length, 2);
  assert.ok(!('releases' in release));
});

test('JSON API: 301 for other spellings, JSON 404 for unknown projects and releases', async () => {
  const redirect = await get('/pypi/Demo_Pkg/json');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/pypi/demo-pkg/json');
  for (const path of ['/pypi/nothing-here/json', '/pypi/demo-pkg/9.9/json']) {
    const res = await get(path);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { message: 'Not Found' });
  }
});

test('a private project is invisible to strangers and readable by its members', async () => {
  await server.services.projects.create(OPERATOR, 'secret-thing', 'alice');
  const w = await makeWheel({ name: 'secret-thing', version: '1.0' });
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({ ...w, fields: { name: 'secret-thing', version: '1.0' } }),
  );
  assert.equal(res.status, 200, res.body);
  await server.services.projects.update(OPERATOR, 'secret-thing', { private: true });
  const bob = await server.userWithToken('bob', { scope: 'read' });
  const aliceRead = await server.userWithToken('alice', { scope: 'read' });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  assert.equal((await get('/simple/secret-thing/')).status, 404);
  assert.equal((await get('/simple/secret-thing/', bearer(bob))).status, 404);
  assert.equal((await get('/pypi/secret-thing/json', bearer(bob))).status, 404);
  assert.doesNotMatch(await (await get('/simple/')).text(), /secret-thing/);

  const page = await get('/simple/secret-thing/', { ...bearer(aliceRead), accept: PIP_ACCEPT });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('cache-control'), 'max-age=0, private');
  assert.match(await (await get('/simple/', bearer(aliceRead))).text(), /secret-thing/);
  const url = ((await page.json()) as { files: { url: string }[] }).files[0]!.url;
  assert.equal((await fetch(url)).status, 404, 'its files too');
  assert.equal((await fetch(url, { headers: bearer(bob) })).status, 404);
  const download = await fetch(url, { headers: bearer(aliceRead) });
  assert.equal(download.status, 200);
  assert.equal(download.headers.get('cache-control'), 'private, max-age=31536000, immutable');
});

test('the project list follows every change: a new project, one made private or quarantined, a member who may see it', async () => {
  const names = async (headers: Record<string, string> = {}) =>
    (
      (await (await get('/simple/', { accept: PIP_ACCEPT, ...headers })).json()) as {
        projects: { name: string }[];
      }
    ).projects.map((p) => p.name);
  const before = await names();
  assert.deepEqual(await names(), before, 'the same list twice');
  // Made by another process (the CLI), seen on the very next request.
  const made = await runPier(
    ['project', 'create', 'listed-later', '--owner', 'alice'],
    server.env(),
  );
  assert.equal(made.code, 0, made.stderr);
  assert.ok((await names()).includes('listed-later'));
  await server.services.projects.update(OPERATOR, 'listed-later', { private: true });
  assert.ok(!(await names()).includes('listed-later'), 'private: gone for strangers');
  const member = await server.userWithToken('alice', { scope: 'read' });
  assert.ok((await names({ authorization: `Bearer ${member}` })).includes('listed-later'));
  assert.ok(!(await names()).includes('listed-later'), 'a member’s page is never the public one');
  await server.services.projects.update(OPERATOR, 'listed-later', { private: false });
  assert.ok((await names()).includes('listed-later'));
  await server.services.projects.update(OPERATOR, 'listed-later', { status: 'quarantined' });
  assert.ok(!(await names()).includes('listed-later'), 'PEP 792: quarantined is left out');
});

test('wrong credentials on a read get 401 with WWW-Authenticate', async () => {
  const res = await get('/simple/demo-pkg/', { authorization: 'Bearer pypi-pier_nonsense' });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Basic realm="pier", charset="UTF-8"');
});

test('an index that requires authentication answers 401 to anonymous reads of every kind', async () => {
  const locked = await startServer({ readAccess: 'authenticated' });
  try {
    const t = await locked.userWithToken('carol', { scope: 'read' });
    for (const path of [
      '/simple/',
      '/simple/anything/',
      '/pypi/anything/json',
      '/packages/aa/bb/cc/x.whl',
    ]) {
      const res = await fetch(`${locked.url}${path}`);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="pier"/);
    }
    assert.equal(
      (await fetch(`${locked.url}/simple/`, { headers: { authorization: `Bearer ${t}` } })).status,
      200,
    );
    const basic = Buffer.from('carol:carol-password').toString('base64');
    assert.equal(
      (await fetch(`${locked.url}/simple/`, { headers: { authorization: `Basic ${basic}` } }))
        .status,
      200,
    );
  } finally {
    await locked.close();
  }
});
