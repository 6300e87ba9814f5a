// @backends: runs on the embedded default and on PostgreSQL with S3.
// The organisation-wide publishers page (/orgs/ORG/publishers) over HTTP, as a browser without
// JavaScript uses it: an administrator adds one with a pattern and removes it, audited as theirs;
// an owner or member of the organisation sees no link and is refused (403) when they post by
// hand, a stranger gets 404, an anonymous browser the sign-in page; each bad input (an unknown
// provider or issuer, a bad field, a pattern with foreign characters, a duplicate, an id of
// another organisation's or of a project's publisher) is shown with its reason; an administrator
// who must enrol a second factor is refused. Each refusal changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { addUser, WebClient } from './helpers.js';

let server: TestServer;
let adminToken: string;
const passwords: Record<string, string> = {};
let projectPublisher = 0;
let betaPublisher = 0;

const GITHUB = {
  provider: 'github',
  owner: 'octo-org',
  ownerId: '65',
  repository: 'octo-repo',
  workflow: 'release.yml',
  environment: '',
  ref: '',
  issuer: '',
};

async function client(name: string) {
  const c = new WebClient(server.url);
  assert.equal((await c.signIn(name, passwords[name]!)).status, 303);
  return c;
}

/** The publishers and the audit log, through the database (not the page under test). */
async function state(): Promise<string> {
  const db = server.services.db.kysely;
  const publishers = await db.selectFrom('publishers').selectAll().orderBy('id').execute();
  const audit = await db.selectFrom('audit_events').select('id').execute();
  return JSON.stringify([publishers, audit.length]);
}

before(async () => {
  server = await startServer();
  const s = server.services;
  adminToken = await server.userWithToken('root', {
    admin: true,
    scope: 'admin',
    password: 'root-password-1',
  });
  passwords.root = 'root-password-1';
  for (const name of ['carol', 'dave', 'eve']) passwords[name] = await addUser(server, name);
  await s.orgs.create(OPERATOR, 'acme', 'carol');
  await s.orgs.setMember(OPERATOR, 'acme', 'dave', 'member');
  await s.orgs.create(OPERATOR, 'beta', 'eve');
  for (const name of ['acme-lib', 'acme-web', 'other-tool']) {
    await s.projects.create(OPERATOR, name, 'carol');
    await s.orgs.transferProject(OPERATOR, name, 'acme');
  }
  const fields = { owner: 'octo-org', ownerId: '65', repository: 'octo-repo' };
  projectPublisher = (
    await s.publishers.add(OPERATOR, 'acme-lib', {
      kind: 'github',
      fields: { ...fields, workflow: 'project.yml' },
    })
  ).id;
  betaPublisher = (
    await s.publishers.addOrganizationWide(OPERATOR, 'beta', {
      kind: 'github',
      fields: { ...fields, workflow: 'beta.yml' },
    })
  ).id;
});

after(() => server?.close());

