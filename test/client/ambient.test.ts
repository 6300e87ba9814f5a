// Ambient OIDC credentials: each CI platform's detector against a stand-in of that platform,
// the GitLab variable naming of the `id` library, the order of detection, and the errors that
// say what to change. One test runs a fake `buildkite-agent` program for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultAmbientContext,
  detectAmbientToken,
  gitlabTokenVariable,
} from '../../src/client/ambient.js';
import { PublishError } from '../../src/client/errors.js';
import { tempDir } from '../support/tmp.js';
import { checkAudience } from '../../src/client/credentials.js';
import { fakeCi, jwt, response } from './support.js';

test('the GitLab variable is named after the audience as `id` names it', () => {
  const cases: [string, string][] = [
    ['pypi', 'PYPI_ID_TOKEN'],
    ['testpypi', 'TESTPYPI_ID_TOKEN'],
    ['sigstore', 'SIGSTORE_ID_TOKEN'],
    ['pier.example.com', 'PIER_EXAMPLE_COM_ID_TOKEN'],
    ['pypi.example.com:8443', 'PYPI_EXAMPLE_COM_8443_ID_TOKEN'],
    ['pkg-example-com', 'PKG_EXAMPLE_COM_ID_TOKEN'],
    ['http://test.audience', 'HTTP___TEST_AUDIENCE_ID_TOKEN'],
    // A leading digit becomes `_` (it is replaced, not prefixed).
    ['127.0.0.1:8443', '_27_0_0_1_8443_ID_TOKEN'],
    ['1pypi', '_PYPI_ID_TOKEN'],
    ['_x', '_X_ID_TOKEN'],
    ['Ünïcode', '_N_CODE_ID_TOKEN'],
  ];
  for (const [audience, variable] of cases)
    assert.equal(gitlabTokenVariable(audience), variable, audience);
});

test('no CI platform: null', async () => {
  assert.equal(await detectAmbientToken('aud', fakeCi({})), null);
  assert.equal(await detectAmbientToken('aud', fakeCi({ CI: 'true' })), null);
});

test('GitHub Actions: the request URL with &audience=, and a bearer token', async () => {
  const ci = fakeCi(
    {
      GITHUB_ACTIONS: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://pipelines.example/token?api-version=2.0',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-secret',
    },
    { get: () => response(200, { value: 'the.jwt.value' }) },
  );
  const found = await detectAmbientToken('pier.example.com:8443', ci);
  assert.deepEqual(found, {
    platform: 'github',
    token: 'the.jwt.value',
    source: 'ACTIONS_ID_TOKEN_REQUEST_URL',
  });
  assert.equal(
    ci.gets[0]!.url,
    'https://pipelines.example/token?api-version=2.0&audience=pier.example.com%3A8443',
  );
  assert.equal(ci.gets[0]!.headers.authorization, 'bearer request-secret');
});

test('GitHub Actions without id-token permission: says to add it', async () => {
  for (const missing of ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN']) {
    const env: Record<string, string> = {
      GITHUB_ACTIONS: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x/token?api-version=2.0',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
    };
    delete env[missing];
    await assert.rejects(detectAmbientToken('aud', fakeCi(env)), (err: PublishError) => {
      assert.equal(err.code, 'no-id-token');
      assert.match(err.message, new RegExp(`${missing} is unset`));
      assert.match(err.hints.join(' '), /permissions: id-token: write/);
      return true;
    });
  }
});

test('GitHub Actions, pull request from a fork: says forks never get a token', async () => {
  const ci = fakeCi(
    { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: '/event.json' },
    {
      files: {
        '/event.json': JSON.stringify({ pull_request: { head: { repo: { fork: true } } } }),
      },
    },
  );
  await assert.rejects(detectAmbientToken('aud', ci), (err: PublishError) => {
    assert.match(err.message, /pull request from a fork/);
    assert.match(err.hints.join(' '), /push of a tag|workflow_dispatch/);
    return true;
  });
});

test('GitHub Actions: a failed token request or a malformed answer is an error', async () => {
  const env = {
    GITHUB_ACTIONS: 'true',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x/token?api-version=2.0',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
  };
  await assert.rejects(
    detectAmbientToken('aud', fakeCi(env, { get: () => response(500, 'boom', {}, 'Oops') })),
    /GitHub Actions: the OIDC token request failed with 500 Oops/,
  );
  await assert.rejects(
    detectAmbientToken('aud', fakeCi(env, { get: () => response(200, { nope: 1 }) })),
    /GitHub Actions: the OIDC token response had no token/,
  );
});

