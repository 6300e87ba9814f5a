// @backends: runs on the embedded default and on PostgreSQL with S3.
// A CircleCI publisher end to end: a token shaped like CircleCI's (the claims of
// https://circleci.com/docs/openid-connect-tokens/), from an issuer the test writes, registered
// with --kind circleci as each organisation's issuer is, is exchanged and twine uploads with the
// minted token; an SSH re-run, another project, a fork, a branch or a job without the context is
// refused and mints nothing, as is a custom webhook's pipeline, which names no repository. `pier dev-oidc --kind circleci` issues tokens of this shape that
// the publisher it prints accepts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sample } from '../support/fixtures.js';
import type { TestIssuer } from '../support/oidc-issuer.js';
import { startTrustingServer } from '../support/trusting-server.js';
import { twineUploadsWith } from '../support/python.js';
import { OPERATOR, type TestServer } from '../support/server.js';
import { postMintToken } from '../support/mint.js';
import { WebClient } from '../web/helpers.js';
import { startDevOidc, startupText } from '../../src/dev-oidc/index.js';

const ORG_ID = 'c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90';
const PROJECT_ID = '1f0e2d3c-4b5a-4697-8877-665544332211';
const CONTEXT_ID = 'a74579f1-2e7d-451e-b009-5c082ad2729e';
const USER_ID = '7d6c5b4a-3f2e-4d1c-9b0a-123456789abc';
const FIELDS = {
  organizationId: ORG_ID,
  projectId: PROJECT_ID,
  vcsOrigin: 'github.com/acme/release-app',
  ref: 'refs/tags/v*',
  contextIds: CONTEXT_ID,
};

let server: TestServer;
let issuer: TestIssuer;
let audience: string;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const token: Record<string, unknown> = {
    iss: issuer.url,
    sub: `org/${ORG_ID}/project/${PROJECT_ID}/user/${USER_ID}/vcs-origin/github.com/acme/release-app/vcs-ref/refs/tags/v1.0.0`,
    aud: audience,
    iat: now,
    exp: now + 3600,
    'oidc.circleci.com/context-ids': [CONTEXT_ID],
    'oidc.circleci.com/job-id': '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
    'oidc.circleci.com/org-id': ORG_ID,
    'oidc.circleci.com/pipeline-definition-id': '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
    'oidc.circleci.com/pipeline-id': '0f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
    'oidc.circleci.com/project-id': PROJECT_ID,
    'oidc.circleci.com/ssh-rerun': false,
    'oidc.circleci.com/vcs-origin': 'github.com/acme/release-app',
    'oidc.circleci.com/vcs-ref': 'refs/tags/v1.0.0',
    'oidc.circleci.com/workflow-id': '3c2b1a09-8f7e-4d6c-9b5a-493827160514',
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete token[k];
  return token;
}

const mint = (token: string) => postMintToken(server.url, token);

const countTokens = async () =>
  (await server.services.db.kysely.selectFrom('tokens').select('id').execute()).length;

before(async () => {
  ({ server, issuer, audience } = await startTrustingServer({
    kind: 'circleci',
    project: 'pier-sample',
    fields: FIELDS,
  }));
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

test('a CircleCI publisher names its organisation’s issuer, and pins a project', async () => {
  const before = await server.services.publishers.listForProject(OPERATOR, 'pier-sample');
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', { kind: 'circleci', fields: FIELDS }),
    /A CircleCI publisher names its issuer: register it \(pier issuer add --kind circleci --url URL\)/,
  );
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'circleci',
      issuerUrl: issuer.url,
      fields: { organizationId: ORG_ID },
    }),
    /Specify the project's UUID/,
  );
  // Under another organisation's issuer, the pinned organisation could never match.
  const otherIssuer = `${issuer.url}/org/00000000-0000-4000-8000-000000000000`;
  await server.services.issuers.add(OPERATOR, {
    kind: 'circleci',
    url: otherIssuer,
    insecure: true,
  });
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'circleci',
      issuerUrl: otherIssuer,
      fields: FIELDS,
    }),
    new RegExp(`The organization id ${ORG_ID} is not the issuer's`),
  );
  assert.deepEqual(
    await server.services.publishers.listForProject(OPERATOR, 'pier-sample'),
    before,
  );
});

