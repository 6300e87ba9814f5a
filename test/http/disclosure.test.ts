// @backends: runs on the embedded default and on PostgreSQL with S3.
// What a stranger may learn: a project the caller may not read answers exactly like a missing
// one, on every endpoint that takes a project's name — the same status and the same body, with
// the name substituted. And nothing a stranger sees names a private project's files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { addUser, WebClient } from '../web/helpers.js';

const HIDDEN = 'hiddenlib'; // private, owned by olga
const MISSING = 'absentlib'; // no such project
const OPEN = 'openlib'; // public, owned by sam

let server: TestServer;
let samAdmin: string; // sam: a stranger to hiddenlib, with an admin-scoped token
let samUpload: string; // the same stranger's upload token, limited to openlib
let olgaUpload: string;
let samWeb: WebClient;
let hiddenFile: { filename: string; content: Buffer; path: string };
let publisherId: number;

const GITHUB = {
  provider: 'github',
  owner: 'octo-org',
  ownerId: '65',
  repository: 'shared-repo',
  workflow: 'release.yml',
};

interface Answer {
  status: number;
  body: string;
  contentType: string | null;
}

async function call(
  method: string,
  path: string,
  auth: string | null,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      accept: 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: await res.text(),
    contentType: res.headers.get('content-type'),
  };
}

const bearer = (token: string) => `Bearer ${token}`;

before(async () => {
  server = await startServer();
  const s = server.services;
  const samPassword = await addUser(server, 'sam');
  await addUser(server, 'olga');
  samAdmin = await server.userWithToken('sam', { scope: 'admin' });
  await s.projects.create(OPERATOR, HIDDEN, 'olga');
  await s.projects.create(OPERATOR, OPEN, 'sam');
  samUpload = await server.userWithToken('sam', { scope: 'upload', projects: [OPEN] });
  olgaUpload = await server.userWithToken('olga', { scope: 'upload' });
  const wheel = await makeWheel({ name: HIDDEN, version: '1.0' });
  const res = await postUpload(
    server.url,
    olgaUpload,
    await uploadParts({ ...wheel, fields: { name: HIDDEN, version: '1.0' } }),
  );
  assert.equal(res.status, 200, res.body);
  const file = await s.db.kysely
    .selectFrom('files')
    .select(['filename', 'blake2_256'])
    .where('filename', '=', wheel.filename)
    .executeTakeFirstOrThrow();
  const b = file.blake2_256;
  hiddenFile = {
    ...wheel,
    path: `/packages/${b.slice(0, 2)}/${b.slice(2, 4)}/${b.slice(4)}/${file.filename}`,
  };
  // One publisher shared by the private project and sam's public one.
  const added = await s.publishers.add(OPERATOR, HIDDEN, {
    kind: 'github',
    fields: {
      owner: 'octo-org',
      ownerId: '65',
      repository: 'shared-repo',
      workflow: 'release.yml',
    },
  });
  publisherId = added.id;
  await s.projects.update(OPERATOR, HIDDEN, { private: true });
  samWeb = new WebClient(server.url);
  assert.equal((await samWeb.signIn('sam', samPassword)).status, 303);
});

after(() => server.close());

/** Every endpoint that names a project, as a function of that name. */
const API_ENDPOINTS: [string, (name: string) => [string, string, unknown?]][] = [
  ['project', (n) => ['GET', `/api/projects/${n}`]],
  ['project change', (n) => ['PATCH', `/api/projects/${n}`, { private: false }]],
  ['role set', (n) => ['PUT', `/api/projects/${n}/roles/sam`, { role: 'owner' }]],
  ['role remove', (n) => ['DELETE', `/api/projects/${n}/roles/olga`]],
  ['yank', (n) => ['POST', `/api/projects/${n}/releases/1.0/yank`, { reason: 'x' }]],
  ['unyank', (n) => ['POST', `/api/projects/${n}/releases/1.0/unyank`]],
  ['release delete', (n) => ['DELETE', `/api/projects/${n}/releases/1.0`]],
  [
    'file delete',
    (n) => ['DELETE', `/api/projects/${n}/releases/1.0/files/${n}-1.0-py3-none-any.whl`],
  ],
  ['audit', (n) => ['GET', `/api/audit?project=${n}`]],
  ['publishers', (n) => ['GET', `/api/projects/${n}/publishers`]],
  ['publisher add', (n) => ['POST', `/api/projects/${n}/publishers`, GITHUB]],
  ['publisher remove', (n) => ['DELETE', `/api/projects/${n}/publishers/${publisherId}`]],
  ['token create', (n) => ['POST', '/api/tokens', { scope: 'upload', projects: [n] }]],
];

