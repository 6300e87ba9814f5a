// The legacy upload form's metadata (reference §2.2, §2.3 step 3): the form -> core metadata
// mapping, every validation message in Warehouse's words and order, and the validated result.
// The rows were checked against Warehouse's rules run on packaging 26 (rfc3986 for URLs,
// email-validator for addresses), except where a comment says otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  metadataFromUploadForm,
  validateUploadMetadata,
  type UploadForm,
  type UploadMetadata,
} from '../../src/packaging/upload-metadata.js';

type Pairs = [name: string, value: string][];

function form(pairs: Pairs): UploadForm {
  const map: UploadForm = new Map();
  for (const [name, value] of pairs) map.set(name, [...(map.get(name) ?? []), value]);
  return map;
}

const BASE: Pairs = [
  ['metadata_version', '2.4'],
  ['name', 'foo'],
  ['version', '1.0'],
];
const base = (...extra: Pairs): Pairs => [...BASE, ...extra];
const withVersion = (metadataVersion: string, ...extra: Pairs): Pairs => [
  ['metadata_version', metadataVersion],
  ['name', 'foo'],
  ['version', '1.0'],
  ...extra,
];

const CORE_METADATA = 'https://packaging.python.org/specifications/core-metadata';
const LOCAL_VERSIONS =
  'https://packaging.python.org/en/latest/specifications/version-specifiers/#local-version-identifiers';

function validate(pairs: Pairs, allowLocalVersions?: boolean) {
  const options = allowLocalVersions === undefined ? undefined : { allowLocalVersions };
  return validateUploadMetadata(metadataFromUploadForm(form(pairs)), options);
}

