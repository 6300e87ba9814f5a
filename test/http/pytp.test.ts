// PEP 807 (Draft) discovery at /.well-known/pytp (src/oidc/pytp.ts, src/http/routes/oidc.ts):
// the document's fields and absolute URLs from the public URL, 404 for another index's upload
// path, problem documents, GET and HEAD, caching; PyPI's endpoints unchanged unless a client
// asks for problem documents; and the publish client choosing the discovered endpoints of a
// real pier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoveryAnswer, tokenTtlProblem } from '../../src/oidc/pytp.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { publish } from '../../src/client/publish.js';
import { textReporter } from '../../src/client/report.js';
import { discoveredUrl, discoveryUrl } from '../../src/client/tp-discovery.js';
import { PublishError } from '../../src/client/errors.js';
import { OPERATOR, startServer } from '../support/server.js';
import { githubClaims, startTestIssuer } from '../support/oidc-issuer.js';
import { makeWheel } from '../support/dists.js';
import { tempDir } from '../support/tmp.js';

const PYTP = 'application/vnd.pypi.pytp.v1+json';
const mediaType = (r: Response) => (r.headers.get('content-type') ?? '').split(';')[0];

test('discovery: the document for the index’s own upload path, 404 for any other', () => {
  const at = (publicUrl: string, discover: unknown) =>
    discoveryAnswer({ publicUrl, discover, disabledReason: null });
  const root = at('https://pkgs.example.com', '/legacy/');
  assert.deepEqual(root, {
    status: 200,
    body: {
      'audience-endpoint': 'https://pkgs.example.com/_/oidc/audience',
      'token-mint-endpoint': 'https://pkgs.example.com/_/oidc/mint-token',
      features: ['multi-use-token'],
      'default-features': ['multi-use-token'],
    },
  });
  assert.equal(at('https://pkgs.example.com', '/legacy').status, 200);
  const prefixed = at('https://pkgs.example.com:8443/team-a/', '/team-a/legacy/');
  assert.equal(prefixed.status, 200);
  assert.equal(
    (prefixed.body as any)['audience-endpoint'],
    'https://pkgs.example.com:8443/team-a/_/oidc/audience',
  );
  for (const [publicUrl, discover] of [
    ['https://pkgs.example.com/team-a/', '/legacy/'],
    ['https://pkgs.example.com/team-a/', '/team-b/legacy/'],
    ['https://pkgs.example.com/team-a/', '/team-a/legacy/x'],
    ['https://pkgs.example.com', '/team-a/legacy/'],
    ['https://pkgs.example.com', ''],
  ] as const) {
    const a = at(publicUrl, discover);
    assert.equal(a.status, 404, `${publicUrl} ${discover}`);
    assert.equal((a.body as any).errors[0].code, 'unknown-upload-path');
  }
  assert.equal(at('https://pkgs.example.com', undefined).status, 400);
  assert.equal(at('https://pkgs.example.com', ['/legacy/', '/legacy/']).status, 400);
  const off = discoveryAnswer({
    publicUrl: 'http://pkgs.example.com',
    discover: '/legacy/',
    disabledReason: 'plain HTTP',
  });
  assert.equal(off.status, 404);
  assert.match((off.body as any).detail, /not enabled: plain HTTP/);
});

test('PIER_TOKEN_TTL stays within PEP 807’s 15 minutes to 6 hours', () => {
  assert.equal(tokenTtlProblem(900), null);
  assert.equal(tokenTtlProblem(21600), null);
  assert.match(tokenTtlProblem(899) ?? '', /between 900 seconds \(15m\) and 21600 seconds \(6h\)/);
  assert.notEqual(tokenTtlProblem(21601), null);
  const cwd = tempDir();
  assert.equal(loadConfig({ env: { PIER_TOKEN_TTL: '6h' }, cwd }).tokenTtl, 21600);
  assert.equal(loadConfig({ env: { PIER_TOKEN_TTL: '15m' }, cwd }).tokenTtl, 900);
  for (const value of ['14m', '7h', '1d', '60'])
    assert.throws(
      () => loadConfig({ env: { PIER_TOKEN_TTL: value }, cwd }),
      (err: ConfigError) =>
        err instanceof ConfigError && /PIER_TOKEN_TTL.*PEP 807/.test(err.message),
      value,
    );
});

