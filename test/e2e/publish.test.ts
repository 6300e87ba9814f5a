// On the embedded default only: what this file tests is the publish client; the upload path it
// ends in is tested on PostgreSQL with S3 as well, by e2e/twine-pip and test/http.
// `pier publish` as a user runs it, against `pier serve` over HTTPS with a private CA (trusted
// through NODE_EXTRA_CA_CERTS): trusted publishing with a GitLab-style token from the
// environment, an explicit token, and the failures a user meets, each with the message that
// says what to change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { gitlabTokenVariable } from '../../src/client/ambient.js';
import { startDevOidcProcess, type DevOidcProcess } from '../support/dev-oidc.js';
import { makeWheel, metadataText } from '../support/dists.js';
import { sample } from '../support/fixtures.js';
import { runPier, startPierProcess, startServer, type PierProcess } from '../support/server.js';
import { testCertificates } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { backendEnv } from '../support/backend.js';
import { devToken, getJson, runPublish } from '../client/processes.js';
import { cannedServer, json } from '../client/support.js';

const certs = testCertificates();
let pier: PierProcess;
let dev: DevOidcProcess;
let env: Record<string, string>;
let audience: string;
let token: string;

const upload = () => `${pier.url}/legacy/`;
const trusted = { NODE_EXTRA_CA_CERTS: certs.caCert };

