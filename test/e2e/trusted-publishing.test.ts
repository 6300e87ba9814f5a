// @backends: runs on the embedded default and on PostgreSQL with S3.
// The standard trusted-publishing workflow, end to end: distributions built; a GitHub-style
// token from `pier dev-oidc` (repository octo-org/octo-repo, workflow release.yml, environment
// release); exchanged at pier over HTTPS by a client written like the pypa action's; uploaded
// with twine using the minted token; installed back with pip. Then the same with a pending
// publisher creating the project.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sample } from '../support/fixtures.js';
import { REPO_ROOT, runPier, startPierProcess, type PierProcess } from '../support/server.js';
import { backendEnv } from '../support/backend.js';
import { createVenv, exec, pipInstall, SYSTEM_PYTHON, twineUpload } from '../support/python.js';
import { testCertificates } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import {
  RELEASE_JOB,
  releaseJobPublisher,
  startDevOidcProcess,
  type DevOidcProcess,
} from '../support/dev-oidc.js';

const EXCHANGE = join(REPO_ROOT, 'test', 'fixtures', 'oidc_exchange.py');
let pier: PierProcess;
let dev: DevOidcProcess;
let env: Record<string, string>;
const certs = testCertificates();

function exchange(jobEnv: Record<string, string>, trustCa = true) {
  return exec(SYSTEM_PYTHON, [EXCHANGE], {
    ...jobEnv,
    INPUT_REPOSITORY_URL: `${pier.url}/legacy/`,
    REQUESTS_CA_BUNDLE: trustCa ? certs.caCert : '',
    CURL_CA_BUNDLE: '',
    SSL_CERT_FILE: '',
  });
}

before(async () => {
  env = {
    PIER_DATA_DIR: tempDir('pier-tp-'),
    PIER_TLS_CERT: certs.cert,
    PIER_TLS_KEY: certs.key,
    ...backendEnv(),
  };
  pier = await startPierProcess(env);
  dev = await startDevOidcProcess(RELEASE_JOB);
  const add = await runPier(
    ['issuer', 'add', '--kind', 'github', '--url', dev.url, '--insecure'],
    env,
  );
  assert.equal(add.code, 0, add.stderr);
  assert.equal(
    (
      await runPier(
        ['user', 'add', 'maintainer', '--may-create-projects', '--password-stdin'],
        env,
        'maintainer-pw-1',
      )
    ).code,
    0,
  );
  assert.equal(
    (await runPier(['project', 'create', 'pier-sample', '--owner', 'maintainer'], env)).code,
    0,
  );
});

after(async () => {
  await dev?.stop();
  await pier?.stop();
});

test('dev-oidc prints the job environment and the line that trusts it', () => {
  assert.match(
    dev.env.ACTIONS_ID_TOKEN_REQUEST_URL!,
    /^http:\/\/127\.0\.0\.1:\d+\/token\?api-version=2\.0$/,
  );
  assert.match(dev.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!, /\S{16,}/);
  assert.match(
    dev.output(),
    /pier issuer add --kind github --url http:\/\/127\.0\.0\.1:\d+ --insecure/,
  );
});

test('without a matching publisher the exchange fails with the reason', async () => {
  const r = await exchange(dev.env);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /`invalid-publisher`: valid token, but no corresponding publisher \(Publisher with matching claims was not found\)/,
  );
});

test('build, exchange, upload with twine, install with pip', async () => {
  const added = await runPier(releaseJobPublisher('pier-sample', dev.url), env);
  assert.equal(added.code, 0, added.stderr);
  const minted = await exchange(dev.env);
  assert.equal(minted.code, 0, minted.stderr);
  const token = minted.stdout.trim();
  assert.match(token, /^pypi-pier_/);

  const { wheel, sdist } = sample('sample');
  const up = await twineUpload(
    pier.url,
    [wheel, sdist],
    { username: '__token__', password: token },
    ['--cert', certs.caCert],
  );
  assert.equal(up.code, 0, up.stdout + up.stderr);

  const venv = await createVenv();
  const install = await pipInstall(
    venv,
    `${pier.url}/simple/`,
    ['pier-sample'],
    ['--cert', certs.caCert],
  );
  assert.equal(install.code, 0, install.stdout + install.stderr);
  const imported = await exec(venv.python, [
    '-c',
    'import pier_sample; print(pier_sample.GREETING)',
  ]);
  assert.equal(imported.stdout.trim(), 'hello from pier-sample');

  const doc = (
    await exec(SYSTEM_PYTHON, [
      '-c',
      `import requests,json; print(json.dumps(requests.get("${pier.url}/pypi/pier-sample/json", verify="${certs.caCert}").json()["urls"][0]["provenance"]))`,
    ])
  ).stdout;
  const provenance = JSON.parse(doc);
  assert.equal(provenance.claims.repository, 'octo-org/octo-repo');
  assert.equal(provenance.claims.environment, 'release');
  assert.match(provenance.publisher.description, /octo-org\/octo-repo/);
});

test('the same OIDC token cannot be exchanged twice', async () => {
  const res = await fetch(
    `${dev.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(new URL(pier.url).host)}`,
    {
      headers: { authorization: `bearer ${dev.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
    },
  );
  const jwt = ((await res.json()) as { value: string }).value;
  const script = `import requests,sys; r=requests.post("${pier.url}/_/oidc/mint-token", json={"token": sys.argv[1]}, verify="${certs.caCert}"); print(r.status_code, r.json()["errors"][0]["code"] if r.status_code != 200 else "ok")`;
  assert.equal((await exec(SYSTEM_PYTHON, ['-c', script, jwt])).stdout.trim(), '200 ok');
  assert.equal(
    (await exec(SYSTEM_PYTHON, ['-c', script, jwt])).stdout.trim(),
    '422 invalid-reuse-token',
  );
});

test('a client that does not trust the index’s certificate is refused', async () => {
  const r = await exchange(dev.env, false);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /CERTIFICATE_VERIFY_FAILED|certificate verify failed/);
});

test('a pending publisher creates the project on its first exchange', async () => {
  const other = await startDevOidcProcess([
    '--repository',
    'octo-org/other-repo',
    '--workflow',
    'publish.yml',
  ]);
  try {
    assert.equal(
      (await runPier(['issuer', 'add', '--kind', 'github', '--url', other.url, '--insecure'], env))
        .code,
      0,
    );
    const pending = await runPier(
      [
        'publisher',
        'add',
        'pier-other',
        '--pending',
        '--owner',
        'maintainer',
        '--provider',
        'github',
        '--repository',
        'octo-org/other-repo',
        '--workflow',
        'publish.yml',
        '--owner-id',
        '65',
        '--issuer',
        other.url,
      ],
      env,
    );
    assert.equal(pending.code, 0, pending.stderr);
    const minted = await exchange(other.env);
    assert.equal(minted.code, 0, minted.stderr);
    const { wheel } = sample('other');
    const up = await twineUpload(
      pier.url,
      [wheel],
      { username: '__token__', password: minted.stdout.trim() },
      ['--cert', certs.caCert],
    );
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const venv = await createVenv();
    const install = await pipInstall(
      venv,
      `${pier.url}/simple/`,
      ['pier-other'],
      ['--cert', certs.caCert],
    );
    assert.equal(install.code, 0, install.stdout + install.stderr);
    const audit = await runPier(['audit', '--project', 'pier-other', '--json'], env);
    const actions = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).action);
    for (const a of ['project-create', 'publisher-add', 'oidc-exchange', 'upload'])
      assert.ok(actions.includes(a), a);
  } finally {
    await other.stop();
  }
});
