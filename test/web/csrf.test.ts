// @backends: runs on the embedded default and on PostgreSQL with S3.
// Every form of the web interface refuses a request without a valid CSRF token: 403, and nothing
// in the database changes. The forms are enumerated from the routes the web interface registers
// (every POST route must have a row in SAMPLES below, so a new form cannot be forgotten), and
// every <form method="post"> on every page carries the token and posts to one of those routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { webRoutes } from '../../src/web/index.js';
import { CSRF_FAILURE, postFromIndexOrigin } from '../../src/web/csrf.js';
import { escapeHtml } from '../../src/web/html.js';
import { addUser, WebClient } from './helpers.js';

let server: TestServer;
let rootPassword: string;
let ids: Record<string, string>;

/** For each POST route: the URL parameters and a form body that passes the route's own checks. */
const SAMPLES: Record<
  string,
  { params?: () => Record<string, string>; fields: Record<string, string>; anonymous?: boolean }
> = {
  '/login': {
    fields: { username: 'nobody', password: 'wrong-password', next: '/' },
    anonymous: true,
  },
  '/login/2fa': { fields: { code: '000000', next: '/' }, anonymous: true },
  '/logout': { fields: {} },
  '/account/password': { fields: { current: 'not-the-password', password: 'a-new-password-1' } },
  '/account/sessions/:id/revoke': { params: () => ({ id: ids.otherSession! }), fields: {} },
  '/account/2fa/begin': { fields: {} },
  '/account/2fa/confirm': { fields: { code: '000000' } },
  '/account/2fa/disable': { fields: { code: '000000' } },
  '/account/tokens': { fields: { name: 'csrf', scope: 'read', projects: '', expires: '1d' } },
  '/account/tokens/:id/revoke': { params: () => ({ id: ids.token! }), fields: {} },
  '/account/publishers': {
    fields: {
      provider: 'github',
      project_name: 'new-one',
      owner: 'octo-org',
      ownerId: '65',
      repository: 'r2',
      workflow: 'release.yml',
      environment: '',
      ref: '',
      issuer: '',
    },
  },
  '/account/publishers/:id/remove': { params: () => ({ id: ids.pending! }), fields: {} },
  '/manage/project/:name/publishing/': {
    params: () => ({ name: 'victim' }),
    fields: {
      provider: 'github',
      owner: 'octo-org',
      ownerId: '65',
      repository: 'r3',
      workflow: 'release.yml',
      environment: '',
      ref: '',
      issuer: '',
    },
  },
  '/manage/project/:name/publishing/:id/remove': {
    params: () => ({ name: 'victim', id: ids.publisher! }),
    fields: {},
  },
  '/manage/project/:name/collaborators/role': {
    params: () => ({ name: 'victim' }),
    fields: { username: 'carol', role: 'owner' },
  },
  '/manage/project/:name/collaborators/remove': {
    params: () => ({ name: 'victim' }),
    fields: { username: 'carol' },
  },
  '/manage/project/:name/releases/settings': {
    params: () => ({ name: 'victim' }),
    fields: { visibility: 'private', status: 'archived' },
  },
  '/manage/project/:name/staged/approve': {
    params: () => ({ name: 'victim' }),
    fields: { version: '9.9', totp: '' },
  },
  '/manage/project/:name/staged/reject': {
    params: () => ({ name: 'victim' }),
    fields: { version: '9.9', totp: '' },
  },
  '/manage/project/:name/releases/yank': {
    params: () => ({ name: 'victim' }),
    fields: { version: '1.0', reason: 'csrf' },
  },
  '/manage/project/:name/releases/unyank': {
    params: () => ({ name: 'victim' }),
    fields: { version: '1.0' },
  },
  '/manage/project/:name/releases/delete': {
    params: () => ({ name: 'victim' }),
    fields: { version: '1.0' },
  },
  '/admin/users': { fields: { username: 'mallory', password: '', admin: '1' } },
  '/admin/users/:name': { params: () => ({ name: 'carol' }), fields: { change: 'make-admin' } },
  '/admin/issuers': { fields: { kind: 'github', url: 'https://ghe.example.com/_services/token' } },
  '/admin/issuers/remove': { fields: { url: 'https://gitlab.example.com' } },
  '/admin/upstream': { fields: { pattern: 'acme-*' } },
  '/admin/upstream/remove': { fields: { pattern: 'acme-*' } },
  '/projects/new': { fields: { name: 'created-by-csrf' } },
  '/admin/namespaces': { fields: { name: 'made-by-csrf', owner: 'carol' } },
  '/admin/namespaces/:name/grant': {
    params: () => ({ name: 'victimns' }),
    fields: { user: 'carol' },
  },
  '/admin/namespaces/:name/revoke': {
    params: () => ({ name: 'victimns' }),
    fields: { user: 'carol' },
  },
  '/admin/namespaces/:name/release': { params: () => ({ name: 'victimns' }), fields: {} },
  '/orgs/:org/transfer': { params: () => ({ org: 'victimorg' }), fields: { project: 'victim' } },
  '/orgs/:org/members': {
    params: () => ({ org: 'victimorg' }),
    fields: { username: 'carol', role: 'owner' },
  },
  '/orgs/:org/members/remove': {
    params: () => ({ org: 'victimorg' }),
    fields: { username: 'carol' },
  },
  '/orgs/:org/teams': { params: () => ({ org: 'victimorg' }), fields: { team: 'made-by-csrf' } },
  '/orgs/:org/teams/:team/remove': {
    params: () => ({ org: 'victimorg', team: 'doomedteam' }),
    fields: {},
  },
  '/orgs/:org/teams/:team/members': {
    params: () => ({ org: 'victimorg', team: 'victimteam' }),
    fields: { username: 'carol' },
  },
  '/orgs/:org/teams/:team/members/remove': {
    params: () => ({ org: 'victimorg', team: 'victimteam' }),
    fields: { username: 'root' },
  },
  '/orgs/:org/teams/:team/roles': {
    params: () => ({ org: 'victimorg', team: 'victimteam' }),
    fields: { project: 'orgproject', role: 'owner' },
  },
  '/orgs/:org/teams/:team/roles/remove': {
    params: () => ({ org: 'victimorg', team: 'victimteam' }),
    fields: { project: 'orgproject' },
  },
  '/orgs/:org/teams/:team/groups': {
    params: () => ({ org: 'victimorg', team: 'victimteam' }),
    fields: { provider: 'corp', group: 'new-group' },
  },
  '/orgs/:org/teams/:team/groups/remove': {
    params: () => ({ org: 'victimorg', team: 'victimteam' }),
    fields: { provider: 'corp', group: 'victims' },
  },
  '/orgs/:org/publishers': {
    params: () => ({ org: 'victimorg' }),
    fields: {
      provider: 'github',
      owner: 'octo-org',
      ownerId: '65',
      repository: 'r4',
      workflow: 'release.yml',
      environment: '',
      ref: '',
      issuer: '',
      projects: 'victim-*',
    },
  },
  '/orgs/:org/publishers/:id/remove': {
    params: () => ({ org: 'victimorg', id: ids.orgPublisher! }),
    fields: {},
  },
};