// [case, form, field in error, error text]; the message adds " See <core metadata> for more
// information." (and a final '.' where the text has none).
const failures: [name: string, pairs: Pairs, field: string, error: string][] = [
  // Metadata-Version, Name and Version come first.
  [
    'missing metadata version',
    [
      ['name', 'foo'],
      ['version', '1.0'],
    ],
    'metadata-version',
    'None is not a valid metadata version.',
  ],
  [
    'metadata version 2.0',
    withVersion('2.0'),
    'metadata-version',
    "'2.0' is not a valid metadata version.",
  ],
  [
    'metadata version 3.0',
    withVersion('3.0'),
    'metadata-version',
    "'3.0' is not a valid metadata version.",
  ],
  [
    'metadata version before everything',
    [
      ['metadata_version', 'x'],
      ['name', '!!'],
      ['version', 'dog'],
    ],
    'metadata-version',
    "'x' is not a valid metadata version.",
  ],
  [
    'missing name',
    [
      ['metadata_version', '2.1'],
      ['version', '1.0'],
    ],
    'name',
    "'name' is a required field.",
  ],
  [
    'invalid name',
    [
      ['metadata_version', '2.1'],
      ['name', '-foo'],
      ['version', '1.0'],
    ],
    'name',
    "'-foo' is invalid for 'name'.",
  ],
  [
    'missing version',
    [
      ['metadata_version', '2.1'],
      ['name', 'foo'],
    ],
    'version',
    "'version' is a required field.",
  ],
  [
    'invalid version',
    [
      ['metadata_version', '2.1'],
      ['name', 'foo'],
      ['version', 'dog'],
    ],
    'version',
    "'dog' is invalid for 'version'.",
  ],
  [
    'version before other fields',
    [
      ['metadata_version', '2.1'],
      ['name', 'foo'],
      ['version', 'dog'],
      ['summary', 'a\nb'],
    ],
    'version',
    "'dog' is invalid for 'version'.",
  ],
  // A field newer than the declared metadata version.
  [
    'license-expression in 2.1',
    withVersion('2.1', ['license_expression', 'MIT']),
    'license-expression',
    'license-expression introduced in metadata version 2.4, not 2.1.',
  ],
  [
    'dynamic in 2.1',
    withVersion('2.1', ['dynamic', 'summary']),
    'dynamic',
    'dynamic introduced in metadata version 2.2, not 2.1.',
  ],
  [
    'download-url in 1.0',
    withVersion('1.0', ['download_url', 'https://x.com']),
    'download-url',
    'download-url introduced in metadata version 1.1, not 1.0.',
  ],
  [
    'maintainer in 1.1',
    withVersion('1.1', ['maintainer', 'm']),
    'maintainer',
    'maintainer introduced in metadata version 1.2, not 1.1.',
  ],
  [
    'import-name in 2.4',
    withVersion('2.4', ['import_name', 'foo']),
    'import-name',
    'import-name introduced in metadata version 2.5, not 2.4.',
  ],
  [
    'license-file in 2.3',
    withVersion('2.3', ['license_file', 'LICENSE']),
    'license-file',
    'license-file introduced in metadata version 2.4, not 2.3.',
  ],
  [
    'the alphabetically first newer field',
    withVersion('1.1', ['requires_dist', 'a'], ['provides_extra', 'x']),
    'provides-extra',
    'provides-extra introduced in metadata version 2.1, not 1.1.',
  ],
  // Summary.
  [
    'summary over 512 characters',
    base(['summary', 'x'.repeat(513)]),
    'summary',
    "'summary' field must be 512 characters or less.",
  ],
  [
    'summary over 512 code points',
    base(['summary', '😀'.repeat(513)]),
    'summary',
    "'summary' field must be 512 characters or less.",
  ],
  [
    'summary with a line break',
    base(['summary', 'a\nb']),
    'summary',
    "'summary' must be a single line.",
  ],
  [
    'the line break is found first',
    base(['summary', `a\n${'b'.repeat(600)}`]),
    'summary',
    "'summary' must be a single line.",
  ],
  // Description-Content-Type.
  [
    'text/html',
    base(['description_content_type', 'text/html']),
    'description-content-type',
    "'description-content-type' must be one of ['text/plain', 'text/x-rst', 'text/markdown'], not 'text/html'.",
  ],
  [
    'not a content type',
    base(['description_content_type', 'markdown']),
    'description-content-type',
    "'description-content-type' must be one of ['text/plain', 'text/x-rst', 'text/markdown'], not 'markdown'.",
  ],
  [
    'a charset other than UTF-8',
    base(['description_content_type', 'text/plain; charset=latin-1']),
    'description-content-type',
    "'description-content-type' can only specify the UTF-8 charset, not 'latin-1'.",
  ],
  [
    'charset names are case-sensitive',
    base(['description_content_type', 'text/markdown; charset=utf-8']),
    'description-content-type',
    "'description-content-type' can only specify the UTF-8 charset, not 'utf-8'.",
  ],
  [
    'an unknown Markdown variant',
    base(['description_content_type', 'text/markdown; variant=foo']),
    'description-content-type',
    "valid Markdown variants for 'description-content-type' are ['CommonMark', 'GFM'], not 'foo'.",
  ],
  [
    'variants are case-sensitive',
    base(['description_content_type', 'text/markdown;charset=UTF-8;variant=gfm']),
    'description-content-type',
    "valid Markdown variants for 'description-content-type' are ['CommonMark', 'GFM'], not 'gfm'.",
  ],
  // Requires-Dist, Provides-Dist, Obsoletes-Dist.
  [
    'invalid requires-dist',
    base(['requires_dist', 'foo >= bar']),
    'requires-dist',
    "'foo >= bar' is invalid for 'requires-dist'.",
  ],
  [
    'direct reference in requires-dist',
    base(['requires_dist', 'Foo[b,a] @ https://x.com/f.whl ; python_version>="3"']),
    'requires-dist',
    `Can't have direct dependency: Foo[a,b] @ https://x.com/f.whl ; python_version >= "3".`,
  ],
  [
    'invalid provides-dist',
    base(['provides_dist', 'foo bar']),
    'provides-dist',
    "'foo bar' is invalid: Expected semicolon (after name with no version specifier) or end.",
  ],
  [
    'direct reference in provides-dist',
    base(['provides_dist', 'foo @ https://x.com/f.whl']),
    'provides-dist',
    "Can't have direct dependency: 'foo @ https://x.com/f.whl'.",
  ],
  [
    'direct reference in obsoletes-dist',
    base(['obsoletes_dist', 'foo @ https://x.com/f.whl']),
    'obsoletes-dist',
    "Can't have direct dependency: 'foo @ https://x.com/f.whl'.",
  ],
  // Requires-Python, Provides-Extra, Dynamic.
  [
    'invalid requires-python',
    base(['requires_python', '>=3.8, <4,foo']),
    'requires-python',
    "'>=3.8, <4,foo' is invalid for 'requires-python'.",
  ],
  [
    'invalid provides-extra',
    base(['provides_extra', '-bad']),
    'provides-extra',
    "'-bad' is invalid for 'provides-extra'.",
  ],
  [
    'invalid provides_extras (twine 4)',
    base(['provides_extras', 'bad_']),
    'provides-extra',
    "'bad_' is invalid for 'provides-extra'.",
  ],
  [
    'Name as dynamic',
    base(['dynamic', 'Name']),
    'dynamic',
    "'name' is not allowed as a dynamic field.",
  ],
  [
    'Version as dynamic',
    base(['dynamic', 'version']),
    'dynamic',
    "'version' is not allowed as a dynamic field.",
  ],
  [
    'Metadata-Version as dynamic',
    base(['dynamic', 'Metadata-Version']),
    'dynamic',
    "'metadata-version' is not allowed as a dynamic field.",
  ],
  [
    'an unknown dynamic field',
    base(['dynamic', 'Foo']),
    'dynamic',
    "'foo' is not a valid dynamic field.",
  ],
  // Project-URL, Home-Page, Download-URL.
  [
    'a project URL without label',
    base(['project_urls', ', https://x.com']),
    'project-url',
    'Must have a label.',
  ],
  [
    'a project URL label over 32 characters',
    base(['project_urls', `${'x'.repeat(33)}, https://x.com`]),
    'project-url',
    `'${'x'.repeat(33)}' must be 32 characters or less.`,
  ],
  ['a project URL without URL', base(['project_urls', 'Home,']), 'project-url', 'Must have a URL.'],
  [
    'a project URL without comma',
    base(['project_urls', 'https://x.com']),
    'project-url',
    'Must have a URL.',
  ],
  [
    'an ftp project URL',
    base(['project_urls', 'Home, ftp://x.com']),
    'project-url',
    "'ftp://x.com' is not a valid url.",
  ],
  [
    'a duplicate project URL label',
    base(['project_urls', 'Home, https://a.com'], ['project_urls', 'Home , https://b.com']),
    'project_urls',
    "'project_urls' has invalid data.",
  ],
  [
    'a home page without scheme',
    base(['home_page', 'example.com']),
    'home-page',
    "'example.com' is not a valid url.",
  ],
  [
    'a javascript: home page',
    base(['home_page', 'javascript:alert(1)']),
    'home-page',
    "'javascript:alert(1)' is not a valid url.",
  ],
  [
    'a download URL with port 99999',
    base(['download_url', 'https://x.com:99999/']),
    'download-url',
    "'https://x.com:99999/' is not a valid url.",
  ],
  // Author-email, Maintainer-email (a light check with email-validator's reasons).
  [
    'an address without @',
    base(['author_email', 'foo']),
    'author-email',
    "'foo' is not a valid email address: An email address must have an @-sign.",
  ],
  [
    'a domain without period',
    base(['author_email', 'Foo <foo@bar>']),
    'author-email',
    "'foo@bar' is not a valid email address: The part after the @-sign is not valid. It should have a period.",
  ],
  [
    'a space in the local part',
    base(['maintainer_email', 'a b@example.com']),
    'maintainer-email',
    "'a b@example.com' is not a valid email address: The email address contains invalid characters before the @-sign: SPACE.",
  ],
  // Not checked by PyPI, whose parseaddr() drops these before email-validator sees them:
  [
    'nothing after the @',
    base(['maintainer_email', 'foo@']),
    'maintainer-email',
    "'foo@' is not a valid email address: There must be something after the @-sign.",
  ],
  [
    'the second address of a list',
    base(['author_email', 'A <a@example.com>, "B, b" <b@example..com>']),
    'author-email',
    "'b@example..com' is not a valid email address: An email address cannot have two periods in a row.",
  ],
  [
    'a period before the @',
    base(['author_email', 'a.@example.com']),
    'author-email',
    "'a.@example.com' is not a valid email address: An email address cannot have a period immediately before the @-sign.",
  ],
  [
    'a hyphen after the @',
    base(['author_email', 'a@-example.com']),
    'author-email',
    "'a@-example.com' is not a valid email address: An email address cannot have a hyphen immediately after the @-sign.",
  ],
  [
    'a comma in the domain',
    base(['author_email', '<a@exa,mple.com>']),
    'author-email',
    "'a@exa,mple.com' is not a valid email address: The part after the @-sign contains invalid characters: ','.",
  ],
  // PEP 639.
  [
    'License with License-Expression',
    base(['license', 'MIT'], ['license_expression', 'mit']),
    'license',
    'License is deprecated when License-Expression is present. Only License-Expression should be present.',
  ],
  [
    'an unknown license',
    base(['license_expression', 'Use-it-after-midnight']),
    'license-expression',
    "'Use-it-after-midnight' is invalid for 'license-expression'.",
  ],
  [
    'an invalid license expression',
    base(['license_expression', 'MIT OR']),
    'license-expression',
    "'MIT OR' is invalid for 'license-expression'.",
  ],
  [
    'a license file in a parent directory',
    base(['license_file', '../LICENSE']),
    'license-file',
    "'../LICENSE' is invalid for 'license-file', parent directory indicators are not allowed.",
  ],
  [
    'a license file glob',
    base(['license_file', 'LICENSE*']),
    'license-file',
    "'LICENSE*' is invalid for 'license-file', paths must be resolved.",
  ],
  [
    'an absolute license file',
    base(['license_file', '/LICENSE']),
    'license-file',
    "'/LICENSE' is invalid for 'license-file', paths must be relative.",
  ],
  [
    'a Windows absolute license file',
    base(['license_file', 'C:\\LICENSE']),
    'license-file',
    "'C:\\\\LICENSE' is invalid for 'license-file', paths must be relative.",
  ],
  [
    'a backslash in a license file',
    base(['license_file', 'licenses\\LICENSE']),
    'license-file',
    "'licenses\\\\LICENSE' is invalid for 'license-file', paths must use '/' delimiter.",
  ],
  [
    'a ./ license file',
    base(['license_file', './LICENSE']),
    'license-file',
    "'./LICENSE' is invalid for 'license-file', paths must use '/' delimiter.",
  ],
  [
    'a // in a license file',
    base(['license_file', 'a//b']),
    'license-file',
    "'a//b' is invalid for 'license-file', paths must use '/' delimiter.",
  ],
  // PEP 794.
  [
    'an import name that is not an identifier',
    withVersion('2.5', ['import_name', 'foo-bar']),
    'import-name',
    "'foo-bar' is invalid for 'import-name'; 'foo-bar' is not a valid identifier.",
  ],
  [
    'an import name with a keyword',
    withVersion('2.5', ['import_name', 'foo.class']),
    'import-name',
    "'foo.class' is invalid for 'import-name'; 'class' is a keyword.",
  ],
  [
    'an import name option',
    withVersion('2.5', ['import_name', 'foo; public']),
    'import-name',
    "'foo; public' is invalid for 'import-name'; the only valid option is 'private'.",
  ],
  [
    'an import namespace',
    withVersion('2.6', ['import_namespace', '1ns']),
    'import-namespace',
    "'1ns' is invalid for 'import-namespace'; '1ns' is not a valid identifier.",
  ],
  // A single-use field sent twice (reported with its form field name).
  [
    'summary sent twice',
    base(['summary', 'a'], ['summary', 'b']),
    'summary',
    "'summary' has invalid data.",
  ],
  [
    'keywords sent twice',
    base(['keywords', 'a'], ['keywords', 'b']),
    'keywords',
    "'keywords' has invalid data.",
  ],
  [
    'name sent twice comes first',
    [
      ['metadata_version', '2.1'],
      ['name', 'foo'],
      ['name', 'bar'],
      ['version', '1.0'],
      ['summary', 'a'],
      ['summary', 'b'],
    ],
    'name',
    "'name' has invalid data.",
  ],
  // `metadata_version` is not the priority name `metadata-version`: it sorts with the others.
  [
    'metadata_version sent twice',
    [
      ['metadata_version', '2.1'],
      ['metadata_version', '2.1'],
      ['name', 'foo'],
      ['version', '1.0'],
      ['author_email', 'x'],
      ['author_email', 'y'],
    ],
    'author_email',
    "'author_email' has invalid data.",
  ],
  [
    'form errors before field errors',
    [
      ['version', 'dog'],
      ['summary', 'a'],
      ['summary', 'b'],
    ],
    'summary',
    "'summary' has invalid data.",
  ],
  // Choosing among several errors.
  [
    'the alphabetically first field',
    base(['summary', 'a\nb'], ['requires_python', 'foo'], ['description_content_type', 'x/y']),
    'description-content-type',
    "'description-content-type' must be one of ['text/plain', 'text/x-rst', 'text/markdown'], not 'x/y'.",
  ],
  [
    "packaging's rules hide Warehouse's",
    base(['summary', 'a\nb'], ['home_page', 'bad']),
    'summary',
    "'summary' must be a single line.",
  ],
  [
    "the alphabetically first of Warehouse's",
    base(['home_page', 'bad'], ['download_url', 'bad2'], ['author_email', 'nope']),
    'author-email',
    "'nope' is not a valid email address: An email address must have an @-sign.",
  ],
];

