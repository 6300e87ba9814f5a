// The organisation-wide publisher rules as tables: which patterns are accepted (and how they are
// stored), which names they match, and which projects such a publisher covers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PierError } from '../../src/errors.js';
import {
  matchesOrgWidePattern,
  orgWideCovers,
  parseOrgWidePattern,
} from '../../src/oidc/org-wide.js';

test('parseOrgWidePattern: normalized as project names; empty or foreign characters refused', () => {
  const ok: [string | undefined, string][] = [
    [undefined, '*'],
    ['*', '*'],
    ['acme-*', 'acme-*'],
    ['Acme_*', 'acme-*'],
    ['acme.._lib?', 'acme-lib?'],
    ['  acme-*  ', 'acme-*'],
  ];
  for (const [input, want] of ok) assert.equal(parseOrgWidePattern(input), want, String(input));
  for (const bad of ['', '  ', 'acme/*', 'acme-[ab]', 'a b', 'acme-{x,y}', '^acme$', 'ä*'])
    assert.throws(
      () => parseOrgWidePattern(bad),
      (err: unknown) => err instanceof PierError && err.status === 400,
      bad,
    );
});

test('matchesOrgWidePattern: the whole normalized name, * any run, ? one character', () => {
  const table: [string, string, boolean][] = [
    ['*', 'anything', true],
    ['acme-*', 'acme-web', true],
    ['acme-*', 'acme-', true],
    ['acme-*', 'acme', false],
    ['acme-*', 'x-acme-web', false],
    ['acme-?', 'acme-1', true],
    ['acme-?', 'acme-12', false],
    ['acme', 'acme', true],
    ['acme', 'acmes', false],
    ['a*b', 'a-x-b', true],
  ];
  for (const [pattern, name, want] of table)
    assert.equal(matchesOrgWidePattern(pattern, name), want, `${pattern} ~ ${name}`);
});

test('orgWideCovers: only projects of the publisher’s own organisation', () => {
  const pub = { organization_id: 1, org_wide_pattern: 'acme-*' };
  const table: [
    { organization_id: number | null; org_wide_pattern: string | null },
    { organization_id: number | null; normalized_name: string },
    boolean,
  ][] = [
    [pub, { organization_id: 1, normalized_name: 'acme-web' }, true],
    [pub, { organization_id: 2, normalized_name: 'acme-web' }, false], // another organisation's
    [pub, { organization_id: null, normalized_name: 'acme-web' }, false], // a user's
    [pub, { organization_id: 1, normalized_name: 'other' }, false],
    [
      { organization_id: 1, org_wide_pattern: null },
      { organization_id: 1, normalized_name: 'acme-web' },
      false,
    ],
    [
      { organization_id: null, org_wide_pattern: '*' },
      { organization_id: null, normalized_name: 'x' },
      false,
    ],
  ];
  for (const [p, project, want] of table)
    assert.equal(orgWideCovers(p, project), want, JSON.stringify([p, project]));
});