const TABLES = [
  'users',
  'projects',
  'project_roles',
  'releases',
  'files',
  'filename_registry',
  'tokens',
  'token_projects',
  'journal',
  'audit_events',
  'oidc_issuers',
  'publishers',
  'publisher_projects',
  'oidc_jtis',
  'web_sessions',
  'login_failures',
  'namespaces',
  'namespace_owners',
  'organizations',
  'organization_members',
  'teams',
  'team_members',
  'team_project_roles',
  'group_team_mappings',
] as const;
/** Written on reads, not by forms. */
const VOLATILE = new Set(['last_seen_at', 'last_used_at']);

async function snapshot(): Promise<string> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
      server.services.db.kysely,
    );
    out[table] = rows.rows
      .map((r) =>
        JSON.stringify(
          Object.entries(r)
            .filter(([k]) => !VOLATILE.has(k))
            .map(([k, v]) => [k, String(v)]),
        ),
      )
      .sort();
  }
  return JSON.stringify(out);
}

function fill(url: string, params: Record<string, string> = {}): string {
  return url.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${url}`);
    return encodeURIComponent(value);
  });
}

before(async () => {
  server = await startServer();
  const s = server.services;
  rootPassword = await addUser(server, 'root', { admin: true });
  await addUser(server, 'carol');
  await s.projects.create(OPERATOR, 'victim', 'root');
  await s.projects.setRole(OPERATOR, 'victim', 'carol', 'maintainer');
  const token = await s.auth.createToken(OPERATOR, {
    username: 'root',
    name: 'existing',
    scope: 'upload',
  });
  const pub = await s.publishers.add(OPERATOR, 'victim', {
    kind: 'github',
    fields: { owner: 'octo-org', ownerId: '65', repository: 'victim', workflow: 'release.yml' },
  });
  const pending = await s.publishers.addPending(
    OPERATOR,
    'not-yet',
    {
      kind: 'github',
      fields: { owner: 'octo-org', ownerId: '65', repository: 'not-yet', workflow: 'release.yml' },
    },
    'root',
  );
  await s.issuers.add(OPERATOR, { kind: 'gitlab', url: 'https://gitlab.example.com' });
  await s.namespaces.reserve(OPERATOR, 'victimns', 'root');
  await s.orgs.create(OPERATOR, 'victimorg', 'root');
  await s.projects.create(OPERATOR, 'orgproject', 'root');
  await s.orgs.transferProject(OPERATOR, 'orgproject', 'victimorg');
  for (const team of ['victimteam', 'doomedteam'])
    await s.orgs.createTeam(OPERATOR, 'victimorg', team);
  await s.orgs.addTeamMember(OPERATOR, 'victimorg', 'victimteam', 'root');
  await s.orgs.setTeamRole(OPERATOR, 'victimorg', 'victimteam', 'orgproject', 'maintainer');
  await s.orgs.mapGroup(OPERATOR, 'victimorg', 'victimteam', 'corp', 'victims');
  const orgPublisher = await s.publishers.addOrganizationWide(OPERATOR, 'victimorg', {
    kind: 'github',
    fields: { owner: 'octo-org', ownerId: '65', repository: 'org-wide', workflow: 'release.yml' },
  });
  const other = new WebClient(server.url);
  await other.signIn('root', rootPassword);
  const sessions = await s.web.sessions.listOf((await s.auth.requireUser('root')).id);
  ids = {
    token: String(token.id),
    publisher: String(pub.id),
    pending: String(pending.id),
    otherSession: String(sessions[0]!.id),
    orgPublisher: String(orgPublisher.id),
  };
});

after(() => server?.close());

test('every POST route of the web interface has a sample form in this test', () => {
  const posts = webRoutes(server.app)
    .filter((r) => r.method === 'POST')
    .map((r) => r.url);
  assert.ok(posts.length >= 20, posts.join(', '));
  for (const url of posts)
    assert.ok(SAMPLES[url], `add ${url} to SAMPLES: every form must be tested`);
  for (const url of Object.keys(SAMPLES))
    assert.ok(posts.includes(url), `${url} is not a route any more`);
});

test('without a token, or with another browser’s, every form answers 403 and changes nothing', async () => {
  const signedIn = new WebClient(server.url);
  assert.equal((await signedIn.signIn('root', rootPassword)).status, 303);
  await signedIn.get('/account');
  const stranger = new WebClient(server.url);
  await stranger.signIn('carol', 'carol-password-1');
  await stranger.get('/account');
  const anonymous = new WebClient(server.url);
  await anonymous.get('/login');
  const otherAnonymous = new WebClient(server.url);
  await otherAnonymous.get('/login');
  const before = await snapshot();
  for (const route of webRoutes(server.app).filter((r) => r.method === 'POST')) {
    const sample = SAMPLES[route.url]!;
    const path = fill(route.url, sample.params?.());
    const client = sample.anonymous ? anonymous : signedIn;
    const foreign = (sample.anonymous ? otherAnonymous : stranger).lastCsrf!;
    for (const [label, csrf] of [
      ['no token', null],
      ['an empty token', ''],
      ['a wrong token', 'x'.repeat(43)],
      ['another browser’s token', foreign],
    ] as const) {
      const r = await client.post(path, { ...sample.fields, _csrf: csrf });
      assert.equal(r.status, 403, `${route.url} with ${label}: ${r.status}`);
      assert.ok(r.text.includes(escapeHtml(CSRF_FAILURE)), `${route.url} with ${label} says why`);
      assert.equal(await snapshot(), before, `${route.url} with ${label} changed the database`);
    }
    // A JSON body (no form field at all) is refused the same way.
    const json = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
      body: JSON.stringify(sample.fields),
      redirect: 'manual',
    });
    assert.equal(json.status, 403, `${route.url} with a JSON body`);
  }
  assert.equal(await snapshot(), before);
});

test('with the right token every form reaches its handler', async () => {
  for (const route of webRoutes(server.app).filter((r) => r.method === 'POST')) {
    const sample = SAMPLES[route.url]!;
    const client = new WebClient(server.url);
    if (sample.anonymous) await client.get('/login');
    else {
      await client.signIn('root', rootPassword);
      await client.get('/account');
    }
    const r = await client.post(fill(route.url, sample.params?.()), sample.fields);
    assert.ok(!r.text.includes(escapeHtml(CSRF_FAILURE)), `${route.url}: ${r.status}`);
  }
});

test('every form on every page carries the session’s token and posts to a protected route', async () => {
  const client = new WebClient(server.url);
  await client.signIn('root', rootPassword);
  const posts = webRoutes(server.app)
    .filter((r) => r.method === 'POST')
    .map((r) => new RegExp(`^${r.url.replace(/:\w+/g, '[^/]+')}$`));
  const pages = [
    '/',
    '/project/victim/',
    '/account',
    '/account/2fa',
    '/account/tokens',
    '/account/publishers',
    '/manage/project/victim/publishing/',
    '/manage/project/victim/publishing/?provider=gitlab',
    '/manage/project/victim/collaborators/',
    '/manage/project/victim/releases/',
    '/manage/project/victim/audit/',
    '/admin/users',
    '/admin/issuers',
    '/admin/namespaces',
    '/admin/audit',
    '/projects/new',
    '/orgs/victimorg',
    '/orgs/victimorg/teams/victimteam',
    '/orgs/victimorg/publishers',
  ];
  let forms = 0;
  let token: string | null = null;
  for (const page of pages) {
    const r = await client.get(page);
    assert.equal(r.status, 200, page);
    token ??= client.lastCsrf;
    for (const m of r.text.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
      const attrs = m[1]!;
      if (!/method="post"/i.test(attrs)) {
        assert.match(attrs, /method="get"/i, `${page}: a form is GET or POST`);
        continue;
      }
      forms++;
      const action = /action="([^"]+)"/.exec(attrs)?.[1]?.replace(/&amp;/g, '&') ?? '';
      assert.ok(
        posts.some((p) => p.test(action.split('?')[0]!)),
        `${page}: ${action} is a web POST route`,
      );
      assert.ok(
        m[2]!.includes(`name="_csrf" value="${token}"`),
        `${page}: the form to ${action} has the token`,
      );
    }
  }
  assert.ok(forms >= 20, `${forms} forms`);
  const anonymous = new WebClient(server.url);
  const login = await anonymous.get('/login');
  assert.match(
    login.text,
    /<form method="post" action="\/login"[^>]*>\s*<input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{43}" \/>/,
  );
});

test('on plain HTTP, a CSRF cookie planted by a sibling host does not pass', async () => {
  // The attacker fetches a valid pre-session pair for itself, then plants the cookie for the
  // parent domain (no `__Host-` prefix on plain HTTP) and has the victim's browser post the
  // sign-in form from the sibling host: the browser says where the form came from.
  const attacker = new WebClient(server.url);
  await attacker.get('/login');
  const planted = attacker.lastCsrf!;
  assert.equal(attacker.cookies.get('pier_csrf'), planted, 'a double-submit pair');
  const own = new URL(server.url);
  const sibling = `http://evil.${own.hostname}.nip.io:${own.port}`;
  const before = await snapshot();
  const post = (headers: Record<string, string>) =>
    fetch(`${server.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `pier_csrf=${planted}`,
        ...headers,
      },
      body: new URLSearchParams({
        _csrf: planted,
        username: 'root',
        password: rootPassword,
        next: '/',
      }).toString(),
    });
  const forged: Record<string, string>[] = [
    { origin: sibling, 'sec-fetch-site': 'same-site' },
    { origin: sibling },
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'cross-site' },
    { origin: 'null' },
  ];
  for (const headers of forged) {
    const r = await post(headers);
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.ok((await r.text()).includes(escapeHtml(CSRF_FAILURE)));
    assert.equal(r.headers.getSetCookie().filter((c) => c.startsWith('pier_session=')).length, 0);
  }
  assert.equal(await snapshot(), before, 'no session was started');
  // The same form from the index's own origin is the user's own and passes.
  const r = await post({ origin: own.origin, 'sec-fetch-site': 'same-origin' });
  assert.equal(r.status, 303);
});

test('postFromIndexOrigin: where a POST may come from', () => {
  const index = 'http://pypi.example.com:8080';
  const rows: [string | undefined, string | undefined, boolean][] = [
    [undefined, undefined, true], // no browser
    ['same-origin', index, true],
    ['none', undefined, true], // typed by the user
    [undefined, index, true],
    [undefined, 'HTTP://PYPI.EXAMPLE.COM:8080', true],
    ['same-site', 'http://evil.example.com:8080', false],
    ['cross-site', 'https://attacker.test', false],
    [undefined, 'http://evil.example.com:8080', false],
    [undefined, 'http://pypi.example.com', false], // another port is another origin
    ['same-origin', 'http://evil.example.com:8080', false],
    [undefined, 'null', false],
  ];
  for (const [secFetchSite, origin, expected] of rows)
    assert.equal(
      postFromIndexOrigin({ secFetchSite, origin }, index),
      expected,
      `${secFetchSite} ${origin}`,
    );
});
