// @backends: runs on the embedded default and on PostgreSQL with S3.
// One test per rule of the upload validation (reference §2.3), named after the rule: each bad
// upload gets a clear 4xx, with the reason in the status text and the body, and stores nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sample } from '../support/fixtures.js';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { request } from 'node:http';
import {
  multipart,
  postUpload,
  uploadParts,
  type Part,
  type UploadSpec,
} from '../support/upload.js';
import { hashToken } from '../../src/auth/token-format.js';
import { makeSdist, makeWheel, metadataText, zipBuffer } from '../support/dists.js';
import { countFiles } from '../support/snapshot.js';

let server: TestServer;
let alice: string; // may create projects; owns pier-sample
let bob: string; // no rights
let aliceRead: string;
let aliceLimited: string; // limited to pier-sample

async function countBlobs(): Promise<number> {
  let n = 0;
  for await (const _key of server.services.blobs.keys()) n++;
  // Partial writes of the filesystem store, if any, are files too.
  return n + countFiles(join(server.dataDir, 'files', 'tmp'));
}

async function snapshot() {
  const db = server.services.db.kysely;
  const count = async (
    table: 'projects' | 'releases' | 'files' | 'filename_registry' | 'file_metadata',
  ) =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const uploads = await db
    .selectFrom('audit_events')
    .select('id')
    .where('action', 'in', ['upload', 'project-create'])
    .execute();
  return {
    projects: await count('projects'),
    releases: await count('releases'),
    files: await count('files'),
    registry: await count('filename_registry'),
    metadata: await count('file_metadata'),
    auditedChanges: uploads.length,
    blobs: await countBlobs(),
  };
}

