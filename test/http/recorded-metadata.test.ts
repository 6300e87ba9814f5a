// @backends: runs on the embedded default and on PostgreSQL with S3.
// The metadata shown is the metadata installed: an upload records the file's own METADATA or
// PKG-INFO, whatever its form claims, so the JSON API, the web page and the Simple API's
// requires-python say what the `.metadata` file pip resolves with says. Only an sdist older than
// Metadata 2.2 records its form. The forms here are sent by hand, since real clients read them
// from the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeSdist, makeWheel } from '../support/dists.js';
import type { Database } from '../../src/db/schema.js';
import { countBlobs, countRows } from '../support/snapshot.js';

let server: TestServer;
let token: string;

before(async () => {
  server = await startServer();
  token = await server.userWithToken('alice', { mayCreateProjects: true });
});

after(() => server.close());

/** What the file says. */
function fileMetadata(name: string, version: string, metadataVersion = '2.1', extra = ''): string {
  return [
    `Metadata-Version: ${metadataVersion}`,
    `Name: ${name}`,
    `Version: ${version}`,
    'Summary: What the file says',
    'License: MIT',
    'Requires-Python: >=3.10',
    'Requires-Dist: requests>=2',
    'Requires-Dist: idna; extra == "net"',
    'Provides-Extra: net',
    'Classifier: Programming Language :: Python :: 3',
    'Project-URL: Source, https://example.com/file',
    'Description-Content-Type: text/markdown',
    ...(extra ? [extra] : []),
    '',
    'The description in the file.',
    '',
  ].join('\n');
}

/** What a lying form says instead. */
const LYING_FORM = {
  summary: 'What the form says',
  license: 'Proprietary',
  requires_python: '>=3.6',
  requires_dist: ['evil-package>=1', 'other-evil'],
  classifiers: 'Private :: Do Not Upload',
  project_urls: 'Source, https://example.com/form',
  description: 'The description in the form.',
  description_content_type: 'text/plain',
};

async function upload(
  file: { filename: string; content: Buffer },
  fields: Record<string, string | string[]>,
) {
  return postUpload(server.url, token, await uploadParts({ ...file, fields }));
}

async function json(path: string): Promise<Record<string, any>> {
  const res = await fetch(`${server.url}${path}`);
  assert.equal(res.status, 200, path);
  return (await res.json()) as Record<string, any>;
}

function assertFileInfo(info: Record<string, any>) {
  assert.equal(info.summary, 'What the file says');
  assert.equal(info.license, 'MIT');
  assert.equal(info.requires_python, '>=3.10');
  assert.deepEqual(info.requires_dist, ['requests>=2', 'idna; extra == "net"']);
  assert.deepEqual(info.provides_extra, ['net']);
  assert.deepEqual(info.classifiers, ['Programming Language :: Python :: 3']);
  assert.deepEqual(info.project_urls, { Source: 'https://example.com/file' });
  assert.equal(info.description, 'The description in the file.\n');
  assert.equal(info.description_content_type, 'text/markdown');
}

test('a wheel whose form claims other metadata: the JSON API, the web page and the Simple API show the file’s', async () => {
  const metadata = fileMetadata('told-truth', '1.0');
  const wheel = await makeWheel({ name: 'told-truth', version: '1.0', metadata });
  const res = await upload(wheel, { name: 'told-truth', version: '1.0', ...LYING_FORM });
  assert.equal(res.status, 200, res.body);

  const project = await json('/pypi/told-truth/json');
  assertFileInfo(project.info);
  assert.equal(project.urls[0].requires_python, '>=3.10');
  assertFileInfo((await json('/pypi/told-truth/1.0/json')).info);

  // The .metadata file pip reads says the same.
  const served = await fetch(`${project.urls[0].url}.metadata`);
  assert.equal(await served.text(), metadata);

  const simple = await fetch(`${server.url}/simple/told-truth/`, {
    headers: { accept: 'application/vnd.pypi.simple.v1+json' },
  });
  const simpleDoc = (await simple.json()) as { files: Record<string, unknown>[] };
  assert.equal(simpleDoc.files[0]!['requires-python'], '>=3.10');
  const simpleHtml = await (await fetch(`${server.url}/simple/told-truth/`)).text();
  assert.match(simpleHtml, /data-requires-python="&gt;=3\.10"/);

  for (const path of ['/project/told-truth/', '/project/told-truth/1.0/']) {
    const page = await fetch(`${server.url}${path}`);
    assert.equal(page.status, 200, path);
    const body = await page.text();
    assert.match(body, /What the file says/);
    assert.match(body, /requests&gt;=2/);
    assert.match(body, /&gt;=3\.10/);
    assert.match(body, /The description in the file\./);
    for (const lie of [
      'What the form says',
      'evil-package',
      'Proprietary',
      '&gt;=3.6',
      'example.com/form',
    ])
      assert.ok(!body.includes(lie), `${path} shows the form's ${lie}`);
  }
});

