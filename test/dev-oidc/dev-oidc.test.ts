// `pier dev-oidc`, the development OIDC issuer: discovery and JWKS as an index fetches them,
// tokens fetched the way @actions/core's getIDToken does and verified with jose against the
// issuer's published keys, every claim's value and type, the --claims file, GitLab mode, a key
// that survives restarts, flag validation, and the command run in-process and as a process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWTPayload,
} from 'jose';
import {
  DEV_OIDC_DEFAULTS,
  DevOidcError,
  registerDevOidcCommand,
  shellQuote,
  startDevOidc,
  startupText,
  projectNameFromPyproject,
  type DevOidcOptions,
  type DevOidcServer,
} from '../../src/dev-oidc/index.js';
import { tempDir } from '../support/tmp.js';
import { testCertificates } from '../support/tls.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REGISTERED = ['iss', 'aud', 'iat', 'nbf', 'exp', 'jti'];
const SHA = DEV_OIDC_DEFAULTS.sha;

const running: DevOidcServer[] = [];
after(() => Promise.all(running.map((s) => s.close())));

async function start(options: DevOidcOptions = {}): Promise<DevOidcServer> {
  const server = await startDevOidc(options);
  running.push(server);
  return server;
}

/** What @actions/core's getIDToken does: `${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=…`, bearer. */
async function getIDToken(env: Record<string, string>, audience?: string): Promise<string> {
  let url = env.ACTIONS_ID_TOKEN_REQUEST_URL!;
  if (audience) url = `${url}&audience=${encodeURIComponent(audience)}`;
  const res = await fetch(url, {
    headers: {
      Accept: 'application/json',
      Authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`,
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as { value?: unknown };
  assert.equal(typeof body.value, 'string');
  return body.value as string;
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return res.json();
}

/** Verify as an index does: discovery → jwks_uri → RS256 signature, iss, aud, exp. */
async function verify(server: DevOidcServer, jwt: string, audience: string): Promise<JWTPayload> {
  const discovery = await getJson(`${server.baseUrl}/.well-known/openid-configuration`);
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(jwt, jwks, {
    issuer: server.url,
    audience,
    algorithms: ['RS256'],
  });
  assert.deepEqual(protectedHeader, { alg: 'RS256', kid: server.kid, typ: 'JWT' });
  return payload;
}

/** The job claims of a token: everything but the registered claims. */
function jobPart(payload: JWTPayload): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).filter(([k]) => !REGISTERED.includes(k)));
}

const DEFAULT_GITHUB_CLAIMS = {
  sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
  ref: 'refs/heads/main',
  sha: SHA,
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  repository_owner_id: '65',
  repository_id: '74',
  repository_visibility: 'public',
  run_id: '1234567890',
  run_number: '1',
  run_attempt: '1',
  actor: 'octocat',
  actor_id: '12',
  workflow: '.github/workflows/release.yml',
  workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  workflow_sha: SHA,
  job_workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  job_workflow_sha: SHA,
  head_ref: '',
  base_ref: '',
  event_name: 'push',
  ref_type: 'branch',
  ref_protected: 'false',
  runner_environment: 'github-hosted',
};

test('the discovery document names the issuer, its JWKS and RS256', async () => {
  const server = await start();
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(server.baseUrl, server.url);
  const doc = await getJson(`${server.url}/.well-known/openid-configuration`);
  assert.equal(doc.issuer, server.url);
  assert.equal(doc.jwks_uri, `${server.url}/.well-known/jwks`);
  assert.deepEqual(doc.response_types_supported, ['id_token']);
  assert.ok(doc.subject_types_supported.includes('public'));
  assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256']);
  for (const claim of ['iss', 'aud', 'sub', 'jti', 'repository_owner_id', 'job_workflow_ref'])
    assert.ok(doc.claims_supported.includes(claim), claim);
  assert.equal(new Set(doc.claims_supported).size, doc.claims_supported.length);
});

test('the JWKS holds the public 2048-bit RSA key with kid, alg and use', async () => {
  const server = await start();
  const jwks = await getJson(`${server.url}/.well-known/jwks`);
  assert.equal(jwks.keys.length, 1);
  const [key] = jwks.keys;
  assert.equal(key.kid, server.kid);
  assert.equal(key.alg, 'RS256');
  assert.equal(key.use, 'sig');
  assert.equal(key.kty, 'RSA');
  assert.equal(key.e, 'AQAB');
  assert.equal(Buffer.from(key.n, 'base64url').length, 256);
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
    assert.equal(key[secret], undefined, secret);
});

test('a token fetched as getIDToken does verifies against the published keys', async () => {
  const server = await start();
  const jwt = await getIDToken(server.env(), 'pier.example.com');
  assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'RS256', kid: server.kid, typ: 'JWT' });
  const payload = await verify(server, jwt, 'pier.example.com');
  assert.equal(payload.iss, server.url);
  assert.equal(payload.aud, 'pier.example.com');
});

test('the default GitHub claims: every value and type, ids as strings, no environment', async () => {
  const server = await start();
  const before = Math.floor(Date.now() / 1000);
  const payload = await verify(server, await getIDToken(server.env(), 'aud-1'), 'aud-1');
  assert.deepEqual(jobPart(payload), DEFAULT_GITHUB_CLAIMS);
  assert.deepEqual(server.claims, DEFAULT_GITHUB_CLAIMS);
  assert.equal(typeof payload.iat, 'number');
  assert.ok(payload.iat! >= before && payload.iat! <= before + 5);
  assert.equal(payload.nbf, payload.iat! - 5);
  assert.equal(payload.exp, payload.iat! + 300);
  assert.match(payload.jti!, /^[0-9a-f-]{36}$/);
  assert.match(payload.sha as string, /^[0-9a-f]{40}$/);
  for (const id of [
    'repository_owner_id',
    'repository_id',
    'actor_id',
    'run_id',
    'run_number',
    'run_attempt',
  ])
    assert.match(payload[id] as string, /^[0-9]+$/, id);
  assert.ok(!('environment' in payload));
});

test('flags set their claims and the claims derived from them', async () => {
  const server = await start({
    repository: 'acme/widgets',
    ownerId: '4242',
    workflow: 'publish.yaml',
    environment: 'pypi',
    ref: 'refs/tags/v1.2.3',
    sha: 'ab'.repeat(20),
    event: 'release',
  });
  const payload = await verify(server, await server.mintToken('aud'), 'aud');
  assert.deepEqual(jobPart(payload), {
    ...DEFAULT_GITHUB_CLAIMS,
    sub: 'repo:acme/widgets:environment:pypi',
    ref: 'refs/tags/v1.2.3',
    ref_type: 'tag',
    sha: 'ab'.repeat(20),
    workflow_sha: 'ab'.repeat(20),
    job_workflow_sha: 'ab'.repeat(20),
    repository: 'acme/widgets',
    repository_owner: 'acme',
    repository_owner_id: '4242',
    workflow: '.github/workflows/publish.yaml',
    workflow_ref: 'acme/widgets/.github/workflows/publish.yaml@refs/tags/v1.2.3',
    job_workflow_ref: 'acme/widgets/.github/workflows/publish.yaml@refs/tags/v1.2.3',
    event_name: 'release',
    environment: 'pypi',
  });
  assert.deepEqual(server.env(), {
    ACTIONS_ID_TOKEN_REQUEST_URL: `${server.url}/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: server.requestToken,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/widgets',
    GITHUB_WORKFLOW_REF: 'acme/widgets/.github/workflows/publish.yaml@refs/tags/v1.2.3',
    GITHUB_REF: 'refs/tags/v1.2.3',
    GITHUB_SHA: 'ab'.repeat(20),
    GITHUB_EVENT_NAME: 'release',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '1234567890',
    GITHUB_RUN_ATTEMPT: '1',
  });
  assert.equal(server.requestUrl, server.env().ACTIONS_ID_TOKEN_REQUEST_URL);
});

