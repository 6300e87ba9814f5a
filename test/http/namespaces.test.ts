// @backends: runs on the embedded default and on PostgreSQL with S3.
// PEP 752 namespaces against the real app: a new name in a reserved namespace is refused with
// 409 and changes nothing unless its owner has a grant (or an administrator acts) — by upload,
// by `project create` and by pending publisher; older projects keep working; the Simple JSON
// API's `namespaces` key; the PEP's /namespaces and /namespace/<ns>; the REST API and its audit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { sample } from '../support/fixtures.js';
import { twineUpload } from '../support/python.js';
import type { Database } from '../../src/db/schema.js';
import { countBlobs, countRows } from '../support/snapshot.js';

const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json';
const REFUSAL = (name: string, ns: string) =>
  `The name '${name}' matches the reserved namespace '${ns}', and the project owner does not have an active grant for the namespace.`;

let server: TestServer;
let rootToken: string; // an administrator
let aliceToken: string; // may create projects; gets a grant for acme
let bobToken: string; // may create projects; no grant
let bobAdminScope: string;

async function api(method: string, path: string, token: string | null, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      accept: 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body:
      text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as any) : text,
  };
}

async function upload(token: string, name: string, version = '1.0') {
  const w = await makeWheel({ name, version });
  return postUpload(server.url, token, await uploadParts({ ...w, fields: { name, version } }));
}

async function simpleJson(name: string): Promise<any> {
  const res = await fetch(`${server.url}/simple/${name}/`, { headers: { accept: JSON_ACCEPT } });
  assert.equal(res.status, 200);
  return res.json();
}

/** Everything a refused creation must leave as it was. */
async function snapshot() {
  const count = (table: keyof Database) => countRows(server.services, table);
  return {
    projects: await count('projects'),
    releases: await count('releases'),
    files: await count('files'),
    journal: await count('journal'),
    audit: await count('audit_events'),
    publishers: await count('publishers'),
    blobs: await countBlobs(server.services),
  };
}

before(async () => {
  server = await startServer();
  rootToken = await server.userWithToken('root', { admin: true, scope: 'admin' });
  aliceToken = await server.userWithToken('alice', { mayCreateProjects: true });
  bobToken = await server.userWithToken('bob', { mayCreateProjects: true });
  bobAdminScope = await server.userWithToken('bob', { scope: 'admin' });
  // Made before any reservation: the PEP's exception for projects that existed already.
  const old = await upload(bobToken, 'acme-legacy');
  assert.equal(old.status, 200, old.body);
  const reserved = await api('POST', '/api/namespaces', rootToken, {
    name: 'Acme',
    owner: 'alice',
  });
  assert.equal(reserved.status, 201, JSON.stringify(reserved.body));
});

after(() => server.close());

// ------------------------------------------------------------------ enforcement