for (const [name, pairs, field, error] of failures) {
  test(`refused: ${name}`, () => {
    const message = `${error} See ${CORE_METADATA} for more information.`;
    assert.deepEqual(validate(pairs), { ok: false, field, message });
  });
}

test('local versions: allowed by default, refused with PyPI text when not allowed', () => {
  const pairs: Pairs = [
    ['metadata_version', '2.1'],
    ['name', 'foo'],
    ['version', '1.0+Local'],
  ];
  for (const result of [validate(pairs), validate(pairs, true)]) {
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.metadata.version, '1.0+local');
  }
  assert.deepEqual(validate(pairs, false), {
    ok: false,
    field: 'version',
    message: `The use of local versions in '1.0+local' is not allowed. See ${LOCAL_VERSIONS} for more information.`,
  });
});

// Accepted forms (as PyPI accepts them unless a comment says otherwise).
const accepted: [name: string, pairs: Pairs][] = [
  ['metadata version 1.0', withVersion('1.0', ['summary', 's'], ['platform', 'linux'])],
  ['metadata version 1.1', withVersion('1.1', ['classifiers', 'Anything :: Goes'])],
  [
    'metadata version 1.2',
    withVersion('1.2', ['requires_dist', 'bar'], ['requires_python', '>=3']),
  ],
  ['metadata version 2.1', withVersion('2.1', ['description_content_type', 'text/markdown'])],
  ['metadata version 2.2', withVersion('2.2', ['dynamic', 'Requires-Dist'])],
  ['metadata version 2.3', withVersion('2.3')],
  [
    'metadata version 2.4',
    withVersion('2.4', ['license_expression', 'MIT'], ['license_file', 'LICENSE']),
  ],
  ['metadata version 2.5', withVersion('2.5', ['import_name', 'foo.bar ; private'])],
  ['metadata version 2.6 (PEP 808; PyPI still refuses it)', withVersion('2.6')],
  ['a summary of 512 characters', base(['summary', 'x'.repeat(512)])],
  [
    'a Markdown variant',
    base(['description_content_type', 'text/markdown; charset=UTF-8; variant=CommonMark']),
  ],
  [
    'an unparsable content type that names text/plain',
    base(['description_content_type', 'text/plain/x']),
  ],
  [
    'any classifier (no trove list check)',
    base(['classifiers', 'Not :: A :: Trove :: Classifier']),
  ],
  [
    'URLs that rfc3986 percent-encodes',
    base(['project_urls', 'Home, https://x.com/a b'], ['download_url', 'https://例え.jp/']),
  ],
  ['an authority rfc3986 cannot parse', base(['home_page', 'https://exa mple.com'])],
  ['a URL without authority', base(['download_url', 'https:foo'])],
  ['a quoted local part', base(['author_email', '"a b"@example.com'])],
  ['an address list', base(['maintainer_email', 'A <a@example.com>, b@example.org (B)'])],
  ['an international domain', base(['author_email', 'a@bücher.example'])],
  ['an unknown form field', base(['Description-Content-Type', 'nonsense'], ['foo', 'bar'])],
  [
    'form fields named like Object properties',
    base(['constructor', 'a'], ['constructor', 'b'], ['__proto__', 'c'], ['toString', 'd']),
  ],
  [
    'License-File paths',
    base(['license_file', 'licenses/LICENSE.txt'], ['license_file', 'C:LICENSE']),
  ],
];