async function refused(
  token: string | null,
  parts: Part[] | Promise<Part[]>,
  status: number,
  message: string | RegExp,
  headers: Record<string, string> = {},
): Promise<void> {
  const before = await snapshot();
  const res = await postUpload(server.url, token, await parts, headers);
  assert.equal(res.status, status, `${res.status} ${res.statusText}: ${res.body}`);
  const expected = typeof message === 'string' ? new RegExp(escape(message)) : message;
  assert.match(res.statusText, new RegExp(expected.source.replace(/[^\x20-\x7e]/g, '.')));
  assert.match(res.body, expected);
  assert.deepEqual(await snapshot(), before, 'a refused upload must change nothing');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const wheelSpec = (extra: Partial<UploadSpec> = {}): Promise<Part[]> =>
  uploadParts({ path: sample('sample').wheel, ...extra });

before(async () => {
  server = await startServer({ maxUploadSize: '2MiB' });
  alice = await server.userWithToken('alice', { mayCreateProjects: true });
  bob = await server.userWithToken('bob');
  await server.services.projects.create(OPERATOR, 'pier-sample', 'alice');
  aliceRead = await server.userWithToken('alice', { scope: 'read' });
  aliceLimited = await server.userWithToken('alice', { projects: ['pier-sample'] });
});

after(() => server.close());

// ------------------------------------------------------------------ A/C. credentials

test('A. no credentials: 403 Invalid or non-existent authentication information', () =>
  refused(null, wheelSpec(), 403, 'Invalid or non-existent authentication information.'));

test('A. a token that does not exist: 403', async () => {
  const fake = alice.slice(0, 10) + 'A'.repeat(alice.length - 10);
  await refused(fake, wheelSpec(), 403, 'Invalid or non-existent authentication information.');
});

test('A. a token with a wrong checksum: 403', () =>
  refused(
    `${alice.slice(0, -1)}${alice.endsWith('a') ? 'b' : 'a'}`,
    wheelSpec(),
    403,
    'Invalid or non-existent authentication information.',
  ));

test('A. an expired token: 403 token is expired', async () => {
  const token = await server.userWithToken('alice');
  await server.services.db.kysely
    .updateTable('tokens')
    .set({ expires_at: Date.now() - 1000 })
    .where('token_hash', '=', hashToken(token))
    .execute();
  await refused(token, wheelSpec(), 403, 'Invalid API Token: token is expired');
});

test('A. a revoked token: 403 token has been revoked', async () => {
  const created = await server.services.auth.createToken(OPERATOR, { username: 'alice' });
  await server.services.auth.revokeToken(OPERATOR, created.id);
  await refused(created.token, wheelSpec(), 403, 'Invalid API Token: token has been revoked');
});

test('A. a wrong password: 403', async () => {
  const auth = `Basic ${Buffer.from('alice:not-the-password').toString('base64')}`;
  await refused(null, wheelSpec(), 403, 'Invalid or non-existent authentication information.', {
    authorization: auth,
  });
});

test('A. a malformed Authorization header: 403', () =>
  refused(null, wheelSpec(), 403, 'Malformed Basic credentials', { authorization: 'Basic %%%' }));

// ------------------------------------------------------------------ B. sanitize

test('B. a metadata field sent as a file part: 400 Should not be a tuple', async () => {
  const parts = await wheelSpec();
  parts.unshift(['summary', { filename: 'summary.txt', content: Buffer.from('x') }]);
  await refused(alice, parts, 400, 'summary: Should not be a tuple.');
});

test('B. a field after the file part is refused', async () => {
  const parts = await wheelSpec();
  parts.push(['comment', 'late']);
  await refused(alice, parts, 400, "Form field 'comment' came after the file");
});

// ------------------------------------------------------------------ 1. protocol and action

test('1. protocol_version other than 1: 400 Unknown protocol version.', () =>
  refused(
    alice,
    wheelSpec({ fields: { protocol_version: '2' } }),
    400,
    'Unknown protocol version.',
  ));

test('1. :action doc_upload: 410', () =>
  refused(
    alice,
    wheelSpec({ fields: { ':action': 'doc_upload' } }),
    410,
    'Uploading documentation is no longer supported',
  ));

test('1. :action missing: 400', () =>
  refused(alice, wheelSpec({ omit: [':action'] }), 400, "Missing ':action' parameter"));

// ------------------------------------------------------------------ 2. the form

test('2. name missing: 400 None is an invalid value for Name', () =>
  refused(
    alice,
    wheelSpec({ omit: ['name'] }),
    400,
    'None is an invalid value for Name. Error: This field is required.',
  ));

test('2. name not a valid project name: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { name: '-bad-' } }),
    400,
    "'-bad-' is an invalid value for Name. Error: Start and end with a letter or numeral",
  ));

test('2. filetype unknown: 400 Use a known file type', () =>
  refused(
    alice,
    wheelSpec({ fields: { filetype: 'bdist_egg' } }),
    400,
    'Invalid value for filetype. Error: Use a known file type.',
  ));

test('2. sha256_digest not hex: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { sha256_digest: 'xyz' } }),
    400,
    'Invalid value for sha256_digest. Error: Use a valid, hex-encoded, SHA256 message digest.',
  ));

test('2. blake2_256_digest not hex: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { blake2_256_digest: 'abc' } }),
    400,
    'Invalid value for blake2_256_digest. Error: Use a valid, hex-encoded, BLAKE2 message digest.',
  ));

test('2. a wheel without pyversion: 400', () =>
  refused(
    alice,
    wheelSpec({ omit: ['pyversion'] }),
    400,
    'Invalid value for pyversion. Error: Python version is required for binary distribution uploads.',
  ));

test('2. an sdist with a pyversion other than source: 400', () =>
  refused(
    alice,
    uploadParts({ path: sample('sample').sdist, fields: { pyversion: 'py3' } }),
    400,
    "Invalid value for pyversion. Error: Use 'source' as Python version for an sdist.",
  ));

test('2. no digest at all: 400 Include at least one message digest', () =>
  refused(
    alice,
    wheelSpec({ omit: ['md5_digest', 'sha256_digest', 'blake2_256_digest'] }),
    400,
    'Error: Include at least one message digest.',
  ));