test('GitLab CI: the token from <AUD>_ID_TOKEN; a missing one shows the id_tokens to declare', async () => {
  const found = await detectAmbientToken(
    'pier.example.com',
    fakeCi({ GITLAB_CI: 'true', PIER_EXAMPLE_COM_ID_TOKEN: ' a.b.c\n' }),
  );
  assert.deepEqual(found, {
    platform: 'gitlab',
    token: 'a.b.c',
    source: 'PIER_EXAMPLE_COM_ID_TOKEN',
  });
  await assert.rejects(
    detectAmbientToken('pier.example.com', fakeCi({ GITLAB_CI: 'true', PYPI_ID_TOKEN: 'x.y.z' })),
    (err: PublishError) => {
      assert.equal(err.code, 'no-id-token');
      assert.match(err.message, /PIER_EXAMPLE_COM_ID_TOKEN is not set/);
      assert.match(
        err.hints[0]!,
        /id_tokens: \{ PIER_EXAMPLE_COM_ID_TOKEN: \{ aud: pier\.example\.com \} \}/,
      );
      return true;
    },
  );
});

test('Buildkite: buildkite-agent oidc request-token --audience AUD', async () => {
  const ci = fakeCi(
    { BUILDKITE: 'true' },
    { programs: { 'buildkite-agent': () => ({ code: 0, stdout: 'bk.jwt.token\n' }) } },
  );
  const found = await detectAmbientToken('pier.example.com', ci);
  assert.equal(found?.platform, 'buildkite');
  assert.equal(found?.token, 'bk.jwt.token');
  assert.deepEqual(ci.runs, [
    {
      command: 'buildkite-agent',
      args: ['oidc', 'request-token', '--audience', 'pier.example.com'],
    },
  ]);
  await assert.rejects(detectAmbientToken('a', fakeCi({ BUILDKITE: 'true' })), /not on the PATH/);
  await assert.rejects(
    detectAmbientToken(
      'a',
      fakeCi(
        { BUILDKITE: 'true' },
        {
          programs: { 'buildkite-agent': () => ({ code: 1, stdout: '', stderr: 'fatal: no job' }) },
        },
      ),
    ),
    /Buildkite: `buildkite-agent oidc request-token --audience` failed \(exit 1\): fatal: no job/,
  );
});

test('CircleCI: circleci run oidc get --claims {"aud": AUD}', async () => {
  const ci = fakeCi(
    { CIRCLECI: 'true' },
    { programs: { circleci: () => ({ code: 0, stdout: 'cc.jwt.token' }) } },
  );
  const found = await detectAmbientToken('pier.example.com', ci);
  assert.equal(found?.platform, 'circleci');
  assert.deepEqual(ci.runs[0]!.args, [
    'run',
    'oidc',
    'get',
    '--claims',
    '{"aud":"pier.example.com"}',
  ]);
});

test('Bitbucket Pipelines: the step’s BITBUCKET_STEP_OIDC_TOKEN, whose audience the step declares', async () => {
  const token = jwt({
    aud: 'pier.example.com',
    repositoryUuid: '{437da666-7aab-4b60-a947-ec542536ca0d}',
  });
  const ci = fakeCi({
    BITBUCKET_PIPELINE_UUID: '{0d2c4b6a}',
    BITBUCKET_STEP_OIDC_TOKEN: `${token}\n`,
  });
  assert.deepEqual(await detectAmbientToken('pier.example.com', ci), {
    platform: 'bitbucket',
    token,
    source: 'BITBUCKET_STEP_OIDC_TOKEN',
  });
  // Nothing is run or fetched: the step's token is all there is.
  assert.deepEqual([ci.runs, ci.gets], [[], []]);
});

