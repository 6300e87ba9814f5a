// @backends: runs on the embedded default and on PostgreSQL with S3.
// An Azure Pipelines publisher end to end: tokens shaped like Azure DevOps' (a pipeline's own and
// a service connection's, `aud` api://AzureADTokenExchange), from an issuer the test writes under
// the organization's id as Azure DevOps' is (https://vstoken.dev.azure.com/ORG_ID), registered
// with --kind azure, are exchanged and twine uploads with the minted token. A re-created pipeline
// (another definition id), a ref outside the pattern, a token for the index's own audience, a
// publisher whose organization id is not the issuer's and a replayed token are refused and mint
// nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultAmbientContext } from '../../src/client/ambient.js';
import { publish } from '../../src/client/publish.js';
import { textReporter } from '../../src/client/report.js';
import { cannedServer, json } from '../client/support.js';
import { makeWheel } from '../support/dists.js';
import { sample } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { postMintToken } from '../support/mint.js';
import { twineUpload, twineUploadsWith } from '../support/python.js';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';

const ORG_ID = '0ca3ddd9-f0b0-4635-a98c-5866526961b6';
const PROJECT_ID = '271ef6f7-5998-4b0f-86fb-4b54d9129990';

let server: TestServer;
let issuer: TestIssuer;
let issuerUrl: string;

function pipelineClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const token: Record<string, unknown> = {
    jti: randomUUID(),
    sub: 'p://contoso/libraries/release',
    aud: 'api://AzureADTokenExchange',
    org_id: ORG_ID,
    prj_id: PROJECT_ID,
    def_id: '12',
    rpo_id: 'contoso/acme-lib',
    rpo_uri: 'https://github.com/contoso/acme-lib.git',
    rpo_ver: 'c291ea713801eb300054d353d279e7b02331f671',
    rpo_ref: 'refs/tags/v1.0',
    run_id: '5',
    iss: issuerUrl,
    nbf: now,
    exp: now + 300,
    iat: now,
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete token[k];
  return token;
}

function connectionClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    jti: randomUUID(),
    sub: 'sc://contoso/libraries/pier-publish',
    aud: 'api://AzureADTokenExchange',
    iss: issuerUrl,
    nbf: now,
    exp: now + 900,
    iat: now,
    ...over,
  };
}

const mint = (token: string) => postMintToken(server.url, token);

const tokenIds = async () =>
  server.services.db.kysely.selectFrom('tokens').select('id').orderBy('id').execute();

before(async () => {
  issuer = await startTestIssuer();
  issuerUrl = `${issuer.url}/${ORG_ID}`;
  // Azure DevOps' discovery: one per organization, naming a key set all organizations share.
  issuer.override = (path, _req, res) => {
    if (path !== `/${ORG_ID}/.well-known/openid-configuration`) return false;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ issuer: issuerUrl, jwks_uri: `${issuer.url}/keys` }));
    return true;
  };
  server = await startServer();
  await server.services.issuers.add(OPERATOR, { kind: 'azure', url: issuerUrl, insecure: true });
  await server.services.auth.addUser(OPERATOR, { username: 'owner', password: 'owner-password' });
  await server.services.projects.create(OPERATOR, 'pier-sample', 'owner');
  await server.services.projects.create(OPERATOR, 'pier-other', 'owner');
  await server.services.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'azure',
    issuerUrl,
    fields: {
      organization: 'contoso',
      organizationId: ORG_ID,
      project: 'libraries',
      pipeline: 'release',
      projectId: PROJECT_ID,
      pipelineId: '12',
      ref: 'refs/tags/v*',
    },
  });
  await server.services.publishers.add(OPERATOR, 'pier-other', {
    kind: 'azure',
    issuerUrl,
    fields: {
      organization: 'contoso',
      organizationId: ORG_ID,
      project: 'libraries',
      serviceConnection: 'pier-publish',
    },
  });
});

after(async () => {
  await server.close();
  await issuer.close();
});

test('an Azure publisher needs its organization’s issuer, and names a pipeline or a connection', async () => {
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'azure',
      fields: {
        organization: 'contoso',
        organizationId: ORG_ID,
        project: 'libraries',
        serviceConnection: 'x',
      },
    }),
    /An Azure Pipelines publisher names its issuer: register it \(pier issuer add --kind azure --url URL\)/,
  );
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-sample', {
      kind: 'azure',
      issuerUrl,
      fields: { organization: 'contoso', organizationId: ORG_ID, project: 'libraries' },
    }),
    /Name the pipeline \(or a service connection\) whose tokens publish/,
  );
});