async function pierOk(args: string[], input?: string): Promise<string> {
  const r = await runPier(args, env, input);
  assert.equal(r.code, 0, `pier ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The GitLab CI environment of a job with `id_tokens: { <AUD>_ID_TOKEN: { aud: <audience> } }`. */
async function gitlabJob(): Promise<Record<string, string>> {
  return {
    GITLAB_CI: 'true',
    CI: 'true',
    [gitlabTokenVariable(audience)]: await devToken(dev.env, audience),
    ...trusted,
  };
}

function distDir(files: string[]): string {
  const dir = join(tempDir('pier-publish-e2e-'), 'dist');
  mkdirSync(dir);
  for (const f of files) copyFileSync(f, join(dir, basename(f)));
  return dir;
}

before(async () => {
  env = {
    PIER_DATA_DIR: tempDir('pier-publish-'),
    PIER_TLS_CERT: certs.cert,
    PIER_TLS_KEY: certs.key,
    ...backendEnv(),
  };
  pier = await startPierProcess(env);
  audience = new URL(pier.url).host;
  dev = await startDevOidcProcess(['--kind', 'gitlab', '--repository', 'my-group/my-project']);
  await pierOk(['issuer', 'add', '--kind', 'gitlab', '--url', dev.url, '--insecure']);
  await pierOk(
    ['user', 'add', 'maintainer', '--may-create-projects', '--password-stdin'],
    'pw-123456',
  );
  await pierOk(['project', 'create', 'pier-sample', '--owner', 'maintainer']);
  await pierOk([
    'publisher',
    'add',
    'pier-sample',
    '--provider',
    'gitlab',
    '--repository',
    'my-group/my-project',
    '--workflow',
    '.gitlab-ci.yml',
    '--issuer',
    dev.url,
  ]);
  token = await pierOk(['token', 'create', '--user', 'maintainer', '--scope', 'upload']);
});

after(async () => {
  await dev?.stop();
  await pier?.stop();
});

test('trusted publishing with a GitLab CI token from the environment', async () => {
  const { wheel, sdist } = sample('sample');
  const r = await runPublish(
    ['--repository-url', upload(), '--print-hash', distDir([sdist, wheel])],
    await gitlabJob(),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /Trusted publishing: exchanged the gitlab OIDC token for an upload token at 127\.0\.0\.1:\d+/,
  );
  assert.match(
    r.stderr,
    /Uploaded pier_sample-1\.0\.0-py3-none-any\.whl[\s\S]*Uploaded pier_sample-1\.0\.0\.tar\.gz/,
  );
  assert.match(
    r.stderr,
    /SHA256:\s+[0-9a-f]{64}\n\s+MD5:\s+[0-9a-f]{32}\n\s+BLAKE2-256:\s+[0-9a-f]{64}/,
  );
  assert.doesNotMatch(r.stdout + r.stderr, /pypi-pier_/);
  const page = await getJson(`${pier.url}/simple/pier-sample/`, certs.caCert, {
    accept: 'application/vnd.pypi.simple.v1+json',
  });
  assert.deepEqual(page.files.map((f: any) => f.filename).sort(), [
    'pier_sample-1.0.0-py3-none-any.whl',
    'pier_sample-1.0.0.tar.gz',
  ]);
  const release = await getJson(`${pier.url}/pypi/pier-sample/json`, certs.caCert);
  assert.match(JSON.stringify(release.urls[0].provenance), /my-group\/my-project/);
  // The minted token was burned at the end.
  const tokens = JSON.parse(await pierOk(['token', 'list', '--json']));
  const minted = tokens.filter((t: any) => t.publisherId);
  assert.ok(minted.length >= 1);
  assert.ok(
    minted.every((t: any) => t.revokedAt),
    JSON.stringify(minted),
  );
});

test('an explicit token (--token, and PIER_TOKEN)', async () => {
  const { wheel, sdist } = sample('later');
  const r = await runPublish(['--repository-url', upload(), '--token', token, wheel], trusted);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Uploaded pier_sample-1\.1\.0-py3-none-any\.whl/);
  const e = await runPublish(['--repository-url', upload(), sdist], {
    ...trusted,
    PIER_TOKEN: token,
  });
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stderr, /Done: 1 uploaded/);
  const bad = await runPublish(['--repository-url', upload(), sdist], {
    ...trusted,
    PIER_TOKEN: 'pypi-pier_nonsense',
  });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /refused the upload: 403/);
  assert.match(
    bad.stderr,
    /hint: Check the token from PIER_TOKEN: it must be valid, unexpired, with the upload scope/,
  );
});

test('GitHub Actions without id-token permission', async () => {
  const r = await runPublish(['--repository-url', upload(), sample('sample').wheel], {
    ...trusted,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /GitHub Actions gave this job no OIDC token \(ACTIONS_ID_TOKEN_REQUEST_URL is unset\)/,
  );
  assert.match(r.stderr, /hint: Add `permissions: id-token: write` to the publishing job/);
});

test('GitLab CI without the id_tokens variable', async () => {
  const r = await runPublish(['--repository-url', upload(), sample('sample').wheel], {
    ...trusted,
    GITLAB_CI: 'true',
  });
  assert.equal(r.code, 1);
  const variable = gitlabTokenVariable(audience);
  assert.match(r.stderr, new RegExp(`GitLab CI: the variable ${variable} is not set`));
  assert.ok(r.stderr.includes(`id_tokens: { ${variable}: { aud: ${audience} } }`), r.stderr);
});

test('a publisher that does not match: the reason, the claims, the command', async () => {
  // Another GitLab project's job: its project has a publisher, but for another environment.
  const other = await startDevOidcProcess([
    '--kind',
    'gitlab',
    '--repository',
    'my-group/other-project',
  ]);
  try {
    await pierOk(['issuer', 'add', '--kind', 'gitlab', '--url', other.url, '--insecure']);
    await pierOk(['project', 'create', 'pier-other', '--owner', 'maintainer']);
    await pierOk([
      'publisher',
      'add',
      'pier-other',
      '--provider',
      'gitlab',
      '--repository',
      'my-group/other-project',
      '--workflow',
      '.gitlab-ci.yml',
      '--environment',
      'production',
      '--issuer',
      other.url,
    ]);
    const job = {
      GITLAB_CI: 'true',
      [gitlabTokenVariable(audience)]: await devToken(other.env, audience),
      ...trusted,
    };
    const r = await runPublish(['--repository-url', upload(), sample('other').wheel], job);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /Trusted publishing exchange failed: 127\.0\.0\.1:\d+ refused the OIDC token:/,
    );
    assert.match(
      r.stderr,
      /\* `invalid-publisher`: valid token, but no corresponding publisher \(.*environment/,
    );
    assert.match(r.stderr, /project_path\s+my-group\/other-project/);
    assert.match(
      r.stderr,
      /ci_config_ref_uri\s+127\.0\.0\.1:\d+\/my-group\/other-project\/\/\.gitlab-ci\.yml@refs\/heads\/main/,
    );
    assert.match(r.stderr, /environment\s+MISSING/);
    assert.ok(
      r.stderr.includes(
        `pier publisher add pier-other --provider gitlab --repository my-group/other-project --workflow .gitlab-ci.yml --issuer ${other.url}`,
      ),
      r.stderr,
    );
    // The token itself is never shown.
    assert.doesNotMatch(r.stderr, /eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]+\./);
  } finally {
    await other.stop();
  }
});

test('a job trusted by another project only: its token cannot upload here', async () => {
  // my-group/my-project is pier-sample's publisher, not pier-other's.
  const r = await runPublish(
    ['--repository-url', upload(), sample('other').sdist],
    await gitlabJob(),
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /refused the upload: 403 The given token isn't allowed to upload to project 'pier-other'/,
  );
  assert.match(
    r.stderr,
    /hint: The token minted for this job does not cover the project 'pier-other': register the publisher for 'pier-other' too/,
  );
});

test('an index that does not support trusted publishing: 403 (plain HTTP) and 404', async () => {
  const plain = await startServer({ publicUrl: 'http://pier.example.com' });
  try {
    const r = await runPublish(
      ['--repository-url', `${plain.listenUrl}/legacy/`, sample('sample').wheel],
      { GITLAB_CI: 'true' },
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /The index at 127\.0\.0\.1:\d+ has trusted publishing disabled \(the public URL http:\/\/pier\.example\.com\/? is plain HTTP/,
    );
    assert.match(r.stderr, /hint: .*--token or PIER_TOKEN/);
  } finally {
    await plain.close();
  }
  const none = await cannedServer((_req, res) => json(res, 404, { message: 'Not Found' }));
  try {
    const r = await runPublish(
      ['--repository-url', `${none.url}/legacy/`, sample('sample').wheel],
      { GITLAB_CI: 'true' },
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /does not support trusted publishing: GET http:\/\/127\.0\.0\.1:\d+\/_\/oidc\/audience answered 404/,
    );
  } finally {
    await none.close();
  }
});

test('an index whose certificate is not trusted', async () => {
  const r = await runPublish([
    '--repository-url',
    upload(),
    '--token',
    token,
    sample('sample').wheel,
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
  );
  assert.match(r.stderr, /hint: .*point NODE_EXTRA_CA_CERTS at its PEM file/);
  // And plain HTTP to anything but loopback is refused before any request.
  const h = await runPublish([
    '--repository-url',
    'http://pier.example.com/legacy/',
    '--token',
    token,
    sample('sample').wheel,
  ]);
  assert.equal(h.code, 1);
  assert.match(h.stderr, /is plain HTTP: tokens and packages are sent only over HTTPS/);
});

test('a file that exists already; --skip-existing by the Simple page and by the index’s answer', async () => {
  const { wheel, sdist } = sample('conflicting');
  const files = distDir([wheel, sdist]);
  const r = await runPublish(['--repository-url', upload(), '--token', token, files], trusted);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /pier_sample-1\.0\.0-py3-none-any\.whl: 127\.0\.0\.1:\d+ refused the upload: 400 File already exists/,
  );
  assert.match(r.stderr, /hint: .*release a new version, or pass --skip-existing/);

  const pre = await runPublish(
    ['--repository-url', upload(), '--token', token, '--skip-existing', files],
    trusted,
  );
  assert.equal(pre.code, 0, pre.stderr);
  assert.match(
    pre.stderr,
    /Skipped pier_sample-1\.0\.0-py3-none-any\.whl: the index has a different file of this name/,
  );
  assert.match(pre.stderr, /Done: 2 skipped/);

  const same = await runPublish(
    ['--repository-url', upload(), '--token', token, '--skip-existing', sample('sample').wheel],
    trusted,
  );
  assert.match(
    same.stderr,
    /Skipped pier_sample-1\.0\.0-py3-none-any\.whl: the index has it already \(same SHA-256\)/,
  );

  // With no usable Simple page (an index URL that 404s), the index's own answer decides.
  const answer = await runPublish(
    [
      '--repository-url',
      upload(),
      '--token',
      token,
      '--skip-existing',
      '--index-url',
      `${pier.url}/nowhere/`,
      files,
    ],
    trusted,
  );
  assert.equal(answer.code, 0, answer.stderr);
  assert.match(answer.stderr, /Uploading pier_sample-1\.0\.0-py3-none-any\.whl/);
  assert.match(
    answer.stderr,
    /Skipped pier_sample-1\.0\.0-py3-none-any\.whl: the index answered: 400 File already exists/,
  );
});

test('a metadata/filename mismatch and a file that is no distribution, named', async () => {
  const dir = join(tempDir('pier-bad-'), 'dist');
  mkdirSync(dir);
  const wheel = await makeWheel({
    name: 'pier-sample',
    version: '2.0.0',
    metadata: metadataText('pier-sample', '2.0.1'),
  });
  writeFileSync(join(dir, wheel.filename), wheel.content);
  const r = await runPublish(['--repository-url', upload(), '--token', token, dir], trusted);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /pier_sample-2\.0\.0-py3-none-any\.whl: the filename says version 2\.0\.0, but its METADATA says Version: 2\.0\.1/,
  );
  writeFileSync(join(dir, 'SHA256SUMS.txt'), 'x');
  const n = await runPublish(['--repository-url', upload(), '--token', token, dir], trusted);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /dist\/SHA256SUMS\.txt: not a distribution \(\.whl or \.tar\.gz\)/);
});

test('a 5xx is retried with backoff', async () => {
  // A proxy on loopback that answers the first upload with 503 and forwards everything else to
  // pier (a transient server failure cannot be caused otherwise).
  let failed = 0;
  const ca = readFileSync(certs.caCert);
  const target = new URL(pier.url);
  const proxy = http.createServer((req, res) => {
    if (req.method === 'POST' && failed === 0) {
      failed++;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, 'Service Unavailable', { 'content-type': 'text/plain' });
        res.end('try later\n');
      });
      return;
    }
    const out = https.request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
        ca,
      },
      (back) => {
        res.writeHead(back.statusCode ?? 502, back.statusMessage, back.headers);
        back.pipe(res);
      },
    );
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const port = (proxy.address() as AddressInfo).port;
    const wheel = await makeWheel({ name: 'pier-sample', version: '3.0.0' });
    const dir = join(tempDir('pier-retry-'), 'dist');
    mkdirSync(dir);
    writeFileSync(join(dir, wheel.filename), wheel.content);
    const r = await runPublish([
      '--repository-url',
      `http://127.0.0.1:${port}/legacy/`,
      '--token',
      token,
      dir,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(failed, 1);
    assert.match(
      r.stderr,
      /warning: upload of pier_sample-3\.0\.0-py3-none-any\.whl: 503 Service Unavailable; attempt 2 of 5 in 1\.0 s/,
    );
    assert.match(r.stderr, /Uploaded pier_sample-3\.0\.0-py3-none-any\.whl/);
  } finally {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  }
});
