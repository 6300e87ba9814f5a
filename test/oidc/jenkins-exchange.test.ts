// @backends: runs on the embedded default and on PostgreSQL with S3.
// A Jenkins publisher end to end: a token shaped like the OpenID Connect Provider plugin's (no
// jti, no nbf, `aud` a list, `sub` the job URL, `build_number` an integer), from an issuer the
// test writes (registered with --kind jenkins, as each Jenkins is), is exchanged, and twine
// uploads with the minted token. Another job, a token issued outside a build, an audience list
// with more in it, or the same token twice are refused and mint nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDevOidc, startupText } from '../../src/dev-oidc/index.js';
import { sample } from '../support/fixtures.js';
import type { TestIssuer } from '../support/oidc-issuer.js';
import { startTrustingServer } from '../support/trusting-server.js';
import { postMintToken } from '../support/mint.js';
import { twineUploadsWith } from '../support/python.js';
import { OPERATOR, type TestServer } from '../support/server.js';

const JOB_URL = 'https://ci.example.com/job/libs/job/release/';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const token: Record<string, unknown> = {
    iss: issuer.url,
    aud: [audience],
    iat: now,
    exp: now + 3600,
    sub: JOB_URL,
    build_number: Math.floor(Math.random() * 1e6),
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete token[k];
  return token;
}

const mint = (token: string) => postMintToken(server.url, token);

const tokenIds = async () =>
  server.services.db.kysely.selectFrom('tokens').select('id').orderBy('id').execute();

before(async () => {
  ({ server, issuer, audience } = await startTrustingServer({
    kind: 'jenkins',
    project: 'pier-sample',
    fields: { jobUrl: JOB_URL },
  }));
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

test('a Jenkins publisher needs its Jenkins’ issuer, and names one job', async () => {
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'jenkins',
      fields: { jobUrl: 'https://ci.example.com/job/other/' },
    }),
    /A Jenkins publisher names its issuer: register it \(pier issuer add --kind jenkins --url URL\)/,
  );
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'jenkins',
      issuerUrl: issuer.url,
      fields: { jobUrl: 'https://ci.example.com/' },
    }),
    /A job URL names one job/,
  );
});

test('a Jenkins build’s token is exchanged, and twine uploads with the minted token', async () => {
  const r = await mint(await issuer.sign(claims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await twineUploadsWith(server.url, r.body.token, [sample('sample').wheel], 'pier-sample');
});

test('another job, a token from outside a build, another audience: refused', async () => {
  const before = await tokenIds();
  const refused: [Record<string, unknown>, RegExp][] = [
    [
      { sub: 'https://ci.example.com/job/libs/job/docs/' },
      /no corresponding publisher|Publisher with matching claims was not found/,
    ],
    [{ sub: 'https://ci.example.com/' }, /Publisher with matching claims was not found/],
    [
      { aud: [audience, 'sts.amazonaws.com'] },
      /the audience must be '.*' \(or a list of it alone\)/,
    ],
    [{ aud: ['sts.amazonaws.com'] }, /the audience must be/],
    [{ aud: undefined }, /missing required claim 'aud'/],
    [{ sub: undefined }, /Missing claim 'sub'/],
  ];
  for (const [over, reason] of refused) {
    const r = await mint(await issuer.sign(claims(over)));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.errors[0].description, reason, JSON.stringify(over));
  }
  assert.deepEqual(await tokenIds(), before, 'a refusal mints nothing');
});

test('a token without jti is still used once', async () => {
  const token = await issuer.sign(claims());
  assert.equal((await mint(token)).status, 200);
  const again = await mint(token);
  assert.equal(again.status, 422, JSON.stringify(again.body));
  assert.equal(again.body.errors[0].code, 'invalid-reuse-token');
});

test('pier dev-oidc --kind jenkins: its tokens match the Jenkins publisher it prints', async () => {
  const dev = await startDevOidc({ kind: 'jenkins', repository: 'libs/dev-app' });
  try {
    assert.match(dev.url, /^http:\/\/127\.0\.0\.1:\d+\/oidc$/);
    const root = dev.url.replace(/\/oidc$/, '');
    const printed = startupText(dev);
    assert.match(
      printed,
      /pier issuer add --kind jenkins --url http:\/\/127\.0\.0\.1:\d+\/oidc --insecure/,
    );
    assert.ok(printed.includes(`--provider jenkins --job-url ${root}/job/libs/job/dev-app/`));
    await server.services.issuers.add(OPERATOR, { kind: 'jenkins', url: dev.url, insecure: true });
    await server.services.projects.create(OPERATOR, 'dev-lib', 'owner');
    await server.services.publishers.add(OPERATOR, 'dev-lib', {
      kind: 'jenkins',
      issuerUrl: dev.url,
      fields: { jobUrl: `${root}/job/libs/job/dev-app/` },
    });
    const r = await postMintToken(server.url, await dev.mintToken(audience));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const other = await postMintToken(
      server.url,
      await dev.mintToken(audience, { sub: `${root}/job/libs/job/other/` }),
    );
    assert.equal(other.status, 422, JSON.stringify(other.body));
  } finally {
    await dev.close();
  }
  await assert.rejects(
    startDevOidc({ kind: 'jenkins', environment: 'release' }),
    /--environment is not for --kind jenkins/,
  );
});
