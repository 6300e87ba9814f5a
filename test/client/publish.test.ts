// publish() end to end against a stand-in index (a few lines of node:http): the order of
// requests in trusted publishing (audience, exchange, uploads, burn), the upload request as
// twine sends it, secrets handed to onSecret, and a dry run that sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publish } from '../../src/client/publish.js';
import { textReporter } from '../../src/client/report.js';
import { makeSdist, makeWheel } from '../support/dists.js';
import { tempDir } from '../support/tmp.js';
import { cannedServer, fakeCi, json, jwt } from './support.js';

async function distDir(): Promise<string> {
  const dir = join(tempDir('pier-publish-'), 'dist');
  mkdirSync(dir);
  for (const made of [await makeSdist({ name: 'demo-pkg' }), await makeWheel({ name: 'demo-pkg' })])
    writeFileSync(join(dir, made.filename), made.content);
  return dir;
}

function fieldNames(body: Buffer): string[] {
  return [
    ...body.toString('latin1').matchAll(/Content-Disposition: form-data; name="([^"]+)"/g),
  ].map((m) => m[1]!);
}

test('trusted publishing from GitLab CI: no PEP 807 discovery (404), so PyPI’s audience, exchange, uploads, burn', async () => {
  const oidc = jwt({ iss: 'https://gitlab.com', aud: 'pier.test', project_path: 'g/p' });
  const server = await cannedServer((req, res) => {
    if (req.path === '/_/oidc/audience') return json(res, 200, { audience: 'pier.test' });
    if (req.path === '/_/oidc/mint-token')
      return json(res, 200, { success: true, token: 'pypi-minted-secret', expires: 2000000000 });
    if (req.path === '/_/oidc/burn-token') return json(res, 202, { message: 'Accepted' });
    if (req.path === '/legacy/') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('OK\n');
    }
    json(res, 404, {});
  });
  try {
    const secrets: string[] = [];
    const lines: string[] = [];
    const result = await publish({
      paths: [await distDir()],
      repositoryUrl: `${server.url}/legacy/`,
      env: {},
      ambient: fakeCi({ GITLAB_CI: 'true', PIER_TEST_ID_TOKEN: oidc }),
      reporter: textReporter({ write: (l) => lines.push(l), printHash: true }),
      allDigests: true,
      onSecret: (s) => secrets.push(s),
    });
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      [
        'GET /.well-known/pytp?discover=%2Flegacy%2F',
        'GET /_/oidc/audience',
        'POST /_/oidc/mint-token',
        'POST /legacy/',
        'POST /legacy/',
        'POST /_/oidc/burn-token',
      ],
    );
    assert.equal(server.requests[0]!.headers.accept, 'application/vnd.pypi.pytp.v1+json');
    // PyPI's endpoints get what PyPI's clients send.
    assert.equal(server.requests[1]!.headers.accept, 'application/json');
    assert.equal(server.requests[2]!.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(server.requests[2]!.body.toString()), { token: oidc });
    assert.deepEqual(JSON.parse(server.requests[5]!.body.toString()), {
      token: 'pypi-minted-secret',
    });
    const upload = server.requests[3]!;
    assert.equal(
      upload.headers.authorization,
      `Basic ${Buffer.from('__token__:pypi-minted-secret').toString('base64')}`,
    );
    assert.equal(Number(upload.headers['content-length']), upload.body.length);
    assert.match(String(upload.headers['content-type']), /^multipart\/form-data; boundary=/);
    const names = fieldNames(upload.body);
    assert.deepEqual(names.slice(0, 3), ['metadata_version', 'name', 'version']);
    assert.deepEqual(names.slice(-7), [
      'pyversion',
      'filetype',
      'sha256_digest',
      'blake2_256_digest',
      ':action',
      'protocol_version',
      'content',
    ]);
    assert.match(upload.body.toString('latin1'), /filename="demo_pkg-1\.0\.0-py3-none-any\.whl"/);
    assert.deepEqual(secrets, [oidc, 'pypi-minted-secret']);
    assert.deepEqual(
      result.files.map((f) => [f.filename, f.status]),
      [
        ['demo_pkg-1.0.0-py3-none-any.whl', 'uploaded'],
        ['demo_pkg-1.0.0.tar.gz', 'uploaded'],
      ],
    );
    assert.deepEqual(result.authentication, {
      method: 'trusted-publishing',
      source: 'PIER_TEST_ID_TOKEN',
      platform: 'gitlab',
      audience: 'pier.test',
    });
    assert.match(result.files[0]!.hashes.blake2_256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(result.files[0]!.hashes.md5 ?? '', /^[0-9a-f]{32}$/);
    assert.ok(lines.some((l) => /SHA256:\s+[0-9a-f]{64}/.test(l)));
    assert.ok(!lines.join('\n').includes('pypi-minted-secret'));
    assert.ok(!lines.join('\n').includes(oidc));
  } finally {
    await server.close();
  }
});

