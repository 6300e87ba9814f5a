// Source distribution filenames (reference §3.4, §2.3 step 20): packaging's parse_sdist_filename
// and the one PEP 625 name Warehouse demands.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  expectedSdistFilename,
  parseSdistFilename,
  type SdistFilename,
} from '../../src/packaging/sdist-filename.js';

const valid: [filename: string, expected: SdistFilename][] = [
  [
    'foo-1.0.tar.gz',
    { rawName: 'foo', name: 'foo', rawVersion: '1.0', version: '1.0', extension: '.tar.gz' },
  ],
  [
    'foo-1.0.zip',
    { rawName: 'foo', name: 'foo', rawVersion: '1.0', version: '1.0', extension: '.zip' },
  ],
  [
    'Foo_Bar-1.0.0.tar.gz',
    {
      rawName: 'Foo_Bar',
      name: 'foo-bar',
      rawVersion: '1.0.0',
      version: '1.0.0',
      extension: '.tar.gz',
    },
  ],
  [
    'foo.bar-1.0RC1.zip',
    {
      rawName: 'foo.bar',
      name: 'foo-bar',
      rawVersion: '1.0RC1',
      version: '1.0rc1',
      extension: '.zip',
    },
  ],
  [
    'foo-v1.0.tar.gz',
    { rawName: 'foo', name: 'foo', rawVersion: 'v1.0', version: '1.0', extension: '.tar.gz' },
  ],
  // Split on the last '-': the "name" is foo-1.0 and the version 1.
  [
    'foo-1.0-1.tar.gz',
    { rawName: 'foo-1.0', name: 'foo-1-0', rawVersion: '1', version: '1', extension: '.tar.gz' },
  ],
  [
    'foo--1.0.tar.gz',
    { rawName: 'foo-', name: 'foo-', rawVersion: '1.0', version: '1.0', extension: '.tar.gz' },
  ],
];

for (const [filename, expected] of valid) {
  test(`parseSdistFilename(${JSON.stringify(filename)})`, () => {
    assert.deepEqual(parseSdistFilename(filename), expected);
  });
}

const invalid: [filename: string, message: string][] = [
  [
    'foo-1.0.tar.bz2',
    "Invalid sdist filename (extension must be '.tar.gz' or '.zip'): 'foo-1.0.tar.bz2'",
  ],
  [
    'foo-1.0.TAR.GZ',
    "Invalid sdist filename (extension must be '.tar.gz' or '.zip'): 'foo-1.0.TAR.GZ'",
  ],
  ['foo-1.0.whl', "Invalid sdist filename (extension must be '.tar.gz' or '.zip'): 'foo-1.0.whl'"],
  ['foo.tar.gz', "Invalid sdist filename: 'foo.tar.gz'"],
  ['-1.0.tar.gz', "Invalid sdist filename (empty project name): '-1.0.tar.gz'"],
  ['foo-dog.tar.gz', "Invalid sdist filename (invalid version): 'foo-dog.tar.gz'"],
  ['foo-.tar.gz', "Invalid sdist filename (invalid version): 'foo-.tar.gz'"],
];

for (const [filename, message] of invalid) {
  test(`parseSdistFilename(${JSON.stringify(filename)}) fails`, () => {
    assert.throws(() => parseSdistFilename(filename), { name: 'PackagingError', message });
  });
}

const expected: [name: string, version: string, filename: string][] = [
  ['foo', '1.0', 'foo-1.0.tar.gz'],
  ['Foo.Bar', '1.0.0', 'foo_bar-1.0.0.tar.gz'], // trailing zeros kept
  ['friendly-bard', 'v1.0-RC1', 'friendly_bard-1.0rc1.tar.gz'],
  ['A__B', '2012.04.01', 'a_b-2012.4.1.tar.gz'],
  ['foo', '1.0+Local', 'foo-1.0+local.tar.gz'],
];

for (const [name, version, filename] of expected) {
  test(`expectedSdistFilename(${JSON.stringify(name)}, ${JSON.stringify(version)})`, () => {
    assert.equal(expectedSdistFilename(name, version), filename);
  });
}

test('expectedSdistFilename refuses an invalid version', () => {
  assert.throws(() => expectedSdistFilename('foo', 'dog'), {
    name: 'PackagingError',
    message: "Invalid version: 'dog'",
  });
});
