// On the embedded default only: what this file tests is the publish client in CircleCI and
// Bitbucket Pipelines jobs; the exchange and upload paths it ends in run on PostgreSQL with S3
// in oidc/circleci-exchange and oidc/bitbucket-exchange.
// `pier publish` as such a job runs it, against `pier serve` over HTTPS with a private CA: the
// organisation's or workspace's issuer and the publisher registered with the pier CLI, the token
// from a `circleci` program on the PATH (as CircleCI's agent is) or from
// BITBUCKET_STEP_OIDC_TOKEN, signed by an issuer the test writes.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { backendEnv } from '../support/backend.js';
import { sample } from '../support/fixtures.js';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { runPier, startPierProcess, type PierProcess } from '../support/server.js';
import { testCertificates } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { getJson, runPublish } from '../client/processes.js';

const certs = testCertificates();
const ORG_ID = 'c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90';
const PROJECT_ID = '1f0e2d3c-4b5a-4697-8877-665544332211';
const WORKSPACE = '{8a1fdada-cbc0-452c-81ce-07534945e18b}';
const REPOSITORY = '{437da666-7aab-4b60-a947-ec542536ca0d}';

let pier: PierProcess;
let circle: TestIssuer;
let bitbucket: TestIssuer;
let env: Record<string, string>;
let audience: string;
const trusted = { NODE_EXTRA_CA_CERTS: certs.caCert };
const upload = () => `${pier.url}/legacy/`;

async function pierOk(args: string[]): Promise<string> {
  const r = await runPier(args, env);
  assert.equal(r.code, 0, `pier ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

const now = () => Math.floor(Date.now() / 1000);

function circleClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: circle.url,
    sub: `org/${ORG_ID}/project/${PROJECT_ID}/user/7d6c5b4a-3f2e-4d1c-9b0a-123456789abc`,
    aud: audience,
    iat: now(),
    exp: now() + 3600,
    'oidc.circleci.com/org-id': ORG_ID,
    'oidc.circleci.com/project-id': PROJECT_ID,
    'oidc.circleci.com/job-id': '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
    'oidc.circleci.com/ssh-rerun': false,
    'oidc.circleci.com/vcs-origin': 'github.com/acme/release-app',
    'oidc.circleci.com/vcs-ref': 'refs/tags/v1.0.0',
    ...over,
  };
}

/** A CircleCI job's PATH: a `circleci` program printing `token` when asked for pier's audience. */
function circleciPath(token: string): string {
  const bin = tempDir('pier-fake-circleci-');
  const program = join(bin, 'circleci');
  const expected = JSON.stringify({ aud: audience });
  writeFileSync(
    program,
    `#!/bin/sh\nif [ "$1 $2 $3 $4" = "run oidc get --claims" ] && [ "$5" = '${expected}' ]; then echo '${token}'; else echo "unexpected: $*" >&2; exit 2; fi\n`,
  );
  chmodSync(program, 0o755);
  return `${bin}:${process.env.PATH}`;
}

before(async () => {
  circle = await startTestIssuer();
  bitbucket = await startTestIssuer();
  env = {
    PIER_DATA_DIR: tempDir('pier-ci-publish-'),
    PIER_TLS_CERT: certs.cert,
    PIER_TLS_KEY: certs.key,
    ...backendEnv(),
  };
  pier = await startPierProcess(env);
  audience = new URL(pier.url).host;
  await pierOk(['issuer', 'add', '--kind', 'circleci', '--url', circle.url, '--insecure']);
  await pierOk(['issuer', 'add', '--kind', 'bitbucket', '--url', bitbucket.url, '--insecure']);
  await pierOk(['user', 'add', 'maintainer']);
  await pierOk(['project', 'create', 'pier-sample', '--owner', 'maintainer']);
  await pierOk(['project', 'create', 'pier-other', '--owner', 'maintainer']);
  // The documented CLI forms (docs/trusted-publishing.md).
  await pierOk([
    'publisher',
    'add',
    'pier-sample',
    '--provider',
    'circleci',
    '--issuer',
    circle.url,
    '--organization-id',
    ORG_ID,
    '--project-id',
    PROJECT_ID,
    '--vcs-origin',
    'github.com/acme/release-app',
    '--ref',
    'refs/tags/v*',
  ]);
  await pierOk([
    'publisher',
    'add',
    'pier-other',
    '--provider',
    'bitbucket',
    '--issuer',
    bitbucket.url,
    '--workspace-uuid',
    WORKSPACE,
    '--repository-uuid',
    REPOSITORY,
    '--branch',
    'main',
  ]);
});