test('an sdist with a Metadata 2.2 PKG-INFO records the file’s metadata', async () => {
  const sdist = await makeSdist({
    name: 'reliable-sdist',
    version: '2.0',
    pkgInfo: fileMetadata('reliable-sdist', '2.0', '2.2'),
  });
  const res = await upload(sdist, {
    name: 'reliable-sdist',
    version: '2.0',
    filetype: 'sdist',
    pyversion: 'source',
    ...LYING_FORM,
  });
  assert.equal(res.status, 200, res.body);
  const doc = await json('/pypi/reliable-sdist/json');
  assertFileInfo(doc.info);
  assert.equal(doc.urls[0].requires_python, '>=3.10');
});

test('an sdist older than Metadata 2.2 (1.0, 1.1, 1.2, 2.1) records its form, as on PyPI', async () => {
  for (const [i, metadataVersion] of ['1.0', '1.1', '1.2', '2.1'].entries()) {
    const version = `3.${i}`;
    const sdist = await makeSdist({
      name: 'old-sdist',
      version,
      pkgInfo: `Metadata-Version: ${metadataVersion}\nName: old-sdist\nVersion: ${version}\nSummary: What the file says\n`,
    });
    const res = await upload(sdist, {
      name: 'old-sdist',
      version,
      filetype: 'sdist',
      pyversion: 'source',
      ...LYING_FORM,
    });
    assert.equal(res.status, 200, res.body);
    const doc = await json(`/pypi/old-sdist/${version}/json`);
    assert.equal(doc.info.summary, 'What the form says', metadataVersion);
    assert.equal(doc.info.requires_python, '>=3.6');
    assert.deepEqual(doc.info.requires_dist, ['evil-package>=1', 'other-evil']);
    assert.equal(doc.urls[0].requires_python, '>=3.6');
  }
});

test('a second file of a release keeps the release’s metadata (the first upload’s); each file keeps its own Requires-Python', async () => {
  const first = await makeWheel({
    name: 'two-builds',
    version: '1.0',
    metadata: fileMetadata('two-builds', '1.0'),
  });
  const second = await makeWheel({
    name: 'two-builds',
    version: '1.0',
    tag: 'py311-none-any',
    metadata: fileMetadata('two-builds', '1.0').replace(
      'Requires-Python: >=3.10\nRequires-Dist: requests>=2',
      'Requires-Python: >=3.11\nRequires-Dist: httpx',
    ),
  });
  for (const w of [first, second]) {
    const res = await upload(w, { name: 'two-builds', version: '1.0', pyversion: 'py3' });
    assert.equal(res.status, 200, res.body);
  }
  const doc = await json('/pypi/two-builds/1.0/json');
  assertFileInfo(doc.info);
  const byName = Object.fromEntries(
    (doc.urls as { filename: string; requires_python: string }[]).map((f) => [
      f.filename,
      f.requires_python,
    ]),
  );
  assert.deepEqual(byName, {
    'two_builds-1.0-py3-none-any.whl': '>=3.10',
    'two_builds-1.0-py311-none-any.whl': '>=3.11',
  });
  const simple = await fetch(`${server.url}/simple/two-builds/`, {
    headers: { accept: 'application/vnd.pypi.simple.v1+json' },
  });
  const files = ((await simple.json()) as { files: Record<string, string>[] }).files;
  assert.equal(files.find((f) => f.filename!.includes('py311'))!['requires-python'], '>=3.11');
  assert.equal(files.find((f) => f.filename!.includes('py3-'))!['requires-python'], '>=3.10');
});

