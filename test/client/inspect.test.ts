// The checks before anything is sent: filename, metadata read from the archive, name and version
// agreeing with the filename, and the index's metadata validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Distribution } from '../../src/client/discover.js';
import { PublishError } from '../../src/client/errors.js';
import { checkDistribution } from '../../src/client/inspect.js';
import { makeSdist, makeWheel, metadataText } from '../support/dists.js';
import { sample } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

async function dist(made: { filename: string; content: Buffer }, filename = made.filename) {
  const path = join(tempDir('pier-inspect-'), filename);
  writeFileSync(path, made.content);
  const kind = filename.endsWith('.whl') ? 'wheel' : 'sdist';
  return { path, filename, kind, size: made.content.length } as Distribution;
}

test('a wheel and an sdist pass, with their form values', async () => {
  const wheel = await checkDistribution(
    await dist(await makeWheel({ name: 'Pier.Sample', version: '1.0.0', tag: 'py2.py3-none-any' })),
    {
      verifyMetadata: true,
    },
  );
  assert.equal(wheel.name, 'Pier.Sample');
  assert.equal(wheel.project, 'pier-sample');
  assert.equal(wheel.version, '1.0.0');
  assert.equal(wheel.filetype, 'bdist_wheel');
  assert.equal(wheel.pyversion, 'py2.py3');
  assert.equal(wheel.metadata.summary, 'synthetic');
  const sdist = await checkDistribution(await dist(await makeSdist({ name: 'pier-sample' })), {
    verifyMetadata: true,
  });
  assert.equal(sdist.filetype, 'sdist');
  assert.equal(sdist.pyversion, 'source');
});

test('setuptools’ sample distributions pass', async () => {
  const { wheel, sdist } = sample('sample');
  for (const path of [wheel, sdist]) {
    const filename = path.split('/').at(-1)!;
    const d = await checkDistribution(
      { path, filename, kind: filename.endsWith('.whl') ? 'wheel' : 'sdist', size: 0 },
      { verifyMetadata: true },
    );
    assert.equal(d.project, 'pier-sample');
    assert.equal(d.version, '1.0.0');
  }
});

test('License-File in metadata before 2.4 (setuptools wrote it for years) is left out, as twine and the index do', async () => {
  // six 1.17.0, python-dateutil 2.9.0.post0, pexpect 4.9.0: Metadata-Version 2.1 with License-File.
  const metadata =
    'Metadata-Version: 2.1\nName: pier-sample\nVersion: 1.0.0\nSummary: synthetic\nLicense-File: LICENSE\n';
  const d = await checkDistribution(await dist(await makeWheel({ metadata })), {
    verifyMetadata: true,
  });
  assert.equal(d.metadata['license-file'], undefined, 'not sent in the form');
  // From 2.4 it means something (PEP 639) and is kept, and checked.
  const v24 = metadata.replace('2.1', '2.4');
  const kept = await checkDistribution(
    await dist(await makeWheel({ metadata: v24, distInfo: { 'licenses/LICENSE': 'MIT' } })),
    { verifyMetadata: true },
  );
  assert.deepEqual(kept.metadata['license-file'], ['LICENSE']);
});

test('problems are errors that name the file and the mismatch', async () => {
  const cases: [string, () => Promise<Distribution>, RegExp][] = [
    [
      'name mismatch',
      async () =>
        dist(
          await makeWheel({
            name: 'pier-sample',
            metadata: metadataText('other-project', '1.0.0'),
          }),
        ),
      /the filename names the project 'pier_sample', but its METADATA says Name: other-project/,
    ],
    [
      'version mismatch',
      async () =>
        dist(
          await makeSdist({
            name: 'pier-sample',
            version: '1.0.0',
            pkgInfo: metadataText('pier-sample', '2.0'),
          }),
        ),
      /the filename says version 1\.0\.0, but its PKG-INFO says Version: 2\.0/,
    ],
    [
      'renamed wheel',
      async () =>
        dist(
          await makeWheel({ name: 'pier-sample', version: '1.0.0' }),
          'pier_sample-1.0.1-py3-none-any.whl',
        ),
      /WHEEL not found at pier_sample-1\.0\.1\.dist-info\/WHEEL/,
    ],
    [
      'bad filename',
      async () => dist(await makeWheel(), 'pier_sample-1.0.0.whl'),
      /Invalid wheel filename \(wrong number of parts\)/,
    ],
    [
      'not a zip',
      async () =>
        dist({ filename: 'pier_sample-1.0.0-py3-none-any.whl', content: Buffer.from('hello') }),
      /Invalid distribution file\. File is not a zipfile/,
    ],
    ['no PKG-INFO', async () => dist(await makeSdist({ pkgInfo: null })), /PKG-INFO not found/],
    [
      'invalid metadata',
      async () =>
        dist(
          await makeWheel({
            metadata: metadataText('pier-sample', '1.0.0', 'Requires-Dist: not a requirement!!\n'),
          }),
        ),
      /invalid metadata in METADATA: .*requires-dist|Requires-Dist/i,
    ],
    [
      'sdist not named after PEP 625',
      async () => {
        const s = await makeSdist({ name: 'Pier.Sample', topLevel: 'Pier.Sample-1.0.0' });
        return dist(s, 'Pier.Sample-1.0.0.tar.gz');
      },
      /must be named pier_sample-1\.0\.0\.tar\.gz \(PEP 625\)/,
    ],
  ];
  for (const [label, make, message] of cases) {
    const d = await make();
    await assert.rejects(
      checkDistribution(d, { verifyMetadata: true }),
      (err: PublishError) => {
        assert.ok(err instanceof PublishError, `${label}: ${String(err)}`);
        assert.equal(err.code, 'invalid-distribution');
        assert.ok(err.message.startsWith(d.path), label);
        assert.match(err.message, message, label);
        return true;
      },
      label,
    );
  }
});

test('--no-verify-metadata skips the validation, not the name and version checks', async () => {
  const invalid = await dist(
    await makeWheel({
      metadata: metadataText('pier-sample', '1.0.0', 'Requires-Dist: not a requirement!!\n'),
    }),
  );
  assert.equal(
    (await checkDistribution(invalid, { verifyMetadata: false })).project,
    'pier-sample',
  );
  const mismatch = await dist(await makeWheel({ metadata: metadataText('other', '1.0.0') }));
  await assert.rejects(checkDistribution(mismatch, { verifyMetadata: false }), /Name: other/);
});
