// A release's provenance status (src/attestations/status.ts), as a table of cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  previousReleases,
  projectProvenance,
  provenanceStatus,
  type ProjectProvenance,
  type ProvenanceStatus,
} from '../../src/attestations/status.js';

const A = 'GitHub octo-org/octo-repo release.yml';
const B = 'GitLab octo-org/octo-repo .gitlab-ci.yml';
const file = (...sources: string[]) => ({ filename: 'f', sources });

const cases: [string, ReturnType<typeof file>[], string[] | null, ProvenanceStatus][] = [
  ['no attestations, none before', [file(), file()], null, 'none'],
  ['no attestations, none in the previous release', [file()], [], 'none'],
  ['no attestations, where the previous release had them', [file(), file()], [A], 'lost'],
  ['every file by one publisher, the first release', [file(A), file(A)], null, 'full'],
  ['every file by the previous release’s publisher', [file(A), file(A)], [A], 'full'],
  ['one file without', [file(A), file()], null, 'partial'],
  ['two publishers in one release', [file(A), file(B)], null, 'inconsistent'],
  ['two publishers on one file', [file(A, B)], [A], 'inconsistent'],
  ['another publisher than the previous release’s', [file(B), file(B)], [A], 'changed'],
  ['another publisher, some files without', [file(B), file()], [A], 'changed'],
];

for (const [name, files, previous, expected] of cases)
  test(`provenance status: ${name} → ${expected}`, () => {
    assert.equal(provenanceStatus(files, previous), expected);
  });

// A project's status, from its releases' (oldest first).
const r = (version: string, status: ProvenanceStatus) => ({ version, status });
const projectCases: [string, ReturnType<typeof r>[], ProjectProvenance][] = [
  ['no release', [], { status: 'none', version: null, release: null }],
  [
    'never attested',
    [r('1', 'none'), r('2', 'none')],
    { status: 'none', version: null, release: null },
  ],
  [
    'the latest fully attested',
    [r('1', 'none'), r('2', 'full'), r('3', 'full')],
    { status: 'full', version: null, release: null },
  ],
  [
    'the latest lost them',
    [r('1', 'full'), r('2', 'lost')],
    { status: 'degraded', version: '2', release: 'lost' },
  ],
  [
    'lost earlier, still none since',
    [r('1', 'full'), r('2', 'lost'), r('3', 'none')],
    { status: 'degraded', version: '2', release: 'lost' },
  ],
  [
    'the latest by another publisher',
    [r('1', 'full'), r('2', 'changed')],
    { status: 'degraded', version: '2', release: 'changed' },
  ],
  [
    'the latest partly attested',
    [r('1', 'partial')],
    { status: 'degraded', version: '1', release: 'partial' },
  ],
  [
    'the latest by two publishers',
    [r('1', 'full'), r('2', 'inconsistent')],
    { status: 'degraded', version: '2', release: 'inconsistent' },
  ],
  [
    'changed before, full again since',
    [r('1', 'full'), r('2', 'changed'), r('3', 'full')],
    { status: 'full', version: null, release: null },
  ],
  [
    'partial before, then none',
    [r('1', 'partial'), r('2', 'lost'), r('3', 'none')],
    { status: 'degraded', version: '2', release: 'lost' },
  ],
];

for (const [name, releases, expected] of projectCases)
  test(`project provenance: ${name} → ${expected.status}`, () => {
    assert.deepEqual(projectProvenance(releases), expected);
  });

test('the previous release: the other one created last at or before it; ties by the larger id', () => {
  const previous = previousReleases([
    { id: 5, createdAt: 300 },
    { id: 1, createdAt: 100 },
    { id: 2, createdAt: 200 },
    { id: 3, createdAt: 200 },
    { id: 4, createdAt: 200 },
  ]);
  assert.deepEqual(Object.fromEntries(previous), {
    1: null, // the first
    2: 4, // created with 3 and 4: the largest id of the others
    3: 4,
    4: 3, // the largest id of its instant: the next largest of the others there
    5: 4, // the last release of the instant before
  });
  assert.deepEqual(Object.fromEntries(previousReleases([{ id: 9, createdAt: 1 }])), { 9: null });
  assert.equal(previousReleases([]).size, 0);
});
