// PEP 440 versions and specifier sets (reference §3.2), checked against the semantics of
// packaging's `Version`, `canonicalize_version` and `SpecifierSet`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareVersions,
  isValidSpecifierSet,
  normalizeSpecifierSet,
  parseVersion,
  versionsEqual,
} from '../../src/packaging/versions.js';

type Parsed = [normalized: string, canonical: string, isPrerelease: boolean, isLocal: boolean];

// Every row of the reference's "Tricky cases" table, one input per row.
const trickyCases: [input: string, expected: Parsed | null][] = [
  ['v1.0', ['1.0', '1', false, false]],
  ['V1.0', ['1.0', '1', false, false]],
  [' 1.0\n', ['1.0', '1', false, false]],
  ['01.002.0003', ['1.2.3', '1.2.3', false, false]],
  ['1!2.0', ['1!2.0', '1!2', false, false]],
  ['1.0RC1', ['1.0rc1', '1rc1', true, false]],
  ['1.0c1', ['1.0rc1', '1rc1', true, false]],
  ['1.0pre1', ['1.0rc1', '1rc1', true, false]],
  ['1.0preview2', ['1.0rc2', '1rc2', true, false]],
  ['1.0alpha', ['1.0a0', '1a0', true, false]],
  ['1.0-a1', ['1.0a1', '1a1', true, false]],
  ['1.0a.1', ['1.0a1', '1a1', true, false]],
  ['1.0_b_2', ['1.0b2', '1b2', true, false]],
  ['1.0.post', ['1.0.post0', '1.post0', false, false]],
  ['1.0-post2', ['1.0.post2', '1.post2', false, false]],
  ['1.0post-2', ['1.0.post2', '1.post2', false, false]],
  ['1.0-1', ['1.0.post1', '1.post1', false, false]],
  ['1.0-', null],
  ['1.0r4', ['1.0.post4', '1.post4', false, false]],
  ['1.0rev4', ['1.0.post4', '1.post4', false, false]],
  ['1.0.dev', ['1.0.dev0', '1.dev0', true, false]],
  ['1.0dev2', ['1.0.dev2', '1.dev2', true, false]],
  ['1.0-dev2', ['1.0.dev2', '1.dev2', true, false]],
  ['1.0+ubuntu-1', ['1.0+ubuntu.1', '1+ubuntu.1', false, true]],
  ['1.0+Ubuntu_1.A', ['1.0+ubuntu.1.a', '1+ubuntu.1.a', false, true]],
  ['1.0+05', ['1.0+5', '1+5', false, true]],
  ['1.0+', null],
  ['1.0+a..b', null],
  ['1.0.dev.a1', null],
  ['1.0a1b2', null],
  ['0.0.4test1', null],
  ['dog', null],
  ['1..0', null],
  ['.1', null],
  ['1.0 .post1', null],
  ['١.٠', null], // Arabic-Indic digits
  ['1.0a1.post2.dev3', ['1.0a1.post2.dev3', '1a1.post2.dev3', true, false]],
  ['1.0-rc1-1', ['1.0rc1.post1', '1rc1.post1', true, false]],
  ['1.0b2-346', ['1.0b2.post346', '1b2.post346', true, false]],
  ['2012.04.01', ['2012.4.1', '2012.4.1', false, false]],
  ['1.0.0.0.0', ['1.0.0.0.0', '1', false, false]],
];

