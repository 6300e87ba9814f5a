// Which files get published: directories and files, wheels first, artifact-nested files found,
// and a clear error naming anything that is not a distribution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverDistributions, distributionKind } from '../../src/client/discover.js';
import { PublishError } from '../../src/client/errors.js';
import { tempDir } from '../support/tmp.js';

function tree(files: Record<string, string | null>): string {
  const root = tempDir('pier-discover-');
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    if (content === null) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(join(full, '..'), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return root;
}

const names = (ds: { filename: string }[]) => ds.map((d) => d.filename);

test('distribution kinds by name', () => {
  const cases: [string, string | RegExp][] = [
    ['pkg-1.0-py3-none-any.whl', 'wheel'],
    ['pkg-1.0.tar.gz', 'sdist'],
    ['PKG-1.0.TAR.GZ', 'sdist'],
    ['pkg-1.0.zip', /PEP 625/],
    ['pkg-1.0-py3.8.egg', /no longer accept/],
    ['pkg-1.0.tar.bz2', /no longer accept/],
    ['README.md', /not a distribution/],
    ['pkg-1.0.whl.publish.attestation', /not a distribution/],
  ];
  for (const [name, expected] of cases) {
    const kind = distributionKind(name);
    if (typeof expected === 'string') assert.equal(kind, expected, name);
    else assert.match((kind as { problem: string }).problem, expected, name);
  }
});

test('a directory: wheels first, hidden files ignored, sizes read', async () => {
  const root = tree({
    'dist/pkg-1.0.tar.gz': 'sdist',
    'dist/pkg-1.0-py3-none-any.whl': 'wheel!',
    'dist/.gitignore': '*',
  });
  const found = await discoverDistributions([join(root, 'dist')]);
  assert.deepEqual(names(found), ['pkg-1.0-py3-none-any.whl', 'pkg-1.0.tar.gz']);
  assert.deepEqual(
    found.map((d) => [d.kind, d.size]),
    [
      ['wheel', 6],
      ['sdist', 5],
    ],
  );
});

test('artifact downloads nesting dist/foo.whl/foo.whl are found', async () => {
  const root = tree({
    'dist/pkg-1.0-py3-none-any.whl/pkg-1.0-py3-none-any.whl': 'w',
    'dist/pkg-1.0.tar.gz/pkg-1.0.tar.gz': 's',
    'dist/other-2.0-py3-none-any.whl': 'w',
  });
  const found = await discoverDistributions([join(root, 'dist')]);
  assert.deepEqual(names(found), [
    'other-2.0-py3-none-any.whl',
    'pkg-1.0-py3-none-any.whl',
    'pkg-1.0.tar.gz',
  ]);
  assert.equal(
    found[1]!.path,
    join(root, 'dist/pkg-1.0-py3-none-any.whl/pkg-1.0-py3-none-any.whl'),
  );
  // The nested folder itself may be named too.
  const direct = await discoverDistributions([join(root, 'dist/pkg-1.0.tar.gz')]);
  assert.deepEqual(names(direct), ['pkg-1.0.tar.gz']);
});

test('files named one by one, from several places', async () => {
  const root = tree({ 'a/x-1-py3-none-any.whl': '1', 'b/x-1.tar.gz': '2' });
  const found = await discoverDistributions([
    join(root, 'b/x-1.tar.gz'),
    join(root, 'a/x-1-py3-none-any.whl'),
  ]);
  assert.deepEqual(names(found), ['x-1-py3-none-any.whl', 'x-1.tar.gz']);
});

test('anything else is an error that names it', async () => {
  const cases: [Record<string, string | null>, string, RegExp][] = [
    [
      { 'dist/README.md': 'x', 'dist/p-1.tar.gz': 's' },
      'dist',
      /dist\/README\.md: not a distribution \(\.whl or \.tar\.gz\)/,
    ],
    [{ 'dist/p-1.zip': 'z' }, 'dist', /dist\/p-1\.zip: a \.zip source distribution/],
    [
      { 'dist/old': null, 'dist/p-1.tar.gz': 's' },
      'dist',
      /dist\/old: a directory inside the distributions directory/,
    ],
    [
      { 'dist/p-1-py3-none-any.whl/other.whl': 'w' },
      'dist',
      /dist\/p-1-py3-none-any\.whl: a directory named like a distribution, but it does not hold p-1-py3-none-any\.whl/,
    ],
    [{ 'notes.txt': 'x' }, 'notes.txt', /notes\.txt: not a distribution/],
    [{}, 'missing', /missing: no such file or directory/],
    [{ 'dist/.gitignore': '*' }, 'dist', /No distributions found in .*dist/],
    [{ 'a/p-1.tar.gz': '1', 'b/p-1.tar.gz': '2' }, 'a b', /p-1\.tar\.gz is given twice/],
  ];
  for (const [files, input, message] of cases) {
    const root = tree(files);
    await assert.rejects(
      discoverDistributions(input.split(' ').map((p) => join(root, p))),
      (err: PublishError) => {
        assert.ok(err instanceof PublishError);
        assert.equal(err.code, 'invalid-distribution');
        assert.match(err.message, message);
        assert.ok(err.hints.length > 0);
        return true;
      },
      input,
    );
  }
});

test('the default is dist/ of the working directory', async () => {
  const root = tree({ 'dist/p-1.tar.gz': 's' });
  const cwd = process.cwd();
  process.chdir(root);
  try {
    assert.deepEqual(names(await discoverDistributions([])), ['p-1.tar.gz']);
  } finally {
    process.chdir(cwd);
  }
});
