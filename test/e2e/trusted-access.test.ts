// @backends: runs on the embedded default and on PostgreSQL with S3.
// Trusted access for reads: a CI job trades its OIDC token (here from a file, as
// `--oidc-token-file` reads it) with `pier token from-oidc` for a read token of the private
// projects whose publishers trust it, and Debian's pip installs a private package with the URL
// printed. A read-only link never lets the job upload, a read exchange never creates a pending
// publisher's project, and refusals change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { githubClaims, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { sample } from '../support/fixtures.js';
import { createVenv, pipInstall, twineUpload } from '../support/python.js';
import { indexSnapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tmp.js';
import { postMintToken } from '../support/mint.js';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;
let ownerAdmin: string;

/** The test job: workflow ci.yml of octo-org/octo-repo, no environment. */
const ciJob = (over: Record<string, unknown> = {}) =>
  githubClaims(issuer.url, audience, { workflow_file: 'ci.yml', environment: undefined, ...over });

/** The REST API's registration of a publisher for the test job. */
const ciPublisher = () => ({
  provider: 'github',
  issuer: issuer.url,
  owner: 'octo-org',
  repository: 'octo-repo',
  workflow: 'ci.yml',
  ownerId: '65',
});

before(async () => {
  issuer = await startTestIssuer();
  server = await startServer();
  audience = new URL(server.url).host;
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  const upload = await server.userWithToken('olga', { mayCreateProjects: true });
  ownerAdmin = await server.userWithToken('olga', { scope: 'admin' });
  await server.services.projects.create(OPERATOR, 'pier-sample', 'olga');
  await server.services.projects.update(OPERATOR, 'pier-sample', { private: true });
  const { wheel, sdist } = sample('sample');
  const up = await twineUpload(server.url, [wheel, sdist], {
    username: '__token__',
    password: upload,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

function api(method: string, path: string, body?: unknown) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ownerAdmin}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const mint = async (path: string, claims = ciJob()) =>
  postMintToken(server.url, await issuer.sign(claims), path);

async function tokenFile(claims = ciJob()): Promise<string> {
  const file = join(tempDir('pier-oidc-'), 'token');
  writeFileSync(file, await issuer.sign(claims));
  return file;
}

test('registering: read access only for an existing project’s publishers, and a known value', async () => {
  const bad = await api('POST', '/api/projects/pier-sample/publishers', {
    ...ciPublisher(),
    access: 'everything',
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as any).message, /Unknown publisher access 'everything'/);
  const pending = await api('POST', '/api/pending-publishers', {
    ...ciPublisher(),
    project: 'not-yet',
    access: 'read',
  });
  assert.equal(pending.status, 400);
  assert.match(((await pending.json()) as any).message, /read access is for an existing project/);
  const rows = await server.services.db.kysely.selectFrom('publishers').select('id').execute();
  assert.deepEqual(rows, []);

  const added = await api('POST', '/api/projects/pier-sample/publishers', {
    ...ciPublisher(),
    access: 'read',
  });
  assert.equal(added.status, 201, await added.clone().text());
  assert.deepEqual(((await added.json()) as any).readOnly, ['pier-sample']);
  const listed = await runPier(['publisher', 'list', 'pier-sample'], server.env());
  assert.match(listed.stdout, /projects: pier-sample \(read only\)/);
});

test('pier token from-oidc prints an index URL with a read token, and pip installs the private package with it', async () => {
  const venv = await createVenv();
  const anonymous = await pipInstall(venv, `${server.url}/simple/`, ['pier-sample==1.0.0']);
  assert.notEqual(anonymous.code, 0, 'the private project is not there for anonymous pip');

  const r = await runPier(
    [
      'token',
      'from-oidc',
      '--index-url',
      `${server.url}/simple/`,
      '--oidc-token-file',
      await tokenFile(),
    ],
    {},
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /Trusted access: exchanged the OIDC token from .* for a read token \(valid until /,
  );
  const url = new URL(r.stdout.trim());
  assert.equal(url.username, '__token__');
  assert.match(decodeURIComponent(url.password), /^pypi-pier_/);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'standard output holds the URL alone');

  const installed = await pipInstall(venv, r.stdout.trim(), ['pier-sample==1.0.0'], ['--no-input']);
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);

  const row = await server.services.db.kysely
    .selectFrom('tokens')
    .select(['scope', 'name', 'expires_at', 'created_at'])
    .where('publisher_id', 'is not', null)
    .executeTakeFirstOrThrow();
  assert.equal(row.scope, 'read');
  assert.match(row.name, /^trusted access \(read\): /);
  assert.equal(Number(row.expires_at) - Number(row.created_at), 900_000);
  const audit = await server.services.db.kysely
    .selectFrom('audit_events')
    .select('details_json')
    .where('action', '=', 'oidc-exchange')
    .execute();
  assert.ok(audit.some((a) => /"scope":"read"/.test(a.details_json)));
});

test('a read token cannot upload, and a read-only link gives the job no upload token', async () => {
  const read = await mint('/_/oidc/mint-read-token');
  assert.equal(read.status, 200, JSON.stringify(read.body));
  const before = await indexSnapshot(server);
  const { wheel } = sample('later');
  const up = await twineUpload(server.url, [wheel], {
    username: '__token__',
    password: read.body.token,
  });
  assert.notEqual(up.code, 0);
  assert.match(up.stdout + up.stderr, /403 Forbidden/);

  const refused = await mint('/_/oidc/mint-token');
  assert.equal(refused.status, 422);
  assert.equal(refused.body.errors[0].code, 'invalid-publisher');
  assert.match(
    refused.body.errors[0].description,
    /its projects trust this job to read them only: use \/_\/oidc\/mint-read-token/,
  );
  assert.deepEqual(await indexSnapshot(server), before);
});

test('an upload token stops uploading where its link has become read-only', async () => {
  const release = { ...ciPublisher(), workflow: 'release.yml' };
  const added = await api('POST', '/api/projects/pier-sample/publishers', release);
  assert.equal(added.status, 201);
  const id = ((await added.json()) as any).id as number;
  const job = ciJob({ workflow_file: 'release.yml' });
  const minted = await mint('/_/oidc/mint-token', job);
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  await server.services.db.kysely
    .updateTable('publisher_projects')
    .set({ access: 'read' })
    .where('publisher_id', '=', id)
    .execute();
  const before = await indexSnapshot(server);
  const { wheel } = sample('later');
  const up = await twineUpload(server.url, [wheel], {
    username: '__token__',
    password: minted.body.token,
  });
  assert.notEqual(up.code, 0);
  assert.deepEqual(await indexSnapshot(server), before);
});

test('a read exchange never creates a pending publisher’s project', async () => {
  const res = await api('POST', '/api/pending-publishers', {
    ...ciPublisher(),
    repository: 'fresh-repo',
    project: 'fresh-project',
  });
  assert.equal(res.status, 201, await res.clone().text());
  const job = ciJob({ repository: 'octo-org/fresh-repo' });
  const read = await mint('/_/oidc/mint-read-token', job);
  assert.equal(read.status, 422, JSON.stringify(read.body));
  assert.equal(await server.services.projects.find('fresh-project'), undefined);
});

test('pier token from-oidc outside a CI job says what is missing', async () => {
  const r = await runPier(['token', 'from-oidc', '--index-url', `${server.url}/simple/`], {
    GITHUB_ACTIONS: '',
    ACTIONS_ID_TOKEN_REQUEST_URL: '',
    GITLAB_CI: '',
    BUILDKITE: '',
    CIRCLECI: '',
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No credentials: a read token comes from a CI job’s OIDC token/);
  assert.equal(r.stdout, '');
});