const READ_ENDPOINTS: [string, (name: string) => string][] = [
  ['JSON API', (n) => `/pypi/${n}/json`],
  ['JSON API, a version', (n) => `/pypi/${n}/1.0/json`],
  ['Simple page', (n) => `/simple/${n}/`],
  ['Simple page, JSON', (n) => `/simple/v1+json/${n}/`],
  ['file', (n) => hiddenFile.path.replaceAll(HIDDEN, n)],
  ['metadata file', (n) => `${hiddenFile.path.replaceAll(HIDDEN, n)}.metadata`],
];

const WEB_PAGES: [string, (name: string) => string][] = [
  ['project page', (n) => `/project/${n}/`],
  ['release page', (n) => `/project/${n}/1.0/`],
  ['publishing page', (n) => `/manage/project/${n}/publishing/`],
  ['collaborators page', (n) => `/manage/project/${n}/collaborators/`],
  ['audit page', (n) => `/manage/project/${n}/audit/`],
];

function assertSame(hidden: Answer, missing: Answer, what: string) {
  assert.notEqual(hidden.status, 200, `${what}: the stranger was answered`);
  assert.deepEqual(
    { ...hidden, body: hidden.body.replaceAll(HIDDEN, MISSING) },
    missing,
    `${what}: a private project answers unlike a missing one`,
  );
}

test('the REST API answers a private project exactly like a missing one', async () => {
  const before = await snapshot();
  for (const [what, endpoint] of API_ENDPOINTS) {
    const answer = async (name: string) => {
      const [method, path, body] = endpoint(name);
      return call(method, path, bearer(samAdmin), body);
    };
    assertSame(await answer(HIDDEN), await answer(MISSING), what);
  }
  assert.deepEqual(await snapshot(), before, 'a refusal changed nothing');
});

test('the install side answers a private project exactly like a missing one', async () => {
  for (const auth of [null, bearer(samAdmin)])
    for (const [what, path] of READ_ENDPOINTS)
      assertSame(
        await call('GET', path(HIDDEN), auth),
        await call('GET', path(MISSING), auth),
        `${what} (${auth ? 'stranger' : 'anonymous'})`,
      );
  // The owner does see it (the endpoints above are reachable at all).
  const own = await call('GET', `/pypi/${HIDDEN}/json`, bearer(olgaUpload));
  assert.equal(own.status, 200);
});

test('the web interface answers a private project exactly like a missing one', async () => {
  for (const [what, path] of WEB_PAGES) {
    const hidden = await samWeb.get(path(HIDDEN));
    const missing = await samWeb.get(path(MISSING));
    assertSame(
      { status: hidden.status, body: hidden.text, contentType: hidden.headers.get('content-type') },
      {
        status: missing.status,
        body: missing.text,
        contentType: missing.headers.get('content-type'),
      },
      what,
    );
  }
});

test('the web forms answer a private project exactly like a missing one', async () => {
  const before = await snapshot();
  await samWeb.get('/account'); // the session's CSRF token
  const forms: [string, (name: string) => string, Record<string, string>][] = [
    ['add a publisher', (n) => `/manage/project/${n}/publishing/`, GITHUB],
    ['remove a publisher', (n) => `/manage/project/${n}/publishing/${publisherId}/remove`, {}],
    [
      'set a role',
      (n) => `/manage/project/${n}/collaborators/role`,
      { username: 'sam', role: 'owner' },
    ],
    ['remove a role', (n) => `/manage/project/${n}/collaborators/remove`, { username: 'olga' }],
  ];
  for (const [what, path, fields] of forms) {
    const hidden = await samWeb.post(path(HIDDEN), fields);
    const missing = await samWeb.post(path(MISSING), fields);
    assertSame(
      { status: hidden.status, body: hidden.text, contentType: hidden.headers.get('content-type') },
      {
        status: missing.status,
        body: missing.text,
        contentType: missing.headers.get('content-type'),
      },
      what,
    );
  }
  assert.deepEqual(await snapshot(), before, 'a refusal changed nothing');
});

