// @backends: runs on the embedded default and on PostgreSQL with S3.
// The organisation and team pages over HTTP, as a browser without JavaScript uses them: what a
// member sees, what a stranger gets (as missing), and moving a project into the organisation
// through the form — refused with the reason for a maintainer, done for an owner of both.
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
  for (const name of ['carol', 'dave', 'eve']) passwords[name] = await addUser(server, name);
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