// ------------------------------------------------------------------ refusals change nothing

async function snapshot() {
  const count = (table: keyof Database) => countRows(server.services, table);
  return {
    projects: await count('projects'),
    releases: await count('releases'),
    files: await count('files'),
    registry: await count('filename_registry'),
    blobs: await countBlobs(server.services),
  };
}

async function refused(file: { filename: string; content: Buffer }, message: string) {
  const before = await snapshot();
  const res = await upload(file, { name: 'bad-file', version: '1.0' });
  assert.equal(res.status, 400, res.body);
  assert.equal(res.statusText.slice(0, message.length), message);
  assert.ok(res.body.includes(message), res.body);
  assert.deepEqual(await snapshot(), before, 'a refused upload must change nothing');
}

test('a wheel whose METADATA is not valid is refused, whatever the form says', async () => {
  const wheel = await makeWheel({
    name: 'bad-file',
    version: '1.0',
    metadata: 'Metadata-Version: 2.1\nName: bad-file\nVersion: 1.0\nRequires-Dist: foo >>> 1\n',
  });
  await refused(
    wheel,
    "Invalid distribution file. The METADATA of 'bad_file-1.0-py3-none-any.whl' is not valid: 'foo >>> 1' is invalid for 'requires-dist'.",
  );
});

test('a wheel whose METADATA gives a single-use field twice is refused', async () => {
  const wheel = await makeWheel({
    name: 'bad-file',
    version: '1.0',
    metadata: 'Metadata-Version: 2.1\nName: bad-file\nVersion: 1.0\nSummary: a\nSummary: b\n',
  });
  await refused(
    wheel,
    "Invalid distribution file. The METADATA of 'bad_file-1.0-py3-none-any.whl' is not valid: 'summary' has invalid data.",
  );
});

test('an sdist whose Metadata 2.2 PKG-INFO is not valid is refused', async () => {
  const sdist = await makeSdist({
    name: 'bad-file',
    version: '1.0',
    pkgInfo: 'Metadata-Version: 2.2\nName: bad-file\nVersion: 1.0\nRequires-Python: >=>3\n',
  });
  const before = await snapshot();
  const res = await upload(sdist, {
    name: 'bad-file',
    version: '1.0',
    filetype: 'sdist',
    pyversion: 'source',
  });
  assert.equal(res.status, 400, res.body);
  assert.match(
    res.body,
    /The PKG-INFO of 'bad_file-1\.0\.tar\.gz' is not valid: '>=>3' is invalid for 'requires-python'/,
  );
  assert.deepEqual(await snapshot(), before);
});

test('License-File is checked against the file’s metadata, not the form’s', async () => {
  const wheel = await makeWheel({
    name: 'bad-file',
    version: '1.0',
    metadata: 'Metadata-Version: 2.4\nName: bad-file\nVersion: 1.0\nLicense-File: LICENSE\n',
  });
  await refused(
    wheel,
    'License-File LICENSE does not exist in distribution file bad_file-1.0-py3-none-any.whl at bad_file-1.0.dist-info/licenses/LICENSE',
  );
});

test('License-File in Metadata before 2.4, as older setuptools wrote it, is accepted and not recorded', async () => {
  const wheel = await makeWheel({
    name: 'old-setuptools',
    version: '1.0',
    metadata: fileMetadata('old-setuptools', '1.0', '2.1', 'License-File: LICENSE'),
  });
  const res = await upload(wheel, { name: 'old-setuptools', version: '1.0' });
  assert.equal(res.status, 200, res.body);
  const doc = await json('/pypi/old-setuptools/json');
  assert.equal(doc.info.license_files, null);
  assertFileInfo(doc.info);
});