// ------------------------------------------------------------------ 3. metadata

test('3. metadata version 2.0: 400 not a valid metadata version', () =>
  refused(
    alice,
    wheelSpec({ fields: { metadata_version: '2.0' } }),
    400,
    "'2.0' is not a valid metadata version",
  ));

test('3. an invalid version: 400', () =>
  refused(alice, wheelSpec({ fields: { version: 'dog' } }), 400, "'dog' is invalid for 'version'"));

test('3. a summary of two lines: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { summary: 'one\ntwo' } }),
    400,
    "'summary' must be a single line",
  ));

test('3. an invalid Requires-Dist: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { requires_dist: 'foo >>> 1' } }),
    400,
    "'foo >>> 1' is invalid for 'requires-dist'",
  ));

test('3. a field newer than the metadata version: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { license_expression: 'MIT' } }),
    400,
    'license-expression introduced in metadata version 2.4, not 2.1',
  ));

// ------------------------------------------------------------------ 4. the file

test('4. no file part: 400 Upload payload does not have a file.', async () => {
  const parts = (await wheelSpec()).filter(([name]) => name !== 'content');
  await refused(alice, parts, 400, 'Upload payload does not have a file.');
});

// ------------------------------------------------------------------ 5–6. project and permission

test('5. a user who may not create projects: 403', async () => {
  const w = await makeWheel({ name: 'bobs-project' });
  await refused(
    bob,
    uploadParts({ ...w, fields: { name: 'bobs-project' } }),
    403,
    "The user 'bob' isn't allowed to create new projects",
  );
});

test('5. a token limited to projects never creates one: 403', async () => {
  const w = await makeWheel({ name: 'brand-new' });
  await refused(
    aliceLimited,
    uploadParts({ ...w, fields: { name: 'brand-new' } }),
    403,
    "The given token isn't allowed to create project 'brand-new'",
  );
});

test('5. a name too similar to an existing project: 400', async () => {
  const w = await makeWheel({ name: 'pier-samp1e' });
  await refused(
    alice,
    uploadParts({ ...w, fields: { name: 'pier-samp1e' } }),
    400,
    "The name 'pier-samp1e' is too similar to an existing project.",
  );
});

test('6. a user without a role in the project: 403', async () => {
  const auth = `Basic ${Buffer.from('bob:bob-password').toString('base64')}`;
  await refused(
    null,
    wheelSpec(),
    403,
    "The user 'bob' isn't allowed to upload to project 'pier-sample'.",
    { authorization: auth },
  );
});

test('6. a token of a user without a role in the project: 403', () =>
  refused(
    bob,
    wheelSpec(),
    403,
    "The given token isn't allowed to upload to project 'pier-sample'.",
  ));

test('6. a token limited to another project: 403', async () => {
  await server.services.projects.create(OPERATOR, 'elsewhere', 'alice');
  const elsewhere = await server.userWithToken('alice', { projects: ['elsewhere'] });
  await refused(
    elsewhere,
    wheelSpec(),
    403,
    "The given token isn't allowed to upload to project 'pier-sample'.",
  );
});

test('6. a read-scoped token: 403, before the form is read', () =>
  refused(
    aliceRead,
    wheelSpec(),
    403,
    "The given token isn't allowed to upload: it has the read scope only.",
  ));

test('6. an archived project takes no uploads: 403', async () => {
  await server.services.projects.create(OPERATOR, 'old-thing', 'alice');
  await server.services.projects.update(OPERATOR, 'old-thing', { status: 'archived' });
  const w = await makeWheel({ name: 'old-thing' });
  await refused(
    alice,
    uploadParts({ ...w, fields: { name: 'old-thing' } }),
    403,
    "Project 'old-thing' is archived and does not accept uploads.",
  );
});

// ------------------------------------------------------------------ 11–12. filename and part