test('a pipeline’s token is exchanged, and twine uploads with the minted token', async () => {
  const r = await mint(await issuer.sign(pipelineClaims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await twineUploadsWith(server.url, r.body.token, [sample('sample').wheel], 'pier-sample');
});

test('a service connection’s token is exchanged for its project only', async () => {
  const r = await mint(await issuer.sign(connectionClaims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const up = await twineUpload(server.url, [sample('other').wheel], {
    username: '__token__',
    password: r.body.token,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const refused = await twineUpload(server.url, [sample('sample').sdist], {
    username: '__token__',
    password: r.body.token,
  });
  assert.notEqual(refused.code, 0, 'the pipeline publisher’s project is not the connection’s');
});

test('a re-created pipeline, another ref, the index’s own audience, a replay: refused', async () => {
  const before = await tokenIds();
  const audience = new URL(server.url).host;
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ def_id: '13' }, /claim 'def_id': expected '12', got '13'/],
    [{ prj_id: randomUUID() }, /claim 'prj_id'/],
    [{ rpo_ref: 'refs/heads/main' }, /claim 'rpo_ref': expected a ref matching 'refs\/tags\/v\*'/],
    [{ org_id: undefined }, /Missing claim 'org_id'/],
    [{ aud: audience }, /the audience must be 'api:\/\/AzureADTokenExchange'/],
    [{ sub: 'p://contoso/libraries/nightly' }, /Publisher with matching claims was not found/],
  ];
  for (const [over, reason] of refused) {
    const r = await mint(await issuer.sign(pipelineClaims(over)));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.errors[0].description, reason, JSON.stringify(over));
  }
  const token = await issuer.sign(connectionClaims());
  assert.equal((await mint(token)).status, 200);
  const after = await tokenIds();
  const again = await mint(token);
  assert.equal(again.status, 422);
  assert.equal(again.body.errors[0].code, 'invalid-reuse-token');
  assert.equal(after.length, before.length + 1, 'only the one accepted token minted');
  assert.deepEqual(await tokenIds(), after, 'the replay minted nothing');
});

test('a publisher whose organization id is not its issuer’s is refused, and changes nothing', async () => {
  await server.services.projects.create(OPERATOR, 'pier-misbound', 'owner');
  const before = await server.services.db.kysely.selectFrom('publishers').select('id').execute();
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'pier-misbound', {
      kind: 'azure',
      issuerUrl,
      fields: {
        organization: 'contoso',
        organizationId: '00000000-0000-4000-8000-000000000000',
        project: 'libraries',
        serviceConnection: 'misbound',
      },
    }),
    /The organization id 00000000-0000-4000-8000-000000000000 is not the issuer's/,
  );
  const after = await server.services.db.kysely.selectFrom('publishers').select('id').execute();
  assert.deepEqual(after, before);
});

test('an Azure issuer is an organization’s vstoken URL: the Entra issuer and others are refused', async () => {
  const refused: [string, boolean, RegExp][] = [
    [
      'https://login.microsoftonline.com/ff882432-09b0-437b-bd22-ca13c0037ded/v2.0',
      false,
      /pier does not accept tokens of the Microsoft Entra issuer/,
    ],
    ['https://vstoken.dev.azure.com/contoso', false, /the organization's id, a UUID\), got/],
    [`https://vstoken.dev.azure.com/${ORG_ID.toUpperCase()}`, false, /got/],
    [`https://ado.example.com/${ORG_ID}`, false, /Azure DevOps issuers are https:\/\/vstoken/],
    ['https://vstoken.dev.azure.com/', false, /does not end with '\/'/],
  ];
  for (const [url, insecure, reason] of refused)
    await assert.rejects(
      server.services.issuers.add(OPERATOR, { kind: 'azure', url, insecure }),
      reason,
      url,
    );
  const kinds = (await server.services.issuers.list()).filter((i) => i.kind === 'azure');
  assert.deepEqual(
    kinds.map((i) => i.url),
    [issuerUrl],
    'only the organization’s issuer is registered',
  );
});

test('pier publish in an Azure Pipelines job: the token from SYSTEM_OIDCREQUESTURI, exchanged, uploaded', async () => {
  // No real Azure DevOps runs here: a local server stands in for the job's token endpoint and
  // answers with a service connection's token signed by the test's issuer.
  const connectionId = 'f0cda5b5-1aff-46ac-a80b-054d5c4f9b8a';
  const endpoint = await cannedServer(async (req, res) => {
    const expected = `/contoso/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken?api-version=7.1&serviceConnectionId=${connectionId}`;
    if (req.method !== 'POST' || req.path !== expected) return json(res, 404, {});
    if (req.headers.authorization !== 'Bearer job-access-token') return json(res, 401, {});
    json(res, 200, { oidcToken: await issuer.sign(connectionClaims()) });
  });
  const dist = join(tempDir('pier-azure-dist-'), 'dist');
  mkdirSync(dist);
  const wheel = await makeWheel({ name: 'pier-other', version: '0.2.0' });
  writeFileSync(join(dist, wheel.filename), wheel.content);
  try {
    const env = {
      SYSTEM_OIDCREQUESTURI: `${endpoint.url}/contoso/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken`,
      SYSTEM_ACCESSTOKEN: 'job-access-token',
      PIER_AZURE_SERVICE_CONNECTION_ID: connectionId,
    };
    const lines: string[] = [];
    await publish({
      paths: [dist],
      repositoryUrl: `${server.url}/legacy/`,
      env,
      ambient: defaultAmbientContext(env),
      reporter: textReporter({ write: (l) => lines.push(l), printHash: false }),
    });
    const doc = (await (await fetch(`${server.url}/pypi/pier-other/0.2.0/json`)).json()) as any;
    assert.equal(doc.info.version, '0.2.0', lines.join('\n'));
    assert.equal(endpoint.requests.length, 1);
  } finally {
    await endpoint.close();
  }
});