test('by default the upload carries the SHA-256 of the file alone', async () => {
  const server = await cannedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('OK\n');
  });
  try {
    const dir = await distDir();
    const result = await publish({
      paths: [dir],
      repositoryUrl: `${server.url}/legacy/`,
      token: 'pypi-test',
      env: {},
      ambient: fakeCi({}),
    });
    assert.equal(server.requests.length, 2);
    for (const [i, upload] of server.requests.entries()) {
      const names = fieldNames(upload.body);
      assert.ok(names.includes('sha256_digest'));
      assert.ok(!names.includes('blake2_256_digest') && !names.includes('md5_digest'));
      const file = result.files[i]!;
      const sha256 = createHash('sha256').update(readFileSync(file.path)).digest('hex');
      assert.equal(file.hashes.sha256, sha256);
      assert.ok(upload.body.toString('latin1').includes(`\r\n\r\n${sha256}\r\n`));
      assert.equal(file.hashes.md5, undefined);
      assert.equal(file.hashes.blake2_256, undefined);
    }
  } finally {
    await server.close();
  }
});

test('a dry run checks and hashes, and sends nothing', async () => {
  const server = await cannedServer((_req, res) => json(res, 500, {}));
  try {
    const result = await publish({
      paths: [await distDir()],
      repositoryUrl: `${server.url}/legacy/`,
      dryRun: true,
      env: {},
      ambient: fakeCi({}),
    });
    assert.equal(server.requests.length, 0);
    assert.deepEqual(
      result.files.map((f) => f.status),
      ['would-upload', 'would-upload'],
    );
    assert.equal(result.authentication.method, 'none (dry run)');
  } finally {
    await server.close();
  }
});

test('a token from PIER_TOKEN; a failure lists what was uploaded before it', async () => {
  let uploads = 0;
  const server = await cannedServer((req, res) => {
    if (req.path !== '/legacy/') return json(res, 404, {});
    uploads++;
    if (uploads === 1) {
      res.writeHead(200);
      return res.end('OK');
    }
    json(res, 400, { message: 'Invalid value for classifiers' }, 'Invalid value for classifiers');
  });
  try {
    await assert.rejects(
      publish({
        paths: [await distDir()],
        repositoryUrl: `${server.url}/legacy/`,
        env: { PIER_TOKEN: 'pypi-env-token' },
        ambient: fakeCi({}),
      }),
      (err: Error & { code?: string; done?: { filename: string }[]; hints?: string[] }) => {
        assert.equal(err.code, 'upload-failed');
        assert.match(
          err.message,
          /demo_pkg-1\.0\.0\.tar\.gz: 127\.0\.0\.1:\d+ refused the upload: 400 Invalid value for classifiers/,
        );
        assert.deepEqual(
          err.done?.map((d) => d.filename),
          ['demo_pkg-1.0.0-py3-none-any.whl'],
        );
        return true;
      },
    );
    assert.equal(
      server.requests[0]!.headers.authorization,
      `Basic ${Buffer.from('__token__:pypi-env-token').toString('base64')}`,
    );
  } finally {
    await server.close();
  }
});

