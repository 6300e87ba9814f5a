// @backends: runs on the embedded default and on PostgreSQL with S3.
// A Forgejo publisher end to end: a token shaped like Forgejo Actions', from an issuer the test
// writes (registered with --kind forgejo, as each instance is), is exchanged and the minted token
// uploads; a token of a repository re-created under the same name (another repository_id), of
// another workflow file or without the ids is refused and mints nothing. `pier dev-oidc --kind
// forgejo` issues tokens of this shape that a Forgejo publisher accepts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { DEV_OIDC_DEFAULTS, startDevOidc, startupText } from '../../src/dev-oidc/index.js';
import type { TestIssuer } from '../support/oidc-issuer.js';
import { startTrustingServer } from '../support/trusting-server.js';
import { OPERATOR, type TestServer } from '../support/server.js';
import { uploadWheelWith } from '../support/upload.js';
import { postMintToken } from '../support/mint.js';

const SHA = '7b3a5e0c4f2d1a9b8c7d6e5f4a3b2c1d0e9f8a7b';
const WORKFLOW_REF = 'forgejo/release-app/.forgejo/workflows/release.yml@refs/tags/v1.0';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const token: Record<string, unknown> = {
    iss: issuer.url,
    aud: audience,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: `jti-${Math.random()}`,
    sub: 'repo:forgejo/release-app:ref:refs/tags/v1.0',
    actor: 'maintainer',
    actor_id: '1021',
    repository: 'forgejo/release-app',
    repository_owner: 'forgejo',
    repository_id: '2817',
    repository_owner_id: '48',
    workflow: 'Release',
    workflow_ref: WORKFLOW_REF,
    job_workflow_ref: WORKFLOW_REF,
    event_name: 'push',
    ref: 'refs/tags/v1.0',
    ref_type: 'tag',
    sha: SHA,
    run_id: '91823',
    run_number: '14',
    run_attempt: '1',
    environment: 'release',
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete token[k];
  return token;
}

const mint = (token: string) => postMintToken(server.url, token);

before(async () => {
  ({ server, issuer, audience } = await startTrustingServer({
    kind: 'forgejo',
    project: 'forge-lib',
    fields: {
      owner: 'forgejo',
      repository: 'release-app',
      repositoryId: '2817',
      ownerId: '48',
      workflow: '.forgejo/workflows/release.yml',
      environment: 'release',
      ref: 'refs/tags/v*',
    },
  }));
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

test('a Forgejo publisher needs its instance’s issuer: there is no built-in one', async () => {
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'forge-lib', {
      kind: 'forgejo',
      fields: {
        owner: 'forgejo',
        repository: 'other-app',
        repositoryId: '2818',
        ownerId: '48',
        workflow: '.forgejo/workflows/release.yml',
      },
    }),
    /A Forgejo publisher names its issuer: register it \(pier issuer add --kind forgejo --url URL\)/,
  );
});

test('a Forgejo job’s token is exchanged, and the minted token uploads', async () => {
  const r = await mint(await issuer.sign(claims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await uploadWheelWith(server.url, r.body.token, 'forge-lib', '1.0');
});

test('another repository id, another owner id, another workflow, no ids, a branch: refused', async () => {
  const tokensBefore = await server.services.db.kysely.selectFrom('tokens').select('id').execute();
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ repository_id: '9001' }, /claim 'repository_id': expected '2817', got '9001'/],
    [{ repository_owner_id: '4242' }, /claim 'repository_owner_id': expected '48', got '4242'/],
    [
      {
        job_workflow_ref: 'forgejo/release-app/.forgejo/workflows/ci.yml@refs/tags/v1.0',
        workflow_ref: 'forgejo/release-app/.forgejo/workflows/ci.yml@refs/tags/v1.0',
      },
      /The job_workflow_ref claim does not match/,
    ],
    [{ repository_id: undefined, repository_owner_id: undefined }, /Missing claim 'repository_id'/],
    [
      {
        ref: 'refs/heads/main',
        job_workflow_ref: 'forgejo/release-app/.forgejo/workflows/release.yml@refs/heads/main',
      },
      /claim 'ref': expected a ref matching 'refs\/tags\/v\*', got 'refs\/heads\/main'/,
    ],
  ];
  for (const [over, reason] of refused) {
    const r = await mint(await issuer.sign(claims(over)));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.errors[0].description, reason);
  }
  const tokensAfter = await server.services.db.kysely.selectFrom('tokens').select('id').execute();
  assert.deepEqual(tokensAfter, tokensBefore, 'a refusal mints nothing');
});

test('pier dev-oidc --kind forgejo: its tokens match the Forgejo publisher it prints', async () => {
  const dev = await startDevOidc({
    kind: 'forgejo',
    repository: 'forgejo/dev-app',
    workflow: 'release.yml',
    environment: 'release',
  });
  try {
    assert.match(dev.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/actions$/);
    const printed = startupText(dev);
    assert.match(
      printed,
      /pier issuer add --kind forgejo --url http:\/\/127\.0\.0\.1:\d+\/api\/actions --insecure/,
    );
    assert.match(
      printed,
      /--provider forgejo --repository forgejo\/dev-app --repository-id 74 --owner-id 65 --workflow \.forgejo\/workflows\/release\.yml --environment release/,
    );
    await server.services.issuers.add(OPERATOR, { kind: 'forgejo', url: dev.url, insecure: true });
    await server.services.projects.create(OPERATOR, 'dev-lib', 'owner');
    await server.services.publishers.add(OPERATOR, 'dev-lib', {
      kind: 'forgejo',
      issuerUrl: dev.url,
      fields: {
        owner: 'forgejo',
        repository: 'dev-app',
        repositoryId: DEV_OIDC_DEFAULTS.repositoryId,
        ownerId: DEV_OIDC_DEFAULTS.ownerId,
        workflow: '.forgejo/workflows/release.yml',
        environment: 'release',
      },
    });
    // As a job fetches its token: ACTIONS_ID_TOKEN_REQUEST_URL with the audience, bearer.
    const env = dev.env();
    const res = await fetch(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${audience}`, {
      headers: { Authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
    });
    const jwt = ((await res.json()) as { value: string }).value;
    const payload = decodeJwt(jwt);
    assert.equal(
      payload.job_workflow_ref,
      'forgejo/dev-app/.forgejo/workflows/release.yml@refs/heads/main',
    );
    assert.equal(payload.ref_protected, undefined);
    const r = await mint(jwt);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const other = await mint(await dev.mintToken(audience, { repository_id: '75' }));
    assert.equal(other.status, 422, JSON.stringify(other.body));
    assert.match(
      other.body.errors[0].description,
      /claim 'repository_id': expected '74', got '75'/,
    );
  } finally {
    await dev.close();
  }
});
