// Which metadata an upload records (src/packaging/recorded-metadata.ts): the file's own, except
// for an sdist older than Metadata 2.2; and the file's metadata validated as the form's is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCoreMetadata } from '../../src/packaging/core-metadata.js';
import {
  recordedMetadataSource,
  validateFileMetadata,
  type DistributionKind,
  type MetadataSource,
} from '../../src/packaging/recorded-metadata.js';

const sources: [kind: DistributionKind, declared: string | undefined, source: MetadataSource][] = [
  ['wheel', '1.0', 'file'],
  ['wheel', '2.1', 'file'],
  ['wheel', '2.4', 'file'],
  ['wheel', undefined, 'file'],
  ['sdist', '1.0', 'form'],
  ['sdist', '1.1', 'form'],
  ['sdist', '1.2', 'form'],
  ['sdist', '2.1', 'form'],
  ['sdist', '2.2', 'file'],
  ['sdist', '2.3', 'file'],
  ['sdist', '2.4', 'file'],
  ['sdist', '2.6', 'file'],
  // Unknown or missing: the file is the source, so that its validation refuses it.
  ['sdist', '2.0', 'file'],
  ['sdist', '9.9', 'file'],
  ['sdist', undefined, 'file'],
];

for (const [kind, declared, source] of sources) {
  test(`source: ${kind} declaring Metadata-Version ${declared ?? '(none)'} -> ${source}`, () => {
    assert.equal(recordedMetadataSource(kind, declared), source);
  });
}

const head = 'Metadata-Version: 2.2\nName: foo\nVersion: 1.0\n';

test('the file metadata is normalized as the form metadata is', () => {
  const result = validateFileMetadata(
    parseCoreMetadata(
      Buffer.from(
        `${head}Summary: From the file\nRequires-Python: >=3.8, <4\nRequires-Dist: Requests>=2\nKeywords: a,b\n\nThe body.\n`,
      ),
    ),
  );
  assert.ok(result.ok);
  assert.equal(result.metadata.summary, 'From the file');
  assert.equal(result.metadata.requiresPython, '<4,>=3.8');
  assert.deepEqual(result.metadata.requiresDist, ['Requests>=2']);
  assert.equal(result.metadata.keywords, 'a, b');
  assert.equal(result.metadata.description, 'The body.\n');
});

const refusals: [name: string, text: string, field: string, message: string][] = [
  [
    'an invalid Requires-Dist',
    `${head}Requires-Dist: foo >>> 1\n`,
    'requires-dist',
    "'foo >>> 1' is invalid for 'requires-dist'.",
  ],
  [
    'a field newer than the declared version',
    `${head}License-Expression: MIT\n`,
    'license-expression',
    'license-expression introduced in metadata version 2.4, not 2.2.',
  ],
  [
    'a single-use field given twice',
    `${head}Summary: one\nSummary: two\n`,
    'summary',
    "'summary' has invalid data.",
  ],
  [
    'a Description both as a header and as the body',
    `${head}Description: header\n\nbody\n`,
    'description',
    "'description' has invalid data.",
  ],
  [
    'Metadata-Version twice comes first',
    'Metadata-Version: 2.2\nMetadata-Version: 2.1\nName: foo\nVersion: 1.0\nSummary: a\nSummary: b\n',
    'metadata-version',
    "'metadata-version' has invalid data.",
  ],
  [
    "Warehouse's own rules (a direct reference)",
    `${head}Requires-Dist: foo @ https://example.com/foo.whl\n`,
    'requires-dist',
    "Can't have direct dependency: foo @ https://example.com/foo.whl.",
  ],
];

for (const [name, text, field, message] of refusals) {
  test(`file metadata refused: ${name}`, () => {
    const result = validateFileMetadata(parseCoreMetadata(Buffer.from(text)));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.field, field);
    assert.equal(
      result.message,
      `${message} See https://packaging.python.org/specifications/core-metadata for more information.`,
    );
  });
}

test('a summary that is not UTF-8 is refused', () => {
  const bytes = Buffer.concat([Buffer.from(`${head}Summary: `), Buffer.from([0xff, 0x0a])]);
  const result = validateFileMetadata(parseCoreMetadata(bytes));
  assert.ok(!result.ok && result.field === 'summary');
});

test('unknown fields are ignored, as in the form and by installers', () => {
  const result = validateFileMetadata(parseCoreMetadata(Buffer.from(`${head}X-Tool: 1\n`)));
  assert.ok(result.ok);
});

test('License-File before Metadata 2.4 is dropped (older setuptools wrote it), not refused', () => {
  for (const version of ['2.1', '2.2', '2.3']) {
    const text = `Metadata-Version: ${version}\nName: foo\nVersion: 1.0\nLicense-File: LICENSE\n`;
    const result = validateFileMetadata(parseCoreMetadata(Buffer.from(text)));
    assert.ok(result.ok, version);
    assert.deepEqual(result.metadata.licenseFiles, []);
  }
  const text = 'Metadata-Version: 2.4\nName: foo\nVersion: 1.0\nLicense-File: LICENSE\n';
  const result = validateFileMetadata(parseCoreMetadata(Buffer.from(text)));
  assert.ok(result.ok);
  assert.deepEqual(result.metadata.licenseFiles, ['LICENSE']);
});

test('local versions follow the option, as for the form', () => {
  const text = 'Metadata-Version: 2.2\nName: foo\nVersion: 1.0+local\n';
  assert.ok(validateFileMetadata(parseCoreMetadata(Buffer.from(text))).ok);
  const refused = validateFileMetadata(parseCoreMetadata(Buffer.from(text)), {
    allowLocalVersions: false,
  });
  assert.ok(!refused.ok && refused.field === 'version');
});
