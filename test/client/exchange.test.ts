// The exchange against a stand-in index: the audience endpoint's answers (403, 404, others),
// a refused token shown with the index's errors, the token's claims (never the token) and what
// to change for each error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PublishError } from '../../src/client/errors.js';
import { burnToken, fetchAudience, hintsFor, mintToken } from '../../src/client/exchange.js';
import { DEFAULT_RETRY } from '../../src/client/retry.js';
import { pypiEndpoints } from '../../src/client/tp-discovery.js';
import { cannedServer, json, jwt } from './support.js';

const ONCE = { ...DEFAULT_RETRY, attempts: 1 };
const QUICK = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 };
const none = () => undefined;
/** PyPI's endpoints of the stand-in index at `base`. */
const at = (base: string) => pypiEndpoints(new URL('/legacy/', base));

const GITHUB_CLAIMS = {
  iss: 'https://token.actions.githubusercontent.com',
  aud: '127.0.0.1',
  sub: 'repo:octo-org/octo-repo:environment:release',
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  repository_owner_id: '65',
  workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1',
  job_workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1',
  ref: 'refs/tags/v1',
  environment: 'release',
};

test('what to change, per error code', () => {
  const ctx = { claims: GITHUB_CLAIMS, projects: ['pier-sample'], host: 'pier.example.com' };
  const cases: [string, string, RegExp][] = [
    [
      'invalid-publisher',
      'valid token, but no corresponding publisher (Publisher with matching claims was not found)',
      /`pier publisher add pier-sample --provider github --repository octo-org\/octo-repo --workflow release\.yml --owner-id 65 --environment release`/,
    ],
    [
      'invalid-payload',
      'unknown trusted publishing issuer',
      /ask its administrator to trust that issuer \(`pier issuer add --kind github --url https:\/\/token\.actions\.githubusercontent\.com`\)/,
    ],
    ['invalid-payload', 'malformed JWT', /could not read the token/],
    ['not-enabled', 'github trusted publishing functionality not enabled', /serve it over HTTPS/],
    ['invalid-token', 'malformed or invalid token: the token has expired', /validity period/],
    ['invalid-token', 'malformed or invalid token: the token is not valid yet (nbf)', /clocks/],
    [
      'invalid-token',
      'malformed or invalid token: the audience must be \'a\', got "b"',
      /another audience/,
    ],
    [
      'invalid-token',
      'malformed or invalid token: unexpected "aud" claim value',
      /another audience/,
    ],
    [
      'invalid-token',
      'malformed or invalid token: signature verification failed',
      /could not verify/,
    ],
    [
      'invalid-pending-publisher',
      'valid token, but project already exists',
      /ask an owner of the project/,
    ],
    ['invalid-reuse-token', 'invalid token: already used', /re-run the job/],
  ];
  for (const [code, description, hint] of cases)
    assert.match(hintsFor({ code, description }, ctx).join('\n'), hint, `${code}: ${description}`);
  const reusable = hintsFor(
    { code: 'invalid-publisher', description: 'x' },
    {
      ...ctx,
      claims: {
        ...GITHUB_CLAIMS,
        job_workflow_ref: 'octo-org/octo-repo/.github/workflows/pub.yml@refs/heads/main',
      },
    },
  );
  assert.match(reusable.join('\n'), /reusable workflow/);
  assert.match(reusable[0]!, /--workflow pub\.yml/);
  assert.deepEqual(hintsFor({ code: 'something-new', description: 'x' }, ctx), []);
});

