import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthorization } from '../../src/auth/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('Authorization headers as clients send them', () => {
  const cases: [string | undefined, unknown][] = [
    [undefined, { kind: 'none' }],
    ['', { kind: 'none' }],
    [`Basic ${b64('__token__:pypi-abc')}`, { kind: 'token', token: 'pypi-abc' }],
    [`basic ${b64('__token__:pypi-abc')}`, { kind: 'token', token: 'pypi-abc' }],
    [`Basic ${b64('alice:pa:ss')}`, { kind: 'password', username: 'alice', password: 'pa:ss' }],
    [`Basic ${b64('alice:')}`, { kind: 'password', username: 'alice', password: '' }],
    ['Bearer pypi-abc', { kind: 'token', token: 'pypi-abc' }],
    ['token pypi-abc', { kind: 'token', token: 'pypi-abc' }],
    [`Basic ${b64('no-colon')}`, { kind: 'malformed', reason: 'Malformed Basic credentials' }],
    ['Basic !!!', { kind: 'malformed', reason: 'Malformed Basic credentials' }],
    ['Digest abc', { kind: 'malformed', reason: "Unsupported authorization scheme 'Digest'" }],
    ['Bearer', { kind: 'malformed', reason: 'Malformed Authorization header' }],
    ['Bearer a b', { kind: 'malformed', reason: 'Malformed Authorization header' }],
  ];
  for (const [header, expected] of cases)
    assert.deepEqual(parseAuthorization(header), expected, String(header));
});
