// @backends: runs on the embedded default and on PostgreSQL with S3.
// The REST API under /api/: tokens that can never create broader tokens, revocation on the very
// next request, yank and delete with the right roles, and the audit log of it all; site-wide
// actions only with unlimited credentials; passwords refused where a second factor protects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { enableTotp } from '../support/two-factor.js';

let server: TestServer;
let adminToken: string;
let aliceAdmin: string; // alice's admin-scoped token; alice owns "widget"
let aliceUpload: string;
let bobAdmin: string; // bob maintains "widget"

async function api(method: string, path: string, token: string | null, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      accept: 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

before(async () => {
  server = await startServer();
  adminToken = await server.userWithToken('root', { admin: true, scope: 'admin' });
  aliceAdmin = await server.userWithToken('alice', { mayCreateProjects: true, scope: 'admin' });
  aliceUpload = await server.userWithToken('alice', { scope: 'upload' });
  bobAdmin = await server.userWithToken('bob', { scope: 'admin' });
  await server.services.projects.create(OPERATOR, 'widget', 'alice');
  await server.services.projects.setRole(OPERATOR, 'widget', 'bob', 'maintainer');
  for (const version of ['1.0', '2.0']) {
    const w = await makeWheel({ name: 'widget', version });
    const res = await postUpload(
      server.url,
      aliceUpload,
      await uploadParts({ ...w, fields: { name: 'widget', version } }),
    );
    assert.equal(res.status, 200, res.body);
  }
});

after(() => server.close());

test('whoami tells who a credential is', async () => {
  const r = await api('GET', '/api/whoami', aliceUpload);
  assert.equal(r.status, 200);
  assert.equal(r.body.user.username, 'alice');
  assert.equal(r.body.scope, 'upload');
  const anon = await api('GET', '/api/whoami', null);
  assert.equal(anon.status, 401);
});

test('an admin-scoped token creates a narrower token, shown once and stored hashed', async () => {
  const r = await api('POST', '/api/tokens', aliceAdmin, {
    name: 'ci',
    scope: 'upload',
    projects: ['widget'],
    expires_in: '1d',
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.token, /^pypi-pier_/);
  assert.deepEqual(r.body.projects, ['widget']);
  const rows = await server.services.db.kysely
    .selectFrom('tokens')
    .select(['token_hash'])
    .execute();
  assert.ok(rows.every((row) => !row.token_hash.includes(r.body.token)));
  const list = await api('GET', '/api/tokens', aliceAdmin);
  assert.ok(
    list.body.tokens.some(
      (t: { id: number; projects: string[] }) => t.id === r.body.id && t.projects[0] === 'widget',
    ),
  );
  assert.ok(!JSON.stringify(list.body).includes(r.body.token), 'lists never show a token');
});

test('an upload-scoped token cannot create tokens', async () => {
  const r = await api('POST', '/api/tokens', aliceUpload, { scope: 'read' });
  assert.equal(r.status, 403);
  assert.match(r.body.message, /needs an admin-scoped credential/);
});

test('a token limited to projects only creates tokens within them, and never unlimited ones', async () => {
  const limited = (
    await api('POST', '/api/tokens', aliceAdmin, { scope: 'admin', projects: ['widget'] })
  ).body.token;
  const unlimited = await api('POST', '/api/tokens', limited, { scope: 'read' });
  assert.equal(unlimited.status, 403);
  await server.services.projects.create(OPERATOR, 'gadget', 'alice');
  const other = await api('POST', '/api/tokens', limited, { scope: 'read', projects: ['gadget'] });
  assert.equal(other.status, 403);
  assert.match(other.body.message, /does not cover project 'gadget'/);
  const ok = await api('POST', '/api/tokens', limited, { scope: 'read', projects: ['widget'] });
  assert.equal(ok.status, 201);
});

test('an expiring token creates tokens that expire no later than itself', async () => {
  const short = (await api('POST', '/api/tokens', aliceAdmin, { scope: 'admin', expires_in: '1h' }))
    .body;
  const child = await api('POST', '/api/tokens', short.token, { scope: 'read', expires_in: '30d' });
  assert.equal(child.status, 201);
  assert.equal(child.body.expires_at, short.expires_at);
  const forever = await api('POST', '/api/tokens', short.token, { scope: 'read' });
  assert.equal(forever.body.expires_at, short.expires_at);
});

test('a user cannot create tokens for someone else; an administrator can', async () => {
  const r = await api('POST', '/api/tokens', bobAdmin, { user: 'alice', scope: 'read' });
  assert.equal(r.status, 403);
  const ok = await api('POST', '/api/tokens', adminToken, { user: 'alice', scope: 'read' });
  assert.equal(ok.status, 201);
});

test('a revoked token stops working on the very next request', async () => {
  const t = (await api('POST', '/api/tokens', aliceAdmin, { scope: 'upload' })).body;
  assert.equal((await api('GET', '/api/whoami', t.token)).status, 200);
  const del = await api('DELETE', `/api/tokens/${t.id}`, aliceAdmin);
  assert.equal(del.status, 204);
  const after = await api('GET', '/api/whoami', t.token);
  assert.equal(after.status, 401);
  assert.match(after.body.message, /token has been revoked/);
  const others = await api('DELETE', `/api/tokens/${t.id}`, bobAdmin);
  assert.equal(others.status, 403, "bob may not revoke alice's tokens");
});

test('a maintainer may yank but not delete; an owner may do both', async () => {
  const yank = await api('POST', '/api/projects/widget/releases/1.0/yank', bobAdmin, {
    reason: 'bad build',
  });
  assert.equal(yank.status, 200, JSON.stringify(yank.body));
  assert.deepEqual(yank.body, {
    project: 'widget',
    version: '1.0',
    yanked: true,
    reason: 'bad build',
  });
  const page = (await (
    await fetch(`${server.url}/simple/widget/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    })
  ).json()) as { files: { yanked: unknown }[] };
  assert.equal(page.files[0]!.yanked, 'bad build');
  assert.equal(
    (await api('POST', '/api/projects/widget/releases/1.0/unyank', bobAdmin)).status,
    200,
  );

  const del = await api('DELETE', '/api/projects/widget/releases/2.0', bobAdmin);
  assert.equal(del.status, 403);
  const ok = await api('DELETE', '/api/projects/widget/releases/2.0', aliceAdmin);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.deleted, ['widget-2.0-py3-none-any.whl']);
  const json = (await (await fetch(`${server.url}/pypi/widget/json`)).json()) as {
    releases: Record<string, unknown>;
  };
  assert.deepEqual(Object.keys(json.releases), ['1.0']);
});

test('an upload-scoped token cannot yank', async () => {
  const r = await api('POST', '/api/projects/widget/releases/1.0/yank', aliceUpload, {});
  assert.equal(r.status, 403);
});

test('deleting one file keeps the release; its name stays used', async () => {
  const w = await makeWheel({ name: 'widget', version: '3.0' });
  await postUpload(
    server.url,
    aliceUpload,
    await uploadParts({ ...w, fields: { name: 'widget', version: '3.0' } }),
  );
  const r = await api(
    'DELETE',
    `/api/projects/widget/releases/3.0/files/${w.filename}`,
    aliceAdmin,
  );
  assert.equal(r.status, 200);
  const json = (await (await fetch(`${server.url}/pypi/widget/json`)).json()) as {
    releases: Record<string, unknown[]>;
  };
  assert.deepEqual(json.releases['3.0'], []);
  const again = await postUpload(
    server.url,
    aliceUpload,
    await uploadParts({ ...w, fields: { name: 'widget', version: '3.0' } }),
  );
  assert.equal(again.status, 400);
  assert.match(again.body, /previously used/);
});

test('roles: owners manage them; the last owner cannot leave', async () => {
  assert.equal(
    (await api('PUT', '/api/projects/widget/roles/root', bobAdmin, { role: 'owner' })).status,
    403,
  );
  const last = await api('DELETE', '/api/projects/widget/roles/alice', aliceAdmin);
  assert.equal(last.status, 400);
  assert.match(last.body.message, /must keep at least one owner/);
  const add = await api('PUT', '/api/projects/widget/roles/bob', aliceAdmin, { role: 'owner' });
  assert.deepEqual(add.body.roles, [
    { user: 'alice', role: 'owner' },
    { user: 'bob', role: 'owner' },
  ]);
  assert.equal(
    (await api('PUT', '/api/projects/widget/roles/bob', aliceAdmin, { role: 'maintainer' })).status,
    200,
  );
  assert.equal(
    (await api('PUT', '/api/projects/widget/roles/bob', aliceAdmin, { role: 'emperor' })).status,
    400,
  );
});

test('users: only administrators list and add them', async () => {
  assert.equal((await api('GET', '/api/users', aliceAdmin)).status, 403);
  const add = await api('POST', '/api/users', adminToken, { username: 'dave' });
  assert.equal(add.status, 201);
  assert.equal(typeof add.body.password, 'string');
  const dup = await api('POST', '/api/users', adminToken, { username: 'Dave' });
  assert.equal(dup.status, 409);
  const bad = await api('POST', '/api/users', adminToken, { username: '../etc' });
  assert.equal(bad.status, 400);
  const disable = await api('PATCH', '/api/users/bob', adminToken, { disabled: true });
  assert.equal(disable.body.disabled, true);
  assert.equal(
    (await api('GET', '/api/whoami', bobAdmin)).status,
    401,
    "a disabled user's tokens stop working",
  );
  await api('PATCH', '/api/users/bob', adminToken, { disabled: false });
});

test('the audit log records who did what, from where', async () => {
  const r = await api('GET', '/api/audit?project=widget', aliceAdmin);
  assert.equal(r.status, 200);
  const actions = r.body.events.map((e: { action: string }) => e.action);
  for (const a of ['upload', 'yank', 'unyank', 'delete-release', 'delete-file', 'role-set'])
    assert.ok(actions.includes(a), `audit has ${a}`);
  const yank = r.body.events.find((e: { action: string }) => e.action === 'yank');
  assert.match(yank.actor, /^bob \(token \d+\)$/);
  assert.equal(yank.ip, '127.0.0.1');
  assert.deepEqual(yank.details, { version: '1.0', reason: 'bad build' });
  assert.equal(
    (await api('GET', '/api/audit', aliceAdmin)).status,
    403,
    'the whole log is for administrators',
  );
  const all = await api('GET', '/api/audit?action=token-revoke', adminToken);
  assert.ok(all.body.events.length >= 1);
});

test('bad bodies get clear 400s', async () => {
  const r = await api('POST', '/api/tokens', aliceAdmin, { scope: 'superuser' });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /Unknown scope 'superuser'/);
  const res = await fetch(`${server.url}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${aliceAdmin}`, 'content-type': 'application/json' },
    body: '{not json',
  });
  assert.equal(res.status, 400);
  const list = await api('POST', '/api/tokens', aliceAdmin, { projects: 'widget' });
  assert.equal(list.status, 400);
  assert.match(list.body.message, /'projects' must be a list of strings/);
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function withAuth(path: string, authorization: string, init: RequestInit = {}) {
  const res = await fetch(`${server.url}${path}`, {
    ...init,
    headers: {
      ...(init.headers as Record<string, string>),
      authorization,
      accept: 'application/json',
    },
  });
  return { status: res.status, statusText: res.statusText, text: await res.text() };
}

async function siteState() {
  const db = server.services.db.kysely;
  return {
    users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
    issuers: await db.selectFrom('oidc_issuers').selectAll().execute(),
    audit: await db.selectFrom('audit_events').select('id').orderBy('id').execute(),
  };
}

test("an administrator's token limited to projects takes no site-wide action, and changes nothing", async () => {
  const limited = await server.userWithToken('root', { scope: 'admin', projects: ['widget'] });
  const before = await siteState();
  const refusals: [string, string, unknown][] = [
    ['POST', '/api/users', { username: 'mallory', password: 'mallory-password', admin: true }],
    ['PATCH', '/api/users/alice', { password: 'taken-over-password' }],
    ['PATCH', '/api/users/bob', { admin: true }],
    ['POST', '/api/issuers', { kind: 'github', url: 'https://issuer.example.com' }],
    ['GET', '/api/users', undefined],
    ['GET', '/api/audit', undefined],
  ];
  for (const [method, path, body] of refusals) {
    const r = await api(method, path, limited, body);
    assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
  }
  assert.deepEqual(await siteState(), before);
  // On its own project it still acts for the administrator; an unlimited token does the rest.
  assert.equal((await api('GET', '/api/audit?project=widget', limited)).status, 200);
  assert.equal((await api('GET', '/api/users', adminToken)).status, 200);
});

test('a user with a second factor: the password is refused on the API, for uploads and for reads; tokens work', async () => {
  await server.services.auth.addUser(OPERATOR, { username: 'tess', password: 'tess-password' });
  await server.services.projects.setRole(OPERATOR, 'widget', 'tess', 'owner');
  const password = basic('tess', 'tess-password');
  // Before the second factor, the password works everywhere.
  assert.equal((await withAuth('/api/whoami', password)).status, 200);
  await enableTotp(server.services, 'tess');
  const before = await siteState();
  const files = await server.services.db.kysely.selectFrom('files').selectAll().execute();

  const whoami = await withAuth('/api/whoami', password);
  assert.equal(whoami.status, 403);
  assert.equal(
    JSON.parse(whoami.text).message,
    "User 'tess' has two-factor authentication: its password is not accepted on the API. Use an API token instead (username __token__, the token as password).",
  );
  const tokenByPassword = await withAuth('/api/tokens', password, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'admin' }),
  });
  assert.equal(tokenByPassword.status, 403);

  const w = await makeWheel({ name: 'widget', version: '7.1' });
  const parts = await uploadParts({ ...w, fields: { name: 'widget', version: '7.1' } });
  const up = await postUpload(server.url, null, parts, { authorization: password });
  assert.equal(up.status, 403);
  assert.match(up.statusText, /its password is not accepted for uploads\. Use an API token/);

  const read = await withAuth('/simple/widget/', password);
  assert.equal(read.status, 401);
  assert.match(read.statusText, /not accepted for reading the index/);
  assert.deepEqual(await siteState(), before);
  assert.deepEqual(
    await server.services.db.kysely.selectFrom('files').selectAll().execute(),
    files,
  );

  // Tokens work, the same as before.
  const token = await server.userWithToken('tess', { scope: 'upload' });
  assert.equal((await api('GET', '/api/whoami', token)).status, 200);
  const accepted = await postUpload(server.url, token, parts);
  assert.equal(accepted.status, 200, accepted.body);
});

test('PIER_BASIC_PASSWORD_READS lets pip read with the password; PIER_REQUIRE_2FA_FOR_ADMINS refuses administrators their password on the API', async () => {
  const other = await startServer({ basicPasswordReads: true, requireTwoFactorForAdmins: true });
  try {
    await other.services.auth.addUser(OPERATOR, {
      username: 'boss',
      password: 'boss-password',
      admin: true,
    });
    await other.services.auth.addUser(OPERATOR, { username: 'tess', password: 'tess-password' });
    await enableTotp(other.services, 'tess');
    const get = (path: string, authorization: string) =>
      fetch(`${other.url}${path}`, { headers: { authorization, accept: 'application/json' } });
    for (const [user, pw] of [
      ['boss', 'boss-password'],
      ['tess', 'tess-password'],
    ] as const) {
      assert.equal((await get('/simple/', basic(user, pw))).status, 200, `${user} reads`);
      const r = await get('/api/whoami', basic(user, pw));
      assert.equal(r.status, 403, `${user} on the API`);
      assert.match(r.statusText, /Use an API token instead/);
    }
    // A user without a second factor keeps using the password (the rule is about the factor).
    await other.services.auth.addUser(OPERATOR, { username: 'pat', password: 'pat-password' });
    assert.equal((await get('/api/whoami', basic('pat', 'pat-password'))).status, 200);
  } finally {
    await other.close();
  }
});

/** What removing a user could change: compared around each refusal. */
async function removalState() {
  const db = server.services.db.kysely;
  const rows = async (
    table: 'users' | 'project_roles' | 'tokens' | 'web_sessions' | 'publishers',
  ) => (await db.selectFrom(table).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
  return {
    users: await rows('users'),
    roles: await rows('project_roles'),
    tokens: await rows('tokens'),
    sessions: await rows('web_sessions'),
    publishers: await rows('publishers'),
    audit: (await db.selectFrom('audit_events').select('id').execute()).length,
  };
}

test('GET /api/projects lists the projects the caller may read, private ones only for their readers', async () => {
  await server.services.projects.create(OPERATOR, 'hidden-gem', 'alice');
  await server.services.projects.update(OPERATOR, 'hidden-gem', { private: true });
  const names = async (token: string) => {
    const r = await api('GET', '/api/projects', token);
    assert.equal(r.status, 200);
    return (r.body.projects as { name: string }[]).map((p) => p.name);
  };
  assert.ok((await names(aliceUpload)).includes('hidden-gem'), 'its owner reads it');
  assert.ok((await names(adminToken)).includes('hidden-gem'), 'an administrator reads it');
  assert.deepEqual(
    (await names(bobAdmin)).filter((n) => n === 'hidden-gem' || n === 'widget'),
    ['widget'],
    'a stranger to a private project never learns its name',
  );
  const widget = (await api('GET', '/api/projects', bobAdmin)).body.projects.find(
    (p: { name: string }) => p.name === 'widget',
  );
  assert.deepEqual(
    { ...widget, created_at: typeof widget.created_at, last_serial: typeof widget.last_serial },
    {
      name: 'widget',
      normalized_name: 'widget',
      private: false,
      status: 'active',
      trusted_publishing_only: false,
      require_attestations: false,
      stage_uploads: false,
      created_at: 'string',
      last_serial: 'number',
    },
  );
  assert.equal((await api('GET', '/api/projects', null)).status, 401);
});

test('DELETE /api/users/NAME: administrators only, never the last owner of a project, never oneself; changes nothing when refused', async () => {
  const doraToken = await server.userWithToken('dora', { scope: 'admin' });
  await server.services.projects.setRole(OPERATOR, 'widget', 'dora', 'maintainer');
  const before = await removalState();
  const notAdmin = await api('DELETE', '/api/users/dora', aliceAdmin);
  assert.equal(notAdmin.status, 403);
  assert.match(
    notAdmin.body.message ?? JSON.stringify(notAdmin.body),
    /Only administrators can remove users/,
  );
  const lastOwner = await api('DELETE', '/api/users/alice', adminToken);
  assert.equal(lastOwner.status, 409);
  assert.match(
    lastOwner.body.message,
    /^'alice' is the last owner of projects '.*'hidden-gem': give each another owner first$/,
  );
  const self = await api('DELETE', '/api/users/root', adminToken);
  assert.equal(self.status, 400);
  assert.match(JSON.stringify(self.body), /You cannot remove your own account/);
  const missing = await api('DELETE', '/api/users/nobody', adminToken);
  assert.equal(missing.status, 404);
  assert.deepEqual(await removalState(), before, 'a refused removal must change nothing');

  const removed = await api('DELETE', '/api/users/dora', adminToken);
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  assert.equal(removed.body.removed, 'dora');
  assert.deepEqual(removed.body.roles, [{ project: 'widget', role: 'maintainer' }]);
  assert.equal(removed.body.tokens_revoked.length, 1);
  assert.equal((await api('GET', '/api/whoami', doraToken)).status, 401);
  const users = (await api('GET', '/api/users', adminToken)).body.users as { username: string }[];
  assert.ok(!users.some((u) => u.username === 'dora'));
  const widget = await api('GET', '/api/projects/widget', aliceAdmin);
  assert.ok(!widget.body.roles.some((r: { user: string }) => r.user === 'dora'));
  const events = (await api('GET', '/api/audit?action=user-remove', adminToken)).body.events;
  assert.equal(events[0].details.username, 'dora');
});

test('POST /api/tokens answers the new token with its user; POST /api/issuers warns when discovery fails, and registers it', async () => {
  const created = await api('POST', '/api/tokens', aliceAdmin, { scope: 'read', name: 'cron' });
  assert.equal(created.status, 201);
  assert.equal(created.body.user, 'alice');
  const added = await api('POST', '/api/issuers', adminToken, {
    kind: 'gitlab',
    url: 'http://127.0.0.1:9',
    insecure: true,
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.match(
    added.body.warning,
    /^could not check http:\/\/127\.0\.0\.1:9's discovery document \(.+\); its tokens cannot be verified until it can be$/,
  );
  const issuers = (await api('GET', '/api/issuers', adminToken)).body.issuers as { url: string }[];
  assert.ok(issuers.some((i) => i.url === 'http://127.0.0.1:9'));
});