test('the audience endpoint: 200, 403, 404, other answers', async () => {
  let status = 200;
  const server = await cannedServer((req, res) => {
    assert.equal(req.path, '/_/oidc/audience');
    if (status === 200) return json(res, 200, { audience: 'pier.example.com' });
    if (status === 403)
      return json(res, 403, {
        message: 'Trusted publishing functionality not enabled',
        reason: 'the public URL is plain HTTP',
      });
    if (status === 404) return json(res, 404, { message: 'Not Found' });
    json(res, status, { message: 'down' }, 'Service Unavailable');
  });
  try {
    assert.equal(await fetchAudience(at(server.url), ONCE, none), 'pier.example.com');
    const cases: [number, RegExp, RegExp][] = [
      [403, /has trusted publishing disabled \(the public URL is plain HTTP\)/, /HTTPS/],
      [
        404,
        /does not support trusted publishing: GET .*\/_\/oidc\/audience answered 404/,
        /upload URL/,
      ],
      [503, /answered GET \/_\/oidc\/audience with 503 Service Unavailable: down/, /try again/],
    ];
    for (const [s, message, hint] of cases) {
      status = s;
      await assert.rejects(fetchAudience(at(server.url), ONCE, none), (err: PublishError) => {
        assert.equal(err.code, 'not-supported');
        assert.match(err.message, message);
        assert.match(err.hints.join(' '), hint);
        return true;
      });
    }
  } finally {
    await server.close();
  }
});

test('a refused token: the index’s errors, the claims, what to change — never the token', async () => {
  const token = jwt(GITHUB_CLAIMS);
  const server = await cannedServer((req, res) => {
    assert.deepEqual(JSON.parse(req.body.toString()), { token });
    json(res, 422, {
      message: 'Token request failed',
      errors: [
        {
          code: 'invalid-publisher',
          description:
            'valid token, but no corresponding publisher (environment: expected prod, got release)',
        },
      ],
    });
  });
  try {
    await assert.rejects(
      mintToken(at(server.url), token, { projects: ['pier-sample'], policy: ONCE, onRetry: none }),
      (err: PublishError) => {
        assert.equal(err.code, 'exchange-failed');
        assert.match(
          err.message,
          /refused the OIDC token:\n {2}\* `invalid-publisher`: valid token, but no corresponding publisher \(environment: expected prod, got release\)/,
        );
        assert.match(err.message, /repository_owner_id\s+65/);
        assert.match(
          err.message,
          /job_workflow_ref\s+octo-org\/octo-repo\/\.github\/workflows\/release\.yml@refs\/tags\/v1/,
        );
        assert.match(err.message, /environment\s+release/);
        assert.ok(!err.message.includes(token) && !err.hints.join('').includes(token));
        assert.ok(!err.message.includes(token.split('.')[1]!));
        assert.match(err.hints[0]!, /pier publisher add pier-sample --provider github/);
        return true;
      },
    );
  } finally {
    await server.close();
  }
});

test('the exchange: success, a 5xx retried, an answer that is not JSON', async () => {
  let answers = ['503', 'ok'];
  const server = await cannedServer((_req, res) => {
    const next = answers.shift() ?? 'html';
    if (next === '503') return json(res, 503, { message: 'busy' }, 'Service Unavailable');
    if (next === 'ok')
      return json(res, 200, { success: true, token: 'pypi-minted', expires: 1700000000 });
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><title>Bad Gateway</title></html>');
  });
  try {
    const retries: string[] = [];
    const minted = await mintToken(at(server.url), jwt({}), {
      projects: [],
      policy: QUICK,
      onRetry: (n) => retries.push(n.reason),
    });
    assert.deepEqual(minted, { token: 'pypi-minted', expires: 1700000000 });
    assert.deepEqual(retries, ['503 Service Unavailable']);
    answers = [];
    await assert.rejects(
      mintToken(at(server.url), jwt({}), { projects: [], policy: ONCE, onRetry: none }),
      /the index answered 502 Bad Gateway, not JSON/,
    );
  } finally {
    await server.close();
  }
});

test('burning never throws', async () => {
  const server = await cannedServer((req, res) => {
    assert.equal(req.path, '/_/oidc/burn-token');
    json(res, 202, { message: 'Accepted' });
  });
  try {
    assert.equal(await burnToken(at(server.url).burn, 'pypi-x'), true);
  } finally {
    await server.close();
  }
  assert.equal(await burnToken(at(server.url).burn, 'pypi-x'), false);
});
