// @backends: runs on the embedded default and on PostgreSQL with S3.
// Organisation-wide trusted publishers: one publisher, registered by an administrator on an
// organisation, trusts a job (a token from `pier dev-oidc`) for every project the organisation
// owns whose normalized name matches a pattern at the time of the exchange. Each attack is a
// case: an organisation owner registering one, a pattern reaching another organisation's (or a
// user's) project, a project moved out of the organisation after the mint, a project publisher
// of another user matching the same job, a pattern matching nothing, a removed publisher.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { RELEASE_JOB, RELEASE_JOB_FIELDS, startDevOidcProcess } from '../support/dev-oidc.js';
import type { DevOidcProcess } from '../support/dev-oidc.js';
import { sample } from '../support/fixtures.js';
import { twineUpload } from '../support/python.js';
import { PierError } from '../../src/errors.js';
import type { Actor } from '../../src/audit/log.js';
import { WebClient } from '../web/helpers.js';
import { postMintToken } from '../support/mint.js';

let server: TestServer;
let dev: DevOidcProcess;
let adminToken: string;
let carolToken: string;

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

async function jobToken(): Promise<string> {
  const audience = new URL(server.url).host;
  const res = await fetch(
    `${dev.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`,
    { headers: { authorization: `bearer ${dev.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } },
  );
  assert.equal(res.status, 200);
  return ((await res.json()) as { value: string }).value;
}

const mint = async () => postMintToken(server.url, await jobToken());

/** The projects a minted token lists, each with the publisher that granted it. */
async function grants(raw: string): Promise<Record<string, number | null>> {
  const { hashToken } = await import('../../src/auth/tokens.js');
  const rows = await server.services.db.kysely
    .selectFrom('tokens')
    .innerJoin('token_projects', 'token_projects.token_id', 'tokens.id')
    .innerJoin('projects', 'projects.id', 'token_projects.project_id')
    .select(['projects.normalized_name', 'token_projects.publisher_id'])
    .where('tokens.token_hash', '=', hashToken(raw))
    .orderBy('projects.normalized_name')
    .execute();
  return Object.fromEntries(
    rows.map((r) => [r.normalized_name, r.publisher_id === null ? null : Number(r.publisher_id)]),
  );
}

const job = (extra: Record<string, string> = {}) => ({
  kind: 'github',
  fields: { ...RELEASE_JOB_FIELDS, ...extra },
  issuerUrl: dev.url,
});

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as any) };
}

before(async () => {
  [server, dev] = await Promise.all([startServer(), startDevOidcProcess(RELEASE_JOB)]);
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: dev.url, insecure: true });
  adminToken = await server.userWithToken('root', { admin: true, scope: 'admin' });
  carolToken = await server.userWithToken('carol', { mayCreateProjects: true, scope: 'admin' });
  for (const name of ['bob', 'eve']) await server.userWithToken(name, { mayCreateProjects: true });
  await server.services.orgs.create(OPERATOR, 'acme', 'carol');
  await server.services.orgs.create(OPERATOR, 'beta', 'bob');
  const carol = await as('carol');
  for (const name of ['pier-sample', 'pier-other', 'Pier_Docs', 'notpier']) {
    await server.services.projects.create(carol, name);
    await server.services.orgs.transferProject(carol, name, 'acme');
  }
  const bob = await as('bob');
  await server.services.projects.create(bob, 'pier-beta');
  await server.services.orgs.transferProject(bob, 'pier-beta', 'beta');
  await server.services.projects.create(await as('eve'), 'pier-eve');
});

after(async () => {
  await dev?.stop();
  await server?.close();
});

test('registering: administrators only, a clear error for a bad pattern or link option', async () => {
  const pubs = server.services.publishers;
  // An owner of the organisation may not: the publisher would reach projects moved in later.
  await refused(pubs.addOrganizationWide(await as('carol'), 'acme', job(), 'pier-*'), 403);
  await refused(pubs.addOrganizationWide(await as('eve'), 'acme', job(), 'pier-*'), 403);
  await refused(pubs.addOrganizationWide(OPERATOR, 'nosuch', job(), 'pier-*'), 404);
  for (const bad of ['', '   ', 'pier/*', 'pier-[ab]', '../x'])
    await refused(pubs.addOrganizationWide(OPERATOR, 'acme', job(), bad), 400, /pattern/);
  await refused(
    pubs.addOrganizationWide(OPERATOR, 'acme', { ...job(), access: 'read' }, 'pier-*'),
    400,
    /uploads/,
  );
  await refused(
    pubs.addOrganizationWide(OPERATOR, 'acme', { ...job(), stageOnly: true }, 'pier-*'),
    400,
    /stage only/,
  );
  // Through the REST API: an organisation owner's admin token is refused, an administrator's not.
  const body = { provider: 'github', issuer: dev.url, ...RELEASE_JOB_FIELDS, projects: 'Pier_*' };
  const denied = await api('POST', '/api/orgs/acme/publishers', carolToken, body);
  assert.equal(denied.status, 403, JSON.stringify(denied.body));
  const made = await api('POST', '/api/orgs/acme/publishers', adminToken, body);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.deepEqual(made.body.organizationWide, { organization: 'acme', projects: 'pier-*' });
  assert.deepEqual(made.body.projects, []);
  const again = await api('POST', '/api/orgs/acme/publishers', adminToken, body);
  assert.equal(again.status, 409, JSON.stringify(again.body));
  const events = await server.services.db.kysely
    .selectFrom('audit_events')
    .select(['action', 'details_json'])
    .where('action', 'in', ['org-publisher-add', 'org-publisher-remove'])
    .execute();
  assert.equal(events.length, 1);
  assert.match(events[0]!.details_json, /"organization":"acme".*"projects":"pier-\*"/);
  // Only from the organisation it is registered on, and only by an administrator.
  assert.equal(
    (await api('DELETE', `/api/orgs/beta/publishers/${made.body.id}`, adminToken)).status,
    404,
  );
  assert.equal(
    (await api('DELETE', `/api/orgs/acme/publishers/${made.body.id}`, carolToken)).status,
    403,
  );
  await refused(server.services.publishers.remove(await as('carol'), made.body.id), 403);
  const gone = await api('DELETE', `/api/orgs/acme/publishers/${made.body.id}`, adminToken);
  assert.equal(gone.status, 204);
});

test('the token covers the organisation’s matching projects only; twine uploads into one with no publisher of its own', async () => {
  const pub = await server.services.publishers.addOrganizationWide(
    OPERATOR,
    'acme',
    job(),
    'pier-*',
  );
  const minted = await mint();
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  // Not notpier (the pattern), not pier-beta (another organisation), not pier-eve (a user's).
  assert.deepEqual(await grants(minted.body.token), {
    'pier-docs': pub.id,
    'pier-other': pub.id,
    'pier-sample': pub.id,
  });
  const publishers = await server.services.db.kysely
    .selectFrom('publisher_projects')
    .select('project_id')
    .execute();
  assert.deepEqual(publishers, [], 'no project has a publisher of its own');
  const up = await twineUpload(server.url, [sample('sample').wheel], {
    username: '__token__',
    password: minted.body.token,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const file = await server.services.db.kysely
    .selectFrom('files')
    .innerJoin('projects', 'projects.id', 'files.project_id')
    .select(['projects.name'])
    .where('projects.normalized_name', '=', 'pier-sample')
    .execute();
  assert.equal(file.length, 1);
  // Published at once, not staged: the publisher has no link, and the project stages nothing.
  const json = (await (await fetch(`${server.url}/pypi/pier-sample/json`)).json()) as any;
  assert.equal(json.info.version, '1.0.0');
  assert.equal(json.urls.length, 1);

  // A project moved out of the organisation after the mint: the token no longer covers it.
  await server.services.orgs.transferProject(OPERATOR, 'pier-other', 'beta');
  const moved = await twineUpload(server.url, [sample('other').wheel], {
    username: '__token__',
    password: minted.body.token,
  });
  assert.notEqual(moved.code, 0, 'a moved project is refused');
  assert.match(moved.stdout + moved.stderr, /403/);
  const next = await mint();
  assert.equal(next.status, 200, JSON.stringify(next.body));
  assert.deepEqual(await grants(next.body.token), {
    'pier-docs': pub.id,
    'pier-sample': pub.id,
  });
  // Moving it back makes it the publisher's again at the next exchange.
  await server.services.orgs.transferProject(OPERATOR, 'pier-other', 'acme');

  // Removing the publisher: its tokens stop working at once.
  await server.services.publishers.remove(OPERATOR, pub.id);
  const afterRemoval = await twineUpload(server.url, [sample('later').wheel], {
    username: '__token__',
    password: next.body.token,
  });
  assert.notEqual(afterRemoval.code, 0, 'a removed publisher’s token is refused');
  assert.match(afterRemoval.stdout + afterRemoval.stderr, /403/);
});

test('an organisation-wide publisher and another user’s project publisher of one job: each covers its own', async () => {
  const orgWide = await server.services.publishers.addOrganizationWide(
    OPERATOR,
    'acme',
    job({ environment: 'release' }),
    'pier-s*',
  );
  const eve = await as('eve');
  const eves = await server.services.publishers.add(eve, 'pier-eve', job());
  const minted = await mint();
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  assert.deepEqual(await grants(minted.body.token), {
    'pier-eve': eves.id,
    'pier-sample': orgWide.id,
  });
  // eve's publisher gains nothing of acme's; a pattern reaching into beta is not beta's either.
  const wide = await server.services.publishers.addOrganizationWide(
    OPERATOR,
    'acme',
    job({ environment: 'release' }),
    'pier-beta',
  );
  const again = await mint();
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal((await grants(again.body.token))['pier-beta'], undefined);
  await server.services.publishers.remove(OPERATOR, wide.id);
  await server.services.publishers.remove(eve, eves.id, 'pier-eve');
  await server.services.publishers.remove(OPERATOR, orgWide.id);
});

test('a pattern matching none of the organisation’s projects mints a clear error, not an empty token', async () => {
  // pier-beta matches, but is beta's: the acme publisher covers nothing.
  const pub = await server.services.publishers.addOrganizationWide(
    OPERATOR,
    'acme',
    job(),
    'pier-beta*',
  );
  const tokensBefore = await server.services.db.kysely
    .selectFrom('tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const minted = await mint();
  assert.equal(minted.status, 422, JSON.stringify(minted.body));
  assert.equal(minted.body.errors[0].code, 'invalid-publisher');
  assert.match(
    minted.body.errors[0].description,
    /organisation-wide publisher \d+ of 'acme' covers no project: none of the organisation's projects matches 'pier-beta\*'/,
  );
  const tokensAfter = await server.services.db.kysely
    .selectFrom('tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(Number(tokensAfter.n), Number(tokensBefore.n), 'no token minted');
  await server.services.publishers.remove(OPERATOR, pub.id);
});

test('pier publisher add --org ORG --projects GLOB (no project): lists and removes it', async () => {
  const args = [
    '--provider',
    'github',
    '--repository',
    'octo-org/octo-repo',
    '--workflow',
    'release.yml',
    '--owner-id',
    '65',
    '--issuer',
    dev.url,
  ];
  const bad = await runPier(['publisher', 'add', '--projects', 'pier-*', ...args], server.env());
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--org ORG/);
  const withProject = await runPier(
    ['publisher', 'add', 'pier-sample', '--projects', 'pier-*', ...args],
    server.env(),
  );
  assert.notEqual(withProject.code, 0);
  assert.match(withProject.stderr, /--projects is for an organisation-wide publisher/);
  const added = await runPier(
    ['publisher', 'add', '--org', 'acme', '--projects', 'Pier_S*', ...args],
    server.env(),
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /organisation-wide: every project of 'acme' matching 'pier-s\*'/);
  const id = Number(/added trusted publisher (\d+)/.exec(added.stderr)![1]);
  const list = await runPier(['publisher', 'list', '--json'], server.env());
  const views = JSON.parse(list.stdout) as any[];
  assert.deepEqual(views.find((v) => v.id === id)?.organizationWide, {
    organization: 'acme',
    projects: 'pier-s*',
  });
  const partial = await runPier(
    ['publisher', 'remove', String(id), '--project', 'pier-sample'],
    server.env(),
  );
  assert.notEqual(partial.code, 0);
  assert.match(partial.stderr, /organisation-wide/);
  const removed = await runPier(['publisher', 'remove', String(id)], server.env());
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(
    await server.services.db.kysely
      .selectFrom('publishers')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst(),
    undefined,
  );
});

test('owners of a covered project see the organisation-wide publisher on its publishing page', async () => {
  const pub = await server.services.publishers.addOrganizationWide(
    OPERATOR,
    'acme',
    job(),
    'pier-s*',
  );
  const carol = await as('carol');
  const covering = await server.services.publishers.organizationWideFor(carol, 'pier-sample');
  assert.deepEqual(
    covering.map((p) => p.id),
    [pub.id],
  );
  assert.deepEqual(await server.services.publishers.organizationWideFor(carol, 'notpier'), []);
  await refused(
    server.services.publishers.organizationWideFor(await as('bob'), 'pier-sample'),
    403,
  );
  const web = new WebClient(server.url);
  await web.signIn('carol', 'carol-password');
  const page = await web.get('/manage/project/pier-sample/publishing/');
  assert.equal(page.status, 200);
  assert.match(
    page.text,
    /id="org-wide-publishers"[\s\S]*acme<\/strong> projects matching\s*<code>pier-s\*<\/code>/,
  );
  const other = await web.get('/manage/project/notpier/publishing/');
  assert.equal(other.status, 200);
  assert.doesNotMatch(other.text, /org-wide-publishers/);
  await server.services.publishers.remove(OPERATOR, pub.id);
});