for (const [name, pairs] of accepted) {
  test(`accepted: ${name}`, () => {
    const result = validate(pairs, false);
    assert.equal(result.ok, true, result.ok ? '' : result.message);
  });
}

test('metadataFromUploadForm maps form fields to core metadata fields', () => {
  const raw = metadataFromUploadForm(
    form([
      ['metadata_version', '2.4'],
      ['name', 'foo'],
      ['version', '1.0'],
      ['platform', 'linux'],
      ['platform', 'win32'],
      ['supported_platform', 'RedHat'],
      ['license_file', 'LICENSE'],
      ['classifiers', 'A :: B'],
      ['project_urls', 'Home, https://x.com'],
      ['provides_extra', 'a'],
      ['provides_extras', 'b'],
      ['import_name', 'foo'],
      ['import_namespace', 'ns'],
      ['keywords', 'a, b'],
      ['summary', 's'],
      ['author_email', 'x@example.com'],
      [':action', 'file_upload'],
      ['protocol_version', '1'],
      ['sha256_digest', '00'],
      ['Summary', 'ignored'],
    ]),
  );
  assert.deepEqual(raw, {
    'metadata-version': '2.4',
    name: 'foo',
    version: '1.0',
    platform: ['linux', 'win32'],
    'supported-platform': ['RedHat'],
    'license-file': ['LICENSE'],
    classifier: ['A :: B'],
    'project-url': ['Home, https://x.com'],
    'provides-extra': ['a', 'b'],
    'import-name': ['foo'],
    'import-namespace': ['ns'],
    keywords: 'a, b',
    summary: 's',
    'author-email': 'x@example.com',
  });
});

