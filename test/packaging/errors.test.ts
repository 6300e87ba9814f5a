// Messages quote values as Python's repr() does (`'dog' is invalid for 'version'`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PackagingError, pythonRepr } from '../../src/packaging/errors.js';

// [value, repr(value)], checked against CPython 3.11.
const reprs: [value: string, repr: string][] = [
  ['dog', "'dog'"],
  ["it's", `"it's"`],
  ['say "hi"', `'say "hi"'`],
  [`both ' and "`, `'both \\' and "'`],
  ['back\\slash', "'back\\\\slash'"],
  ['tab\tnl\ncr\r', "'tab\\tnl\\ncr\\r'"],
  ['\x00\x1f\x7f', "'\\x00\\x1f\\x7f'"],
  ['\x85\xa0\xad', "'\\x85\\xa0\\xad'"],
  ['é ü 😀', "'é ü 😀'"],
  ['\u2028\u200b', "'\\u2028\\u200b'"],
  ['\ud800', "'\\ud800'"], // a lone surrogate
  ['\u{e0001}', "'\\U000e0001'"],
  ['', "''"],
];

for (const [value, repr] of reprs) {
  test(`pythonRepr(${JSON.stringify(value)}) is ${repr}`, () => {
    assert.equal(pythonRepr(value), repr);
  });
}

test('PackagingError carries the reason as its message', () => {
  const error = new PackagingError('Invalid version: ' + pythonRepr('dog'));
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'PackagingError');
  assert.equal(error.message, "Invalid version: 'dog'");
});
