// @backends: runs on the embedded default and on PostgreSQL with S3.
// Organisations over the REST API (/api/orgs…) and the `pier org` / `pier team` commands: the
// whole round of an organisation's life through each, who may do it, bad input refused with a
// clear error and nothing changed, and the audit log naming the actor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPier, startServer, type TestServer } from '../support/server.js';
import { countRows } from '../support/snapshot.js';
import type { Database } from '../../src/db/schema.js';

let server: TestServer;
let rootToken: string;
let carolToken: string; // admin-scoped: becomes the owner of acme
let carolUpload: string;
let daveToken: string;

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

async function snapshot() {
  const tables: (keyof Database)[] = [
    'organizations',
    'organization_members',
    'teams',
    'team_members',
    'team_project_roles',
    'group_team_mappings',
    'audit_events',
    'projects',
  ];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = await countRows(server.services, t);
  return out;
}

before(async () => {
  server = await startServer();
  rootToken = await server.userWithToken('root', { admin: true, scope: 'admin' });
  carolToken = await server.userWithToken('carol', { mayCreateProjects: true, scope: 'admin' });
  carolUpload = await server.userWithToken('carol');
  daveToken = await server.userWithToken('dave', { scope: 'admin' });
});

after(() => server.close());

test('the REST API: create, members, teams, roles, groups, transfer', async () => {
  const created = await api('POST', '/api/orgs', rootToken, { name: 'Acme', owner: 'carol' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.members, [{ user: 'carol', role: 'owner' }]);
  assert.equal((await api('POST', '/api/projects', carolToken, { name: 'acme-lib' })).status, 201);
  const moved = await api('POST', '/api/projects/acme-lib/transfer', carolToken, {
    organization: 'acme',
  });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.deepEqual(moved.body.projects, ['acme-lib']);
  assert.equal(
    (await api('POST', '/api/orgs/acme/teams', carolToken, { name: 'release' })).status,
    201,
  );
  const member = await api('PUT', '/api/orgs/acme/teams/release/members/dave', carolToken);
  assert.equal(member.status, 200, JSON.stringify(member.body));
  const role = await api('PUT', '/api/orgs/acme/teams/release/projects/acme-lib', carolToken, {
    role: 'maintainer',
  });
  assert.deepEqual(role.body.projects, [{ project: 'acme-lib', role: 'maintainer' }]);
  const group = await api('POST', '/api/orgs/acme/teams/release/groups', carolToken, {
    provider: 'corp',
    group: 'releasers',
  });
  assert.equal(group.status, 201);
  assert.deepEqual(group.body.groups, [{ provider: 'corp', group: 'releasers' }]);
  // dave now sees the organisation (a team member), but may not change it.
  const seen = await api('GET', '/api/orgs/acme', daveToken);
  assert.equal(seen.status, 200);
  assert.deepEqual(
    seen.body.teams[0].members.map((m: any) => m.user),
    ['dave'],
  );
  assert.deepEqual((await api('GET', '/api/orgs', daveToken)).body, { organizations: ['Acme'] });
  const before = await snapshot();
  const refusals: [string, string, string | null, unknown, number][] = [
    ['POST', '/api/orgs', carolToken, { name: 'globex', owner: 'carol' }, 403],
    ['POST', '/api/orgs', rootToken, { name: 'carol', owner: 'carol' }, 409],
    ['POST', '/api/orgs', rootToken, { name: 'bad name', owner: 'carol' }, 400],
    ['POST', '/api/orgs', rootToken, { name: 'globex' }, 400],
    ['POST', '/api/orgs', rootToken, ['globex'], 400],
    ['PUT', '/api/orgs/acme/members/dave', daveToken, { role: 'owner' }, 403],
    ['PUT', '/api/orgs/acme/members/dave', carolToken, { role: 'boss' }, 400],
    ['PUT', '/api/orgs/acme/members/nobody', carolToken, { role: 'member' }, 404],
    ['POST', '/api/orgs/acme/teams', daveToken, { name: 'x' }, 403],
    ['PUT', '/api/orgs/acme/teams/release/projects/acme-lib', carolToken, { role: 'god' }, 400],
    ['PUT', '/api/orgs/acme/teams/nope/members/dave', carolToken, undefined, 404],
    ['POST', '/api/orgs/acme/teams/release/groups', carolToken, { provider: 'corp' }, 400],
    // An upload-scoped token of an owner does not administer the organisation.
    ['POST', '/api/orgs/acme/teams', carolUpload, { name: 'x' }, 403],
    ['GET', '/api/orgs/globex', rootToken, undefined, 404],
    ['GET', '/api/orgs/acme', null, undefined, 401],
  ];
  for (const [method, path, token, body, status] of refusals) {
    const res = await api(method, path, token, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.equal(typeof res.body?.message, 'string', `${method} ${path} says why`);
  }
  assert.deepEqual(await snapshot(), before, 'refusals change nothing');
  const audit = await api('GET', '/api/audit?limit=10', rootToken);
  const actions = audit.body.events.map((e: any) => [e.action, e.actor]);
  for (const want of [
    ['org-create', 'root (token 1)'],
    ['project-transfer', 'carol (token 2)'],
    ['team-create', 'carol (token 2)'],
    ['team-member-add', 'carol (token 2)'],
    ['team-role-set', 'carol (token 2)'],
    ['group-mapping-add', 'carol (token 2)'],
  ])
    assert.ok(
      actions.some((a: string[]) => a[0] === want[0] && a[1] === want[1]),
      `${want[0]} by ${want[1]} in ${JSON.stringify(actions)}`,
    );
  // Undo it all.
  assert.equal(
    (
      await api(
        'DELETE',
        '/api/orgs/acme/teams/release/groups?provider=corp&group=releasers',
        carolToken,
      )
    ).body.groups.length,
    0,
  );
  assert.equal(
    (await api('DELETE', '/api/orgs/acme/teams/release/projects/acme-lib', carolToken)).status,
    200,
  );
  assert.equal(
    (await api('DELETE', '/api/orgs/acme/teams/release/members/dave', carolToken)).status,
    200,
  );
  assert.equal((await api('DELETE', '/api/orgs/acme/teams/release', carolToken)).status, 204);
  assert.equal((await api('GET', '/api/orgs/acme', daveToken)).status, 404);
});

test('pier org and pier team, as the operator', async () => {
  const env = server.env();
  const run = async (...args: string[]) => {
    const r = await runPier(args, env);
    assert.equal(r.code, 0, `pier ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  await run('org', 'create', 'globex', '--owner', 'dave');
  await run('team', 'create', 'globex', 'ops');
  await run('team', 'member', 'globex', 'ops', 'carol');
  await run('team', 'group', 'globex', 'ops', '--provider', 'corp', '--group', 'ops');
  await run('org', 'member', 'globex', 'carol', '--role', 'member');
  const shown = JSON.parse((await run('org', 'show', 'globex', '--json')).stdout);
  assert.deepEqual(shown.members, [
    { user: 'carol', role: 'member' },
    { user: 'dave', role: 'owner' },
  ]);
  assert.deepEqual(shown.teams[0].groups, [{ provider: 'corp', group: 'ops' }]);
  const text = (await run('org', 'show', 'globex')).stdout;
  assert.match(text, /team ops\n {2}members: carol \(manual\)/);
  const bad = await runPier(['org', 'member', 'globex', 'carol'], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Give --role owner\|member, or --remove/);
  const last = await runPier(['org', 'member', 'globex', 'dave', '--remove'], env);
  assert.notEqual(last.code, 0);
  assert.match(last.stderr, /must keep at least one owner/);
  const help = await runPier(['org', '--help'], env);
  assert.match(help.stdout, /transfer <project> <name>/);
});
