// Small pieces: retries and backoff, explicit credentials and their precedence, the audience
// check, how an index's answer is described, and transport errors sorted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkAudience,
  explicitCredentials,
  basicAuthorization,
} from '../../src/client/credentials.js';
import { formatPublishError, PublishError } from '../../src/client/errors.js';
import { classifyTransportError, describeResponse, responseReason } from '../../src/client/http.js';
import { backoffDelay, DEFAULT_RETRY, withRetries } from '../../src/client/retry.js';
import { jwt, response } from './support.js';

test('backoff doubles up to the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(DEFAULT_RETRY, n)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000],
  );
});

test('withRetries: retries until done or out of attempts', async () => {
  const waits: number[] = [];
  const notices: string[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  let calls = 0;
  const value = await withRetries(
    { attempts: 5, baseDelayMs: 10, maxDelayMs: 1000 },
    async (n) => (++calls < 3 ? { retry: `fail ${n}`, final: () => 'gave up' } : { done: 'ok' }),
    (i) => notices.push(`${i.attempt}/${i.of}: ${i.reason} (${i.delayMs})`),
    sleep,
  );
  assert.equal(value, 'ok');
  assert.deepEqual(waits, [10, 20]);
  assert.deepEqual(notices, ['1/5: fail 1 (10)', '2/5: fail 2 (20)']);
  const out = await withRetries(
    { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    async () => ({ retry: 'no', final: () => 'last' }),
    () => undefined,
    sleep,
  );
  assert.equal(out, 'last');
});

test('explicit credentials, flags before environment', () => {
  const cases: [Parameters<typeof explicitCredentials>[0], Record<string, string>, unknown][] = [
    [
      { token: 'pypi-flag' },
      { PIER_TOKEN: 'env' },
      { username: '__token__', password: 'pypi-flag', source: '--token' },
    ],
    [
      { password: 'pw', username: 'alice' },
      { PIER_TOKEN: 'env' },
      { username: 'alice', password: 'pw', source: 'password' },
    ],
    [
      { password: 'pw', username: '' },
      {},
      { username: '__token__', password: 'pw', source: 'password' },
    ],
    [
      {},
      { PIER_TOKEN: ' pypi-env\n', TWINE_PASSWORD: 'tw' },
      { username: '__token__', password: 'pypi-env', source: 'PIER_TOKEN' },
    ],
    [
      {},
      { TWINE_USERNAME: 'bob', TWINE_PASSWORD: 'tw' },
      { username: 'bob', password: 'tw', source: 'TWINE_PASSWORD' },
    ],
    [
      {},
      { TWINE_PASSWORD: 'tw' },
      { username: '__token__', password: 'tw', source: 'TWINE_PASSWORD' },
    ],
    [{}, { TWINE_USERNAME: 'bob' }, null],
    [{ token: '  ' }, { PIER_TOKEN: '' }, null],
  ];
  for (const [inputs, env, expected] of cases)
    assert.deepEqual(explicitCredentials(inputs, env), expected, JSON.stringify([inputs, env]));
  assert.equal(
    basicAuthorization({ username: '__token__', password: 'x' }),
    'Basic X190b2tlbl9fOng=',
  );
});

test('the token must be minted for the index’s audience', () => {
  checkAudience(jwt({ aud: 'pier.example.com' }), 'pier.example.com', 'X', 'pier.example.com');
  checkAudience(
    jwt({ aud: ['a', 'pier.example.com'] }),
    'pier.example.com',
    'X',
    'pier.example.com',
  );
  assert.throws(
    () =>
      checkAudience(jwt({ aud: 'pypi' }), 'pier.example.com', 'PYPI_ID_TOKEN', 'pier.example.com'),
    (err: PublishError) => {
      assert.match(
        err.message,
        /is for the audience "pypi", but pier\.example\.com expects 'pier\.example\.com'/,
      );
      assert.match(
        err.hints[0]!,
        /Set `aud: pier\.example\.com` for PYPI_ID_TOKEN under `id_tokens:`/,
      );
      return true;
    },
  );
  assert.throws(() => checkAudience('nonsense', 'a', 'file', 'h'), /is not a JWT/);
});

test('an index’s answer, described in one line', () => {
  const cases: [ReturnType<typeof response>, string][] = [
    [response(400, { message: 'Invalid version' }, {}, 'Invalid version'), '400 Invalid version'],
    [
      response(400, { message: 'Invalid version' }, {}, 'Bad Request'),
      '400 Bad Request: Invalid version',
    ],
    [
      response(403, 'Invalid or non-existent authentication information.\n', {}, 'Forbidden'),
      '403 Forbidden: Invalid or non-existent authentication information.',
    ],
    [
      response(
        502,
        '<html><title>502 Bad Gateway</title></html>',
        { 'content-type': 'text/html' },
        'Bad Gateway',
      ),
      '502 Bad Gateway',
    ],
    [response(500, '', {}, ''), '500'],
  ];
  for (const [res, text] of cases) assert.equal(describeResponse(res), text);
  assert.equal(responseReason(response(400, 'x'.repeat(600))).length, 501);
});

test('transport errors: certificates, retryable, fatal', () => {
  const url = new URL('https://pypi.example.com/legacy/');
  const cases: [string, string][] = [
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
    ['CERT_HAS_EXPIRED', 'tls'],
    ['ECONNRESET', 'retryable'],
    ['ECONNREFUSED', 'retryable'],
    ['EAI_AGAIN', 'retryable'],
    ['ENOTFOUND', 'fatal'],
  ];
  for (const [code, kind] of cases)
    assert.equal(
      classifyTransportError(Object.assign(new Error('x'), { code }), url).kind,
      kind,
      code,
    );
});

test('an error renders as its message, hints and what was done before', () => {
  const err = new PublishError('upload-failed', 'b.whl: refused', {
    hints: ['Do this.', 'Or that.'],
    done: [{ filename: 'a.whl', status: 'uploaded' }],
  });
  assert.equal(
    formatPublishError(err),
    'b.whl: refused\n\nhint: Do this.\nhint: Or that.\n\nBefore this failure: a.whl (uploaded).',
  );
});