// More cases, each checked against packaging 26: where @renovatebot/pep440 alone differs
// (big integers, local segments that look like JavaScript numbers, Python's whitespace), and
// more spellings.
const moreCases: [input: string, expected: Parsed | null][] = [
  ['99999999999999999999.1', ['99999999999999999999.1', '99999999999999999999.1', false, false]],
  ['1.0+1e5', ['1.0+1e5', '1+1e5', false, true]],
  ['1.0+0x10', ['1.0+0x10', '1+0x10', false, true]],
  ['1.0+Infinity', ['1.0+infinity', '1+infinity', false, true]],
  ['1.0+abc.00.7', ['1.0+abc.0.7', '1+abc.0.7', false, true]],
  ['1.0+a-b_c.d', ['1.0+a.b.c.d', '1+a.b.c.d', false, true]],
  ['1.0+a+b', null],
  ['1.0\t', ['1.0', '1', false, false]],
  ['\x1c1.0', ['1.0', '1', false, false]], // Python whitespace, not JavaScript's
  ['1.0\x85', ['1.0', '1', false, false]],
  ['1.0\ufeff', null], // JavaScript whitespace, not Python's
  ['v 1.0', null],
  ['0', ['0', '0', false, false]],
  ['00', ['0', '0', false, false]],
  ['0.0', ['0.0', '0', false, false]],
  ['V1', ['1', '1', false, false]],
  ['1.01', ['1.1', '1.1', false, false]],
  ['1!0.0.0', ['1!0.0.0', '1!0', false, false]],
  ['1.0.0+Local', ['1.0.0+local', '1+local', false, true]],
  ['1.0.post1.dev0', ['1.0.post1.dev0', '1.post1.dev0', true, false]],
  ['2.0b1.post0.dev0+x', ['2.0b1.post0.dev0+x', '2b1.post0.dev0+x', true, true]],
  ['1.0RC1.POST2.DEV3', ['1.0rc1.post2.dev3', '1rc1.post2.dev3', true, false]],
  ['v1.0.DEV', ['1.0.dev0', '1.dev0', true, false]],
  ['1.0rc', ['1.0rc0', '1rc0', true, false]],
  ['1.0a-1', ['1.0a1', '1a1', true, false]],
  ['1.0c.3', ['1.0rc3', '1rc3', true, false]],
  ['1.0_post_1', ['1.0.post1', '1.post1', false, false]],
  ['1.0-post', ['1.0.post0', '1.post0', false, false]],
  ['1.0.0.post0', ['1.0.0.post0', '1.post0', false, false]],
  ['1-0', ['1.post0', '1.post0', false, false]],
  ['1.0.', null],
  ['1.0..dev', null],
  ['1_0', null],
  ['', null],
];

for (const [input, expected] of [...trickyCases, ...moreCases]) {
  test(`parseVersion(${JSON.stringify(input)})`, () => {
    const parsed = parseVersion(input);
    if (expected === null) {
      assert.equal(parsed, null);
      return;
    }
    const [normalized, canonical, isPrerelease, isLocal] = expected;
    assert.deepEqual(parsed, {
      normalized,
      canonical,
      isPrerelease,
      isLocal,
      public: normalized.split('+')[0],
    });
  });
}

// The ordering example of the version specifiers specification, oldest first.
const specOrder = [
  '1.dev0',
  '1.0.dev456',
  '1.0a1',
  '1.0a2.dev456',
  '1.0a12.dev456',
  '1.0a12',
  '1.0b1.dev456',
  '1.0b2',
  '1.0b2.post345.dev456',
  '1.0b2.post345',
  '1.0rc1.dev456',
  '1.0rc1',
  '1.0',
  '1.0+abc.5',
  '1.0+abc.7',
  '1.0+5',
  '1.0.post456.dev34',
  '1.0.post456',
  '1.0.15',
  '1.1.dev1',
];

test('the specification ordering example sorts in order', () => {
  const reversed = [...specOrder].reverse();
  const rotated = [...specOrder.slice(7), ...specOrder.slice(0, 7)];
  assert.deepEqual(reversed.sort(compareVersions), specOrder);
  assert.deepEqual(rotated.sort(compareVersions), specOrder);
});

for (let i = 0; i + 1 < specOrder.length; i++) {
  const [older = '', newer = ''] = specOrder.slice(i, i + 2);
  test(`${older} < ${newer}`, () => {
    assert.ok(compareVersions(older, newer) < 0);
    assert.ok(compareVersions(newer, older) > 0);
  });
}

