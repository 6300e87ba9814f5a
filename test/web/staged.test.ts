// @backends: runs on the embedded default and on PostgreSQL with S3.
// Staged releases in the web interface, without JavaScript: the project setting and the
// publisher's stage-only checkbox, the page listing what awaits approval with its preview index,
// a maintainer with two-factor authentication asked for the code (and refused without it, nothing
// changed), the approval publishing every file, and an owner's rejection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP, Secret } from 'otpauth';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { enableTotp } from '../support/two-factor.js';
import { addUser, WebClient } from './helpers.js';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';

let server: TestServer;
let issuer: TestIssuer;
let owner: WebClient;
let maintainer: WebClient;
let uploadToken: string;
let miaSecret: string;
const base = '/manage/project/staged-web/';

before(async () => {
  [server, issuer] = await Promise.all([startServer(), startTestIssuer()]);
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  const pw = await addUser(server, 'oscar');
  uploadToken = await server.userWithToken('oscar', { scope: 'upload' });
  await server.services.projects.create(OPERATOR, 'staged-web', 'oscar');
  const mpw = await addUser(server, 'mia');
  await server.services.projects.setRole(OPERATOR, 'staged-web', 'mia', 'maintainer');
  owner = new WebClient(server.url);
  assert.equal((await owner.signIn('oscar', pw)).status, 303);
  maintainer = new WebClient(server.url);
  assert.equal((await maintainer.signIn('mia', mpw)).status, 303);
  // Enrolled while signed in, as on the account page: the current step's code is used up.
  miaSecret = await enableTotp(server.services, 'mia');
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

async function upload(version: string) {
  const w = await makeWheel({ name: 'staged-web', version, salt: 'web' });
  const res = await postUpload(
    server.url,
    uploadToken,
    await uploadParts({ ...w, fields: { name: 'staged-web', version } }),
  );
  assert.equal(res.status, 200, res.body);
  return w.filename;
}

const simpleVersions = async () =>
  (
    (await (
      await fetch(`${server.url}/simple/staged-web/`, {
        headers: { accept: 'application/vnd.pypi.simple.v1+json' },
      })
    ).json()) as { versions: string[] }
  ).versions;

test('the settings form stages uploads; the publisher form has the stage-only checkbox', async () => {
  await owner.get(`${base}releases/`);
  const saved = await owner.post(`${base}releases/settings`, {
    visibility: 'public',
    status: 'active',
    uploads: 'any',
    staging: 'stage',
  });
  assert.equal(saved.status, 303, saved.text.slice(0, 300));
  assert.equal((await server.services.projects.find('staged-web'))!.stage_uploads, 1);
  assert.match((await owner.get(`${base}releases/`)).text, /value="stage"\s+selected/);

  const form = await owner.get(`${base}publishing/`);
  assert.match(form.text, /name="stage_only"/);
  const added = await owner.post(`${base}publishing/`, {
    provider: 'github',
    owner: 'octo-org',
    repository: 'octo-repo',
    workflow: 'release.yml',
    ownerId: '65',
    issuer: issuer.url,
    stage_only: '1',
  });
  assert.equal(added.status, 303, added.text.slice(0, 500));
  const [publisher] = await server.services.publishers.listForProject(
    { principal: OPERATOR.principal, ip: null },
    'staged-web',
  );
  assert.deepEqual(publisher!.stageOnly, ['staged-web']);
  assert.match((await owner.get(`${base}publishing/`)).text, /stage only/);
});

test('a maintainer with 2FA approves with the code; without it nothing changes', async () => {
  const filename = await upload('1.0');
  const page = await maintainer.get(`${base}staged/`);
  assert.equal(page.status, 200);
  assert.match(page.text, /data-version="1\.0"/);
  assert.ok(page.text.includes(filename));
  assert.match(page.text, /\/_\/staged\/[A-Za-z0-9_-]+\/simple\//);
  assert.match(page.text, /name="totp"/, 'the form asks for the code');

  const refused = await maintainer.post(`${base}staged/approve`, { version: '1.0', totp: '' });
  assert.equal(refused.status, 403);
  assert.match(refused.text, /give the current code/);
  assert.deepEqual(await simpleVersions(), []);

  const code = new TOTP({ secret: Secret.fromBase32(miaSecret) }).generate({
    timestamp: Date.now() + 30_000,
  });
  await maintainer.get(`${base}staged/`);
  const approved = await maintainer.post(`${base}staged/approve`, { version: '1.0', totp: code });
  assert.equal(approved.status, 303, approved.text.slice(0, 500));
  assert.deepEqual(await simpleVersions(), ['1.0']);
  assert.match((await maintainer.get(`${base}staged/`)).text, /1\.0: approved by mia/);
});

test('an owner without 2FA rejects; a stranger sees no page', async () => {
  await upload('2.0');
  const page = await owner.get(`${base}staged/`);
  assert.doesNotMatch(page.text, /name="totp"/);
  const rejected = await owner.post(`${base}staged/reject`, { version: '2.0' });
  assert.equal(rejected.status, 303, rejected.text.slice(0, 500));
  assert.match((await owner.get(`${base}staged/`)).text, /2\.0: rejected by oscar/);
  assert.deepEqual(await simpleVersions(), ['1.0']);

  const pw = await addUser(server, 'stranger');
  const stranger = new WebClient(server.url);
  await stranger.signIn('stranger', pw);
  assert.equal((await stranger.get(`${base}staged/`)).status, 403);
});