test('sub follows GitHub’s default: environment, else pull request, else ref', async () => {
  const cases: [DevOidcOptions, string][] = [
    [{ ref: 'refs/tags/v1' }, 'repo:octo-org/octo-repo:ref:refs/tags/v1'],
    [{ event: 'pull_request', ref: 'refs/pull/7/merge' }, 'repo:octo-org/octo-repo:pull_request'],
    [{ event: 'pull_request', environment: 'ci' }, 'repo:octo-org/octo-repo:environment:ci'],
  ];
  for (const [options, sub] of cases) {
    const server = await start(options);
    assert.equal(decodeJwt(await server.mintToken('a')).sub, sub, JSON.stringify(options));
  }
  const pr = await start({ event: 'pull_request' });
  assert.equal(pr.claims.head_ref, 'feature');
  assert.equal(pr.claims.base_ref, 'main');
});

test('a reusable workflow: job_workflow_ref names the called file, workflow_ref the caller', async () => {
  const called = 'octo-org/octo-repo/.github/workflows/pypi-publish.yml@refs/heads/main';
  const server = await start({ jobWorkflowRef: called });
  const claims = decodeJwt(await server.mintToken('a'));
  assert.equal(claims.job_workflow_ref, called);
  assert.equal(
    claims.workflow_ref,
    'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  );
  // The publisher an index needs names the file that defines the job.
  assert.match(startupText(server), /--workflow pypi-publish\.yml /);
  const pinned = await start({
    jobWorkflowRef: `octo-org/shared/.github/workflows/p.yml@${'c'.repeat(40)}`,
  });
  assert.equal(pinned.claims.job_workflow_sha, 'c'.repeat(40));
  assert.equal(pinned.claims.workflow_sha, SHA);
});

test('without an audience the token is for https://github.com/<owner>, as GitHub does', async () => {
  const server = await start({ repository: 'acme/widgets' });
  assert.equal(server.defaultAudience, 'https://github.com/acme');
  const jwt = await getIDToken(server.env());
  assert.equal(
    (await verify(server, jwt, 'https://github.com/acme')).aud,
    'https://github.com/acme',
  );
  const empty = await getIDToken({
    ...server.env(),
    ACTIONS_ID_TOKEN_REQUEST_URL: `${server.requestUrl}&audience=`,
  });
  assert.equal(decodeJwt(empty).aud, 'https://github.com/acme');
});

test('a missing or wrong request token gets 401 with a message', async () => {
  const server = await start();
  const url = `${server.requestUrl}&audience=x`;
  const cases: (Record<string, string> | undefined)[] = [
    undefined,
    { authorization: 'bearer' },
    { authorization: 'bearer wrong-token-value' },
    { authorization: `bearer ${server.requestToken}x` },
    { authorization: `bearer ${server.requestToken.slice(1)}` },
    { authorization: `Basic ${Buffer.from(`x:${server.requestToken}`).toString('base64')}` },
    { authorization: `token ${server.requestToken}` },
  ];
  for (const headers of cases) {
    const res = await fetch(url, { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    const body = (await res.json()) as { message?: unknown; value?: unknown };
    assert.equal(typeof body.message, 'string');
    assert.equal(body.value, undefined);
  }
  // The scheme is case-insensitive, as in HTTP.
  const ok = await fetch(url, { headers: { authorization: `Bearer ${server.requestToken}` } });
  assert.equal(ok.status, 200);
});

test('only discovery, the keys and the token endpoint are served, for GET', async () => {
  const server = await start();
  assert.equal((await fetch(`${server.url}/claims`, { method: 'POST', body: '{}' })).status, 404);
  assert.equal((await fetch(`${server.url}/`)).status, 404);
  const post = await fetch(server.requestUrl, {
    method: 'POST',
    headers: { authorization: `bearer ${server.requestToken}` },
  });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('every token has its own jti', async () => {
  const server = await start();
  const jwts = await Promise.all([
    ...Array.from({ length: 4 }, () => getIDToken(server.env(), 'a')),
    server.mintToken('a'),
    server.mintToken('a'),
  ]);
  const jtis = new Set(jwts.map((j) => decodeJwt(j).jti));
  assert.equal(jtis.size, jwts.length);
});

test('--lifetime sets exp − iat', async () => {
  const server = await start({ lifetime: 60 });
  const claims = decodeJwt(await getIDToken(server.env(), 'a'));
  assert.equal(claims.exp! - claims.iat!, 60);
  assert.equal(claims.iat! - claims.nbf!, 5);
});

test('--claims file: merged over the defaults, null removes, derived claims follow it', async () => {
  const dir = tempDir('dev-oidc-claims-');
  const file = join(dir, 'claims.json');
  writeFileSync(
    file,
    JSON.stringify({
      repository: 'file-org/file-repo',
      repository_owner_id: '99',
      repository_visibility: 'private',
      environment: 'staging',
      run_id: null,
      enterprise: 'acme-corp',
      check_run_id: 12345,
    }),
  );
  const fromFile = await start({ claimsFile: file });
  const claims = await verify(fromFile, await getIDToken(fromFile.env(), 'a'), 'a');
  assert.equal(claims.repository, 'file-org/file-repo');
  assert.equal(claims.repository_owner, 'file-org');
  assert.equal(claims.repository_owner_id, '99');
  assert.equal(claims.repository_visibility, 'private');
  assert.equal(
    claims.workflow_ref,
    'file-org/file-repo/.github/workflows/release.yml@refs/heads/main',
  );
  assert.equal(claims.job_workflow_ref, claims.workflow_ref);
  assert.equal(claims.sub, 'repo:file-org/file-repo:environment:staging');
  assert.equal(claims.environment, 'staging');
  assert.ok(!('run_id' in claims));
  assert.equal(claims.enterprise, 'acme-corp');
  assert.equal(claims.check_run_id, 12345);
  assert.equal(fromFile.env().GITHUB_RUN_ID, undefined);
  assert.equal(fromFile.defaultAudience, 'https://github.com/file-org');

  // Flags win over the file; derived claims follow the flags.
  const flagged = await start({
    claimsFile: file,
    repository: 'acme/rockets',
    environment: 'prod',
  });
  assert.equal(flagged.claims.repository, 'acme/rockets');
  assert.equal(flagged.claims.repository_owner, 'acme');
  assert.equal(flagged.claims.sub, 'repo:acme/rockets:environment:prod');
  assert.equal(flagged.claims.repository_visibility, 'private');

  // A derived claim the file sets is kept; a null environment means none.
  writeFileSync(
    file,
    JSON.stringify({
      sub: 'repo:custom@65/thing@74:ref:refs/heads/main',
      environment: null,
      ref_type: 'other',
    }),
  );
  const custom = await start({ claimsFile: file, repository: 'acme/rockets', ref: 'refs/tags/v2' });
  assert.equal(custom.claims.sub, 'repo:custom@65/thing@74:ref:refs/heads/main');
  assert.equal(custom.claims.ref_type, 'other');
  assert.equal(custom.claims.ref, 'refs/tags/v2');
  assert.ok(!('environment' in custom.claims));

  const bad: [string, RegExp][] = [
    ['{"repository": ', /is not valid JSON/],
    ['["a"]', /must hold a JSON object/],
    ['null', /must hold a JSON object/],
  ];
  for (const [content, message] of bad) {
    writeFileSync(file, content);
    await assert.rejects(start({ claimsFile: file }), (err: Error) => {
      assert.ok(err instanceof DevOidcError);
      assert.match(err.message, message);
      assert.ok(err.message.includes(file));
      return true;
    });
  }
  await assert.rejects(
    start({ claimsFile: join(dir, 'missing.json') }),
    /cannot read the --claims file/,
  );
});

test('mintToken signs in-process with extra, overridden and removed claims', async () => {
  const server = await start();
  const jwt = await server.mintToken('aud-x', {
    repository_visibility: 'internal',
    sub: null,
    repository_owner_id: 65,
    extra: { nested: true },
  });
  const payload = await verify(server, jwt, 'aud-x');
  assert.equal(payload.repository_visibility, 'internal');
  assert.ok(!('sub' in payload));
  assert.equal(payload.repository_owner_id, 65);
  assert.deepEqual(payload.extra, { nested: true });
  // Registered claims too, for tests of what an index must refuse.
  const late = decodeJwt(await server.mintToken('a', { exp: 1000, iss: 'https://elsewhere' }));
  assert.equal(late.exp, 1000);
  assert.equal(late.iss, 'https://elsewhere');
  await assert.rejects(server.mintToken(''), DevOidcError);
});

test('--kind gitlab: GitLab CI claims, sub and ci_config_ref_uri on the issuer’s host', async () => {
  const server = await start({
    kind: 'gitlab',
    repository: 'my-group/sub/my-project',
    environment: 'production',
    ref: 'refs/tags/v1.0',
    workflow: 'ci/release.yml',
  });
  const host = new URL(server.url).host;
  const doc = await getJson(`${server.url}/.well-known/openid-configuration`);
  assert.equal(doc.issuer, server.url);
  assert.equal(doc.jwks_uri, `${server.url}/oauth/discovery/keys`);
  assert.equal((await getJson(`${server.url}/.well-known/jwks`)).keys[0].kid, server.kid);

  const noAudience = await fetch(server.requestUrl, {
    headers: { authorization: `bearer ${server.requestToken}` },
  });
  assert.equal(noAudience.status, 400);
  assert.match(((await noAudience.json()) as { message: string }).message, /audience/);

  const payload = await verify(server, await getIDToken(server.env(), 'pier-local'), 'pier-local');
  assert.deepEqual(jobPart(payload), {
    namespace_id: '72',
    namespace_path: 'my-group/sub',
    project_id: '74',
    project_path: 'my-group/sub/my-project',
    user_id: '12',
    user_login: 'octocat',
    user_email: 'octocat@example.com',
    user_access_level: 'maintainer',
    job_project_id: '74',
    job_project_path: 'my-group/sub/my-project',
    job_namespace_id: '72',
    job_namespace_path: 'my-group/sub',
    pipeline_id: '1234567890',
    pipeline_source: 'push',
    job_id: '1234567891',
    ref: 'v1.0',
    ref_type: 'tag',
    ref_path: 'refs/tags/v1.0',
    ref_protected: 'false',
    environment: 'production',
    environment_protected: 'false',
    deployment_tier: 'production',
    environment_action: 'start',
    runner_id: 1,
    runner_environment: 'gitlab-hosted',
    sha: SHA,
    project_visibility: 'public',
    ci_config_ref_uri: `${host}/my-group/sub/my-project//ci/release.yml@refs/tags/v1.0`,
    ci_config_sha: SHA,
    sub: 'project_path:my-group/sub/my-project:ref_type:tag:ref:v1.0',
  });
  // What PyPI's GitLab publisher compares: "{issuer without https://}/{project}//{file}@{ref_path}".
  assert.equal(
    payload.ci_config_ref_uri,
    `${server.url.replace(/^https?:\/\//, '')}/${payload.project_path}//ci/release.yml@${payload.ref_path}`,
  );
  assert.deepEqual(server.env(), {
    ACTIONS_ID_TOKEN_REQUEST_URL: server.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: server.requestToken,
    GITHUB_ACTIONS: 'true',
    CI_SERVER_URL: server.url,
    CI_PROJECT_PATH: 'my-group/sub/my-project',
    CI_CONFIG_PATH: 'ci/release.yml',
    CI_COMMIT_REF_NAME: 'v1.0',
    CI_COMMIT_SHA: SHA,
    CI_PIPELINE_ID: '1234567890',
    CI_JOB_ID: '1234567891',
  });
  const text = startupText(server);
  assert.ok(
    text.includes(`#   pier issuer add --kind gitlab --url ${server.url} --insecure\n`),
    text,
  );
  assert.ok(
    text.includes(
      `#   pier publisher add <PROJECT> --provider gitlab --repository my-group/sub/my-project --workflow ci/release.yml --environment production --issuer ${server.url} --pending --owner admin\n`,
    ),
    text,
  );

  const plain = await start({ kind: 'gitlab' });
  assert.equal(plain.claims.sub, 'project_path:octo-org/octo-repo:ref_type:branch:ref:main');
  assert.equal(
    plain.claims.ci_config_ref_uri,
    `${new URL(plain.url).host}/octo-org/octo-repo//.gitlab-ci.yml@refs/heads/main`,
  );
  for (const absent of ['environment', 'deployment_tier', 'repository', 'workflow_ref'])
    assert.ok(!(absent in plain.claims), absent);
});

test('--key-file: created when missing (0600, PKCS#8), reused after a restart with the same kid', async () => {
  const dir = tempDir('dev-oidc-key-');
  const keyFile = join(dir, 'nested', 'issuer.pem');
  const first = await start({ keyFile });
  assert.ok(existsSync(keyFile));
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.match(readFileSync(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  const jwt = await first.mintToken('a');
  const firstUrl = first.url;
  await first.close();

  const second = await start({ keyFile });
  assert.equal(second.kid, first.kid);
  const keys = await getJson(`${second.url}/.well-known/jwks`);
  // A token from before the restart still verifies with the restarted issuer's keys.
  await jwtVerify(jwt, createLocalJWKSet(keys), {
    issuer: firstUrl,
    audience: 'a',
    algorithms: ['RS256'],
  });
  const other = await start();
  assert.notEqual(other.kid, first.kid);

  const ecFile = join(dir, 'ec.pem');
  writeFileSync(
    ecFile,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
  );
  await assert.rejects(start({ keyFile: ecFile }), /must hold an RSA key of at least 2048 bits/);
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a key');
  await assert.rejects(start({ keyFile: junk }), /does not hold an unencrypted PEM private key/);
});

test('bad settings are refused with a clear error before anything listens', async () => {
  const cases: [DevOidcOptions, RegExp][] = [
    [{ repository: 'octo-org' }, /--repository must be OWNER\/REPO/],
    [{ repository: 'a/b/c' }, /--repository must be OWNER\/REPO/],
    [{ ownerId: 'octo-org' }, /--owner-id must be the owner's numeric id/],
    [{ ownerId: '-1' }, /--owner-id/],
    [{ workflow: 'release' }, /--workflow must be a file name .* \.yml or \.yaml/],
    [{ workflow: '.github/workflows/release.yml' }, /--workflow must be a file name/],
    [{ environment: '' }, /--environment must be a non-empty name/],
    [{ ref: 'main' }, /--ref must be a full ref such as refs\/heads\/main/],
    [{ sha: 'abc123' }, /--sha must be a commit id of 40/],
    [{ sha: 'AB'.repeat(20) }, /--sha/],
    [{ event: 'Push!' }, /--event must be an event name/],
    [
      { jobWorkflowRef: 'release.yml' },
      /--job-workflow-ref must be OWNER\/REPO\/\.github\/workflows\/FILE\.yml@REF/,
    ],
    [
      { kind: 'gitlab', jobWorkflowRef: 'a/b/.github/workflows/c.yml@main' },
      /only for --kind github/,
    ],
    [{ kind: 'gitlab', repository: 'project' }, /NAMESPACE\/PROJECT/],
    [{ kind: 'gitlab', workflow: '/ci.yml' }, /--workflow must be the CI configuration's path/],
    [{ kind: 'gitlab', ref: 'refs/pull/1/merge' }, /--ref must be a full ref/],
    [{ kind: 'nope' as 'github' }, /--kind must be one of github, gitlab, .*got 'nope'/],
    [{ port: 70000 }, /--port must be a number from 0 to 65535/],
    [{ lifetime: 0 }, /--lifetime must be a whole number of seconds/],
    [{ issuer: 'not a url' }, /--issuer must be an absolute http\(s\) URL/],
    [{ issuer: 'ftp://example.com' }, /--issuer must be an http or https URL/],
    [{ issuer: 'https://example.com/' }, /trailing slash/],
    [{ tlsCert: '/nonexistent.pem' }, /--tls-cert and --tls-key go together/],
    [{ tlsCert: '/nonexistent.pem', tlsKey: '/nonexistent.key' }, /cannot read --tls-cert/],
  ];
  for (const [options, message] of cases)
    await assert.rejects(startDevOidc(options), (err: Error) => {
      assert.ok(err instanceof DevOidcError, `${JSON.stringify(options)}: ${String(err)}`);
      assert.match(err.message, message, JSON.stringify(options));
      return true;
    });
});

test('--issuer: discovery and tokens carry the given URL, served under its path too', async () => {
  const server = await start({ issuer: 'https://oidc.example.test/dev' });
  assert.equal(server.url, 'https://oidc.example.test/dev');
  assert.match(server.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(server.requestUrl, `${server.baseUrl}/token?api-version=2.0`);
  for (const prefix of ['', '/dev']) {
    const doc = await getJson(`${server.baseUrl}${prefix}/.well-known/openid-configuration`);
    assert.equal(doc.issuer, 'https://oidc.example.test/dev');
    assert.equal(doc.jwks_uri, 'https://oidc.example.test/dev/.well-known/jwks');
    assert.equal(
      (await getJson(`${server.baseUrl}${prefix}/.well-known/jwks`)).keys[0].kid,
      server.kid,
    );
  }
  assert.equal(decodeJwt(await getIDToken(server.env(), 'a')).iss, 'https://oidc.example.test/dev');
  assert.match(
    startupText(server),
    /pier issuer add --kind github --url https:\/\/oidc\.example\.test\/dev\n/,
  );
});

test('--tls-cert/--tls-key: HTTPS that a client trusting the CA verifies', async () => {
  const certs = testCertificates();
  const server = await start({ tlsCert: certs.cert, tlsKey: certs.key });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const getTls = (url: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      httpsGet(url, { ca: readFileSync(certs.caCert), headers }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(data) }));
      }).on('error', reject);
    });
  const doc = await getTls(`${server.url}/.well-known/openid-configuration`);
  assert.equal(doc.body.issuer, server.url);
  assert.equal(doc.body.jwks_uri, `${server.url}/.well-known/jwks`);
  const tok = await getTls(`${server.requestUrl}&audience=a`, {
    authorization: `bearer ${server.requestToken}`,
  });
  assert.equal(tok.status, 200);
  assert.equal(decodeJwt(tok.body.value).iss, server.url);
  assert.ok(!startupText(server).includes('--insecure'));
});

test('shellQuote leaves safe values bare and single-quotes the rest', () => {
  const cases: [string, string][] = [
    ['octo-org/octo-repo', 'octo-org/octo-repo'],
    ['a/b/.github/workflows/r.yml@refs/heads/main', 'a/b/.github/workflows/r.yml@refs/heads/main'],
    ['http://127.0.0.1:1/token?api-version=2.0', `'http://127.0.0.1:1/token?api-version=2.0'`],
    ['', `''`],
    ["it's", `'it'\\''s'`],
    ['$HOME', `'$HOME'`],
  ];
  for (const [value, quoted] of cases) assert.equal(shellQuote(value), quoted);
});

/** The `export` lines as a shell would read them. */
function parseExports(output: string): Record<string, string> {
  const script = output
    .split('\n')
    .filter((l) => l.startsWith('export '))
    .join('\n');
  const names = [...script.matchAll(/^export ([A-Z_]+)=/gm)].map((m) => m[1]!);
  const printed = execFileSync('/bin/sh', [
    '-c',
    `${script}\nfor n in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`,
  ]);
  const values = printed.toString('utf8').split('\0').slice(0, -1);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

test('the command, as users run it: export lines, trust commands, then serving until stopped', async () => {
  const dir = tempDir('dev-oidc-cmd-');
  const claimsFile = join(dir, 'claims.json');
  writeFileSync(claimsFile, JSON.stringify({ repository_visibility: 'private' }));
  let out = '';
  let err = '';
  let ready!: () => void;
  const printed = new Promise<void>((resolve) => (ready = resolve));
  const stop = new AbortController();
  const program = new Command('pier').exitOverride();
  registerDevOidcCommand(program, {
    stdout: (s) => {
      out += s;
      ready();
    },
    stderr: (s) => (err += s),
    signal: stop.signal,
  });
  const run = program.parseAsync([
    'node',
    'pier',
    'dev-oidc',
    '--port',
    '0',
    '--repository',
    'acme/rockets',
    '--workflow',
    'pypi.yml',
    '--environment',
    'release',
    '--owner-id',
    '4242',
    '--claims',
    claimsFile,
  ]);
  await printed;

  const lines = out.trimEnd().split('\n');
  const exportNames = lines
    .filter((l) => l.startsWith('export '))
    .map((l) => /^export ([A-Z_]+)=/.exec(l)![1]);
  assert.deepEqual(exportNames, [
    'ACTIONS_ID_TOKEN_REQUEST_URL',
    'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
    'GITHUB_ACTIONS',
    'GITHUB_REPOSITORY',
    'GITHUB_WORKFLOW_REF',
    'GITHUB_REF',
    'GITHUB_SHA',
    'GITHUB_EVENT_NAME',
    'GITHUB_SERVER_URL',
    'GITHUB_RUN_ID',
    'GITHUB_RUN_ATTEMPT',
  ]);
  for (const line of lines) assert.match(line, /^(export [A-Z_]+=\S+|#.*)$/);
  const env = parseExports(out);
  assert.match(
    env.ACTIONS_ID_TOKEN_REQUEST_URL!,
    /^http:\/\/127\.0\.0\.1:\d+\/token\?api-version=2\.0$/,
  );
  assert.match(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(env.GITHUB_ACTIONS, 'true');
  assert.equal(env.GITHUB_REPOSITORY, 'acme/rockets');
  assert.equal(env.GITHUB_WORKFLOW_REF, 'acme/rockets/.github/workflows/pypi.yml@refs/heads/main');
  assert.equal(env.GITHUB_REF, 'refs/heads/main');
  assert.equal(env.GITHUB_SHA, SHA);
  assert.equal(env.GITHUB_EVENT_NAME, 'push');
  assert.equal(env.GITHUB_SERVER_URL, 'https://github.com');
  assert.equal(env.GITHUB_RUN_ID, '1234567890');
  assert.equal(env.GITHUB_RUN_ATTEMPT, '1');

  const url = /^# {3}pier issuer add --kind github --url (\S+) --insecure$/m.exec(out)?.[1];
  assert.ok(url, out);
  assert.equal(`${url}/token?api-version=2.0`, env.ACTIONS_ID_TOKEN_REQUEST_URL);
  assert.ok(
    lines.includes(
      `#   pier publisher add <PROJECT> --provider github --repository acme/rockets --workflow pypi.yml --owner-id 4242 --environment release --issuer ${url} --pending --owner admin`,
    ),
    out,
  );
  const doc = await getJson(`${url}/.well-known/openid-configuration`);
  assert.equal(doc.issuer, url);
  const jwt = await getIDToken(env, 'pier-local');
  const { payload } = await jwtVerify(jwt, createRemoteJWKSet(new URL(doc.jwks_uri)), {
    issuer: url,
    audience: 'pier-local',
    algorithms: ['RS256'],
  });
  assert.equal(payload.sub, 'repo:acme/rockets:environment:release');
  assert.equal(payload.repository_owner_id, '4242');
  assert.equal(payload.repository_visibility, 'private');
  assert.match(err, /dev-oidc: issued a github token for audience "pier-local"/);
  assert.ok(!err.includes(jwt) && !err.includes(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!));

  stop.abort();
  await run;
  await assert.rejects(fetch(`${url}/.well-known/jwks`));
  assert.match(err, /stopping/);
});

test('the command refuses bad flags with a clear error', async () => {
  const cases: [string[], RegExp][] = [
    [['--sha', 'xyz'], /--sha must be a commit id/],
    [
      ['--port', 'eighty'],
      /option '--port <n>' argument 'eighty' is invalid\. expected a whole number from 0 to 65535/,
    ],
    [['--lifetime', '1e3'], /argument '1e3' is invalid\. expected a whole number from 1 to 86400/],
    [['--repository', 'nope'], /--repository must be OWNER\/REPO/],
    [['--kind', 'nope'], /Allowed choices are github, gitlab/],
  ];
  for (const [args, message] of cases) {
    const program = new Command('pier')
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerDevOidcCommand(program, {
      stdout: () => assert.fail('must not start'),
      signal: AbortSignal.abort(),
    });
    await assert.rejects(program.parseAsync(['node', 'pier', 'dev-oidc', ...args]), message);
  }
  let help = '';
  const program = new Command('pier')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (help += s) });
  registerDevOidcCommand(program);
  await assert.rejects(program.parseAsync(['node', 'pier', 'dev-oidc', '--help']), {
    code: 'commander.helpDisplayed',
  });
  for (const flag of [
    '--port',
    '--issuer',
    '--tls-cert',
    '--key-file',
    '--lifetime',
    '--kind',
    '--repository',
    '--owner-id',
    '--workflow',
    '--environment',
    '--ref',
    '--sha',
    '--event',
    '--job-workflow-ref',
    '--claims',
  ])
    assert.ok(help.includes(flag), flag);
});

/** Run the command in a process of its own, as `npx pier dev-oidc` will. */
function runProcess(args: string[]) {
  const script = [
    `import { Command } from 'commander';`,
    `import { registerDevOidcCommand } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'build/src/dev-oidc/index.js')).href)};`,
    `const program = new Command('pier');`,
    `registerDevOidcCommand(program);`,
    `await program.parseAsync(process.argv.slice(1), { from: 'user' });`,
  ].join('\n');
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', script, 'dev-oidc', ...args],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

test('as a process: prints the environment on stdout, serves, and exits 0 on SIGTERM', async () => {
  const p = runProcess(['--port', '0', '--environment', 'release']);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no output:\n${p.stdout()}${p.stderr()}`)),
      20_000,
    );
    const check = () => {
      if (/pier issuer add/.test(p.stdout())) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.child.stdout.on('data', check);
    void p.exited.then(() => reject(new Error(`exited early:\n${p.stderr()}`)));
  });
  const env = parseExports(p.stdout());
  const url = /pier issuer add --kind github --url (\S+)/.exec(p.stdout())![1]!;
  assert.equal((await getJson(`${url}/.well-known/openid-configuration`)).issuer, url);
  assert.equal(
    decodeJwt(await getIDToken(env, 'a')).sub,
    'repo:octo-org/octo-repo:environment:release',
  );
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
  assert.match(p.stderr(), /stopping \(SIGTERM\)/);
});

test('as a process: a bad flag exits non-zero with the reason on stderr', async () => {
  const p = runProcess(['--owner-id', 'octo-org']);
  assert.notEqual(await p.exited, 0);
  assert.match(
    p.stderr(),
    /--owner-id must be the owner's numeric id \(digits only, e\.g\. 65\), got 'octo-org'/,
  );
  assert.equal(p.stdout(), '');
});

test('the project in the printed commands comes from pyproject.toml', () => {
  const cases: [string, string | undefined][] = [
    ['[project]\nname = "my-project"\nversion = "1"\n', 'my-project'],
    ['[project]\nname = " Spaced "\n', 'Spaced'],
    ['[tool.poetry]\nname = "poetry-only"\n', undefined],
    ['[project]\nversion = "1"\n', undefined],
    ['[project]\nname = 3\n', undefined],
    ['not toml at all [', undefined],
  ];
  for (const [text, name] of cases) assert.equal(projectNameFromPyproject(text), name, text);
});