test('an upload to a private name is refused like one to a missing name', async () => {
  const before = await snapshot();
  const answer = async (name: string) => {
    const wheel = await makeWheel({ name, version: '9.0' });
    const res = await postUpload(
      server.url,
      samUpload,
      await uploadParts({ ...wheel, fields: { name, version: '9.0' } }),
    );
    return res;
  };
  const hidden = await answer(HIDDEN);
  const missing = await answer(MISSING);
  assert.equal(hidden.status, 403, hidden.body);
  assert.deepEqual(
    {
      ...hidden,
      body: hidden.body.replaceAll(HIDDEN, MISSING),
      statusText: hidden.statusText.replaceAll(HIDDEN, MISSING),
    },
    missing,
  );
  assert.deepEqual(await snapshot(), before);
});

test("a private project's filenames are not told to a stranger", async () => {
  // sam uploads to his own project a file named like the private project's (other bytes), and
  // one named like a project that does not exist: both get the same refusal.
  const answer = async (filename: string) => {
    const wheel = await makeWheel({ name: OPEN, version: '1.0', salt: 'other bytes' });
    return postUpload(
      server.url,
      samUpload,
      await uploadParts({
        filename,
        content: wheel.content,
        fields: { name: OPEN, version: '1.0' },
      }),
    );
  };
  const hidden = await answer(hiddenFile.filename);
  const missing = await answer(hiddenFile.filename.replaceAll(HIDDEN, MISSING));
  assert.equal(hidden.status, 400, hidden.body);
  assert.doesNotMatch(hidden.body, /previously used|already exists/);
  assert.deepEqual(hidden, missing);
  assert.match(hidden.body, /Start filename for 'openlib' with 'openlib'/);
});

test("a private project's deleted file is not named to a stranger who has its bytes", async () => {
  const deleted = await makeWheel({ name: HIDDEN, version: '2.0' });
  const up = await postUpload(
    server.url,
    olgaUpload,
    await uploadParts({ ...deleted, fields: { name: HIDDEN, version: '2.0' } }),
  );
  assert.equal(up.status, 200, up.body);
  await server.services.manage.delete(OPERATOR, HIDDEN, '2.0');
  const res = await postUpload(
    server.url,
    samUpload,
    await uploadParts({
      filename: `${OPEN}-2.0-py3-none-any.whl`,
      content: deleted.content,
      fields: { name: OPEN, version: '2.0' },
    }),
  );
  assert.equal(res.status, 400, res.body);
  assert.match(res.body, /previously uploaded under another filename/);
  assert.ok(!res.body.includes(HIDDEN), res.body);
});

test('a publisher shared with a private project does not name it', async () => {
  const added = await call('POST', `/api/projects/${OPEN}/publishers`, bearer(samAdmin), GITHUB);
  assert.equal(added.status, 201, added.body);
  assert.equal(JSON.parse(added.body).id, publisherId, 'the same publisher, shared');
  assert.deepEqual(JSON.parse(added.body).projects, [OPEN]);
  const list = await call('GET', `/api/projects/${OPEN}/publishers`, bearer(samAdmin));
  assert.deepEqual(
    (JSON.parse(list.body) as { publishers: { projects: string[] }[] }).publishers.map(
      (p) => p.projects,
    ),
    [[OPEN]],
  );
  const page = await samWeb.get(`/manage/project/${OPEN}/publishing/`);
  assert.equal(page.status, 200);
  assert.ok(!page.text.includes(HIDDEN), 'the web page does not name it either');
  // The owner of both sides still sees both.
  const all = await server.services.publishers.view(publisherId, OPERATOR.principal);
  assert.deepEqual(all.projects, [HIDDEN, OPEN]);
  // Removing it from sam's project leaves the private one's link alone.
  const removed = await call(
    'DELETE',
    `/api/projects/${OPEN}/publishers/${publisherId}`,
    bearer(samAdmin),
  );
  assert.equal(removed.status, 204, removed.body);
  assert.deepEqual(
    (await server.services.publishers.view(publisherId, OPERATOR.principal)).projects,
    [HIDDEN],
  );
});

