// @backends: runs on the embedded default and on PostgreSQL with S3.
// Pending publishers of an organisation: a job's token from `pier dev-oidc` creates a project
// owned by the organisation (no personal owner) and real twine uploads with the minted token.
// Each attack is a case: a member who is not an owner, a stranger, a rival registrant (user or
// organisation) for the same job, a job that another project's owners trust already, and a
// registrant who is no longer an owner — each refused or unused, creating nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { RELEASE_JOB, RELEASE_JOB_FIELDS, startDevOidcProcess } from '../support/dev-oidc.js';
import type { DevOidcProcess } from '../support/dev-oidc.js';
import { sample } from '../support/fixtures.js';
import { twineUpload } from '../support/python.js';
import { PierError } from '../../src/errors.js';
import { matchPublishers } from '../../src/oidc/exchange.js';
import { githubProvider } from '../../src/oidc/providers/github.js';
import { githubClaims } from '../support/oidc-issuer.js';
import type { Actor } from '../../src/audit/log.js';
import { postMintToken } from '../support/mint.js';

let server: TestServer;
let dev: DevOidcProcess;

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

/** A fresh OIDC token of the release job, as the job would ask `pier dev-oidc` for it. */
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

const job = (extra: Record<string, string> = {}) => ({
  kind: 'github',
  fields: { ...RELEASE_JOB_FIELDS, ...extra },
  issuerUrl: dev.url,
});

before(async () => {
  [server, dev] = await Promise.all([startServer(), startDevOidcProcess(RELEASE_JOB)]);
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: dev.url, insecure: true });
  for (const name of ['carol', 'olga', 'dave', 'eve'])
    await server.userWithToken(name, { mayCreateProjects: true });
  await server.services.orgs.create(OPERATOR, 'acme', 'carol');
  await server.services.orgs.setMember(OPERATOR, 'acme', 'olga', 'owner');
  await server.services.orgs.setMember(OPERATOR, 'acme', 'dave', 'member');
});

after(async () => {
  await dev?.stop();
  await server?.close();
});

test('registering: owners only; a rival registrant for the same job is refused', async () => {
  const pubs = server.services.publishers;
  const opts = { organization: 'acme' };
  await refused(pubs.addPending(await as('dave'), 'pier-other', job(), undefined, opts), 403);
  await refused(pubs.addPending(await as('eve'), 'pier-other', job(), undefined, opts), 404);
  await refused(
    pubs.addPending(await as('carol'), 'pier-other', job(), 'carol', opts),
    400,
    /no personal owner/,
  );
  // eve registers first, for herself: the organisation may not compete for her job…
  const eves = await pubs.addPending(await as('eve'), 'eve-new', job());
  await refused(
    pubs.addPending(
      await as('carol'),
      'pier-other',
      job({ environment: 'release' }),
      undefined,
      opts,
    ),
    409,
    /another user, registered earlier/,
  );
  await pubs.remove(await as('eve'), eves.id);
  // …and the other way round, once the organisation's is registered.
  const org = await pubs.addPending(
    await as('carol'),
    'pier-other',
    job({ environment: 'release' }),
    undefined,
    opts,
  );
  assert.equal(org.pending?.project, 'pier-other');
  await refused(pubs.addPending(await as('eve'), 'eve-new', job()), 409, /registered earlier/);
  // Another owner of the same organisation is the same registrant: not a rival.
  const second = await pubs.addPending(
    await as('olga'),
    'pier-other-docs',
    job({ environment: '' }),
    undefined,
    opts,
  );
  await pubs.remove(await as('carol'), second.id); // an owner removes another owner's
  await refused(pubs.remove(await as('dave'), org.id), 403);
});

test('a job another project trusts already does not create the organisation’s project', async () => {
  const eve = await as('eve');
  await server.services.projects.create(eve, 'eve-lib');
  const pub = await server.services.publishers.add(eve, 'eve-lib', job());
  const minted = await mint();
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  assert.equal(await server.services.projects.find('pier-other'), undefined);
  const notUsed = await server.services.db.kysely
    .selectFrom('audit_events')
    .select('details_json')
    .where('action', '=', 'pending-publisher-not-used')
    .execute();
  assert.match(notUsed.at(-1)!.details_json, /owns none of the projects/);
  await server.services.publishers.remove(eve, pub.id, 'eve-lib');
});

test('a registrant who is no longer an owner creates nothing; then the job creates the org’s project and twine uploads', async () => {
  await server.services.orgs.setMember(OPERATOR, 'acme', 'carol', 'member');
  const refusedMint = await mint();
  assert.equal(refusedMint.status, 422);
  assert.match(refusedMint.body.errors[0].description, /no longer an owner of its organisation/);
  assert.equal(await server.services.projects.find('pier-other'), undefined);
  await server.services.orgs.setMember(OPERATOR, 'acme', 'carol', 'owner');

  const minted = await mint();
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  const project = (await server.services.projects.find('pier-other'))!;
  const acme = (await server.services.orgs.find('acme'))!;
  assert.equal(project.organization_id, acme.id);
  const roles = await server.services.db.kysely
    .selectFrom('project_roles')
    .selectAll()
    .where('project_id', '=', project.id)
    .execute();
  assert.deepEqual(roles, [], 'no person owns it: the organisation does');
  const olga = (await server.services.auth.findUser('olga'))!;
  const dave = (await server.services.auth.findUser('dave'))!;
  assert.equal(await server.services.projects.roleOf(olga.id, project.id), 'owner');
  assert.equal(await server.services.projects.roleOf(dave.id, project.id), null);
  const { wheel } = sample('other');
  const up = await twineUpload(server.url, [wheel], {
    username: '__token__',
    password: minted.body.token,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const json = (await (await fetch(`${server.url}/pypi/pier-other/json`)).json()) as any;
  assert.equal(json.ownership.organization, 'acme');
  assert.deepEqual(json.ownership.roles, []);
});

test('matchPublishers: pending publishers of an organisation and of a user never share a job', () => {
  const config = { ...RELEASE_JOB_FIELDS, environment: '', ref: '' };
  const claims = githubClaims('https://issuer.example', 'aud', {});
  const pending = (id: number, by: number | null, org: number | null) => ({
    row: { id, added_by_user_id: by, organization_id: org } as any,
    config,
  });
  const table: [ReturnType<typeof pending>[], boolean][] = [
    [[pending(1, 5, 9), pending(2, 6, 9)], true], // two owners of one organisation
    [[pending(1, 5, 9), pending(2, 5, null)], false], // the same person, for the org and herself
    [[pending(1, 5, 9), pending(2, 5, 10)], false], // two organisations
    [[pending(1, 5, null), pending(2, 5, null)], true],
    [[pending(1, null, 9), pending(2, 5, 9)], true], // the operator's and an owner's
  ];
  for (const [candidates, ok] of table) {
    const m = matchPublishers(candidates, [], githubProvider, claims, 'https://issuer.example');
    assert.equal(m.ok, ok, JSON.stringify(candidates.map((c) => c.row)));
    if (!m.ok) assert.equal(m.code, 'invalid-pending-publisher');
  }
});
