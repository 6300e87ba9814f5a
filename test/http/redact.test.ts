import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets } from '../../src/http/redact.js';

test('tokens, JWTs and URL passwords are redacted', () => {
  const cases: [string, string][] = [
    ['/api/whoami?token=pypi-pier_abcdefghijklmnop', '/api/whoami?token=pypi-[redacted]'],
    ['x pypi-AgEIcHlwaS5vcmc y', 'x pypi-[redacted] y'],
    ['t=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl', 't=[redacted-jwt]'],
    ['https://bob:s3cret@host/simple/', 'https://bob:[redacted]@host/simple/'],
    ['/simple/pypi-sample/', '/simple/pypi-sample/'],
  ];
  for (const [input, expected] of cases) assert.equal(redactSecrets(input), expected);
});
