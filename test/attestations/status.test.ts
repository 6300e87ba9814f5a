// A release's provenance status (src/attestations/status.ts), as a table of cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { provenanceStatus, type ProvenanceStatus } from '../../src/attestations/status.js';

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