test('--oidc-token-file wins over PIER_TOKEN; a token for another audience is refused before the exchange', async () => {
  const server = await cannedServer((req, res) => {
    if (req.path === '/_/oidc/audience') return json(res, 200, { audience: 'pier.test' });
    if (req.path === '/_/oidc/mint-token')
      return json(res, 200, { success: true, token: 'pypi-m' });
    if (req.path === '/_/oidc/burn-token') return json(res, 202, {});
    res.writeHead(200);
    res.end('OK');
  });
  try {
    const dir = tempDir('pier-oidc-file-');
    const file = join(dir, 'token');
    writeFileSync(file, `${jwt({ iss: 'https://ci.example', aud: 'pier.test' })}\n`);
    const result = await publish({
      paths: [await distDir()],
      repositoryUrl: `${server.url}/legacy/`,
      oidcTokenFile: file,
      env: { PIER_TOKEN: 'pypi-should-not-be-used' },
      ambient: fakeCi({}),
    });
    assert.equal(result.authentication.method, 'trusted-publishing');
    assert.equal(
      server.requests.find((r) => r.path === '/legacy/')!.headers.authorization,
      `Basic ${Buffer.from('__token__:pypi-m').toString('base64')}`,
    );
    writeFileSync(file, jwt({ iss: 'https://ci.example', aud: 'pypi' }));
    const before = server.requests.length;
    await assert.rejects(
      publish({
        paths: [await distDir()],
        repositoryUrl: `${server.url}/legacy/`,
        oidcTokenFile: file,
        env: {},
        ambient: fakeCi({}),
      }),
      /is for the audience "pypi", but 127\.0\.0\.1:\d+ expects 'pier\.test'/,
    );
    assert.deepEqual(
      server.requests.slice(before).map((r) => r.path),
      ['/.well-known/pytp?discover=%2Flegacy%2F', '/_/oidc/audience'],
    );
  } finally {
    await server.close();
  }
});

test('uploads: the first alone, then a few at once; after a failure none starts, the first in order is reported', async () => {
  const dir = join(tempDir('pier-publish-'), 'dist');
  mkdirSync(dir);
  for (let i = 0; i < 8; i++) {
    const made = await makeWheel({ name: 'many', version: `1.0.${i}` });
    writeFileSync(join(dir, made.filename), made.content);
  }
  let inFlight = 0;
  const events: string[] = [];
  let maxInFlight = 0;
  const server = await cannedServer((req, res) => {
    const version = /name="version"\r\n\r\n([^\r]+)/.exec(req.body.toString('latin1'))![1]!;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    events.push(`start ${version} (${inFlight} in flight)`);
    // Slow answers, so that the client's concurrency shows; 1.0.5 and 1.0.6 are refused
    // before 1.0.4 (sent with them) is accepted.
    setTimeout(
      () => {
        inFlight--;
        if (version === '1.0.5' || version === '1.0.6')
          return json(res, 400, {}, `Invalid value for version ${version}`);
        res.writeHead(200);
        res.end('OK');
      },
      version === '1.0.4' ? 200 : 60,
    );
  });
  try {
    await assert.rejects(
      publish({
        paths: [dir],
        repositoryUrl: `${server.url}/legacy/`,
        token: 'pypi-t',
        concurrency: 3,
        env: {},
        ambient: fakeCi({}),
      }),
      (err: Error & { done?: { filename: string }[] }) => {
        assert.match(err.message, /many-1\.0\.5-py3-none-any\.whl: .*1\.0\.5/);
        // Everything answered before or alongside the failures, in file order.
        assert.deepEqual(
          err.done?.map((d) => d.filename),
          ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4'].map((v) => `many-${v}-py3-none-any.whl`),
        );
        return true;
      },
    );
    // The first file alone (it may create the project), then never more than 3 at once.
    assert.equal(events[0], 'start 1.0.0 (1 in flight)');
    assert.match(events[1]!, /\(1 in flight\)/);
    assert.equal(maxInFlight, 3);
    // 1.0.4-1.0.6 went out together; once two had failed, 1.0.7 was never sent.
    assert.ok(!events.some((e) => e.startsWith('start 1.0.7')), events.join('\n'));
  } finally {
    await server.close();
  }
});