test('an upload creating a name in a reserved namespace without a grant: 409, nothing changed', async () => {
  for (const name of ['acme-tools', 'Acme.Widgets', 'acme']) {
    const before = await snapshot();
    const res = await upload(bobToken, name);
    assert.equal(res.status, 409, `${name}: ${res.status} ${res.body}`);
    assert.equal(res.statusText, REFUSAL(name, 'acme'));
    assert.match(
      res.body,
      new RegExp(REFUSAL(name, 'acme').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
    assert.deepEqual(await snapshot(), before, 'a refused upload must change nothing');
  }
  // A name that only starts with the letters is outside the namespace.
  assert.equal((await upload(bobToken, 'acmebase')).status, 200);
});

test('an upload by a grantee creates the project, and an administrator may too', async () => {
  const res = await upload(aliceToken, 'acme-tools');
  assert.equal(res.status, 200, res.body);
  // Once it exists, the namespace no longer decides: its roles do (bob has none).
  const other = await upload(bobToken, 'acme-tools', '2.0');
  assert.equal(other.status, 403, other.body);
  const byAdmin = await upload(rootToken, 'acme-admin-made');
  assert.equal(byAdmin.status, 200, byAdmin.body);
});

test('a project that existed before the reservation keeps taking uploads', async () => {
  const res = await upload(bobToken, 'acme-legacy', '2.0');
  assert.equal(res.status, 200, res.body);
});

test('project create: refused without a grant, allowed for a grantee and for an administrator', async () => {
  const before = await snapshot();
  const refused = await api('POST', '/api/projects', bobAdminScope, { name: 'acme-bobs' });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.message, REFUSAL('acme-bobs', 'acme'));
  assert.equal(refused.body.namespace, 'acme');
  await assert.rejects(
    server.services.projects.create(
      {
        principal: { kind: 'user', user: (await server.services.auth.requireUser('bob'))! },
        ip: null,
      },
      'acme-bobs',
    ),
    (err: Error) => err.message === REFUSAL('acme-bobs', 'acme'),
  );
  assert.deepEqual(await snapshot(), before);
  // The operator (an administrator's explicit choice) may create it for anyone.
  const made = await server.services.projects.create(OPERATOR, 'acme-bobs', 'bob');
  assert.equal(made.normalized_name, 'acme-bobs');
  const own = await server.services.projects.create(
    {
      principal: { kind: 'user', user: (await server.services.auth.requireUser('alice'))! },
      ip: null,
    },
    'acme-alices',
  );
  assert.equal(own.normalized_name, 'acme-alices');
});

test('a pending publisher for a name in a reserved namespace needs an owner with a grant', async () => {
  const input = {
    kind: 'github',
    fields: { owner: 'octo-org', repository: 'acme-repo', workflow: 'release.yml', ownerId: '65' },
  };
  const before = await snapshot();
  // Even an administrator registering it for bob: the first exchange creates the project as the
  // publisher, so bob himself needs the grant.
  await assert.rejects(
    server.services.publishers.addPending(OPERATOR, 'acme-future', input, 'bob'),
    (err: Error & { status?: number }) =>
      err.status === 409 && err.message === REFUSAL('acme-future', 'acme'),
  );
  assert.deepEqual(await snapshot(), before);
  const ok = await server.services.publishers.addPending(OPERATOR, 'acme-future', input, 'alice');
  assert.equal(ok.pending?.project, 'acme-future');
});

// ------------------------------------------------------------------ the JSON API

test("the Simple JSON API's namespaces key, and the HTML API unchanged", async () => {
  const owned = await simpleJson('acme-tools');
  assert.equal(owned.meta['api-version'], '1.5');
  assert.deepEqual(owned.namespaces, [{ name: 'acme', owned: true }]);
  // Its owner bob has no grant: it existed before the namespace was reserved.
  assert.deepEqual((await simpleJson('acme-legacy')).namespaces, [{ name: 'acme', owned: false }]);
  assert.equal((await simpleJson('acmebase')).namespaces, null);
  const html = await (await fetch(`${server.url}/simple/acme-tools/`)).text();
  assert.match(html, /<meta name="pypi:repository-version" content="1.4">/);
  assert.doesNotMatch(html, /namespace/);
});

test('a namespace change reaches pages already rendered and cached', async () => {
  const before = await simpleJson('acme-legacy');
  const grant = await api('POST', '/api/namespaces/acme/owners', rootToken, { user: 'bob' });
  assert.equal(grant.status, 201, JSON.stringify(grant.body));
  assert.deepEqual(grant.body.owners, ['alice', 'bob']);
  const after = await simpleJson('acme-legacy');
  assert.deepEqual(after.namespaces, [{ name: 'acme', owned: true }]);
  assert.ok(after.meta['_last-serial'] > before.meta['_last-serial']);
  const revoke = await api('DELETE', '/api/namespaces/acme/owners/bob', rootToken);
  assert.equal(revoke.status, 200, JSON.stringify(revoke.body));
  assert.deepEqual((await simpleJson('acme-legacy')).namespaces, [{ name: 'acme', owned: false }]);
  // Bob's grant is gone: a new name is refused again.
  assert.equal((await upload(bobToken, 'acme-again')).status, 409);
  // A change of the project's owners reaches the page too: alice has a grant.
  await server.services.projects.setRole(OPERATOR, 'acme-legacy', 'alice', 'owner');
  assert.deepEqual((await simpleJson('acme-legacy')).namespaces, [{ name: 'acme', owned: true }]);
  await server.services.projects.removeRole(OPERATOR, 'acme-legacy', 'alice');
  assert.deepEqual((await simpleJson('acme-legacy')).namespaces, [{ name: 'acme', owned: false }]);
});

// ------------------------------------------------------------------ the PEP's endpoints

test('GET /namespaces lists every reserved namespace; /namespace/<ns> its parent and children', async () => {
  for (const name of ['acme-cloud', 'acme-cloud-eu', 'globex'])
    assert.equal(
      (await api('POST', '/api/namespaces', rootToken, { name, owner: 'alice' })).status,
      201,
      name,
    );
  const list = await api('GET', '/namespaces', null);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body, [
    { name: 'acme' },
    { name: 'acme-cloud' },
    { name: 'acme-cloud-eu' },
    { name: 'globex' },
  ]);
  assert.deepEqual((await api('GET', '/namespace/acme', null)).body, {
    name: 'acme',
    parent: null,
    children: ['acme-cloud'],
  });
  assert.deepEqual((await api('GET', '/namespace/acme-cloud', null)).body, {
    name: 'acme-cloud',
    parent: 'acme',
    children: ['acme-cloud-eu'],
  });
  const redirect = await api('GET', '/namespace/Acme.Cloud', null);
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/namespace/acme-cloud');
  assert.equal((await api('GET', '/namespace/initech', null)).status, 404);
  // A project under both acme and acme-cloud lists both.
  await server.services.projects.create(OPERATOR, 'acme-cloud-sdk', 'alice');
  assert.deepEqual((await simpleJson('acme-cloud-sdk')).namespaces, [
    { name: 'acme', owned: true },
    { name: 'acme-cloud', owned: true },
  ]);
});