const orderCases: [a: string, relation: '<' | '==' | '>', b: string][] = [
  ['1.0', '==', '1.0.0'],
  ['1.0', '==', '1'],
  ['1.0', '<', '1.0+local'],
  ['1.0+ABC.5', '==', '1.0+abc.5'],
  ['1.0+00', '==', '1.0+0'],
  ['1.0+abc', '<', '1.0+abc.1'], // a shorter local label sorts first
  ['1.0+abc', '<', '1.0+5'], // a numeric segment beats an alphanumeric one
  ['1.0+1e5', '<', '1.0+2'], // `1e5` is alphanumeric, not a number
  ['1.0+0x10', '<', '1.0+0'],
  ['1.0+2', '<', '1.0+10'], // numeric segments compare as numbers
  ['99999999999999999998', '<', '99999999999999999999'],
  ['1!0.1', '>', '2.0'], // epoch first
  ['1.0.dev1', '<', '1.0a1'],
  ['1.0a1.dev1', '<', '1.0a1'],
  ['1.0a1', '<', '1.0a1.post1'],
  ['1.0.post1.dev1', '<', '1.0.post1'],
  ['1.0', '<', '1.0.post1.dev1'],
  ['V1.0-RC1', '==', '1.0rc1'],
];

for (const [a, relation, b] of orderCases) {
  test(`${a} ${relation} ${b}`, () => {
    const order = compareVersions(a, b);
    assert.equal(Math.sign(order), { '<': -1, '==': 0, '>': 1 }[relation]);
    assert.equal(versionsEqual(a, b), relation === '==');
  });
}

test('versionsEqual is false and compareVersions throws for an invalid version', () => {
  assert.equal(versionsEqual('dog', 'dog'), false);
  assert.throws(() => compareVersions('dog', '1.0'), {
    name: 'PackagingError',
    message: "Invalid version: 'dog'",
  });
});

// SpecifierSet(text): valid or not, and str(SpecifierSet) when valid.
const specifierSets: [text: string, normalized: string | null][] = [
  ['>=3.8, <4', '<4,>=3.8'],
  ['', ''],
  [' ', ''],
  ['>=1,,<2', '<2,>=1'],
  ['>=1,', '>=1'],
  ['>=3 ,', '>=3'],
  ['>=1.0,<2.0,!=1.5', '!=1.5,<2.0,>=1.0'],
  ['<2.0,>=1.0,<2.0', '<2.0,>=1.0'],
  ['>= 1.0 , < 2', '<2,>=1.0'],
  ['>= 1.0', '>=1.0'],
  ['>=v1.0', '>=v1.0'],
  ['>=3', '>=3'],
  ['>=1.0a', '>=1.0a'],
  ['>=1.0POST1', '>=1.0POST1'],
  ['<=1.0.dev1', '<=1.0.dev1'],
  ['>1.0-1', '>1.0-1'],
  ['==1.0.*', '==1.0.*'],
  ['!=1.0.*', '!=1.0.*'],
  ['== 1.*', '==1.*'],
  ['==1.0+local', '==1.0+local'],
  ['==1.0+LOCAL', '==1.0+LOCAL'],
  ['==1!2.0', '==1!2.0'],
  ['!=1.0a1', '!=1.0a1'],
  ['~=1.0', '~=1.0'],
  ['~=1!2.0', '~=1!2.0'],
  ['~=2.2.post3', '~=2.2.post3'],
  ['~=1.4.5a4', '~=1.4.5a4'],
  ['===', '==='],
  ['===foo', '===foo'],
  ['=== foo', '===foo'],
  ['==1.0a1.*', null], // a wildcard only follows a release
  ['==1.0.post1.*', null],
  ['==1.0.dev1.*', null],
  ['==1.*.1', null],
  ['<3.0.0.*', null],
  ['>=3.6.*', null],
  ['~=1', null], // `~=` needs two release segments
  ['~=1.0.*', null],
  ['~=1.0+local', null],
  ['>=1.0+local', null],
  ['>=1.0 foo', null],
  ['=1.0', null],
  ['1.0', null],
  ['py3', null],
  ['>=1.0;', null],
  ['===1.0)', null],
  ['python_version>"3"', null],
];

for (const [text, normalized] of specifierSets) {
  test(`SpecifierSet(${JSON.stringify(text)})`, () => {
    assert.equal(isValidSpecifierSet(text), normalized !== null);
    if (normalized === null) {
      assert.throws(() => normalizeSpecifierSet(text), { name: 'PackagingError' });
    } else {
      assert.equal(normalizeSpecifierSet(text), normalized);
    }
  });
}