test('11. a filename with a control character: 400', () =>
  refused(
    alice,
    wheelSpec({ filename: 'pier_sample-1.0.0-py3-none-any\u0001.whl' }),
    400,
    'Cannot upload a file with non-printable characters',
  ));

test('11. a filename with a slash: 400', () =>
  refused(
    alice,
    wheelSpec({ filename: 'dir\\pier_sample-1.0.0-py3-none-any.whl' }),
    400,
    "Cannot upload a file with '/' or '\\' in the name.",
  ));

test('11. an unknown extension: 400', () =>
  refused(
    alice,
    wheelSpec({ filename: 'pier_sample-1.0.0.egg' }),
    400,
    'Invalid file extension: Use .tar.gz, .whl or .zip extension.',
  ));

test('11. an extension that does not fit the filetype: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { filetype: 'sdist', pyversion: 'source' } }),
    400,
    'Invalid file extension: Extension .whl is invalid for filetype sdist.',
  ));

test('12. a content part of type image/png: 400 Invalid distribution file.', () =>
  refused(alice, wheelSpec({ contentType: 'image/png' }), 400, 'Invalid distribution file.'));

test('12. a content part without a Content-Type is accepted (uv sends none)', async () => {
  const w = await makeWheel({ version: '3.0.0' });
  const res = await postUpload(
    server.url,
    alice,
    await uploadParts({ ...w, fields: { version: '3.0.0' }, contentType: null }),
  );
  assert.equal(res.status, 200, res.body);
});

// ------------------------------------------------------------------ 13–14. size and digests

test('13. a file over the size limit: 400 File too large', async () => {
  const w = await makeWheel({
    version: '9.0.0',
    extra: { 'big.bin': Buffer.alloc(3 * 1024 * 1024, 7) },
  });
  // Store the payload uncompressed so it really is over 2 MiB.
  const content = await zipBuffer(
    {
      'pier_sample-9.0.0.dist-info/METADATA': metadataText('pier-sample', '9.0.0'),
      'x.bin': Buffer.alloc(3 * 1024 * 1024, 1),
    },
    false,
  );
  await refused(
    alice,
    uploadParts({ filename: w.filename, content, fields: { version: '9.0.0' } }),
    400,
    "File too large. Limit for project 'pier-sample' is 2 MiB.",
  );
});

test('14. a digest that does not match the bytes: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { sha256_digest: 'a'.repeat(64) } }),
    400,
    'The digest supplied does not match a digest calculated from the uploaded file.',
  ));

test('14. an md5 that does not match: 400', () =>
  refused(
    alice,
    wheelSpec({ fields: { md5_digest: '0'.repeat(32) } }),
    400,
    'The digest supplied does not match a digest calculated from the uploaded file.',
  ));

// ------------------------------------------------------------------ 15–18. duplicates and reuse

test('15. an identical re-upload answers 200 and changes nothing; a different file under the same name is refused', async () => {
  const first = await postUpload(server.url, alice, await wheelSpec());
  assert.equal(first.status, 200, first.body);
  const before = await snapshot();
  const again = await postUpload(server.url, alice, await wheelSpec());
  assert.equal(again.status, 200, again.body);
  assert.deepEqual(await snapshot(), before);
  await refused(
    alice,
    uploadParts({ path: sample('conflicting').wheel }),
    400,
    /^File already exists \('pier_sample-1\.0\.0-py3-none-any\.whl', with blake2_256 hash '[0-9a-f]{64}'\)/,
  );
});