// ------------------------------------------------------------------ administration

test('only administrators reserve, grant, revoke and release, and each is audited', async () => {
  const before = await snapshot();
  const denied = [
    await api('POST', '/api/namespaces', bobAdminScope, { name: 'bobcorp', owner: 'bob' }),
    await api('POST', '/api/namespaces/acme/owners', bobAdminScope, { user: 'bob' }),
    await api('DELETE', '/api/namespaces/acme/owners/alice', bobAdminScope),
    await api('DELETE', '/api/namespaces/acme', bobAdminScope),
    await api('POST', '/api/namespaces', null, { name: 'bobcorp', owner: 'bob' }),
  ];
  assert.deepEqual(
    denied.map((r) => r.status),
    [403, 403, 403, 403, 401],
  );
  assert.equal(denied[0]!.body.message, 'Only administrators can manage namespaces');
  assert.deepEqual(await snapshot(), before);

  const audit = await server.services.db.kysely
    .selectFrom('audit_events')
    .select(['action', 'details_json'])
    .where('action', 'like', 'namespace-%')
    .orderBy('id')
    .execute();
  assert.deepEqual(audit.map((a) => a.action).slice(0, 3), [
    'namespace-reserve',
    'namespace-grant',
    'namespace-revoke',
  ]);
  assert.deepEqual(JSON.parse(audit[0]!.details_json), {
    namespace: 'acme',
    name: 'Acme',
    owner: 'alice',
    projects: ['acme-legacy'],
  });
});

