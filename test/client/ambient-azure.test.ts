// Azure Pipelines' ambient OIDC token: the documented POST to SYSTEM_OIDCREQUESTURI with the job's
// System.AccessToken, answered with {"oidcToken": …}. No real Azure DevOps can run here, so a
// local HTTP server stands in for the token endpoint (it answers as the documentation and the
// tokens Teleport's RFD 211 records say); the request itself goes through the client's real HTTP
// code. Also: the audience check for Azure's fixed audience, and the errors that say what to change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AZURE_DEVOPS_AUDIENCE,
  defaultAmbientContext,
  detectAmbientToken,
} from '../../src/client/ambient.js';
import { checkAudience, platformAudienceOf } from '../../src/client/credentials.js';
import { jobOidcToken } from '../../src/client/job-token.js';
import { PublishError } from '../../src/client/errors.js';
import { AZURE_DEVOPS_AUDIENCE as PROVIDER_AUDIENCE } from '../../src/oidc/providers/azure.js';
import { cannedServer, fakeCi, json, jwt, response } from './support.js';

const PATH =
  '/contoso/271ef6f7/_apis/distributedtask/hubs/build/plans/c738a23e/jobs/12f1170f/oidctoken';
const CONNECTION_ID = 'f0cda5b5-1aff-46ac-a80b-054d5c4f9b8a';

test('Azure Pipelines: a POST to SYSTEM_OIDCREQUESTURI with the access token, through real HTTP', async () => {
  const token = jwt({ iss: 'https://vstoken.dev.azure.com/x', aud: AZURE_DEVOPS_AUDIENCE });
  const endpoint = await cannedServer((req, res) => {
    if (req.headers.authorization !== 'Bearer job-access-token') return json(res, 401, {});
    json(res, 200, { oidcToken: token });
  });
  try {
    const env = {
      SYSTEM_OIDCREQUESTURI: `${endpoint.url}${PATH}`,
      SYSTEM_ACCESSTOKEN: 'job-access-token',
    };
    const found = await detectAmbientToken('pier.example.com', defaultAmbientContext(env));
    assert.deepEqual(found, {
      platform: 'azure',
      token,
      source: 'SYSTEM_OIDCREQUESTURI',
      audience: AZURE_DEVOPS_AUDIENCE,
    });
    const request = endpoint.requests[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, `${PATH}?api-version=7.1`);
    assert.equal(request.headers['content-length'], '0');
    assert.equal(request.headers['x-tfs-fedauthredirect'], 'Suppress');
    assert.equal(request.body.length, 0);

    // With a service connection's id: that connection's token.
    await detectAmbientToken(
      'pier.example.com',
      defaultAmbientContext({ ...env, PIER_AZURE_SERVICE_CONNECTION_ID: CONNECTION_ID }),
    );
    assert.equal(
      endpoint.requests[1]!.path,
      `${PATH}?api-version=7.1&serviceConnectionId=${CONNECTION_ID}`,
    );

    // A refused request (here: no access token the endpoint knows) says its status.
    await assert.rejects(
      detectAmbientToken('aud', defaultAmbientContext({ ...env, SYSTEM_ACCESSTOKEN: 'wrong' })),
      /Azure Pipelines: the OIDC token request failed with 401/,
    );
  } finally {
    await endpoint.close();
  }
});

test('Azure Pipelines without SYSTEM_ACCESSTOKEN: says how to map it, asks nothing', async () => {
  const ci = fakeCi({ SYSTEM_OIDCREQUESTURI: `https://dev.azure.com${PATH}` });
  await assert.rejects(detectAmbientToken('aud', ci), (err: PublishError) => {
    assert.equal(err.code, 'no-id-token');
    assert.match(err.message, /SYSTEM_ACCESSTOKEN is not set/);
    assert.match(err.hints.join(' '), /SYSTEM_ACCESSTOKEN: \$\(System\.AccessToken\)/);
    return true;
  });
  assert.deepEqual(ci.posts, []);
});

test('Azure Pipelines: a connection name instead of its id is refused before any request', async () => {
  const ci = fakeCi({
    SYSTEM_OIDCREQUESTURI: `https://dev.azure.com${PATH}`,
    SYSTEM_ACCESSTOKEN: 't',
    PIER_AZURE_SERVICE_CONNECTION_ID: 'pier-publish',
  });
  await assert.rejects(
    detectAmbientToken('aud', ci),
    /PIER_AZURE_SERVICE_CONNECTION_ID must be the service connection's id \(a UUID\), got 'pier-publish'/,
  );
  assert.deepEqual(ci.posts, []);
});