test('16. a deleted file’s name can never be used again, nor its exact bytes', async () => {
  const w = await makeWheel({ version: '4.0.0', salt: 'to-delete' });
  const ok = await postUpload(
    server.url,
    alice,
    await uploadParts({ ...w, fields: { version: '4.0.0' } }),
  );
  assert.equal(ok.status, 200, ok.body);
  await server.services.manage.delete(OPERATOR, 'pier-sample', '4.0.0', w.filename);
  await refused(
    alice,
    uploadParts({ ...w, fields: { version: '4.0.0' } }),
    400,
    'This filename was previously used by a file that has since been deleted.',
  );
  const other = await makeWheel({ version: '4.0.0', salt: 'new bytes' });
  await refused(
    alice,
    uploadParts({ ...other, fields: { version: '4.0.0' } }),
    400,
    'This filename was previously used',
  );
  // The same bytes under a build-tagged name are refused too.
  await refused(
    alice,
    uploadParts({
      filename: 'pier_sample-4.0.0-1-py3-none-any.whl',
      content: w.content,
      fields: { version: '4.0.0' },
    }),
    400,
    "This file's contents were previously uploaded as 'pier_sample-4.0.0-py3-none-any.whl'",
  );
});

test('18. a second sdist for a release: 400 Only one sdist may be uploaded per release.', async () => {
  const s1 = await makeSdist({ version: '5.0.0' });
  const ok = await postUpload(
    server.url,
    alice,
    await uploadParts({ ...s1, fields: { version: '5.0.0' } }),
  );
  assert.equal(ok.status, 200, ok.body);
  const s2 = await makeSdist({ version: '5.0' });
  await refused(
    alice,
    uploadParts({ ...s2, fields: { version: '5.0' } }),
    400,
    'Only one sdist may be uploaded per release.',
  );
});

// ------------------------------------------------------------------ 19. the archive

test('19. a wheel that is not a zip: 400 Invalid distribution file. File is not a zipfile', () =>
  refused(
    alice,
    uploadParts({
      filename: 'pier_sample-6.0.0-py3-none-any.whl',
      content: Buffer.from('not a zip at all'.repeat(10)),
      fields: { version: '6.0.0' },
    }),
    400,
    'Invalid distribution file. File is not a zipfile',
  ));

test('19. an sdist that is not a tar.gz: 400 File is not a tarfile', () =>
  refused(
    alice,
    uploadParts({
      filename: 'pier_sample-6.0.0.tar.gz',
      content: Buffer.from('plain text'),
      fields: { version: '6.0.0' },
    }),
    400,
    'Invalid distribution file. File is not a tarfile',
  ));

test('19. a wheel without WHEEL: 400', async () => {
  const w = await makeWheel({ version: '6.0.0', distInfo: { WHEEL: null } });
  await refused(
    alice,
    uploadParts({ ...w, fields: { version: '6.0.0' } }),
    400,
    'Invalid distribution file. WHEEL not found at pier_sample-6.0.0.dist-info/WHEEL',
  );
});

test('19. an sdist without PKG-INFO: 400', async () => {
  const s = await makeSdist({ version: '6.0.0', pkgInfo: null });
  await refused(
    alice,
    uploadParts({ ...s, fields: { version: '6.0.0' } }),
    400,
    'Invalid distribution file. PKG-INFO not found at pier_sample-6.0.0/PKG-INFO',
  );
});

test('19. an sdist with two top-level directories: 400', async () => {
  const s = await makeSdist({ version: '6.0.0', extra: { 'elsewhere/file.txt': 'x' } });
  await refused(
    alice,
    uploadParts({ ...s, fields: { version: '6.0.0' } }),
    400,
    'Invalid distribution file. Incorrect number of top-level directories in sdist',
  );
});

test('19. a zip bomb in a wheel is refused quickly', async () => {
  const started = Date.now();
  const content = await zipBuffer({
    'pier_sample-6.0.0.dist-info/METADATA': metadataText('pier-sample', '6.0.0'),
    'pier_sample-6.0.0.dist-info/WHEEL': 'Wheel-Version: 1.0\n',
    'pier_sample-6.0.0.dist-info/RECORD': '',
    'bomb.bin': Buffer.alloc(200 * 1024 * 1024),
  });
  await refused(
    alice,
    uploadParts({
      filename: 'pier_sample-6.0.0-py3-none-any.whl',
      content,
      fields: { version: '6.0.0' },
    }),
    400,
    'Invalid distribution file. File exceeds compression ratio of 50',
  );
  assert.ok(Date.now() - started < 10_000);
});

