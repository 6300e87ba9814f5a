// Wheel filenames (reference §3.3): packaging.utils.parse_wheel_filename's results and messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWheelFilename, type WheelFilename } from '../../src/packaging/wheel-filename.js';

const valid: [filename: string, expected: WheelFilename][] = [
  [
    'foo-1.0-py3-none-any.whl',
    {
      rawName: 'foo',
      name: 'foo',
      rawVersion: '1.0',
      version: '1.0',
      build: null,
      pythonTags: ['py3'],
      abiTags: ['none'],
      platformTags: ['any'],
    },
  ],
  [
    'Foo_Bar-1.0.0-py2.py3-none-any.whl',
    {
      rawName: 'Foo_Bar',
      name: 'foo-bar',
      rawVersion: '1.0.0',
      version: '1.0.0',
      build: null,
      pythonTags: ['py2', 'py3'],
      abiTags: ['none'],
      platformTags: ['any'],
    },
  ],
  [
    'foo.bar-1.0_rc1-1abc-CP311-CP311-MANYLINUX_2_17_X86_64.manylinux2014_x86_64.whl',
    {
      rawName: 'foo.bar',
      name: 'foo-bar',
      rawVersion: '1.0_rc1',
      version: '1.0rc1',
      build: { number: 1, tag: 'abc' },
      pythonTags: ['cp311'],
      abiTags: ['cp311'],
      platformTags: ['manylinux_2_17_x86_64', 'manylinux2014_x86_64'],
    },
  ],
  [
    'foo-1.0-007-py3-none-any.whl',
    {
      rawName: 'foo',
      name: 'foo',
      rawVersion: '1.0',
      version: '1.0',
      build: { number: 7, tag: '' },
      pythonTags: ['py3'],
      abiTags: ['none'],
      platformTags: ['any'],
    },
  ],
];

for (const [filename, expected] of valid) {
  test(`parseWheelFilename(${JSON.stringify(filename)})`, () => {
    assert.deepEqual(parseWheelFilename(filename), expected);
  });
}

// Accepted, with the normalized name and version (packaging 26).
const normalized: [filename: string, name: string, version: string][] = [
  ['föö-1.0-py3-none-any.whl', 'föö', '1.0'], // `\w` is Unicode-aware
  ['foo-v1.0-py3-none-any.whl', 'foo', '1.0'],
  ['foo-01.0-py3-none-any.whl', 'foo', '1.0'],
  ['foo-1.0+local-py3-none-any.whl', 'foo', '1.0+local'],
  ['foo- 1.0-py3-none-any.whl', 'foo', '1.0'], // Version() allows surrounding whitespace
];

for (const [filename, name, version] of normalized) {
  test(`parseWheelFilename(${JSON.stringify(filename)}) names ${name} ${version}`, () => {
    const parsed = parseWheelFilename(filename);
    assert.equal(parsed.name, name);
    assert.equal(parsed.version, version);
  });
}

const invalid: [filename: string, message: string][] = [
  [
    'foo-1.0-py3-none-any.WHL',
    "Invalid wheel filename (extension must be '.whl'): 'foo-1.0-py3-none-any.WHL'",
  ],
  [
    'foo-1.0-py3-none-any',
    "Invalid wheel filename (extension must be '.whl'): 'foo-1.0-py3-none-any'",
  ],
  ['foo-1.0-py3-none.whl', "Invalid wheel filename (wrong number of parts): 'foo-1.0-py3-none'"],
  [
    'foo-1.0-1-2-py3-none-any.whl',
    "Invalid wheel filename (wrong number of parts): 'foo-1.0-1-2-py3-none-any'",
  ],
  ['x.whl', "Invalid wheel filename (wrong number of parts): 'x'"],
  ['foo__bar-1.0-py3-none-any.whl', "Invalid project name: 'foo__bar-1.0-py3-none-any'"],
  ['foo+bar-1.0-py3-none-any.whl', "Invalid project name: 'foo+bar-1.0-py3-none-any'"],
  ['-1.0-py3-none-any.whl', "Invalid project name: '-1.0-py3-none-any'"], // packaging 26.3
  // An unescaped `-` in the name shifts the fields: the version is then `bar`.
  [
    'foo-bar-1.0-py3-none-any.whl',
    "Invalid wheel filename (invalid version): 'foo-bar-1.0-py3-none-any'",
  ],
  ['foo-dog-py3-none-any.whl', "Invalid wheel filename (invalid version): 'foo-dog-py3-none-any'"],
  ['foo-1.0-abc-py3-none-any.whl', "Invalid build number: abc in 'foo-1.0-abc-py3-none-any'"],
  ['foo-1.0- 1-py3-none-any.whl', "Invalid build number:  1 in 'foo-1.0- 1-py3-none-any'"],
  [
    'foo-1.0-py3..py2-none-any.whl',
    "Invalid wheel filename (invalid tag component): 'foo-1.0-py3..py2-none-any'",
  ],
  ['foo-1.0-py3--any.whl', "Invalid wheel filename (invalid tag component): 'foo-1.0-py3--any'"],
  ['foo-1.0-py3-none-.whl', "Invalid wheel filename (invalid tag component): 'foo-1.0-py3-none-'"],
  [
    'foo-1.0-3py-none-any.whl',
    "Invalid wheel filename (invalid tag component): 'foo-1.0-3py-none-any'",
  ],
];

for (const [filename, message] of invalid) {
  test(`parseWheelFilename(${JSON.stringify(filename)}) fails`, () => {
    assert.throws(() => parseWheelFilename(filename), { name: 'PackagingError', message });
  });
}
