// The upload form: the metadata fields under Warehouse's form names, twine's order, the digests,
// `content` last, and a body whose announced length is exactly what is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formFields, multipartUpload, safeName } from '../../src/client/form.js';
import type { CheckedDistribution } from '../../src/client/inspect.js';
import { tempDir } from '../support/tmp.js';

const HASHES = { sha256: 'a'.repeat(64), md5: 'b'.repeat(32), blake2_256: 'c'.repeat(64) };

function checked(metadata: Record<string, string | string[]>): CheckedDistribution {
  return {
    path: '/dev/null',
    filename: 'demo_pkg-1.0-py3-none-any.whl',
    kind: 'wheel',
    size: 0,
    name: 'Demo_Pkg',
    project: 'demo-pkg',
    version: '1.0',
    filetype: 'bdist_wheel',
    pyversion: 'py3',
    metadata,
  };
}

test('twine’s safe name', () => {
  const cases: [string, string][] = [
    ['Demo_Pkg', 'Demo-Pkg'],
    ['a.b', 'a.b'],
    ['a__b--c', 'a-b-c'],
  ];
  for (const [name, safe] of cases) assert.equal(safeName(name), safe);
});

test('fields: metadata under form names, then pyversion, filetype, digests, action', () => {
  const fields = formFields(
    checked({
      'metadata-version': '2.4',
      name: 'Demo_Pkg',
      version: '1.0',
      summary: 'A demo',
      'requires-dist': ['requests>=2', 'rich; extra == "cli"'],
      'project-url': ['Homepage, https://example.com'],
      classifier: ['Programming Language :: Python :: 3'],
      'provides-extra': ['cli'],
      'license-expression': 'MIT',
      'license-file': ['LICENSE'],
      'requires-python': '>=3.9',
      description: 'Long text\n\nwith lines',
      'x-unknown': 'ignored',
    }),
    HASHES,
  );
  assert.deepEqual(fields, [
    ['metadata_version', '2.4'],
    ['name', 'Demo-Pkg'],
    ['version', '1.0'],
    ['summary', 'A demo'],
    ['requires_dist', 'requests>=2'],
    ['requires_dist', 'rich; extra == "cli"'],
    ['project_urls', 'Homepage, https://example.com'],
    ['classifiers', 'Programming Language :: Python :: 3'],
    ['provides_extra', 'cli'],
    ['license_expression', 'MIT'],
    ['license_file', 'LICENSE'],
    ['requires_python', '>=3.9'],
    ['description', 'Long text\n\nwith lines'],
    ['pyversion', 'py3'],
    ['filetype', 'bdist_wheel'],
    ['sha256_digest', HASHES.sha256],
    ['blake2_256_digest', HASHES.blake2_256],
    [':action', 'file_upload'],
    ['protocol_version', '1'],
  ]);
});

test('the body: every field, then content last, with its exact length', async () => {
  const dir = tempDir('pier-form-');
  const path = join(dir, 'demo_pkg-1.0-py3-none-any.whl');
  const bytes = Buffer.from([0, 1, 2, 3, 255, 13, 10]);
  writeFileSync(path, bytes);
  const upload = multipartUpload(
    [
      ['name', 'Demo-Pkg'],
      ['summary', 'Ünïcode "quoted"'],
    ],
    { path, filename: 'demo_pkg-1.0-py3-none-any.whl', size: bytes.length },
    'BOUNDARY',
  );
  assert.equal(upload.contentType, 'multipart/form-data; boundary=BOUNDARY');
  const chunks: Buffer[] = [];
  for await (const c of upload.body.chunks()) chunks.push(c);
  const body = Buffer.concat(chunks);
  assert.equal(body.length, upload.body.length);
  const expected = Buffer.concat([
    Buffer.from(
      '--BOUNDARY\r\nContent-Disposition: form-data; name="name"\r\n\r\nDemo-Pkg\r\n' +
        '--BOUNDARY\r\nContent-Disposition: form-data; name="summary"\r\n\r\nÜnïcode "quoted"\r\n' +
        '--BOUNDARY\r\nContent-Disposition: form-data; name="content"; filename="demo_pkg-1.0-py3-none-any.whl"\r\n' +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    bytes,
    Buffer.from('\r\n--BOUNDARY--\r\n'),
  ]);
  assert.deepEqual(body, expected);
});

test('bytes the client holds are sent as they are, whatever the file on disk is now', async () => {
  const path = join(tempDir('pier-form-'), 'x-1.tar.gz');
  writeFileSync(path, 'changed on disk after the checks');
  const checked = Buffer.from('the checked bytes');
  const upload = multipartUpload(
    [],
    { path, filename: 'x-1.tar.gz', size: 5, bytes: checked },
    'B',
  );
  const chunks: Buffer[] = [];
  for await (const c of upload.body.chunks()) chunks.push(c);
  const body = Buffer.concat(chunks);
  assert.equal(body.length, upload.body.length);
  assert.ok(body.includes(checked));
  assert.ok(!body.includes(Buffer.from('changed on disk')));
});

test('a file that changes size while it is sent is an error, not a corrupt upload', async () => {
  const path = join(tempDir('pier-form-'), 'x-1.tar.gz');
  writeFileSync(path, 'abc');
  const upload = multipartUpload([], { path, filename: 'x-1.tar.gz', size: 5 });
  await assert.rejects(async () => {
    for await (const _ of upload.body.chunks());
  }, /changed while it was being uploaded/);
});