after(async () => {
  await pier?.stop();
  await circle?.close();
  await bitbucket?.close();
});

test('pier publisher list shows both publishers as registered', async () => {
  const listed = await pierOk(['publisher', 'list']);
  assert.match(
    listed,
    /CircleCI project 1f0e2d3c-4b5a-4697-8877-665544332211 \(github\.com\/acme\/release-app\), ref refs\/tags\/v\*/,
  );
  assert.match(
    listed,
    /Bitbucket repository \{437da666-7aab-4b60-a947-ec542536ca0d\}, branch main/,
  );
});

test('pier publish in a CircleCI job: the circleci agent’s token for the index, exchanged, uploaded', async () => {
  const token = await circle.sign(circleClaims());
  const r = await runPublish(['--repository-url', upload(), sample('sample').wheel], {
    ...trusted,
    CIRCLECI: 'true',
    PATH: circleciPath(token),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /exchanged the circleci OIDC token for an upload token/);
  const page = await getJson(`${pier.url}/simple/pier-sample/`, certs.caCert, {
    accept: 'application/vnd.pypi.simple.v1+json',
  });
  assert.deepEqual(
    page.files.map((f: any) => f.filename),
    ['pier_sample-1.0.0-py3-none-any.whl'],
  );
});

test('pier publish in an SSH re-run of that CircleCI job: refused, with the reason', async () => {
  const token = await circle.sign(circleClaims({ 'oidc.circleci.com/ssh-rerun': true }));
  const r = await runPublish(['--repository-url', upload(), sample('sample').sdist], {
    ...trusted,
    CIRCLECI: 'true',
    PATH: circleciPath(token),
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /the job is a re-run with SSH/);
  const page = await getJson(`${pier.url}/simple/pier-sample/`, certs.caCert, {
    accept: 'application/vnd.pypi.simple.v1+json',
  });
  assert.equal(page.files.length, 1, 'nothing more was uploaded');
});

test('pier publish in a Bitbucket step: BITBUCKET_STEP_OIDC_TOKEN, exchanged, uploaded', async () => {
  const claims = {
    iss: bitbucket.url,
    aud: audience,
    sub: `${REPOSITORY}:{5c1e9f3a-2b4d-4e6f-8a7b-9c0d1e2f3a4b}`,
    iat: now(),
    exp: now() + 3600,
    workspaceUuid: WORKSPACE,
    repositoryUuid: REPOSITORY,
    pipelineUuid: '{0d2c4b6a-8f1e-4d3c-b5a7-9e1f2d3c4b5a}',
    stepUuid: '{5c1e9f3a-2b4d-4e6f-8a7b-9c0d1e2f3a4b}',
    branchName: 'main',
  };
  const step = (token: string) => ({
    ...trusted,
    BITBUCKET_PIPELINE_UUID: claims.pipelineUuid,
    BITBUCKET_STEP_OIDC_TOKEN: token,
  });
  // `oidc: true` alone: Bitbucket's default audience; the client says what to declare.
  const defaultAudience = await bitbucket.sign({
    ...claims,
    aud: `ari:cloud:bitbucket::workspace/${WORKSPACE.slice(1, -1)}`,
  });
  const refused = await runPublish(
    ['--repository-url', upload(), sample('other').wheel],
    step(defaultAudience),
  );
  assert.equal(refused.code, 1, refused.stderr);
  assert.ok(refused.stderr.includes(`oidc: { audiences: [${audience}] }`), refused.stderr);
  const r = await runPublish(
    ['--repository-url', upload(), sample('other').wheel],
    step(await bitbucket.sign(claims)),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /exchanged the bitbucket OIDC token for an upload token/);
  const release = await getJson(`${pier.url}/pypi/pier-other/json`, certs.caCert);
  assert.equal(release.info.version, '0.1.0');
});
