// @backends: runs on the embedded default and on PostgreSQL with S3.
// A second factor protects uploads with real clients: Debian's twine is refused with the
// password of a user who has TOTP, and uploads with the user's token; with
// PIER_BASIC_PASSWORD_READS, pip still installs with the password in the index URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sample } from '../support/fixtures.js';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { createVenv, pipInstall, twineUpload } from '../support/python.js';
import { enableTotp } from '../support/two-factor.js';

let server: TestServer;
const PASSWORD = 'tess-secret-pw';

before(async () => {
  server = await startServer({ basicPasswordReads: true });
  await server.services.auth.addUser(OPERATOR, {
    username: 'tess',
    password: PASSWORD,
    mayCreateProjects: true,
  });
  await enableTotp(server.services, 'tess');
});

after(() => server?.close());

test('twine with the password of a user with two-factor authentication is refused, and nothing is stored', async () => {
  const { wheel } = sample('sample');
  const r = await twineUpload(server.url, [wheel], { username: 'tess', password: PASSWORD });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stdout + r.stderr,
    /HTTPError: 403 Forbidden[\s\S]*User 'tess' has two-factor authentication: its password is not accepted for uploads\. Use an API token instead/,
  );
  const files = await server.services.db.kysely.selectFrom('files').select('id').execute();
  assert.deepEqual(files, []);
});

test("twine with the user's token uploads; pip installs with the password when reads allow it", async () => {
  const token = await server.userWithToken('tess', { scope: 'upload' });
  const { wheel, sdist } = sample('sample');
  const up = await twineUpload(server.url, [wheel, sdist], {
    username: '__token__',
    password: token,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const venv = await createVenv();
  const host = new URL(server.url).host;
  const r = await pipInstall(
    venv,
    `http://tess:${PASSWORD}@${host}/simple/`,
    ['pier-sample==1.0.0'],
    ['--no-input'],
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
