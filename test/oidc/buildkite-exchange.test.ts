// @backends: runs on the embedded default and on PostgreSQL with S3.
// A Buildkite publisher end to end: a token shaped like Buildkite's, from an issuer the test
// writes (registered with --kind buildkite), is exchanged and the minted token uploads; a token
// without the pinned ids, or of a pipeline that took over the slug, is refused and mints nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestIssuer } from '../support/oidc-issuer.js';
import { startTrustingServer } from '../support/trusting-server.js';
import type { TestServer } from '../support/server.js';
import { uploadWheelWith } from '../support/upload.js';
import { postMintToken } from '../support/mint.js';

const ORG_ID = '0184990a-4782-42b5-afc1-16715b10b8ff';
const PIPELINE_ID = '01945ecf-80f0-41e8-9b83-a2970a9305a1';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer.url,
    aud: audience,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: `jti-${Math.random()}`,
    sub: 'organization:acme-inc:pipeline:release-app:ref:refs/heads/main:commit:9f3182061f1e2cca4702c368cbc039b7dc9d4485:step:publish',
    organization_slug: 'acme-inc',
    pipeline_slug: 'release-app',
    build_number: 12,
    build_branch: 'main',
    build_tag: null,
    build_commit: '9f3182061f1e2cca4702c368cbc039b7dc9d4485',
    step_key: 'publish',
    job_id: '0184990a-477b-4fa8-9968-496074483cee',
    agent_id: '0184990a-4782-42b5-afc1-16715b10b8ff',
    build_source: 'webhook',
    runner_environment: 'self-hosted',
    organization_id: ORG_ID,
    pipeline_id: PIPELINE_ID,
    ...over,
  };
}

const mint = (token: string) => postMintToken(server.url, token);

before(async () => {
  ({ server, issuer, audience } = await startTrustingServer({
    kind: 'buildkite',
    project: 'acme-lib',
    fields: {
      organization: 'acme-inc',
      pipeline: 'release-app',
      organizationId: ORG_ID,
      pipelineId: PIPELINE_ID,
      branch: 'main',
    },
  }));
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

test('a Buildkite job’s token is exchanged, and the minted token uploads', async () => {
  const r = await mint(await issuer.sign(claims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await uploadWheelWith(server.url, r.body.token, 'acme-lib', '1.0');
});

test('without the pinned ids, from another pipeline under the slug, or another branch: refused', async () => {
  const tokensBefore = await server.services.db.kysely.selectFrom('tokens').select('id').execute();
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ organization_id: undefined, pipeline_id: undefined }, /Missing claim 'organization_id'/],
    [{ pipeline_id: '0194b014-0000-7000-8000-000000000000' }, /claim 'pipeline_id'/],
    [{ build_branch: 'feature' }, /claim 'build_branch': expected 'main', got 'feature'/],
  ];
  for (const [over, reason] of refused) {
    const token = claims(over);
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete token[k];
    const r = await mint(await issuer.sign(token));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.errors[0].description, reason);
  }
  const tokensAfter = await server.services.db.kysely.selectFrom('tokens').select('id').execute();
  assert.deepEqual(tokensAfter, tokensBefore, 'a refusal mints nothing');
});
