// @backends: runs on the embedded default and on PostgreSQL with S3.
// A Bitbucket Pipelines publisher end to end: a token shaped like a step's
// BITBUCKET_STEP_OIDC_TOKEN (UUIDs in braces), from an issuer the test writes, registered with
// --kind bitbucket as each workspace's issuer is, is exchanged and twine uploads with the minted
// token; a token for Bitbucket's default audience or for several, of a repository re-created
// under its name, another branch or no deployment is refused and mints nothing. `pier dev-oidc
// --kind bitbucket` issues tokens of this shape that the publisher it prints accepts.
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

const WORKSPACE = '{8a1fdada-cbc0-452c-81ce-07534945e18b}';
const REPOSITORY = '{437da666-7aab-4b60-a947-ec542536ca0d}';
const ENVIRONMENT = '{2b7e1a4c-0d9f-4e3b-8a6c-5f1e2d3c4b5a}';
const STEP = '{5c1e9f3a-2b4d-4e6f-8a7b-9c0d1e2f3a4b}';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const token: Record<string, unknown> = {
    iss: issuer.url,
    aud: audience,
    sub: `${REPOSITORY}:${ENVIRONMENT}:${STEP}`,
    iat: now,
    exp: now + 3600,
    accountUuid: '{6f5e4d3c-2b1a-4098-8765-43210fedcba9}',
    workspaceUuid: WORKSPACE,
    repositoryUuid: REPOSITORY,
    pipelineUuid: '{0d2c4b6a-8f1e-4d3c-b5a7-9e1f2d3c4b5a}',
    stepUuid: STEP,
    branchName: 'release/1.x',
    deploymentEnvironmentUuid: ENVIRONMENT,
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
    kind: 'bitbucket',
    project: 'pier-sample',
    // As copied from the OpenID Connect page, in upper case and without braces: normalized.
    fields: {
      workspaceUuid: WORKSPACE.slice(1, -1).toUpperCase(),
      repositoryUuid: REPOSITORY,
      branch: 'release/*',
      deploymentEnvironmentUuid: ENVIRONMENT,
    },
  }));
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

test('a Bitbucket publisher names its workspace’s issuer, and pins a repository', async () => {
  const before = await server.services.publishers.listForProject(OPERATOR, 'pier-sample');
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'bitbucket',
      fields: { workspaceUuid: WORKSPACE, repositoryUuid: REPOSITORY },
    }),
    /A Bitbucket Pipelines publisher names its issuer: register it \(pier issuer add --kind bitbucket --url URL\)/,
  );
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'bitbucket',
      issuerUrl: issuer.url,
      fields: { workspaceUuid: WORKSPACE },
    }),
    /Specify the repository's UUID/,
  );
  assert.deepEqual(
    await server.services.publishers.listForProject(OPERATOR, 'pier-sample'),
    before,
  );
});

test('a Bitbucket step’s token is exchanged, and twine uploads with the minted token', async () => {
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

test('the default audience, several audiences, another repository, branch or environment: refused', async () => {
  const minted = await countTokens();
  const refused: [Record<string, unknown>, RegExp][] = [
    // A step with `oidc: true` alone: Bitbucket's own audience, not pier's.
    [{ aud: `ari:cloud:bitbucket::workspace/${WORKSPACE.slice(1, -1)}` }, /the audience must be/],
    // A token for several audiences could be replayed at each of them.
    [{ aud: [audience, 'https://vault.example.com'] }, /the audience must be the single string/],
    [{ repositoryUuid: '{00000000-0000-4000-8000-000000000000}' }, /no corresponding publisher/],
    [
      { workspaceUuid: '{00000000-0000-4000-8000-000000000000}' },
      /claim 'workspaceUuid': expected '\{8a1fdada/,
    ],
    [{ branchName: 'feature/x' }, /claim 'branchName': expected a branch matching 'release\/\*'/],
    [{ branchName: undefined }, /Missing claim 'branchName'/],
    [{ deploymentEnvironmentUuid: undefined }, /Missing claim 'deploymentEnvironmentUuid'/],
    [{ stepUuid: undefined }, /Missing claim 'stepUuid'/],
  ];
  for (const [over, reason] of refused) {
    const r = await mint(await issuer.sign(claims(over)));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), reason);
  }
  assert.equal(await countTokens(), minted, 'a refusal mints nothing');
});

test('pier dev-oidc --kind bitbucket: its tokens match the Bitbucket publisher it prints', async () => {
  const dev = await startDevOidc({
    kind: 'bitbucket',
    repository: 'acme/dev-app',
    environment: 'Production',
  });
  try {
    const printed = startupText(dev);
    const flags =
      /--provider bitbucket --workspace-uuid '(\S+)' --repository-uuid '(\S+)' --deployment-environment-uuid '(\S+)'/.exec(
        printed,
      );
    assert.ok(flags, printed);
    await server.services.issuers.add(OPERATOR, {
      kind: 'bitbucket',
      url: dev.url,
      insecure: true,
    });
    await server.services.projects.create(OPERATOR, 'dev-lib', 'owner');
    await server.services.publishers.add(OPERATOR, 'dev-lib', {
      kind: 'bitbucket',
      issuerUrl: dev.url,
      fields: {
        workspaceUuid: flags[1],
        repositoryUuid: flags[2],
        deploymentEnvironmentUuid: flags[3],
        branch: 'main',
      },
    });
    const r = await mint(await dev.mintToken(audience));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const feature = await mint(await dev.mintToken(audience, { branchName: 'feature/x' }));
    assert.equal(feature.status, 422, JSON.stringify(feature.body));
    assert.match(
      feature.body.errors[0].description,
      /claim 'branchName': expected a branch matching 'main'/,
    );
  } finally {
    await dev.close();
  }
});

test('the web form registers a Bitbucket publisher under its workspace’s issuer; a bad one changes nothing', async () => {
  await server.services.projects.create(OPERATOR, 'web-lib', 'owner');
  const owner = new WebClient(server.url);
  await owner.signIn('owner', 'owner-password');
  const base = '/manage/project/web-lib/publishing/';
  const form = await owner.get(`${base}?provider=bitbucket`);
  assert.equal(form.status, 200);
  for (const name of ['workspaceUuid', 'repositoryUuid', 'branch', 'deploymentEnvironmentUuid'])
    assert.match(form.text, new RegExp(`name="${name}"`));
  const bad = await owner.post(base, {
    provider: 'bitbucket',
    workspaceUuid: WORKSPACE,
    repositoryUuid: REPOSITORY,
    branch: 'refs/heads/main',
    issuer: issuer.url,
  });
  assert.equal(bad.status, 400, bad.text.slice(0, 300));
  assert.match(bad.text, /not a ref/);
  assert.deepEqual(await server.services.publishers.listForProject(OPERATOR, 'web-lib'), []);
  const added = await owner.post(base, {
    provider: 'bitbucket',
    workspaceUuid: WORKSPACE,
    repositoryUuid: REPOSITORY.slice(1, -1),
    branch: 'main',
    issuer: issuer.url,
  });
  assert.equal(added.status, 303, added.text.slice(0, 300));
  const page = await owner.get(base);
  assert.ok(page.text.includes(`Bitbucket repository ${REPOSITORY}, branch main`));
  assert.match(page.text, /bitbucket-pipelines\.yml/);
  // The step asks for a token for the index's audience (quoted: it holds a colon).
  assert.ok(page.text.includes(`audiences:\n              - &quot;${audience}&quot;`), page.text);
});