test('metadataFromUploadForm keeps a single-use field sent twice as a list', () => {
  const raw = metadataFromUploadForm(form(base(['summary', 'a'], ['summary', 'b'])));
  assert.deepEqual(raw.summary, ['a', 'b']);
  assert.equal(raw.version, '1.0');
});

test('the validated metadata is normalized as Warehouse stores it', () => {
  const result = validate([
    ['metadata_version', '2.4'],
    ['name', 'Foo.Bar'],
    ['version', 'v1.0.0-RC1'],
    ['summary', 'A summary'],
    ['description', '# Title\n'],
    ['description_content_type', 'text/markdown'],
    ['requires_python', '>=3.8, <4'],
    ['keywords', 'a,b , c,,d'],
    ['license_expression', 'mit or apache-2.0'],
    ['license_file', 'LICENSE'],
    ['classifiers', 'Programming Language :: Python'],
    ['requires_dist', 'Foo[b,a] (>=1.0,<2) ; python_version>="3"'],
    ['requires_dist', 'bar; extra == "Test_X"'],
    ['provides_extra', 'Test_X'],
    ['project_urls', 'Home, https://a.com'],
    ['project_urls', 'Source Code ,https://b.com/x?y=1'],
    ['author', 'A'],
    ['author_email', 'a@example.com'],
    ['maintainer', 'M'],
    ['maintainer_email', 'm@example.com'],
    ['home_page', 'https://a.com'],
    ['download_url', 'https://a.com/dl'],
    ['platform', 'linux'],
    ['supported_platform', 'RedHat'],
    ['dynamic', 'requires-dist'],
    ['dynamic', 'LICENSE-FILE'],
    ['provides_dist', 'foo'],
    ['obsoletes_dist', 'old'],
    ['requires_external', 'libpng'],
  ]);
  const expected: UploadMetadata = {
    metadataVersion: '2.4',
    name: 'Foo.Bar',
    version: '1.0.0rc1',
    canonicalVersion: '1rc1',
    summary: 'A summary',
    description: '# Title\n',
    descriptionContentType: 'text/markdown',
    requiresPython: '<4,>=3.8',
    keywords: 'a, b, c, , d',
    license: null,
    licenseExpression: 'MIT OR Apache-2.0',
    licenseFiles: ['LICENSE'],
    classifiers: ['Programming Language :: Python'],
    requiresDist: ['Foo[a,b]<2,>=1.0; python_version >= "3"', 'bar; extra == "test-x"'],
    providesExtra: ['test-x'],
    projectUrls: { Home: 'https://a.com', 'Source Code': 'https://b.com/x?y=1' },
    author: 'A',
    authorEmail: 'a@example.com',
    maintainer: 'M',
    maintainerEmail: 'm@example.com',
    homePage: 'https://a.com',
    downloadUrl: 'https://a.com/dl',
    platforms: ['linux'],
    dynamic: ['Requires-Dist', 'License-File'],
    supportedPlatforms: ['RedHat'],
    providesDist: ['foo'],
    obsoletesDist: ['old'],
    requiresExternal: ['libpng'],
    requires: [],
    provides: [],
    obsoletes: [],
    importNames: [],
    importNamespaces: [],
  };
  assert.deepEqual(result, { ok: true, metadata: expected });
});

test('a minimal upload has nulls and empty lists', () => {
  const result = validate(base());
  assert.ok(result.ok);
  assert.equal(result.metadata.summary, null);
  assert.equal(result.metadata.requiresPython, null);
  assert.deepEqual(result.metadata.requiresDist, []);
  assert.deepEqual(result.metadata.projectUrls, {});
});

test('validateUploadMetadata accepts the raw metadata of a METADATA file', async () => {
  const { parseCoreMetadata } = await import('../../src/packaging/core-metadata.js');
  const { raw } = parseCoreMetadata(
    'Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nRequires-Dist: bar>=1\n\nLong description\n',
  );
  const result = validateUploadMetadata(raw);
  assert.ok(result.ok);
  assert.equal(result.metadata.description, 'Long description\n');
  assert.deepEqual(result.metadata.requiresDist, ['bar>=1']);
});