async function snapshot() {
  const db = server.services.db.kysely;
  return {
    projects: await db.selectFrom('projects').selectAll().orderBy('id').execute(),
    roles: await db.selectFrom('project_roles').selectAll().orderBy('user_id').execute(),
    releases: await db.selectFrom('releases').selectAll().orderBy('id').execute(),
    files: await db.selectFrom('files').select(['id', 'filename']).orderBy('id').execute(),
    tokens: await db.selectFrom('tokens').select('id').orderBy('id').execute(),
    links: await db.selectFrom('publisher_projects').selectAll().execute(),
  };
}

test('a quarantined project offers its files nowhere (PEP 792)', async () => {
  const s = server.services;
  await s.projects.create(OPERATOR, 'quarlib', 'olga');
  const wheel = await makeWheel({ name: 'quarlib', version: '1.0' });
  const up = await postUpload(
    server.url,
    olgaUpload,
    await uploadParts({ ...wheel, fields: { name: 'quarlib', version: '1.0' } }),
  );
  assert.equal(up.status, 200, up.body);
  const json = async (path: string) => JSON.parse((await call('GET', path, null)).body);
  assert.equal((await json('/pypi/quarlib/json')).urls.length, 1, 'listed while active');
  await s.projects.update(OPERATOR, 'quarlib', { status: 'quarantined' });

  const doc = await json('/pypi/quarlib/json');
  assert.deepEqual(doc.urls, []);
  assert.deepEqual(Object.values(doc.releases).flat(), []);
  assert.deepEqual((await json('/pypi/quarlib/1.0/json')).urls, []);
  assert.deepEqual((await json('/simple/v1+json/quarlib/')).files, []);
  for (const path of ['/project/quarlib/', '/project/quarlib/1.0/']) {
    const page = await samWeb.get(path);
    assert.equal(page.status, 200, path);
    assert.match(page.text, /quarantined/);
    assert.ok(!page.text.includes(wheel.filename), `${path} lists the file`);
    assert.ok(!page.text.includes('/packages/'), `${path} links a file`);
  }
});

test("the index serial does not move with a private project's activity", async () => {
  const index = async (auth: string | null) => {
    const res = await fetch(`${server.url}/simple/`, {
      headers: {
        accept: 'application/vnd.pypi.simple.v1+json',
        ...(auth ? { authorization: auth } : {}),
      },
    });
    const body = await res.text();
    return {
      status: res.status,
      header: res.headers.get('x-pypi-last-serial'),
      etag: res.headers.get('etag'),
      serial: (JSON.parse(body) as { meta: { '_last-serial': number } }).meta['_last-serial'],
      body,
    };
  };
  const strangers = [null, bearer(samAdmin)];
  const before = await Promise.all(strangers.map(index));
  const ownerBefore = await index(bearer(olgaUpload));
  const wheel = await makeWheel({ name: HIDDEN, version: '3.0' });
  const up = await postUpload(
    server.url,
    olgaUpload,
    await uploadParts({ ...wheel, fields: { name: HIDDEN, version: '3.0' } }),
  );
  assert.equal(up.status, 200, up.body);
  await server.services.manage.setYanked(OPERATOR, HIDDEN, '3.0', true, 'private churn');
  const after = await Promise.all(strangers.map(index));
  assert.deepEqual(after, before, 'a stranger sees the same index, serial and all');
  for (const seen of after) assert.equal(seen.header, String(seen.serial));
  const ownerAfter = await index(bearer(olgaUpload));
  assert.ok(ownerAfter.serial > ownerBefore.serial, 'the owner sees the change');
  assert.equal(ownerAfter.header, String(ownerAfter.serial));
  // Public activity still moves everyone's serial.
  await server.services.projects.update(OPERATOR, OPEN, { status: 'active' });
  for (const seen of await Promise.all(strangers.map(index)))
    assert.ok(seen.serial > before[0]!.serial);
});