test('Bitbucket Pipelines without `oidc:`, or a token for several audiences: says what to declare', async () => {
  await assert.rejects(
    detectAmbientToken('pier.example.com', fakeCi({ BITBUCKET_PIPELINE_UUID: '{0d2c4b6a}' })),
    (err: PublishError) => {
      assert.equal(err.code, 'no-id-token');
      assert.match(
        err.message,
        /BITBUCKET_STEP_OIDC_TOKEN is not set: the step does not ask for an OIDC token/,
      );
      assert.match(err.hints.join(' '), /`oidc: \{ audiences: \[pier\.example\.com\] \}`/);
      return true;
    },
  );
  const several = jwt({ aud: ['pier.example.com', 'https://vault.example.com'] });
  await assert.rejects(
    detectAmbientToken(
      'pier.example.com',
      fakeCi({ BITBUCKET_PIPELINE_UUID: '{0d2c4b6a}', BITBUCKET_STEP_OIDC_TOKEN: several }),
    ),
    /the step's OIDC token is for several audiences \(\["pier\.example\.com","https:\/\/vault\.example\.com"\]\); the index takes a token for 'pier\.example\.com' alone/,
  );
  // `oidc: true` alone: Bitbucket's default audience, which the client names before the exchange.
  const bitbucketDefault = jwt({
    aud: 'ari:cloud:bitbucket::workspace/8a1fdada-cbc0-452c-81ce-07534945e18b',
  });
  assert.throws(
    () =>
      checkAudience(
        bitbucketDefault,
        'pier.example.com',
        'BITBUCKET_STEP_OIDC_TOKEN',
        'pier.example.com',
      ),
    (err: PublishError) => {
      assert.match(err.message, /is for the audience "ari:cloud:bitbucket::workspace\/8a1fdada/);
      assert.match(
        err.hints.join(' '),
        /bitbucket-pipelines\.yml: `oidc: \{ audiences: \[pier\.example\.com\] \}`/,
      );
      return true;
    },
  );
});

test('Google Cloud: the metadata server identity endpoint with Metadata-Flavor: Google', async () => {
  const ci = fakeCi(
    {},
    {
      files: { '/sys/class/dmi/id/product_name': 'Google Compute Engine\n' },
      get: (_url, headers) =>
        headers['metadata-flavor'] === 'Google' ? response(200, 'g.jwt.token') : response(403, ''),
    },
  );
  const found = await detectAmbientToken('pier.example.com', ci);
  assert.equal(found?.platform, 'google');
  assert.equal(found?.token, 'g.jwt.token');
  assert.equal(
    ci.gets[0]!.url,
    'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity?audience=pier.example.com&format=full',
  );
  // GCE_METADATA_HOST (as Google's libraries read it) points at another metadata server.
  const other = fakeCi(
    { GCE_METADATA_HOST: '127.0.0.1:9999' },
    { get: () => response(404, 'no service account') },
  );
  await assert.rejects(
    detectAmbientToken('a', other),
    /Google Cloud: the metadata server gave no identity token \(404/,
  );
  assert.match(other.gets[0]!.url, /^http:\/\/127\.0\.0\.1:9999\/computeMetadata\//);
});

test('detection order is id’s: GitHub, Google, Buildkite, GitLab, CircleCI (then Bitbucket)', async () => {
  const everything = fakeCi(
    {
      GITHUB_ACTIONS: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x/token?api-version=2.0',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
      BUILDKITE: 'true',
      GITLAB_CI: 'true',
      AUD_ID_TOKEN: 'gl',
      CIRCLECI: 'true',
    },
    {
      get: () => response(200, { value: 'gh' }),
      programs: {
        'buildkite-agent': () => ({ code: 0, stdout: 'bk' }),
        circleci: () => ({ code: 0, stdout: 'cc' }),
      },
    },
  );
  assert.equal((await detectAmbientToken('aud', everything))?.platform, 'github');
  const noGithub = fakeCi(
    { BUILDKITE: 'true', GITLAB_CI: 'true', AUD_ID_TOKEN: 'gl', CIRCLECI: 'true' },
    { programs: { 'buildkite-agent': () => ({ code: 0, stdout: 'bk' }) } },
  );
  assert.equal((await detectAmbientToken('aud', noGithub))?.platform, 'buildkite');
  const gitlabAndCircle = fakeCi({ GITLAB_CI: 'true', AUD_ID_TOKEN: 'gl', CIRCLECI: 'true' });
  assert.equal((await detectAmbientToken('aud', gitlabAndCircle))?.platform, 'gitlab');
  // Bitbucket Pipelines, which `id` does not detect, comes after all of id's.
  const circleAndBitbucket = fakeCi(
    { CIRCLECI: 'true', BITBUCKET_PIPELINE_UUID: '{p}', BITBUCKET_STEP_OIDC_TOKEN: 'bb' },
    { programs: { circleci: () => ({ code: 0, stdout: 'cc' }) } },
  );
  assert.equal((await detectAmbientToken('aud', circleAndBitbucket))?.platform, 'circleci');
});

test('the real context runs programs from PATH (a fake buildkite-agent)', async () => {
  const bin = tempDir('pier-fake-bk-');
  const agent = join(bin, 'buildkite-agent');
  writeFileSync(agent, '#!/bin/sh\necho "token-for-$4 ($1 $2 $3)"\n');
  chmodSync(agent, 0o755);
  const env = { BUILDKITE: 'true', PATH: `${bin}:${process.env.PATH}` };
  const found = await detectAmbientToken('aud.example', defaultAmbientContext(env));
  assert.equal(found?.token, 'token-for-aud.example (oidc request-token --audience)');
  const missing = defaultAmbientContext({ BUILDKITE: 'true', PATH: tempDir('pier-empty-') });
  await assert.rejects(detectAmbientToken('aud', missing), /`buildkite-agent` is not on the PATH/);
});