test('GET /.well-known/pytp on a real pier: fields, HEAD, caching, problem documents, 406', async () => {
  const server = await startServer({ publicUrl: 'http://127.0.0.1:8443/team-a/' });
  try {
    const base = server.listenUrl;
    const ok = await fetch(`${base}/.well-known/pytp?discover=%2Fteam-a%2Flegacy%2F`, {
      headers: { accept: PYTP, host: 'evil.example' },
    });
    assert.equal(ok.status, 200);
    assert.equal(mediaType(ok), PYTP);
    assert.equal(ok.headers.get('cache-control'), 'public, max-age=300');
    assert.match(ok.headers.get('vary') ?? '', /accept/i);
    const doc = (await ok.json()) as Record<string, unknown>;
    // From the public URL, never from Host.
    assert.equal(doc['audience-endpoint'], 'http://127.0.0.1:8443/team-a/_/oidc/audience');
    assert.equal(doc['token-mint-endpoint'], 'http://127.0.0.1:8443/team-a/_/oidc/mint-token');
    assert.deepEqual(doc['default-features'], ['multi-use-token']);

    for (const accept of [undefined, '*/*', 'application/json', `${PYTP}, */*;q=0.1`]) {
      const r = await fetch(`${base}/.well-known/pytp?discover=%2Fteam-a%2Flegacy`, {
        headers: accept ? { accept } : {},
      });
      assert.equal(r.status, 200, String(accept));
    }

    const head = await fetch(`${base}/.well-known/pytp?discover=%2Fteam-a%2Flegacy%2F`, {
      method: 'HEAD',
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('cache-control'), 'public, max-age=300');
    assert.equal(await head.text(), '');

    // Another index's upload path: not this one's.
    const other = await fetch(`${base}/.well-known/pytp?discover=%2Flegacy%2F`);
    assert.equal(other.status, 404);
    assert.equal(mediaType(other), 'application/problem+json');
    assert.equal(other.headers.get('cache-control'), 'no-store');
    const p = (await other.json()) as any;
    assert.equal(p.type, 'about:blank');
    assert.equal(p.status, 404);
    assert.equal(p.title, 'Not Found');
    assert.match(p.detail, /this one uploads to \/team-a\/legacy\//);
    assert.equal(p.errors[0].code, 'unknown-upload-path');

    const missing = await fetch(`${base}/.well-known/pytp`);
    assert.equal(missing.status, 400);
    assert.equal(mediaType(missing), 'application/problem+json');

    const html = await fetch(`${base}/.well-known/pytp?discover=%2Fteam-a%2Flegacy%2F`, {
      headers: { accept: 'text/html' },
    });
    assert.equal(html.status, 406);
    assert.equal(((await html.json()) as any).status, 406);

    const post = await fetch(`${base}/.well-known/pytp`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  } finally {
    await server.close();
  }
});

test('PyPI’s endpoints keep PyPI’s errors; problem documents only when asked for', async () => {
  const server = await startServer();
  try {
    const mint = (accept?: string) =>
      fetch(`${server.listenUrl}/_/oidc/mint-token`, {
        method: 'POST',
        headers: accept ? { accept } : {},
        body: 'not json',
      });
    const pypi = await mint('application/json');
    assert.equal(pypi.status, 422);
    assert.match(pypi.headers.get('content-type') ?? '', /^application\/json/);
    const pypiBody = (await pypi.json()) as any;
    assert.equal(pypiBody.type, undefined);
    assert.equal(pypiBody.errors[0].code, 'invalid-payload');
    const plain = await mint();
    assert.deepEqual(await plain.json(), pypiBody);

    for (const accept of ['application/problem+json', PYTP]) {
      const r = await mint(accept);
      assert.equal(r.status, 422);
      assert.equal(mediaType(r), 'application/problem+json');
      const p = (await r.json()) as any;
      assert.equal(p.status, 422);
      assert.equal(p.type, 'about:blank');
      assert.equal(p.message, pypiBody.message);
      assert.deepEqual(p.errors, pypiBody.errors);
      assert.equal(p.detail, pypiBody.errors[0].description);
    }
    const audience = await fetch(`${server.listenUrl}/_/oidc/audience`, {
      headers: { accept: PYTP },
    });
    assert.equal(audience.status, 200);
  } finally {
    await server.close();
  }
});

test('the client: the discovery URL, and discovered URLs on another host or plain HTTP refused', () => {
  const upload = new URL('https://pkgs.example.com/team-a/legacy/');
  assert.equal(
    discoveryUrl(upload).href,
    'https://pkgs.example.com/.well-known/pytp?discover=%2Fteam-a%2Flegacy%2F',
  );
  assert.equal(
    discoveryUrl(new URL('https://upload.example.com')).href,
    'https://upload.example.com/.well-known/pytp?discover=%2F',
  );
  assert.equal(
    discoveredUrl('https://pkgs.example.com:8443/x', 'audience-endpoint', upload).href,
    'https://pkgs.example.com:8443/x',
  );
  for (const bad of [
    'https://evil.example/_/oidc/audience',
    'http://pkgs.example.com/_/oidc/audience',
    'https://u:p@pkgs.example.com/',
    'not a url',
    42,
  ])
    assert.throws(
      () => discoveredUrl(bad, 'audience-endpoint', upload),
      (err: PublishError) => err instanceof PublishError && err.code === 'not-supported',
      String(bad),
    );
});

test('pier publish against a real pier uses its PEP 807 discovery', async () => {
  const issuer = await startTestIssuer();
  const server = await startServer();
  try {
    await server.services.issuers.add(OPERATOR, {
      kind: 'github',
      url: issuer.url,
      insecure: true,
    });
    await server.services.projects.create(OPERATOR, 'pytp-demo');
    await server.services.publishers.add(OPERATOR, 'pytp-demo', {
      kind: 'github',
      issuerUrl: issuer.url,
      fields: {
        owner: 'octo-org',
        repository: 'octo-repo',
        workflow: 'release.yml',
        ownerId: '65',
      },
    });
    const dir = join(tempDir('pier-pytp-'), 'dist');
    const wheel = await makeWheel({ name: 'pytp-demo' });
    (await import('node:fs')).mkdirSync(dir);
    writeFileSync(join(dir, wheel.filename), wheel.content);
    const tokenFile = join(dir, '..', 'oidc-token');
    const audience = new URL(server.url).host;
    writeFileSync(tokenFile, await issuer.sign(githubClaims(issuer.url, audience)));
    const lines: string[] = [];
    const result = await publish({
      paths: [dir],
      repositoryUrl: `${server.url}/legacy/`,
      oidcTokenFile: tokenFile,
      env: {},
      reporter: textReporter({ write: (l) => lines.push(l), verbose: true }),
    });
    assert.equal(result.authentication.method, 'trusted-publishing');
    assert.equal(result.authentication.audience, audience);
    assert.deepEqual(
      result.files.map((f) => f.status),
      ['uploaded'],
    );
    assert.ok(
      lines.some((l) => l.includes(`${server.url}/_/oidc/audience (PEP 807 discovery)`)),
      lines.join('\n'),
    );
  } finally {
    await server.close();
    await issuer.close();
  }
});
