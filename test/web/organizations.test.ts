// @backends: runs on the embedded default and on PostgreSQL with S3.
// The organisation and team pages over HTTP, as a browser without JavaScript uses them: what a
// member sees, what a stranger gets (as missing), moving a project into the organisation through
// the form — refused with the reason for a maintainer, done for an owner of both — and the forms
// an owner changes members, teams, team members, team roles and group mappings with: each done,
// each refused to a member (403, nothing changed), each bad input shown with the service's
// message and nothing changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { addUser, WebClient } from './helpers.js';

let server: TestServer;
const passwords: Record<string, string> = {};

async function client(name: string) {
  const c = new WebClient(server.url);
  assert.equal((await c.signIn(name, passwords[name]!)).status, 303);
  return c;
}

before(async () => {
  server = await startServer();
  for (const name of ['carol', 'dave', 'eve', 'frank'])
    passwords[name] = await addUser(server, name);
  const s = server.services;
  await s.orgs.create(OPERATOR, 'acme', 'carol');
  await s.projects.create(OPERATOR, 'acme-lib', 'carol');
  await s.projects.create(OPERATOR, 'carol-tool', 'carol');
  await s.projects.setRole(OPERATOR, 'carol-tool', 'dave', 'maintainer');
  await s.orgs.transferProject(OPERATOR, 'acme-lib', 'acme');
  await s.orgs.createTeam(OPERATOR, 'acme', 'release');
  await s.orgs.addTeamMember(OPERATOR, 'acme', 'release', 'dave');
  await s.orgs.setTeamRole(OPERATOR, 'acme', 'release', 'acme-lib', 'maintainer');
  await s.orgs.mapGroup(OPERATOR, 'acme', 'release', 'corp', '<releasers>');
  await s.projects.create(OPERATOR, 'outside-lib', 'carol');
});

after(() => server.close());

test('a member sees the organisation and its team; a stranger gets 404', async () => {
  const dave = await client('dave');
  const page = await dave.get('/orgs/acme');
  assert.equal(page.status, 200);
  assert.match(page.text, /<td>carol<\/td>\s*<td>owner<\/td>/);
  assert.match(page.text, /href="\/orgs\/acme\/teams\/release">release<\/a>/);
  assert.match(page.text, /acme-lib \(maintainer\)/);
  const team = await dave.get('/orgs/acme/teams/release');
  assert.equal(team.status, 200);
  assert.match(team.text, /<td>dave<\/td>\s*<td>manual<\/td>/);
  // Group names are escaped like every other value.
  assert.ok(team.text.includes('<code>&lt;releasers&gt;</code>'), team.text);
  const eve = await client('eve');
  assert.equal((await eve.get('/orgs/acme')).status, 404);
  assert.equal((await eve.get('/orgs/acme/teams/release')).status, 404);
  assert.equal((await new WebClient(server.url).get('/orgs/acme')).status, 303);
});

test('transfer through the form: a maintainer is refused with why; an owner of both moves it', async () => {
  const dave = await client('dave');
  await dave.get('/orgs/acme');
  const refused = await dave.post('/orgs/acme/transfer', { project: 'carol-tool' });
  assert.equal(refused.status, 403);
  assert.match(refused.text, /takes an owner of both the project and the organisation/);
  assert.equal((await server.services.projects.find('carol-tool'))!.organization_id, null);
  const carol = await client('carol');
  await carol.get('/orgs/acme');
  const done = await carol.post('/orgs/acme/transfer', { project: 'carol-tool' });
  assert.equal(done.status, 303);
  assert.equal(done.location, '/orgs/acme');
  assert.match((await carol.get('/orgs/acme')).text, /carol-tool/);
  const empty = await carol.post('/orgs/acme/transfer', { project: '' });
  assert.equal(empty.status, 400);
});

/** What the organisation holds now, through the service (not the page under test). */
async function state(): Promise<string> {
  return JSON.stringify(await server.services.orgs.view(OPERATOR, 'acme'));
}

const FORM = /<form method="post" action="\/orgs\//;