// ------------------------------------------------------------------ 20. sdist names

test('20. an sdist name that is not normalized: 400 should be', async () => {
  const s = await makeSdist({ version: '7.0.0' });
  await refused(
    alice,
    uploadParts({
      filename: 'Pier-Sample-7.0.0.tar.gz',
      content: s.content,
      fields: { version: '7.0.0' },
    }),
    400,
    /Invalid distribution file|Filename 'Pier-Sample-7\.0\.0\.tar\.gz' is invalid, should be 'pier_sample-7\.0\.0\.tar\.gz'\./,
  );
});

test('20. an sdist of another project: 400 Start filename with', async () => {
  const s = await makeSdist({ name: 'other-name', version: '7.0.0' });
  await refused(
    alice,
    uploadParts({ ...s, fields: { version: '7.0.0' } }),
    400,
    "Start filename for 'pier-sample' with 'pier_sample'.",
  );
});

test('20. an sdist whose PKG-INFO names another version: 400', async () => {
  const s = await makeSdist({ version: '7.0.0', pkgInfo: metadataText('pier-sample', '7.0.1') });
  await refused(
    alice,
    uploadParts({ ...s, fields: { version: '7.0.0' } }),
    400,
    "has version '7.0.1', not '7.0.0'",
  );
});

// ------------------------------------------------------------------ 21. wheel names

test('21. a wheel filename that does not parse: 400', async () => {
  const w = await makeWheel({ version: '8.0.0' });
  await refused(
    alice,
    uploadParts({
      filename: 'pier_sample-8.0.0-py3.whl',
      content: w.content,
      fields: { version: '8.0.0' },
    }),
    400,
    /Invalid wheel filename \(wrong number of parts\)|Unable to parse name and version/,
  );
});

test('21. a wheel of another project: 400 Start filename with', async () => {
  const w = await makeWheel({ name: 'someone-else', version: '8.0.0' });
  await refused(
    alice,
    uploadParts({ ...w, fields: { version: '8.0.0' } }),
    400,
    "Start filename for 'pier-sample' with 'pier_sample'.",
  );
});

test('21. a wheel whose name is not in normalized form: 400', async () => {
  const w = await makeWheel({ version: '8.0.0' });
  const distInfo = {
    'Pier_Sample-8.0.0.dist-info/METADATA': metadataText('pier-sample', '8.0.0'),
    'Pier_Sample-8.0.0.dist-info/WHEEL': 'Wheel-Version: 1.0\n',
    'Pier_Sample-8.0.0.dist-info/RECORD': '',
  };
  await refused(
    alice,
    uploadParts({
      filename: 'Pier_Sample-8.0.0-py3-none-any.whl',
      content: await zipBuffer(distInfo),
      fields: { version: '8.0.0' },
    }),
    400,
    "should contain the normalized project name 'pier_sample', not 'Pier_Sample'.",
  );
  assert.ok(w);
});

test('21. a wheel whose filename version differs: 400', async () => {
  const w = await makeWheel({ version: '8.0.1' });
  await refused(
    alice,
    uploadParts({ ...w, fields: { version: '8.0.0' } }),
    400,
    "Version in filename should be '8.0.0' not '8.0.1'.",
  );
});

test('21. a wheel without RECORD: 400', async () => {
  const w = await makeWheel({ version: '8.0.0', distInfo: { RECORD: null } });
  await refused(
    alice,
    uploadParts({ ...w, fields: { version: '8.0.0' } }),
    400,
    `Wheel '${w.filename}' does not contain the required RECORD file: pier_sample-8.0.0.dist-info/RECORD`,
  );
});

test('21. a wheel without METADATA: 400', async () => {
  const w = await makeWheel({ version: '8.0.0', distInfo: { METADATA: null } });
  await refused(
    alice,
    uploadParts({ ...w, fields: { version: '8.0.0' } }),
    400,
    `does not contain the required METADATA file`,
  );
});