test('reservations that clash are refused and change nothing', async () => {
  const cases: [unknown, number, RegExp][] = [
    [{ name: 'ACME', owner: 'alice' }, 409, /The namespace 'acme' is reserved already/],
    // acme is alice's: a child of it for bob, or a parent of acme-cloud for bob, overlaps.
    [{ name: 'acme-bob', owner: 'bob' }, 409, /overlaps the reserved namespace 'acme'/],
    [{ name: 'globex-eu', owner: 'bob' }, 409, /overlaps the reserved namespace 'globex'/],
    [{ name: 'bad name', owner: 'bob' }, 400, /not a valid project name/],
    [{ name: 'a-b-c-d', owner: 'bob' }, 400, /too deep/],
    [{ name: 'initech', owner: 'nobody' }, 404, /No user named 'nobody'/],
    [{ name: 'initech' }, 400, /'owner' is required/],
  ];
  for (const [body, status, message] of cases) {
    const before = await snapshot();
    const res = await api('POST', '/api/namespaces', rootToken, body);
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(res.body.message, message);
    assert.deepEqual(await snapshot(), before);
  }
  const last = await api('DELETE', '/api/namespaces/globex/owners/alice', rootToken);
  assert.equal(last.status, 400);
  assert.match(last.body.message, /must keep at least one owner/);
});

test('releasing a namespace opens its names to anyone; its projects are untouched', async () => {
  await server.services.projects.create(OPERATOR, 'globex-made', 'alice');
  assert.deepEqual((await simpleJson('globex-made')).namespaces, [{ name: 'globex', owned: true }]);
  const res = await api('DELETE', '/api/namespaces/globex', rootToken);
  assert.equal(res.status, 204);
  assert.equal((await api('GET', '/namespace/globex', null)).status, 404);
  // "When a reserved namespace becomes unclaimed, repositories MUST set the namespaces key to null"
  assert.equal((await simpleJson('globex-made')).namespaces, null);
  assert.equal((await upload(bobToken, 'globex-tools')).status, 200);
  assert.equal((await simpleJson('globex-tools')).namespaces, null);
  const listed = await api('GET', '/api/namespaces', rootToken);
  assert.deepEqual(
    listed.body.namespaces.map((n: any) => [n.name, n.display_name, n.owners]),
    [
      ['acme', 'Acme', ['alice']],
      ['acme-cloud', 'acme-cloud', ['alice']],
      ['acme-cloud-eu', 'acme-cloud-eu', ['alice']],
    ],
  );
  // The service method the upstream proxy's guard asks.
  assert.equal(
    await server.services.namespaces.reservedNamespaceOf('acme-cloud-eu-x'),
    'acme-cloud-eu',
  );
  assert.equal(await server.services.namespaces.reservedNamespaceOf('Acme_Stuff'), 'acme');
  assert.equal(await server.services.namespaces.reservedNamespaceOf('globex-tools'), null);
});

test("twine's upload into a reserved namespace fails with the PEP's 409 and reason", async () => {
  const reserved = await api('POST', '/api/namespaces', rootToken, {
    name: 'pier',
    owner: 'alice',
  });
  assert.equal(reserved.status, 201, JSON.stringify(reserved.body));
  const { wheel, sdist } = sample('other'); // pier-other, which does not exist yet
  const before = await snapshot();
  const refused = await twineUpload(server.url, [wheel, sdist], {
    username: '__token__',
    password: bobToken,
  });
  assert.notEqual(refused.code, 0);
  const said = refused.stdout + refused.stderr;
  assert.match(said, /HTTPError: 409 Conflict/);
  assert.ok(said.includes(REFUSAL('pier-other', 'pier')), said);
  assert.deepEqual(await snapshot(), before, 'a refused upload must change nothing');
  const ok = await twineUpload(server.url, [wheel, sdist], {
    username: '__token__',
    password: aliceToken,
  });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.deepEqual((await simpleJson('pier-other')).namespaces, [{ name: 'pier', owned: true }]);
});

test('with PIER_READ_ACCESS=authenticated the namespace endpoints need credentials', async () => {
  const closed = await startServer({ readAccess: 'authenticated' });
  try {
    const token = await closed.userWithToken('reader', { scope: 'read' });
    await closed.services.auth.addUser(OPERATOR, { username: 'owner', password: null });
    await closed.services.namespaces.reserve(OPERATOR, 'acme', 'owner');
    for (const path of ['/namespaces', '/namespace/acme']) {
      assert.equal((await fetch(`${closed.url}${path}`)).status, 401, path);
      const ok = await fetch(`${closed.url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(ok.status, 200, path);
    }
  } finally {
    await closed.close();
  }
});
