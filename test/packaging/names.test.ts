// Project names: PEP 508 validity, PEP 503 normalization (reference §3.1), PyPI's ultranormalized
// similarity form (§2.3 step 5) and the wheel/sdist filename form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  filenameProjectName,
  isValidProjectName,
  normalizeProjectName,
  ultranormalizeProjectName,
} from '../../src/packaging/names.js';

const validity: [name: string, valid: boolean][] = [
  ['a', true],
  ['A', true],
  ['0', true],
  ['requests', true],
  ['Django', true],
  ['oslo.concurrency', true],
  ['foo_bar-baz.qux', true],
  ['foo--bar', true],
  ['A1', true],
  ['', false],
  ['_foo', false],
  ['foo_', false],
  ['-foo', false],
  ['foo-', false],
  ['.foo', false],
  ['foo.', false],
  ['foo bar', false],
  ['foo+bar', false],
  ['foo\n', false], // `\Z`, not `$`: a trailing newline is invalid
  ['föö', false], // ASCII only
  ['fooſ', false], // LATIN SMALL LETTER LONG S must not fold onto `s`
  ['\u212a', false], // KELVIN SIGN must not fold onto `k`
];

for (const [name, valid] of validity) {
  test(`isValidProjectName(${JSON.stringify(name)}) is ${valid}`, () => {
    assert.equal(isValidProjectName(name), valid);
  });
}

const normalization: [name: string, normalized: string, filename: string][] = [
  ['Django', 'django', 'django'],
  ['oslo.concurrency', 'oslo-concurrency', 'oslo_concurrency'],
  ['requests', 'requests', 'requests'],
  ['Foo_Bar', 'foo-bar', 'foo_bar'],
  ['friendly-bard', 'friendly-bard', 'friendly_bard'],
  ['FRIENDLY-BARD', 'friendly-bard', 'friendly_bard'],
  ['friendly.bard', 'friendly-bard', 'friendly_bard'],
  ['friendly_bard', 'friendly-bard', 'friendly_bard'],
  ['friendly--bard', 'friendly-bard', 'friendly_bard'],
  ['FrIeNdLy-._.-bArD', 'friendly-bard', 'friendly_bard'],
  ['_foo', '-foo', '_foo'], // normalizing does not make a name valid
];

for (const [name, normalized, filename] of normalization) {
  test(`normalizeProjectName(${JSON.stringify(name)}) is ${normalized}`, () => {
    assert.equal(normalizeProjectName(name), normalized);
    assert.equal(filenameProjectName(name), filename);
  });
}

const ultranormalization: [name: string, ultranormalized: string][] = [
  ['requests', 'requests'],
  ['Foo.Bar', 'f00bar'],
  ['foo_bar-baz', 'f00barbaz'],
  ['pillow', 'p1110w'],
  ['PIL-LOW', 'p1110w'],
  ['Il1', '111'],
  ['oO0', '000'],
];

for (const [name, ultranormalized] of ultranormalization) {
  test(`ultranormalizeProjectName(${JSON.stringify(name)}) is ${ultranormalized}`, () => {
    assert.equal(ultranormalizeProjectName(name), ultranormalized);
  });
}
