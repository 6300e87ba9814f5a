// @backends: runs on the embedded default and on PostgreSQL with S3.
// Release and project management in the web interface, without JavaScript: yank with a reason
// and unyank, delete a file or a release after a confirmation that warns about filename reuse,
// private/public and the PEP 792 status — and a refusal changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { addUser, WebClient } from './helpers.js';
import { startTestIssuer } from '../support/oidc-issuer.js';
import { describeUploader } from '../../src/web/render/uploader.js';

let server: TestServer;
let owner: WebClient;
let maintainer: WebClient;
const base = '/manage/project/managed/releases/';
const files: Record<string, string> = {};

before(async () => {
  server = await startServer();
  const token = await server.userWithToken('olive', { mayCreateProjects: true });
  await server.services.projects.create(OPERATOR, 'managed', 'olive');
  for (const version of ['1.0', '2.0']) {
    const w = await makeWheel({ name: 'managed', version, salt: 'manage' });
    files[version] = w.filename;
    const res = await postUpload(
      server.url,
      token,
      await uploadParts({ ...w, fields: { name: 'managed', version } }),
    );
    assert.equal(res.status, 200, res.body);
  }
  owner = new WebClient(server.url);
  const pw = await addUser(server, 'oscar');
  await server.services.projects.setRole(OPERATOR, 'managed', 'oscar', 'owner');
  assert.equal((await owner.signIn('oscar', pw)).status, 303);
  const mpw = await addUser(server, 'mia');
  await server.services.projects.setRole(OPERATOR, 'managed', 'mia', 'maintainer');
  maintainer = new WebClient(server.url);
  assert.equal((await maintainer.signIn('mia', mpw)).status, 303);
});

after(() => server.close());

const releaseRow = async (version: string) =>
  server.services.db.kysely
    .selectFrom('releases')
    .select(['yanked', 'yanked_reason'])
    .where('version', '=', version)
    .executeTakeFirstOrThrow();

test('yank with a reason, then unyank, from the releases page', async () => {
  const page = await owner.get(base);
  assert.equal(page.status, 200);
  assert.match(page.text, /data-version="2\.0"/);
  const yanked = await owner.post(`${base}yank`, { version: '2.0', reason: 'broken on 3.13' });
  assert.equal(yanked.status, 303);
  assert.deepEqual(await releaseRow('2.0'), { yanked: 1, yanked_reason: 'broken on 3.13' });
  assert.match((await owner.get(base)).text, /Reason: broken on 3\.13/);
  assert.equal((await owner.post(`${base}unyank`, { version: '2.0' })).status, 303);
  assert.deepEqual(await releaseRow('2.0'), { yanked: 0, yanked_reason: null });
});

test('deleting asks first and warns that the filename can never be reused', async () => {
  const list = await owner.get(base);
  assert.doesNotMatch(list.text, /<form[^>]*action="[^"]*releases\/delete"/, 'no one-click delete');
  const confirm = await owner.get(
    `${base}delete?version=1.0&filename=${encodeURIComponent(files['1.0']!)}`,
  );
  assert.equal(confirm.status, 200);
  assert.match(confirm.text, /can never be uploaded again/);
  assert.ok(await releaseRow('1.0'), 'asking deletes nothing');
  const done = await owner.post(`${base}delete`, { version: '1.0', filename: files['1.0']! });
  assert.equal(done.status, 303);
  const left = await server.services.db.kysely.selectFrom('files').select('filename').execute();
  assert.deepEqual(
    left.map((f) => f.filename),
    [files['2.0']],
  );
});

test('private/public and the PEP 792 status are set from the settings form', async () => {
  await owner.get(base);
  const res = await owner.post(`${base}settings`, { visibility: 'private', status: 'archived' });
  assert.equal(res.status, 303);
  const p = await server.services.projects.find('managed');
  assert.equal(p?.private, 1);
  assert.equal(p?.status, 'archived');
  await owner.get(base);
  await owner.post(`${base}settings`, { visibility: 'public', status: 'active' });
  assert.equal((await server.services.projects.find('managed'))?.status, 'active');
});

test('trusted-publishing-only is set from the settings form, once a publisher trusts a job', async () => {
  const tpOnly = async () =>
    (await server.services.projects.find('managed'))?.trusted_publishing_only;
  await owner.get(base);
  assert.match((await owner.get(base)).text, /name="uploads"/);
  const refused = await owner.post(`${base}settings`, {
    visibility: 'public',
    status: 'active',
    uploads: 'trusted-publishers',
  });
  assert.equal(refused.status, 409);
  assert.match(refused.text, /has no trusted publisher: add one before/);
  assert.equal(await tpOnly(), 0);
  const issuer = await startTestIssuer();
  after(() => issuer.close());
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  await server.services.publishers.add(OPERATOR, 'managed', {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: { owner: 'octo-org', repository: 'managed', workflow: 'release.yml', ownerId: '65' },
  });
  await owner.get(base);
  const on = await owner.post(`${base}settings`, {
    visibility: 'public',
    status: 'active',
    uploads: 'trusted-publishers',
  });
  assert.equal(on.status, 303);
  assert.equal(await tpOnly(), 1);
  assert.match((await owner.get(base)).text, /value="trusted-publishers"\s+selected/);
  await owner.post(`${base}settings`, { visibility: 'public', status: 'active', uploads: 'any' });
  assert.equal(await tpOnly(), 0);
});

async function state() {
  const db = server.services.db.kysely;
  return {
    project: await db.selectFrom('projects').selectAll().where('name', '=', 'managed').execute(),
    releases: await db.selectFrom('releases').select(['version', 'yanked']).execute(),
    files: await db.selectFrom('files').select('filename').execute(),
  };
}

test('refusals change nothing: a bad status, quarantine by an owner, a maintainer deleting', async () => {
  const before = await state();
  await owner.get(base);
  const bad = await owner.post(`${base}settings`, { visibility: 'public', status: 'gone' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /Unknown project status &#39;gone&#39;|Unknown project status 'gone'/);
  const quarantine = await owner.post(`${base}settings`, {
    visibility: 'public',
    status: 'quarantined',
  });
  assert.equal(quarantine.status, 403);
  await maintainer.get('/');
  const denied = await maintainer.post(`${base}delete`, { version: '2.0' });
  assert.equal(denied.status, 403);
  assert.deepEqual(await state(), before);
});

test('the project page tells its owners which token or publisher made each upload', async () => {
  const [token] = await server.services.auth.listTokens({});
  const page = await owner.get('/project/managed/');
  assert.equal(page.status, 200);
  assert.ok(
    page.text.includes(`Uploaded by olive, with token “${token!.name}” (#${token!.id})`),
    page.text,
  );
  const stranger = await new WebClient(server.url).get('/project/managed/');
  assert.equal(stranger.status, 200);
  assert.doesNotMatch(stranger.text, /Uploaded by/);
  assert.equal(
    describeUploader({
      userName: null,
      tokenId: 7,
      tokenName: 'minted',
      provenanceJson: JSON.stringify({
        publisher: {
          id: 1,
          kind: 'github',
          issuer: 'https://x',
          description: 'GitHub o/r, workflow release.yml',
          url: null,
        },
        claims: {},
      }),
    }),
    'trusted publisher GitHub o/r, workflow release.yml',
  );
});