test('21. a wheel whose METADATA names another project: 400', async () => {
  const w = await makeWheel({ version: '8.0.0', metadata: metadataText('not-pier', '8.0.0') });
  await refused(
    alice,
    uploadParts({ ...w, fields: { version: '8.0.0' } }),
    400,
    "names project 'not-pier', not 'pier-sample'",
  );
});

// ------------------------------------------------------------------ transport

test('an oversized form field: 413', () =>
  refused(
    alice,
    wheelSpec({ fields: { description: 'x'.repeat(9 * 1024 * 1024) } }),
    413,
    'The upload form is too large: its fields other than the file may hold 8 MiB in all.',
  ));

test('a body that is not multipart: 400', async () => {
  const res = await fetch(`${server.url}/legacy/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 400);
  assert.match(res.statusText, /multipart\/form-data/);
});

test('uv-style Accept gets the reason as JSON with a code', async () => {
  const res = await postUpload(
    server.url,
    alice,
    await wheelSpec({ fields: { protocol_version: '2' } }),
    {
      accept: 'application/json;q=0.9, text/plain;q=0.8, text/html;q=0.7',
    },
  );
  assert.equal(res.status, 400);
  assert.deepEqual(JSON.parse(res.body), {
    message: 'Unknown protocol version.',
    code: '400 Unknown protocol version.',
    title: 'Bad Request',
  });
});

test('a non-Latin-1 reason is made safe in the status text and kept whole in the body', async () => {
  const res = await postUpload(server.url, alice, await wheelSpec({ fields: { name: 'ünïcode' } }));
  assert.equal(res.status, 400);
  assert.match(res.body, /'ünïcode' is an invalid value for Name/);
  assert.match(res.statusText, /is an invalid value for Name/);
});

test('POST /legacy (no slash) takes the upload, no redirect', async () => {
  const w = await makeWheel({ version: '10.0.0' });
  const res = await postUpload(
    server.url,
    alice,
    await uploadParts({ ...w, fields: { version: '10.0.0' } }),
    {},
    '/legacy',
  );
  assert.equal(res.status, 200, res.body);
});

test('a user password works as upload credentials', async () => {
  const w = await makeWheel({ version: '11.0.0' });
  const auth = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
  const res = await postUpload(
    server.url,
    null,
    await uploadParts({ ...w, fields: { version: '11.0.0' } }),
    { authorization: auth },
  );
  assert.equal(res.status, 200, res.body);
});

test('the Bearer and token schemes work', async () => {
  for (const [i, scheme] of ['Bearer', 'token'].entries()) {
    const w = await makeWheel({ version: `12.0.${i}` });
    const res = await postUpload(
      server.url,
      null,
      await uploadParts({ ...w, fields: { version: `12.0.${i}` } }),
      { authorization: `${scheme} ${alice}` },
    );
    assert.equal(res.status, 200, res.body);
  }
});

test('an upload interrupted by the client leaves nothing behind', async () => {
  const w = await makeWheel({
    version: '13.0.0',
    extra: { 'pad.bin': Buffer.alloc(1024 * 1024, 5) },
  });
  const { body, contentType } = multipart(
    await uploadParts({ ...w, fields: { version: '13.0.0' } }),
  );
  const before = await snapshot();
  const url = new URL(`${server.url}/legacy/`);
  await new Promise<void>((resolve) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: {
        'content-type': contentType,
        'content-length': body.length,
        authorization: `Bearer ${alice}`,
      },
    });
    req.on('error', () => resolve());
    req.write(body.subarray(0, body.length - 200_000));
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 300);
  });
  // Give the server a moment to notice the reset and clean up.
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await snapshot(), before);
  const tmp = join(server.dataDir, 'files', 'tmp');
  assert.equal(countFiles(tmp), 0, 'no partial blob is left');
});
