// @backends: runs on the embedded default and on PostgreSQL with S3.
// Trusted-publishing-only projects: once an owner turns it on, uploads come from the project's
// trusted publishers alone. Debian's twine is refused with an owner's API token (and nothing is
// stored) and uploads with the token a CI job's OIDC token was exchanged for; the setting is
// made through the REST API and the command line, and cannot be turned on for a project no
// publisher could upload to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { githubClaims, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { sample } from '../support/fixtures.js';
import { twineUpload } from '../support/python.js';
import { indexSnapshot } from '../support/snapshot.js';
import { projectTakesUploadsFrom } from '../../src/auth/permissions.js';
import type { Principal } from '../../src/auth/principal.js';
import { RELEASE_JOB_FIELDS } from '../support/dev-oidc.js';

let server: TestServer;
let issuer: TestIssuer;
let ownerToken: string;
let ownerAdminToken: string;

const REFUSAL =
  /403 Forbidden[\s\S]*Project 'pier-sample' accepts uploads from its trusted publishers only: API tokens and passwords cannot upload to it/;

before(async () => {
  issuer = await startTestIssuer();
  server = await startServer();
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  ownerToken = await server.userWithToken('olga', {
    mayCreateProjects: true,
    scope: 'upload',
    password: 'olga-password-1',
  });
  ownerAdminToken = await server.userWithToken('olga', { scope: 'admin' });
  await server.services.projects.create(OPERATOR, 'pier-sample', 'olga');
  await server.services.projects.create(OPERATOR, 'unpublished', 'olga');
  await server.services.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: { ...RELEASE_JOB_FIELDS, environment: 'release' },
  });
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

function patch(name: string, body: unknown, token = ownerAdminToken) {
  return fetch(`${server.url}/api/projects/${name}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function mintedToken(): Promise<string> {
  const audience = new URL(server.url).host;
  const res = await fetch(`${server.url}/_/oidc/mint-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: await issuer.sign(githubClaims(issuer.url, audience)) }),
  });
  const body = (await res.json()) as { token?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.token!;
}

test('the rule as a table: who uploads to a trusted-publishing-only project', () => {
  const user = { id: 1, is_admin: 1 } as never;
  const token = (publisher_id: number | null) =>
    ({ kind: 'token', user, token: { publisher_id }, projectIds: null }) as unknown as Principal;
  const cases: [string, Principal, boolean][] = [
    [
      'the operator (pier import on the server)',
      { kind: 'operator', name: 'x' } as Principal,
      true,
    ],
    ['a token minted for a trusted publisher', token(7), true],
    ['an administrator’s API token', token(null), false],
    ['a password (HTTP Basic)', { kind: 'user', user } as unknown as Principal, false],
    ['anonymous', { kind: 'anonymous' } as Principal, false],
  ];
  for (const [name, p, allowed] of cases) {
    assert.equal(projectTakesUploadsFrom({ trusted_publishing_only: 1 }, p), allowed, name);
    assert.equal(projectTakesUploadsFrom({ trusted_publishing_only: 0 }, p), true, name);
  }
});

test('a project no publisher trusts cannot be made trusted-publishing-only, and stays as it was', async () => {
  const res = await patch('unpublished', { trusted_publishing_only: true });
  assert.equal(res.status, 409);
  assert.match(
    ((await res.json()) as { message: string }).message,
    /Project 'unpublished' has no trusted publisher: add one before making it trusted-publishing-only/,
  );
  const after = (await (await patch('unpublished', {})).json()) as Record<string, unknown>;
  assert.equal(after.trusted_publishing_only, false);
});

test('an upload-scoped token of an owner cannot change the setting', async () => {
  const res = await patch('pier-sample', { trusted_publishing_only: true }, ownerToken);
  assert.equal(res.status, 403);
  const doc = (await (await patch('pier-sample', {})).json()) as Record<string, unknown>;
  assert.equal(doc.trusted_publishing_only, false);
});

test('turned on: twine with the owner’s API token or password is refused and nothing is stored; the CI job’s token uploads', async () => {
  const on = await patch('pier-sample', { trusted_publishing_only: true });
  assert.equal(on.status, 200);
  assert.equal(((await on.json()) as Record<string, unknown>).trusted_publishing_only, true);
  const audit = await server.services.db.kysely
    .selectFrom('audit_events')
    .select(['action', 'details_json'])
    .where('action', '=', 'project-change')
    .execute();
  assert.ok(
    audit.some((a) => /"trustedPublishingOnly":true/.test(String(a.details_json))),
    JSON.stringify(audit),
  );

  const { wheel, sdist } = sample('sample');
  const before = await indexSnapshot(server);
  const byToken = await twineUpload(server.url, [wheel], {
    username: '__token__',
    password: ownerToken,
  });
  assert.notEqual(byToken.code, 0);
  assert.match(byToken.stdout + byToken.stderr, REFUSAL);
  const byPassword = await twineUpload(server.url, [wheel], {
    username: 'olga',
    password: 'olga-password-1',
  });
  assert.notEqual(byPassword.code, 0);
  assert.match(byPassword.stdout + byPassword.stderr, REFUSAL);
  assert.deepEqual(await indexSnapshot(server), before);

  const up = await twineUpload(server.url, [wheel, sdist], {
    username: '__token__',
    password: await mintedToken(),
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const files = await server.services.db.kysely.selectFrom('files').select('filename').execute();
  assert.equal(files.length, 2);
});

test('pier project set turns it off and on, and says so', async () => {
  const env = server.env();
  const off = await runPier(['project', 'set', 'pier-sample', '--no-trusted-publishing-only'], env);
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /project 'pier-sample': public, active\n/);
  const { wheel } = sample('later');
  const up = await twineUpload(server.url, [wheel], {
    username: '__token__',
    password: ownerToken,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);

  const on = await runPier(['project', 'set', 'pier-sample', '--trusted-publishing-only'], env);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stderr, /project 'pier-sample': public, active, trusted-publishing-only/);
  const list = await runPier(['project', 'list', '--json'], env);
  const listed = (JSON.parse(list.stdout) as Record<string, unknown>[]).find(
    (p) => p.name === 'pier-sample',
  );
  assert.equal(listed?.trusted_publishing_only, true);
});
