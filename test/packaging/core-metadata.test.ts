// Core metadata files (METADATA, PKG-INFO; reference §3.5): parsing as Python's email.parser
// (compat32) and packaging.metadata.parse_email do, for every metadata version, then the rules of
// each field. The parsing rows were checked against Python 3.11's email package and packaging 26.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FIELD_INTRODUCED_IN,
  METADATA_VERSIONS,
  MULTIPLE_USE_FIELDS,
  parseCoreMetadata,
  validateCoreMetadata,
  type ParsedMetadata,
} from '../../src/packaging/core-metadata.js';

const ascii = (text: string) => new TextEncoder().encode(text);
const utf8 = (text: string) => new TextEncoder().encode(text);
const latin1 = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));

const parsing: [name: string, input: Uint8Array | string, expected: ParsedMetadata][] = [
  [
    'v1.0',
    ascii(
      'Metadata-Version: 1.0\nName: foo\nVersion: 1.0\nSummary: A thing\nHome-page: https://example.com\nAuthor: A. Person\nAuthor-email: a@example.com\nLicense: MIT\nDescription: Line one\n        |\n        |Line three\nPlatform: UNKNOWN\nPlatform: linux\n',
    ),
    {
      raw: {
        author: 'A. Person',
        'author-email': 'a@example.com',
        description: 'Line one\n        |\n        |Line three',
        'home-page': 'https://example.com',
        license: 'MIT',
        'metadata-version': '1.0',
        name: 'foo',
        platform: ['UNKNOWN', 'linux'],
        summary: 'A thing',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'v1.1',
    ascii(
      'Metadata-Version: 1.1\nName: foo\nVersion: 1.0\nClassifier: Programming Language :: Python\nClassifier: License :: OSI Approved :: MIT License\nDownload-URL: https://example.com/dl\nRequires: re\nProvides: foo\nObsoletes: bar\nSupported-Platform: RedHat 7.2\n',
    ),
    {
      raw: {
        classifier: ['Programming Language :: Python', 'License :: OSI Approved :: MIT License'],
        'download-url': 'https://example.com/dl',
        'metadata-version': '1.1',
        name: 'foo',
        obsoletes: ['bar'],
        provides: ['foo'],
        requires: ['re'],
        'supported-platform': ['RedHat 7.2'],
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'v1.2',
    ascii(
      "Metadata-Version: 1.2\nName: foo\nVersion: 1.0\nMaintainer: M\nMaintainer-email: m@example.com\nRequires-Dist: bar>=1.0\nRequires-Dist: baz; python_version<'3'\nProvides-Dist: foo\nObsoletes-Dist: old\nRequires-Python: >=3.8\nRequires-External: libpng (>=1.5)\nProject-URL: Homepage, https://example.com\nProject-URL: Bug Tracker, https://example.com/issues\n",
    ),
    {
      raw: {
        maintainer: 'M',
        'maintainer-email': 'm@example.com',
        'metadata-version': '1.2',
        name: 'foo',
        'obsoletes-dist': ['old'],
        'project-url': ['Homepage, https://example.com', 'Bug Tracker, https://example.com/issues'],
        'provides-dist': ['foo'],
        'requires-dist': ['bar>=1.0', "baz; python_version<'3'"],
        'requires-external': ['libpng (>=1.5)'],
        'requires-python': '>=3.8',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'v2.1',
    ascii(
      'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nDescription-Content-Type: text/markdown\nProvides-Extra: test\nKeywords: a, b,c\n\n# Title\n\nBody text.\n',
    ),
    {
      raw: {
        description: '# Title\n\nBody text.\n',
        'description-content-type': 'text/markdown',
        keywords: 'a, b,c',
        'metadata-version': '2.1',
        name: 'foo',
        'provides-extra': ['test'],
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'v2.2',
    ascii(
      'Metadata-Version: 2.2\nName: foo\nVersion: 1.0\nDynamic: Requires-Dist\nDynamic: license\n',
    ),
    {
      raw: {
        dynamic: ['Requires-Dist', 'license'],
        'metadata-version': '2.2',
        name: 'foo',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'v2.4',
    ascii(
      'Metadata-Version: 2.4\nName: foo\nVersion: 1.0\nLicense-Expression: MIT OR Apache-2.0\nLicense-File: LICENSE\nLicense-File: licenses/NOTICE.txt\n',
    ),
    {
      raw: {
        'license-expression': 'MIT OR Apache-2.0',
        'license-file': ['LICENSE', 'licenses/NOTICE.txt'],
        'metadata-version': '2.4',
        name: 'foo',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'v2.5',
    ascii(
      'Metadata-Version: 2.5\nName: foo\nVersion: 1.0\nImport-Name: foo\nImport-Name: foo.bar; private\nImport-Namespace: ns\n',
    ),
    {
      raw: {
        'import-name': ['foo', 'foo.bar; private'],
        'import-namespace': ['ns'],
        'metadata-version': '2.5',
        name: 'foo',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'v2.6',
    ascii('Metadata-Version: 2.6\nName: foo\nVersion: 1.0\n'),
    { raw: { 'metadata-version': '2.6', name: 'foo', version: '1.0' }, unparsed: {} },
  ],
  [
    'empty-import-name',
    ascii('Metadata-Version: 2.5\nName: foo\nVersion: 1.0\nImport-Name:\n'),
    {
      raw: { 'import-name': [], 'metadata-version': '2.5', name: 'foo', version: '1.0' },
      unparsed: {},
    },
  ],
  [
    'folded',
    ascii(
      'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nSummary: first\n  second\n\tthird\nKeywords: a,\n b\n',
    ),
    {
      raw: {
        keywords: 'a,\n b',
        'metadata-version': '2.1',
        name: 'foo',
        summary: 'first\n  second\n\tthird',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'crlf',
    ascii(
      'Metadata-Version: 2.1\r\nName: foo\r\nVersion: 1.0\r\nSummary: s\r\n  folded\r\n\r\nBody\r\nline2\r\n',
    ),
    {
      raw: {
        description: 'Body\r\nline2\r\n',
        'metadata-version': '2.1',
        name: 'foo',
        summary: 's\r\n  folded',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'cr',
    ascii('Metadata-Version: 2.1\rName: foo\rVersion: 1.0\r\rBody\r'),
    {
      raw: { description: 'Body\r', 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: {},
    },
  ],
  [
    'both-description',
    ascii('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nDescription: header\n\nbody\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { description: ['header', 'body\n'] },
    },
  ],
  [
    'repeated-single',
    ascii('Metadata-Version: 2.1\nName: foo\nName: bar\nVersion: 1.0\nSummary: a\nSummary: b\n'),
    {
      raw: { 'metadata-version': '2.1', version: '1.0' },
      unparsed: { name: ['foo', 'bar'], summary: ['a', 'b'] },
    },
  ],
  [
    'unknown',
    ascii(
      'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nX-Custom: 1\nX-Custom: 2\nHome-Page: h\n',
    ),
    {
      raw: { 'home-page': 'h', 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { 'x-custom': ['1', '2'] },
    },
  ],
  [
    'case',
    ascii('METADATA-VERSION: 2.1\nname: foo\nVERSION: 1.0\nrequires-DIST: a\nRequires-Dist: b\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', 'requires-dist': ['a', 'b'], version: '1.0' },
      unparsed: {},
    },
  ],
  [
    'utf8',
    utf8(
      'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nAuthor: René Çé ☃\nSummary: café\n\nünicode body 😀\n',
    ),
    {
      raw: {
        author: 'René Çé ☃',
        description: 'ünicode body 😀\n',
        'metadata-version': '2.1',
        name: 'foo',
        summary: 'café',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'latin1-header',
    latin1('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nAuthor: René\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { author: ['René'] },
    },
  ],
  [
    'latin1-body',
    latin1('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\nRené\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { description: ['René\n'] },
    },
  ],
  [
    'latin1-and-header-desc',
    latin1('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nDescription: d\n\nRené\n'),
    {
      raw: { description: 'd', 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { description: ['René\n'] },
    },
  ],
  [
    'bom',
    utf8('﻿Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n'),
    { raw: { description: '﻿Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n' }, unparsed: {} },
  ],
  [
    'no-separator',
    ascii('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nthis is not a header\nmore\n'),
    {
      raw: {
        description: 'this is not a header\nmore\n',
        'metadata-version': '2.1',
        name: 'foo',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'space-before-colon',
    ascii('Metadata-Version: 2.1\nName : foo\nVersion: 1.0\n'),
    { raw: { description: 'Name : foo\nVersion: 1.0\n', 'metadata-version': '2.1' }, unparsed: {} },
  ],
  [
    'leading-continuation',
    ascii(' lead\nMetadata-Version: 2.1\nName: foo\n'),
    { raw: { 'metadata-version': '2.1', name: 'foo' }, unparsed: {} },
  ],
  [
    'colon-first',
    ascii('Metadata-Version: 2.1\n:nameless\nName: foo\n'),
    { raw: { 'metadata-version': '2.1', name: 'foo' }, unparsed: {} },
  ],
  [
    'unix-from',
    ascii('From someone\nMetadata-Version: 2.1\nName: foo\n'),
    { raw: { 'metadata-version': '2.1', name: 'foo' }, unparsed: {} },
  ],
  [
    'from-last',
    ascii('Metadata-Version: 2.1\nName: foo\nFrom me\n\nbody\n'),
    {
      raw: { description: 'From me\nbody\n', 'metadata-version': '2.1', name: 'foo' },
      unparsed: {},
    },
  ],
  [
    'from-middle',
    ascii('Metadata-Version: 2.1\nFrom me\nName: foo\n'),
    { raw: { 'metadata-version': '2.1', name: 'foo' }, unparsed: {} },
  ],
  [
    'trailing-space',
    ascii('Metadata-Version: 2.1\nName: foo  \nVersion:   1.0\t\n'),
    { raw: { 'metadata-version': '2.1', name: 'foo  ', version: '1.0\t' }, unparsed: {} },
  ],
  [
    'empty-value',
    ascii('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nSummary:\nSummary2:\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', summary: '', version: '1.0' },
      unparsed: { summary2: [''] },
    },
  ],
  [
    'dup-url',
    ascii(
      'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nProject-URL: A, https://a\nProject-URL: A , https://b\n',
    ),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { 'project-url': ['A, https://a', 'A , https://b'] },
    },
  ],
  [
    'url-no-comma',
    ascii('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nProject-URL: https://a\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', 'project-url': ['https://a'], version: '1.0' },
      unparsed: {},
    },
  ],
  [
    'repeated-keywords',
    ascii('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nKeywords: a\nKeywords: b\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { keywords: ['a', 'b'] },
    },
  ],
  ['only-body', ascii('\nbody only\n'), { raw: { description: 'body only\n' }, unparsed: {} }],
  ['empty', ascii(''), { raw: {}, unparsed: {} }],
  [
    'whitespace-body',
    ascii('Metadata-Version: 2.1\nName: foo\n\n\n\n'),
    { raw: { description: '\n\n', 'metadata-version': '2.1', name: 'foo' }, unparsed: {} },
  ],
  [
    'tab-fold-desc',
    ascii('Metadata-Version: 1.0\nName: foo\nDescription: a\n\tb\n'),
    { raw: { description: 'a\n\tb', 'metadata-version': '1.0', name: 'foo' }, unparsed: {} },
  ],
  [
    'str-input',
    'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nAuthor: é\n\nbody\n',
    {
      raw: {
        author: 'é',
        description: 'body\n',
        'metadata-version': '2.1',
        name: 'foo',
        version: '1.0',
      },
      unparsed: {},
    },
  ],
  [
    'nul',
    ascii('Metadata-Version: 2.1\nName: foo\u0000bar\nVersion: 1.0\n'),
    { raw: { 'metadata-version': '2.1', name: 'foo\u0000bar', version: '1.0' }, unparsed: {} },
  ],
  [
    'mixed-valid-invalid',
    latin1('Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nClassifier: ok\nClassifier: badÿ\n'),
    {
      raw: { 'metadata-version': '2.1', name: 'foo', version: '1.0' },
      unparsed: { classifier: ['ok', 'badÿ'] },
    },
  ],
];

for (const [name, input, expected] of parsing) {
  test(`parseCoreMetadata: ${name}`, () => {
    assert.deepEqual(parseCoreMetadata(input), expected);
  });
}

test('parseCoreMetadata reads a Uint8Array view at its offset', () => {
  const backing = ascii('XXXXMetadata-Version: 2.1\nName: foo\nVersion: 1.0\n');
  assert.deepEqual(parseCoreMetadata(backing.subarray(4)).raw, {
    'metadata-version': '2.1',
    name: 'foo',
    version: '1.0',
  });
});

test('every multiple-use field is a known field', () => {
  for (const field of MULTIPLE_USE_FIELDS) assert.ok(field in FIELD_INTRODUCED_IN, field);
});

// Each field is refused with the metadata version before the one that introduced it, and accepted
// with that version (`FIELD_INTRODUCED_IN`, e.g. license-expression -> 2.4).
const sampleValues: Record<string, string | string[]> = {
  'description-content-type': 'text/plain',
  'provides-extra': ['test'],
  dynamic: ['summary'],
  'license-expression': 'MIT',
  'license-file': ['LICENSE'],
  'import-name': ['foo'],
  'import-namespace': ['foo'],
  'requires-dist': ['bar'],
  'requires-python': '>=3.8',
};

for (const [field, introduced] of Object.entries(FIELD_INTRODUCED_IN)) {
  const index = METADATA_VERSIONS.indexOf(introduced);
  if (index <= 0 || ['metadata-version', 'name', 'version'].includes(field)) continue;
  const previous = METADATA_VERSIONS[index - 1] ?? '';
  const value = sampleValues[field] ?? (MULTIPLE_USE_FIELDS.has(field) ? ['x'] : 'x');
  test(`${field} is introduced in metadata version ${introduced}`, () => {
    const raw = { name: 'foo', version: '1.0', [field]: value };
    assert.deepEqual(validateCoreMetadata({ ...raw, 'metadata-version': previous }), [
      { field, message: `${field} introduced in metadata version ${introduced}, not ${previous}` },
    ]);
    assert.deepEqual(validateCoreMetadata({ ...raw, 'metadata-version': introduced }), []);
  });
}

test('FIELD_INTRODUCED_IN names the PEP 639 fields as 2.4', () => {
  assert.equal(FIELD_INTRODUCED_IN['license-expression'], '2.4');
  assert.equal(FIELD_INTRODUCED_IN['license-file'], '2.4');
  assert.equal(FIELD_INTRODUCED_IN['import-name'], '2.5');
});

for (const version of METADATA_VERSIONS) {
  test(`metadata version ${version} is accepted`, () => {
    const raw = { 'metadata-version': version, name: 'foo', version: '1.0' };
    assert.deepEqual(validateCoreMetadata(raw), []);
  });
}

for (const version of ['2.0', '3.0', '1.3', '2.7', '2.10', '2', ' 2.1', 'x']) {
  test(`metadata version ${JSON.stringify(version)} is refused`, () => {
    const raw = { 'metadata-version': version, name: 'foo', version: '1.0' };
    assert.deepEqual(validateCoreMetadata(raw), [
      { field: 'metadata-version', message: `'${version}' is not a valid metadata version` },
    ]);
  });
}

test('the parsed samples of every metadata version are valid', () => {
  for (const [name, input] of parsing) {
    if (!name.startsWith('v')) continue;
    assert.deepEqual(validateCoreMetadata(parseCoreMetadata(input).raw), [], name);
  }
});

test('a header named __proto__ is an ordinary unknown field', () => {
  const parsed = parseCoreMetadata('Metadata-Version: 2.1\n__proto__: x\nconstructor: y\n');
  assert.deepEqual(Object.keys(parsed.unparsed), ['__proto__', 'constructor']);
  assert.deepEqual(parsed.unparsed['__proto__'], ['x']);
  assert.equal(Object.getPrototypeOf(parsed.unparsed), Object.prototype);
  assert.deepEqual(validateCoreMetadata({ ...parsed.raw, name: 'a', version: '1' }), []);
});