test('an administrator adds one with a pattern, sees what it covers, and removes it', async () => {
  const root = await client('root');
  const org = await root.get('/orgs/acme');
  assert.match(org.text, /href="\/orgs\/acme\/publishers"/);
  const empty = await root.get('/orgs/acme/publishers');
  assert.equal(empty.status, 200);
  assert.ok(empty.text.includes('id="no-publishers"'), 'beta’s publisher is not listed here');
  assert.ok(empty.text.includes('id="publisher-form"'));
  assert.ok(empty.text.includes('name="projects"'));

  const added = await root.post('/orgs/acme/publishers', { ...GITHUB, projects: 'Acme_*' });
  assert.equal(added.status, 303, added.text);
  const id = Number(/#publisher-(\d+)$/.exec(added.location ?? '')?.[1]);
  assert.ok(id > 0, String(added.location));
  const page = await root.get('/orgs/acme/publishers');
  assert.match(
    page.text,
    /Added GitHub octo-org\/octo-repo, workflow release\.yml as an organisation-wide publisher of acme for projects matching &#39;acme-\*&#39;\./,
  );
  const card = new RegExp(`id="publisher-${id}"[\\s\\S]*?</article>`).exec(page.text)?.[0] ?? '';
  assert.match(card, /<dd class="org-wide-pattern"><code>acme-\*<\/code><\/dd>/);
  assert.match(card, /<dd class="covers">acme-lib, acme-web<\/dd>/);
  assert.ok(card.includes(`action="/orgs/acme/publishers/${id}/remove"`));
  // The service (and the REST API) see the same publisher.
  const listed = await fetch(`${server.url}/api/orgs/acme/publishers`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  assert.equal(listed.status, 200);
  const body = (await listed.json()) as { publishers: { id: number; organizationWide: unknown }[] };
  assert.deepEqual(
    body.publishers.map((p) => [p.id, p.organizationWide]),
    [[id, { organization: 'acme', projects: 'acme-*' }]],
  );

  // Without a pattern: every project of the organisation.
  const all = await root.post('/orgs/acme/publishers', {
    ...GITHUB,
    workflow: 'all.yml',
    projects: '  ',
  });
  assert.equal(all.status, 303, all.text);
  const allId = Number(/#publisher-(\d+)$/.exec(all.location ?? '')?.[1]);
  const both = await root.get('/orgs/acme/publishers');
  const allCard = new RegExp(`id="publisher-${allId}"[\\s\\S]*?</article>`).exec(both.text)?.[0];
  assert.match(allCard ?? '', /<dd class="covers">acme-lib, acme-web, other-tool<\/dd>/);

  for (const removing of [id, allId]) {
    const removed = await root.post(`/orgs/acme/publishers/${removing}/remove`);
    assert.equal(removed.status, 303);
    assert.equal(removed.location, '/orgs/acme/publishers');
  }
  const after = await root.get('/orgs/acme/publishers');
  assert.match(after.text, /Removed GitHub octo-org\/octo-repo, workflow all\.yml from acme/);
  assert.ok(after.text.includes('id="no-publishers"'));
  const events = await server.services.db.kysely
    .selectFrom('audit_events')
    .innerJoin('users', 'users.id', 'audit_events.actor_user_id')
    .select(['audit_events.action', 'users.username'])
    .where('audit_events.action', 'in', ['org-publisher-add', 'org-publisher-remove'])
    .orderBy('audit_events.id')
    .execute();
  assert.deepEqual(
    events.map((e) => [e.action, e.username]),
    [
      ['org-publisher-add', 'root'],
      ['org-publisher-add', 'root'],
      ['org-publisher-remove', 'root'],
      ['org-publisher-remove', 'root'],
    ],
  );
});

test('an owner or member of the organisation sees no link and is refused; a stranger gets 404', async () => {
  // The REST API's list: an owner of the organisation with an admin-scoped token is refused too.
  const ownerToken = await server.userWithToken('olive', { scope: 'admin' });
  await server.services.orgs.setMember(OPERATOR, 'acme', 'olive', 'owner');
  const listed = await fetch(`${server.url}/api/orgs/acme/publishers`, {
    headers: { authorization: `Bearer ${ownerToken}` },
  });
  assert.equal(listed.status, 403);
  await server.services.orgs.removeMember(OPERATOR, 'acme', 'olive');
  const before = await state();
  for (const name of ['carol', 'dave']) {
    const c = await client(name);
    const org = await c.get('/orgs/acme');
    assert.equal(org.status, 200);
    assert.doesNotMatch(org.text, /\/orgs\/acme\/publishers/, name);
    const page = await c.get('/orgs/acme/publishers');
    assert.equal(page.status, 403, name);
    assert.match(page.text, /Only administrators may manage organisation-wide trusted publishers/);
    assert.doesNotMatch(page.text, /id="publisher-form"/);
    for (const [path, fields] of [
      ['/orgs/acme/publishers', { ...GITHUB, projects: 'acme-*' }],
      // Bad input from them is refused as theirs, before it is looked at.
      ['/orgs/acme/publishers', { ...GITHUB, provider: 'nosuch', projects: 'a/b' }],
      [`/orgs/beta/publishers/${betaPublisher}/remove`, {}],
      [`/orgs/acme/publishers/${betaPublisher}/remove`, {}],
    ] as const) {
      const r = await c.post(path, fields);
      // carol and dave may not see beta: answered as missing, as its page is.
      const want = path.startsWith('/orgs/beta') ? 404 : 403;
      assert.equal(r.status, want, `${name} ${path}`);
    }
  }
  const eve = await client('eve');
  assert.equal((await eve.get('/orgs/acme/publishers')).status, 404);
  assert.equal((await eve.post('/orgs/acme/publishers', GITHUB)).status, 404);
  // eve owns beta, and is still no administrator.
  assert.equal((await eve.get('/orgs/beta/publishers')).status, 403);
  const r = await eve.post(`/orgs/beta/publishers/${betaPublisher}/remove`);
  assert.equal(r.status, 403);
  const anonymous = new WebClient(server.url);
  const login = await anonymous.get('/orgs/acme/publishers');
  assert.equal(login.status, 303);
  assert.equal(login.location, '/login?next=%2Forgs%2Facme%2Fpublishers');
  await anonymous.get('/login');
  assert.equal((await anonymous.post('/orgs/acme/publishers', GITHUB)).status, 303);
  assert.equal(await state(), before);
});

test('bad input is shown with its reason and changes nothing', async () => {
  const root = await client('root');
  await root.get('/orgs/acme/publishers');
  const made = await root.post('/orgs/acme/publishers', { ...GITHUB, projects: 'acme-*' });
  assert.equal(made.status, 303);
  const madeId = Number(/#publisher-(\d+)$/.exec(made.location ?? '')?.[1]);
  const before = await state();
  const cases: [string, Record<string, string>, number, RegExp][] = [
    [
      '/orgs/acme/publishers',
      { ...GITHUB, provider: 'nosuch' },
      400,
      /Unknown provider &#39;nosuch&#39;/,
    ],
    [
      '/orgs/acme/publishers',
      { ...GITHUB, ownerId: 'sixty-five', projects: 'acme-*' },
      400,
      /data-field="ownerId">[^<]*numeric/,
    ],
    ['/orgs/acme/publishers', { ...GITHUB, workflow: '' }, 400, /data-field="workflow"/],
    [
      '/orgs/acme/publishers',
      { ...GITHUB, projects: 'acme/*' },
      400,
      /The project pattern &#39;acme\/\*&#39; may only hold the characters of project names/,
    ],
    ['/orgs/acme/publishers', { ...GITHUB, projects: '<script>' }, 400, /value="&lt;script&gt;"/],
    [
      '/orgs/acme/publishers',
      { ...GITHUB, issuer: 'https://nowhere.example/' },
      400,
      /data-field="issuer"[^>]*>\s*Unknown issuer/,
    ],
    [
      '/orgs/acme/publishers',
      { ...GITHUB, projects: 'Acme-*' },
      409,
      /already an organisation-wide publisher of &#39;acme&#39; for &#39;acme-\*&#39;/,
    ],
    ['/orgs/nosuch/publishers', GITHUB, 404, /nosuch/],
    [`/orgs/acme/publishers/${betaPublisher}/remove`, {}, 404, /No organisation-wide publisher/],
    [`/orgs/acme/publishers/${projectPublisher}/remove`, {}, 404, /No organisation-wide/],
    ['/orgs/acme/publishers/999999/remove', {}, 404, /No organisation-wide publisher 999999/],
    ['/orgs/acme/publishers/abc/remove', {}, 404, /No publisher with id abc/],
    [`/orgs/beta/publishers/${madeId}/remove`, {}, 404, /No organisation-wide publisher/],
  ];
  for (const [path, fields, status, message] of cases) {
    const r = await root.post(path, fields);
    assert.equal(r.status, status, `${path} ${JSON.stringify(fields)}: ${r.text.slice(0, 400)}`);
    assert.match(r.text, message, `${path} ${JSON.stringify(fields)}`);
  }
  assert.equal(await state(), before);
  assert.equal((await root.post(`/orgs/acme/publishers/${madeId}/remove`)).status, 303);
});

test('an administrator who must enrol a second factor is refused before the form is read', async () => {
  const strict = await startServer({ requireTwoFactorForAdmins: true });
  try {
    const password = await addUser(strict, 'root', { admin: true });
    await strict.services.orgs.create(OPERATOR, 'acme', 'root');
    const root = new WebClient(strict.url);
    await root.signIn('root', password);
    const page = await root.get('/orgs/acme/publishers');
    assert.equal(page.status, 303);
    assert.equal(page.location, '/account/2fa');
    await root.get('/account/2fa');
    const r = await root.post('/orgs/acme/publishers', { ...GITHUB, projects: 'acme-*' });
    assert.equal(r.status, 403);
    assert.match(r.text, /Administrators must set up two-factor authentication first/);
    const rows = await strict.services.db.kysely.selectFrom('publishers').select('id').execute();
    assert.deepEqual(rows, []);
  } finally {
    await strict.close();
  }
});