test('a CircleCI job’s token is exchanged, and twine uploads with the minted token', async () => {
  const r = await mint(await issuer.sign(claims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const doc = await twineUploadsWith(
    server.url,
    r.body.token,
    [sample('sample').wheel],
    'pier-sample',
  );
  assert.equal(doc.info.version, '1.0.0');
});

test('an SSH re-run, another project, a fork, a branch, a job without the context: refused', async () => {
  const minted = await countTokens();
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ 'oidc.circleci.com/ssh-rerun': true }, /the job is a re-run with SSH/],
    [{ 'oidc.circleci.com/ssh-rerun': undefined }, /Missing claim 'oidc.circleci.com\/ssh-rerun'/],
    [
      { 'oidc.circleci.com/org-id': '00000000-0000-4000-8000-000000000000' },
      /no corresponding publisher/,
    ],
    [
      { 'oidc.circleci.com/vcs-origin': 'github.com/mallory/release-app' },
      /claim 'oidc.circleci.com\/vcs-origin': expected 'github.com\/acme\/release-app'/,
    ],
    [
      { 'oidc.circleci.com/vcs-ref': 'refs/heads/main' },
      /claim 'oidc.circleci.com\/vcs-ref': expected a ref matching 'refs\/tags\/v\*'/,
    ],
    [{ 'oidc.circleci.com/context-ids': [] }, /the job does not use the contexts/],
    // A pipeline triggered by a custom webhook names no repository.
    [
      { 'oidc.circleci.com/vcs-origin': undefined, 'oidc.circleci.com/vcs-ref': undefined },
      /Missing claim 'oidc.circleci.com\/vcs-origin'/,
    ],
    [{ 'oidc.circleci.com/context-ids': CONTEXT_ID }, /expected a list of strings, got a string/],
  ];
  for (const [over, reason] of refused) {
    const r = await mint(await issuer.sign(claims(over)));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.errors[0].description, reason);
  }
  // Another project of the organisation finds no publisher at all.
  const other = await mint(
    await issuer.sign(
      claims({ 'oidc.circleci.com/project-id': '00000000-0000-4000-8000-000000000001' }),
    ),
  );
  assert.equal(other.status, 422, JSON.stringify(other.body));
  assert.equal(await countTokens(), minted, 'a refusal mints nothing');
});

test('pier dev-oidc --kind circleci: its tokens match the CircleCI publisher it prints', async () => {
  const dev = await startDevOidc({
    kind: 'circleci',
    repository: 'acme/dev-app',
    environment: 'release',
  });
  try {
    const printed = startupText(dev);
    const flags =
      /--provider circleci (--organization-id (\S+) --project-id (\S+) --vcs-origin (\S+) --context-id (\S+))/.exec(
        printed,
      );
    assert.ok(flags, printed);
    assert.match(
      printed,
      /pier issuer add --kind circleci --url http:\/\/127\.0\.0\.1:\d+ --insecure/,
    );
    await server.services.issuers.add(OPERATOR, { kind: 'circleci', url: dev.url, insecure: true });
    await server.services.projects.create(OPERATOR, 'dev-lib', 'owner');
    await server.services.publishers.add(OPERATOR, 'dev-lib', {
      kind: 'circleci',
      issuerUrl: dev.url,
      fields: {
        organizationId: flags[2],
        projectId: flags[3],
        vcsOrigin: flags[4],
        contextIds: flags[5],
      },
    });
    const r = await mint(await dev.mintToken(audience));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const rerun = await mint(
      await dev.mintToken(audience, { 'oidc.circleci.com/ssh-rerun': true }),
    );
    assert.equal(rerun.status, 422, JSON.stringify(rerun.body));
    assert.match(rerun.body.errors[0].description, /the job is a re-run with SSH/);
  } finally {
    await dev.close();
  }
});

test('the web form registers a CircleCI publisher under its organisation’s issuer; a bad one changes nothing', async () => {
  await server.services.projects.create(OPERATOR, 'web-lib', 'owner');
  const owner = new WebClient(server.url);
  await owner.signIn('owner', 'owner-password');
  const base = '/manage/project/web-lib/publishing/';
  const form = await owner.get(`${base}?provider=circleci`);
  assert.equal(form.status, 200);
  for (const name of ['organizationId', 'projectId', 'vcsOrigin', 'ref', 'contextIds'])
    assert.match(form.text, new RegExp(`name="${name}"`));
  assert.ok(form.text.includes(issuer.url), 'the registered issuer is offered');
  const bad = await owner.post(base, {
    provider: 'circleci',
    organizationId: ORG_ID,
    projectId: 'release-app',
    issuer: issuer.url,
  });
  assert.equal(bad.status, 400, bad.text.slice(0, 300));
  assert.match(bad.text, /Invalid UUID/);
  assert.deepEqual(await server.services.publishers.listForProject(OPERATOR, 'web-lib'), []);
  const added = await owner.post(base, {
    provider: 'circleci',
    organizationId: ORG_ID.toUpperCase(),
    projectId: PROJECT_ID,
    vcsOrigin: 'github.com/acme/release-app',
    ref: 'refs/tags/v*',
    contextIds: CONTEXT_ID,
    issuer: issuer.url,
  });
  assert.equal(added.status, 303, added.text.slice(0, 300));
  const page = await owner.get(base);
  assert.ok(
    page.text.includes(
      `CircleCI project ${PROJECT_ID} (github.com/acme/release-app), ref refs/tags/v*, contexts ${CONTEXT_ID}`,
    ),
  );
  assert.match(page.text, /\.circleci\/config\.yml/);
});