test('an owner sees the forms; a member sees the pages without any', async () => {
  const carol = await client('carol');
  const org = (await carol.get('/orgs/acme')).text;
  for (const id of ['member-form', 'team-form', 'transfer-form'])
    assert.ok(org.includes(`id="${id}"`), id);
  assert.ok(org.includes('action="/orgs/acme/members/remove"'));
  const team = (await carol.get('/orgs/acme/teams/release')).text;
  for (const id of ['team-member-form', 'team-role-form', 'group-form'])
    assert.ok(team.includes(`id="${id}"`), id);
  for (const action of ['members/remove', 'roles/remove', 'groups/remove', 'remove'])
    assert.ok(team.includes(`action="/orgs/acme/teams/release/${action}"`), action);
  const dave = await client('dave');
  assert.doesNotMatch((await dave.get('/orgs/acme')).text, FORM);
  assert.doesNotMatch((await dave.get('/orgs/acme/teams/release')).text, FORM);
});

test('members: add, change the role, remove; refused to a member and for bad input', async () => {
  const carol = await client('carol');
  await carol.get('/orgs/acme');
  const added = await carol.post('/orgs/acme/members', { username: 'frank', role: 'member' });
  assert.equal(added.status, 303);
  assert.equal(added.location, '/orgs/acme');
  const page = await carol.get('/orgs/acme');
  assert.match(page.text, /<td>frank<\/td>\s*<td>member<\/td>/);
  assert.match(page.text, /frank is now member of acme\./);
  assert.equal(
    (await carol.post('/orgs/acme/members', { username: 'frank', role: 'owner' })).status,
    303,
  );
  assert.match((await carol.get('/orgs/acme')).text, /<td>frank<\/td>\s*<td>owner<\/td>/);

  const dave = await client('dave');
  await dave.get('/orgs/acme');
  let before = await state();
  for (const [path, fields] of [
    ['/orgs/acme/members', { username: 'dave', role: 'owner' }],
    ['/orgs/acme/members/remove', { username: 'frank' }],
  ] as const) {
    const r = await dave.post(path, fields);
    assert.equal(r.status, 403, path);
    assert.match(r.text, /You are not an owner of organisation &#39;acme&#39;/);
    assert.doesNotMatch(r.text, FORM);
  }
  assert.equal(await state(), before);

  const unknown = await carol.post('/orgs/acme/members', { username: '<nobody>', role: 'member' });
  assert.equal(unknown.status, 404);
  assert.ok(unknown.text.includes('No user named &#39;&lt;nobody&gt;&#39;'), unknown.text);
  assert.ok(unknown.text.includes('value="&lt;nobody&gt;"'), 'what was typed is kept, escaped');
  const badRole = await carol.post('/orgs/acme/members', { username: 'frank', role: 'admin' });
  assert.equal(badRole.status, 400);
  assert.match(badRole.text, /Unknown organisation role &#39;admin&#39;: use owner or member/);
  const stranger = await carol.post('/orgs/acme/members/remove', { username: 'eve' });
  assert.equal(stranger.status, 404);
  assert.match(stranger.text, /&#39;eve&#39; is not a member of &#39;acme&#39;/);
  assert.equal(await state(), before);

  assert.equal((await carol.post('/orgs/acme/members/remove', { username: 'frank' })).status, 303);
  assert.doesNotMatch((await carol.get('/orgs/acme')).text, /<td>frank<\/td>/);
  before = await state();
  const last = await carol.post('/orgs/acme/members', { username: 'carol', role: 'member' });
  assert.equal(last.status, 400);
  assert.match(last.text, /&#39;acme&#39; must keep at least one owner/);
  assert.equal(await state(), before);
});

test('teams: create, members, roles, group mappings, remove; refused to a member and for bad input', async () => {
  const s = server.services;
  const carol = await client('carol');
  await carol.get('/orgs/acme');
  const created = await carol.post('/orgs/acme/teams', { team: 'docs' });
  assert.equal(created.status, 303);
  assert.equal(created.location, '/orgs/acme/teams/docs');
  assert.match((await carol.get('/orgs/acme')).text, /href="\/orgs\/acme\/teams\/docs">docs<\/a>/);

  let before = await state();
  const taken = await carol.post('/orgs/acme/teams', { team: 'DOCS' });
  assert.equal(taken.status, 409);
  assert.match(taken.text, /has a team named &#39;DOCS&#39;/);
  const badName = await carol.post('/orgs/acme/teams', { team: 'no spaces' });
  assert.equal(badName.status, 400);
  assert.match(badName.text, /class="form-error"/);
  assert.equal(await state(), before);

  const base = '/orgs/acme/teams/docs';
  await carol.get(base);
  assert.equal((await carol.post(`${base}/members`, { username: 'frank' })).status, 303);
  assert.equal(
    (await carol.post(`${base}/roles`, { project: 'acme-lib', role: 'owner' })).status,
    303,
  );
  assert.equal(
    (await carol.post(`${base}/groups`, { provider: 'corp', group: 'writers' })).status,
    303,
  );
  const shown = await carol.get(base);
  assert.match(shown.text, /<td>frank<\/td>\s*<td>manual<\/td>/);
  assert.match(shown.text, /<td>acme-lib<\/td>\s*<td>owner<\/td>/);
  assert.match(shown.text, /<code>corp<\/code>: <code>writers<\/code>/);
  assert.match(shown.text, /Group writers of corp now maps to team docs\./);

  before = await state();
  const refusals: [string, Record<string, string>, number, RegExp][] = [
    [`${base}/members`, { username: 'nobody' }, 404, /No user named &#39;nobody&#39;/],
    [
      `${base}/members`,
      { username: 'frank' },
      409,
      /&#39;frank&#39; is in team &#39;docs&#39; already/,
    ],
    [
      `${base}/members/remove`,
      { username: 'eve' },
      404,
      /&#39;eve&#39; is not in team &#39;docs&#39;/,
    ],
    [
      `${base}/roles`,
      { project: 'outside-lib', role: 'maintainer' },
      400,
      /Project &#39;outside-lib&#39; does not belong to &#39;acme&#39;: transfer it to the organisation first/,
    ],
    [`${base}/roles`, { project: 'acme-lib', role: 'admin' }, 400, /Unknown role &#39;admin&#39;/],
    [
      `${base}/roles/remove`,
      { project: 'outside-lib' },
      404,
      /has no role in &#39;outside-lib&#39;/,
    ],
    [
      `${base}/groups`,
      { provider: 'corp', group: 'writers' },
      409,
      /maps to team &#39;docs&#39; already/,
    ],
    [`${base}/groups/remove`, { provider: 'corp', group: 'readers' }, 404, /does not map to team/],
  ];
  for (const [path, fields, status, message] of refusals) {
    const r = await carol.post(path, fields);
    assert.equal(r.status, status, `${path} ${JSON.stringify(fields)}`);
    assert.match(r.text, message);
    assert.match(r.text, /class="form-error"/);
  }
  assert.equal(await state(), before);

  const dave = await client('dave');
  await dave.get(base);
  for (const [path, fields] of [
    [`${base}/members`, { username: 'dave' }],
    [`${base}/members/remove`, { username: 'frank' }],
    [`${base}/roles`, { project: 'acme-lib', role: 'owner' }],
    [`${base}/roles/remove`, { project: 'acme-lib' }],
    [`${base}/groups`, { provider: 'corp', group: 'dave-group' }],
    [`${base}/groups/remove`, { provider: 'corp', group: 'writers' }],
    [`${base}/remove`, {}],
    ['/orgs/acme/teams', { team: 'daves' }],
    // Bad input from a member is refused as a member's, before the input is looked at.
    ['/orgs/acme/teams', { team: 'no spaces' }],
    ['/orgs/acme/members', { username: 'dave', role: 'admin' }],
    [`${base}/groups`, { provider: '', group: '' }],
  ] as const) {
    const r = await dave.post(path, fields);
    assert.equal(r.status, 403, path);
    assert.match(r.text, /You are not an owner of organisation &#39;acme&#39;/);
  }
  assert.equal(await state(), before);
  // A stranger's POST answers as missing, like the pages.
  const eve = await client('eve');
  await eve.get('/account');
  assert.equal((await eve.post(`${base}/members`, { username: 'eve' })).status, 404);
  assert.equal(await state(), before);

  assert.equal((await carol.post(`${base}/members/remove`, { username: 'frank' })).status, 303);
  assert.equal((await carol.post(`${base}/roles/remove`, { project: 'acme-lib' })).status, 303);
  assert.equal(
    (await carol.post(`${base}/groups/remove`, { provider: 'corp', group: 'writers' })).status,
    303,
  );
  const emptied = await s.orgs.teamDetail(OPERATOR, 'acme', 'docs');
  assert.deepEqual([emptied.members, emptied.projects, emptied.groups], [[], [], []]);

  const removed = await carol.post(`${base}/remove`, {});
  assert.equal(removed.status, 303);
  assert.equal(removed.location, '/orgs/acme');
  assert.equal((await carol.get(base)).status, 404);
  assert.doesNotMatch((await carol.get('/orgs/acme')).text, /teams\/docs/);
});
