// @backends: runs on the embedded default and on PostgreSQL with S3.
// Organisations and teams against the real services and app: names shared with users, roles
// from teams and organisation ownership in every rule (upload, yank, private reads), real
// twine uploading as a team maintainer and refused once the member is removed, transfers, the
// group → team sync (idempotent, never touching memberships added by hand), and the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { sample } from '../support/fixtures.js';
import { twineUpload } from '../support/python.js';
import { countRows } from '../support/snapshot.js';
import { PierError } from '../../src/errors.js';
import { syncTeamsFromGroups } from '../../src/orgs/groups.js';
import type { Actor } from '../../src/audit/log.js';
import type { Database } from '../../src/db/schema.js';

let server: TestServer;
let ownerToken: string; // carol: owner of the organisation acme
let daveToken: string; // dave: in team release (maintainer of acme-lib)
let eveToken: string; // eve: no organisation at all

async function as(name: string): Promise<Actor> {
  const user = (await server.services.auth.findUser(name))!;
  return { principal: { kind: 'user', user }, ip: null };
}

async function refused(p: Promise<unknown>, status: number, message?: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof PierError, String(err));
    assert.equal(err.status, status, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

async function upload(token: string, name: string, version: string) {
  const w = await makeWheel({ name, version });
  return postUpload(server.url, token, await uploadParts({ ...w, fields: { name, version } }));
}

async function snapshot() {
  const tables: (keyof Database)[] = [
    'organizations',
    'organization_members',
    'teams',
    'team_members',
    'team_project_roles',
    'group_team_mappings',
    'audit_events',
  ];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = await countRows(server.services, t);
  return out;
}

before(async () => {
  server = await startServer();
  ownerToken = await server.userWithToken('carol', { mayCreateProjects: true });
  daveToken = await server.userWithToken('dave');
  eveToken = await server.userWithToken('eve', { mayCreateProjects: true });
  await server.userWithToken('frank');
  const orgs = server.services.orgs;
  await orgs.create(OPERATOR, 'Acme', 'carol');
  await server.services.projects.create(await as('carol'), 'acme-lib');
  await orgs.transferProject(await as('carol'), 'acme-lib', 'acme');
  await orgs.createTeam(await as('carol'), 'acme', 'release');
  await orgs.addTeamMember(await as('carol'), 'acme', 'release', 'dave');
  await orgs.setTeamRole(await as('carol'), 'acme', 'release', 'acme-lib', 'maintainer');
});

after(() => server.close());

test('organisation and user names share one namespace, compared lowercased', async () => {
  const before = await snapshot();
  await refused(server.services.orgs.create(OPERATOR, 'CAROL', 'carol'), 409, /is a user's/);
  await refused(server.services.orgs.create(OPERATOR, 'ACME', 'carol'), 409, /already exists/);
  await refused(
    server.services.auth.addUser(OPERATOR, { username: 'acme', password: 'a-long-password-1' }),
    409,
    /is an organisation's/,
  );
  for (const bad of ['', '-acme', 'ac me', 'a/b', 'x'.repeat(51), 'acme\n'])
    await refused(server.services.orgs.create(OPERATOR, bad, 'carol'), 400, /Invalid organisation/);
  await refused(server.services.orgs.create(OPERATOR, 'globex', 'nobody'), 404);
  // Only administrators create organisations.
  await refused(server.services.orgs.create(await as('carol'), 'globex', 'carol'), 403);
  assert.deepEqual(await snapshot(), before, 'refusals change nothing');
});

test('a team maintainer uploads with twine; a removed member cannot', async () => {
  const { wheel } = sample('sample');
  await server.services.projects.create(await as('carol'), 'pier-sample');
  await server.services.orgs.transferProject(await as('carol'), 'pier-sample', 'acme');
  await server.services.orgs.setTeamRole(
    await as('carol'),
    'acme',
    'release',
    'pier-sample',
    'maintainer',
  );
  const ok = await twineUpload(server.url, [wheel], { username: '__token__', password: daveToken });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  // A stranger's upload is refused.
  const later = sample('later');
  const stranger = await twineUpload(server.url, [later.wheel], {
    username: '__token__',
    password: eveToken,
  });
  assert.notEqual(stranger.code, 0);
  assert.match(stranger.stdout + stranger.stderr, /403/);

  await server.services.orgs.removeMember(await as('carol'), 'acme', 'dave');
  const gone = await twineUpload(server.url, [later.wheel], {
    username: '__token__',
    password: daveToken,
  });
  assert.notEqual(gone.code, 0, gone.stdout);
  assert.match(gone.stdout + gone.stderr, /403/);
  assert.equal(
    await server.services.projects.roleOf(
      (await server.services.auth.findUser('dave'))!.id,
      (await server.services.projects.find('pier-sample'))!.id,
    ),
    null,
  );
  await server.services.orgs.addTeamMember(await as('carol'), 'acme', 'release', 'dave');
});

test('roles from teams and organisation ownership reach every rule; only in the org’s projects', async () => {
  assert.equal((await upload(daveToken, 'acme-lib', '1.0')).status, 200);
  // Organisation owners own every project of it: carol never had a role of her own here after
  // an administrator made acme-admin for the organisation.
  await server.services.projects.create(OPERATOR, 'acme-admin', 'eve');
  await server.services.orgs.transferProject(OPERATOR, 'acme-admin', 'acme');
  assert.equal((await upload(ownerToken, 'acme-admin', '1.0')).status, 200);
  const carol = (await server.services.auth.findUser('carol'))!;
  const acmeAdmin = (await server.services.projects.find('acme-admin'))!;
  assert.equal(await server.services.projects.roleOf(carol.id, acmeAdmin.id), 'owner');
  // A team's role in a project outside its organisation is refused and counts for nothing.
  await server.services.projects.create(await as('eve'), 'eve-tool');
  const before = await snapshot();
  await refused(
    server.services.orgs.setTeamRole(await as('carol'), 'acme', 'release', 'eve-tool', 'owner'),
    400,
    /does not belong/,
  );
  assert.deepEqual(await snapshot(), before);
  assert.equal((await upload(daveToken, 'eve-tool', '1.0')).status, 403);
  // A maintainer from a team yanks but does not administer.
  const dave = await as('dave');
  await refused(
    server.services.projects.update(
      {
        principal: {
          kind: 'token',
          token: { ...(await tokenRow(daveToken)), scope: 'admin' },
          user: dave.principal.kind === 'user' ? dave.principal.user : null,
          projectIds: null,
        },
        ip: null,
      },
      'acme-lib',
      { private: true },
    ),
    403,
  );
  // Private organisation projects are readable through a team role.
  await server.services.projects.update(await as('carol'), 'acme-lib', { private: true });
  const page = await fetch(`${server.url}/simple/acme-lib/`, {
    headers: { authorization: `Bearer ${daveToken}` },
  });
  assert.equal(page.status, 200);
  const strangers = await fetch(`${server.url}/simple/acme-lib/`, {
    headers: { authorization: `Bearer ${eveToken}` },
  });
  assert.equal(strangers.status, 404);
  await server.services.projects.update(await as('carol'), 'acme-lib', { private: false });
  // The JSON API names the owning organisation, as PyPI's `ownership.organization` does.
  const json = (await (await fetch(`${server.url}/pypi/acme-lib/json`)).json()) as any;
  assert.equal(json.ownership.organization, 'Acme');
});

async function tokenRow(raw: string) {
  const r = await server.services.auth.authenticateToken(raw);
  assert.ok(r.ok && r.principal.kind === 'token');
  return r.principal.token;
}

test('who may change an organisation, and moving projects into it', async () => {
  const before = await snapshot();
  // A member who is not an owner, a stranger, and an owner's upload-scoped token cannot.
  await refused(server.services.orgs.createTeam(await as('dave'), 'acme', 'x'), 403);
  await refused(server.services.orgs.createTeam(await as('eve'), 'acme', 'x'), 404);
  await refused(
    server.services.orgs.setMember(await as('dave'), 'acme', 'dave', 'owner'),
    403,
    /not an owner/,
  );
  // The last owner stays.
  await refused(
    server.services.orgs.setMember(await as('carol'), 'acme', 'carol', 'member'),
    400,
    /keep at least one owner/,
  );
  await refused(server.services.orgs.removeMember(await as('carol'), 'acme', 'carol'), 400);
  await refused(server.services.auth.removeUser(OPERATOR, 'carol'), 409, /organisation 'Acme'/);
  // Moving eve's project into acme takes an owner of both.
  await refused(server.services.orgs.transferProject(await as('carol'), 'eve-tool', 'acme'), 403);
  await refused(server.services.orgs.transferProject(await as('eve'), 'eve-tool', 'acme'), 404);
  await refused(
    server.services.orgs.createTeam(await as('carol'), 'acme', 'Release'),
    409,
    /has a team/,
  );
  await refused(server.services.orgs.createTeam(await as('carol'), 'acme', 'no good'), 400);
  assert.deepEqual(await snapshot(), before, 'refusals change nothing');
  await server.services.orgs.setMember(await as('carol'), 'acme', 'eve', 'owner');
  await server.services.orgs.transferProject(await as('eve'), 'eve-tool', 'acme');
  const view = await server.services.orgs.view(await as('dave'), 'acme');
  assert.deepEqual(view.projects, ['acme-admin', 'acme-lib', 'eve-tool', 'pier-sample']);
  assert.deepEqual(view.members, [
    { user: 'carol', role: 'owner' },
    { user: 'eve', role: 'owner' },
  ]);
  assert.deepEqual(
    view.teams.map((t) => [t.name, t.members, t.projects]),
    [
      [
        'release',
        [{ user: 'dave', sources: ['manual'] }],
        [
          { project: 'acme-lib', role: 'maintainer' },
          { project: 'pier-sample', role: 'maintainer' },
        ],
      ],
    ],
  );
  await server.services.orgs.removeMember(await as('carol'), 'acme', 'eve');
  // Her own role stays: she remains owner of the project she brought.
  const eve = (await server.services.auth.findUser('eve'))!;
  const tool = (await server.services.projects.find('eve-tool'))!;
  assert.equal(await server.services.projects.roleOf(eve.id, tool.id), 'owner');
  assert.equal(tool.organization_id !== null, true);
  const audit = await server.services.db.kysely
    .selectFrom('audit_events')
    .select(['action', 'actor', 'project_name', 'details_json'])
    .where('action', 'in', ['project-transfer', 'org-member-set', 'org-member-remove'])
    .orderBy('id')
    .execute();
  assert.deepEqual(
    audit.slice(-3).map((a) => [a.action, a.actor, a.project_name]),
    [
      ['org-member-set', 'carol', null],
      ['project-transfer', 'eve', 'eve-tool'],
      ['org-member-remove', 'carol', null],
    ],
  );
  assert.deepEqual(JSON.parse(audit.at(-2)!.details_json), {
    organization: 'Acme',
    previous: null,
  });
  // Changing a role changes the one row: eve (back) as member, then owner, a team's role in a project.
  await server.services.orgs.setMember(await as('carol'), 'acme', 'eve', 'member');
  assert.deepEqual((await server.services.orgs.view(await as('carol'), 'acme')).members, [
    { user: 'carol', role: 'owner' },
    { user: 'eve', role: 'member' },
  ]);
  await server.services.orgs.setMember(await as('carol'), 'acme', 'eve', 'owner');
  await server.services.orgs.setTeamRole(
    await as('carol'),
    'acme',
    'release',
    'pier-sample',
    'owner',
  );
  const teams = (await server.services.orgs.view(await as('carol'), 'acme')).teams;
  assert.deepEqual(teams[0]!.projects, [
    { project: 'acme-lib', role: 'maintainer' },
    { project: 'pier-sample', role: 'owner' },
  ]);
  const roleSet = await server.services.db.kysely
    .selectFrom('audit_events')
    .select('details_json')
    .where('action', '=', 'team-role-set')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  assert.equal(JSON.parse(roleSet.details_json).previous, 'maintainer');
  await server.services.orgs.setTeamRole(
    await as('carol'),
    'acme',
    'release',
    'pier-sample',
    'maintainer',
  );
});

test('syncTeamsFromGroups: equal to the mapped set, idempotent, hand-added memberships kept', async () => {
  const orgs = server.services.orgs;
  const carol = await as('carol');
  await orgs.createTeam(carol, 'acme', 'ops');
  await orgs.mapGroup(carol, 'acme', 'ops', 'corp-sso', 'ops-people');
  await orgs.mapGroup(carol, 'acme', 'release', 'corp-sso', 'releasers');
  await orgs.mapGroup(carol, 'acme', 'release', 'other-idp', 'releasers');
  await refused(orgs.mapGroup(carol, 'acme', 'ops', 'corp-sso', 'ops-people'), 409);
  await refused(orgs.mapGroup(carol, 'acme', 'ops', '', 'x'), 400);
  await refused(orgs.mapGroup(carol, 'acme', 'ops', 'corp-sso', 'a\u0000b'), 400);
  await refused(orgs.mapGroup(await as('dave'), 'acme', 'ops', 'corp-sso', 'x'), 403);
  const frank = (await server.services.auth.findUser('frank'))!;
  const dave = (await server.services.auth.findUser('dave'))!;
  const db = server.services.db.kysely;
  const sync = (userId: number, groups: unknown[], provider = 'corp-sso') =>
    syncTeamsFromGroups(db, { userId, provider, groups });

  const first = await sync(frank.id, ['releasers', 'ops-people', 'unknown-group', 'releasers']);
  assert.deepEqual(first, {
    added: ['Acme/ops', 'Acme/release'],
    removed: [],
    unmapped: ['unknown-group'],
  });
  const frankToken = await server.userWithToken('frank');
  assert.equal((await upload(frankToken, 'acme-lib', '2.0')).status, 200);
  // Signing in again with the same groups changes nothing and records nothing.
  const audit = await countRows(server.services, 'audit_events');
  assert.deepEqual(await sync(frank.id, ['ops-people', 'releasers']), {
    added: [],
    removed: [],
    unmapped: [],
  });
  assert.equal(await countRows(server.services, 'audit_events'), audit);
  // Leaving a group leaves its team; the other provider's and hand-added memberships stay.
  await sync(frank.id, ['releasers'], 'other-idp');
  assert.deepEqual(await sync(frank.id, ['ops-people']), {
    added: [],
    removed: ['Acme/release'],
    unmapped: [],
  });
  assert.equal((await upload(frankToken, 'acme-lib', '2.1')).status, 200, 'other-idp keeps it');
  assert.deepEqual((await sync(frank.id, [], 'other-idp')).removed, ['Acme/release']);
  assert.equal((await upload(frankToken, 'acme-lib', '2.2')).status, 403);
  // dave was added by hand: a sign-in without the group leaves him in the team.
  await sync(dave.id, ['releasers']);
  assert.deepEqual(await sync(dave.id, []), { added: [], removed: ['Acme/release'], unmapped: [] });
  assert.equal((await upload(daveToken, 'acme-lib', '3.0')).status, 200);
  // Removing a membership that only comes from groups is refused with why.
  await sync(frank.id, ['releasers']);
  await refused(
    orgs.removeTeamMember(carol, 'acme', 'release', 'frank'),
    409,
    /through the groups of corp-sso/,
  );
  // Malformed claims are refused and change nothing.
  const before = await snapshot();
  for (const bad of [[42], [''], ['a\nb'], [null], ['x'.repeat(257)], Array(1001).fill('g')])
    await refused(sync(frank.id, bad), 400);
  await refused(sync(frank.id, ['releasers'], ''), 400);
  await refused(sync(987654, ['releasers']), 404);
  assert.deepEqual(await snapshot(), before);
  const events = await db
    .selectFrom('audit_events')
    .select(['actor', 'details_json'])
    .where('action', '=', 'team-sync')
    .orderBy('id')
    .execute();
  assert.equal(events[0]!.actor, 'frank (sign-in through corp-sso)');
  assert.deepEqual(JSON.parse(events[0]!.details_json), {
    user: 'frank',
    provider: 'corp-sso',
    added: ['Acme/ops', 'Acme/release'],
    removed: [],
  });
  const view = await orgs.teamDetail(carol, 'acme', 'release');
  assert.deepEqual(view.members, [
    { user: 'dave', sources: ['manual'] },
    { user: 'frank', sources: ['corp-sso'] },
  ]);
  assert.deepEqual(view.groups, [
    { provider: 'corp-sso', group: 'releasers' },
    { provider: 'other-idp', group: 'releasers' },
  ]);
});