test('Azure Pipelines: an answer without a token, or a connection not given to the job', async () => {
  const env = { SYSTEM_OIDCREQUESTURI: `https://dev.azure.com${PATH}`, SYSTEM_ACCESSTOKEN: 't' };
  await assert.rejects(
    detectAmbientToken('aud', fakeCi(env, { post: () => response(200, { value: 'x' }) })),
    /Azure Pipelines: the OIDC token response had no oidcToken/,
  );
  await assert.rejects(
    detectAmbientToken(
      'aud',
      fakeCi(
        { ...env, PIER_AZURE_SERVICE_CONNECTION_ID: CONNECTION_ID },
        { post: () => response(404, { message: 'not found' }, {}, 'Not Found') },
      ),
    ),
    (err: PublishError) => {
      assert.match(err.message, /failed with 404 Not Found/);
      assert.match(err.hints.join(' '), /task input naming that connection/);
      return true;
    },
  );
});

test('detection order: Azure Pipelines after every platform the `id` library knows', async () => {
  const both = fakeCi(
    {
      GITLAB_CI: 'true',
      AUD_ID_TOKEN: 'gl',
      SYSTEM_OIDCREQUESTURI: 'https://x/',
      SYSTEM_ACCESSTOKEN: 't',
    },
    { post: () => response(200, { oidcToken: 'az' }) },
  );
  assert.equal((await detectAmbientToken('aud', both))?.platform, 'gitlab');
  assert.deepEqual(both.posts, []);
});

test('the audience check expects Azure DevOps’ fixed audience of Azure tokens only', () => {
  assert.equal(AZURE_DEVOPS_AUDIENCE, PROVIDER_AUDIENCE, 'the client and the index agree');
  const azure = jwt({ iss: 'https://vstoken.dev.azure.com/0ca3ddd9', aud: AZURE_DEVOPS_AUDIENCE });
  // From the detector (which says so) or from --oidc-token-file (the issuer says so).
  assert.equal(platformAudienceOf(azure), AZURE_DEVOPS_AUDIENCE);
  checkAudience(azure, 'pier.example.com', 'token.jwt', 'pier.example.com', AZURE_DEVOPS_AUDIENCE);
  // Any other issuer's token for that audience is not for this index.
  const other = jwt({ iss: 'https://gitlab.com', aud: AZURE_DEVOPS_AUDIENCE });
  assert.equal(platformAudienceOf(other), undefined);
  assert.throws(
    () => checkAudience(other, 'pier.example.com', 'token.jwt', 'pier.example.com'),
    /is for the audience "api:\/\/AzureADTokenExchange", but pier\.example\.com expects 'pier\.example\.com'/,
  );
  // An Azure token with another audience is refused too.
  const wrong = jwt({ iss: 'https://vstoken.dev.azure.com/0ca3ddd9', aud: 'pier.example.com' });
  assert.throws(
    () =>
      checkAudience(
        wrong,
        'pier.example.com',
        'token.jwt',
        'pier.example.com',
        platformAudienceOf(wrong),
      ),
    /expects 'api:\/\/AzureADTokenExchange'/,
  );
});

test('an Azure Pipelines token never signs attestations: Sigstore expects its own audience', async () => {
  const token = jwt({ iss: 'https://vstoken.dev.azure.com/0ca3ddd9', aud: AZURE_DEVOPS_AUDIENCE });
  const ambient = fakeCi(
    { SYSTEM_OIDCREQUESTURI: 'https://dev.azure.com/x', SYSTEM_ACCESSTOKEN: 't' },
    { post: () => response(200, { oidcToken: token }) },
  );
  const common = { ambient, env: {}, otherwise: 'x', hint: 'y' };
  const forIndex = await jobOidcToken('pier.example.com', 'pier.example.com', common);
  assert.equal(forIndex.platform, 'azure');
  await assert.rejects(
    jobOidcToken('sigstore', 'fulcio.sigstore.dev', { ...common, sigstore: true }),
    /is for the audience "api:\/\/AzureADTokenExchange", but fulcio\.sigstore\.dev expects 'sigstore'/,
  );
});
