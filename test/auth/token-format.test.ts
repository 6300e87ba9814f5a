import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateToken,
  hashToken,
  isWellFormedToken,
  tokenDisplayPrefix,
  TOKEN_PREFIX,
} from '../../src/auth/token-format.js';

test('generated tokens carry the pypi- and pier_ prefixes, 256 random bits and a checksum', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const t = generateToken();
    assert.ok(t.startsWith('pypi-pier_'));
    assert.equal(t.length, TOKEN_PREFIX.length + 49);
    assert.ok(isWellFormedToken(t));
    seen.add(t);
  }
  assert.equal(seen.size, 200);
});

test('a changed character, a truncation or another prefix fails the checksum or the form', () => {
  const t = generateToken();
  const flip = (s: string, i: number) =>
    s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
  for (const i of [TOKEN_PREFIX.length, TOKEN_PREFIX.length + 20, t.length - 1])
    assert.equal(isWellFormedToken(flip(t, i)), false);
  assert.equal(isWellFormedToken(t.slice(0, -1)), false);
  assert.equal(isWellFormedToken(t.replace('pypi-pier_', 'pypi-AgEI')), false);
  assert.equal(isWellFormedToken(`${t} `), false);
  assert.equal(isWellFormedToken(''), false);
});

test('the stored hash is SHA-256 of the whole token; lists show only a short prefix', () => {
  const t = generateToken();
  assert.match(hashToken(t), /^[0-9a-f]{64}$/);
  assert.notEqual(hashToken(t), hashToken(generateToken()));
  assert.equal(tokenDisplayPrefix(t), t.slice(0, 16));
});
