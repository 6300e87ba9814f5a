// @backends: runs on the embedded default and on PostgreSQL with S3.
// The exclude list in the web interface: administrators see both lists and change the run-time
// one; everyone else is turned away, and a refused change changes nothing. Creating a project
// whose name exists upstream takes an administrator's explicit choice on the web too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.js';
import { addUser, WebClient } from '../web/helpers.js';
import { addStaticProject, startStaticIndex } from '../support/static-index.js';
import { tempDir } from '../support/tmp.js';

test('administrators manage the upstream exclude list on the web', async () => {
  const server = await startServer({
    upstreamUrl: 'http://127.0.0.1:9/simple/',
    upstreamExclude: 'Corp_*',
  });
  try {
    const adminPw = await addUser(server, 'ada', { admin: true });
    const userPw = await addUser(server, 'bob');
    const admin = new WebClient(server.url);
    await admin.signIn('ada', adminPw);
    const page = await admin.get('/admin/upstream');
    assert.equal(page.status, 200);
    assert.match(page.text, /<code>corp-\*<\/code>/);
    assert.match(page.text, /configuration/);

    const added = await admin.post('/admin/upstream', { pattern: 'acme-*' });
    assert.equal(added.status, 303);
    assert.deepEqual(
      (await server.services.proxy.excludes()).map((e) => e.pattern),
      ['corp-*', 'acme-*'],
    );
    await admin.get('/admin/upstream');
    const bad = await admin.post('/admin/upstream', { pattern: 'no/slashes' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /is not a name glob/);

    const user = new WebClient(server.url);
    await user.signIn('bob', userPw);
    assert.equal((await user.get('/admin/upstream')).status, 403);
    const sneaky = await user.post('/admin/upstream/remove', { pattern: 'acme-*' });
    assert.notEqual(sneaky.status, 303);

    await admin.get('/admin/upstream');
    assert.equal((await admin.post('/admin/upstream/remove', { pattern: 'acme-*' })).status, 303);
    assert.deepEqual(
      (await server.services.proxy.excludes()).map((e) => e.pattern),
      ['corp-*'],
    );
  } finally {
    await server.close();
  }
});

test('on the web, only an administrator’s explicit choice creates a project that shadows an upstream name', async () => {
  const root = tempDir('pier-static-index-');
  await addStaticProject(root, 'web-taken');
  const upstream = await startStaticIndex(root);
  const server = await startServer({ upstreamUrl: `${upstream.url}/simple/` });
  try {
    const adminPw = await addUser(server, 'ada', { admin: true });
    const userPw = await addUser(server, 'bob', { mayCreateProjects: true });
    const exists = () => server.services.projects.find('web-taken');

    const user = new WebClient(server.url);
    await user.signIn('bob', userPw);
    const form = await user.get('/projects/new');
    assert.doesNotMatch(form.text, /name="shadow_upstream"/, 'the choice is not offered');
    const refused = await user.post('/projects/new', { name: 'web-taken' });
    assert.equal(refused.status, 409);
    assert.match(refused.text, /exists on the upstream index/);
    await user.get('/projects/new');
    const forced = await user.post('/projects/new', { name: 'web-taken', shadow_upstream: '1' });
    assert.equal(forced.status, 403);
    assert.match(forced.text, /Only administrators can create a project that shadows/);
    assert.equal(await exists(), undefined);

    const admin = new WebClient(server.url);
    await admin.signIn('ada', adminPw);
    assert.match((await admin.get('/projects/new')).text, /name="shadow_upstream"/);
    const plain = await admin.post('/projects/new', { name: 'web-taken' });
    assert.equal(plain.status, 409, 'an administrator too must choose');
    assert.match(plain.text, /name="shadow_upstream"/);
    assert.equal(await exists(), undefined);
    await admin.get('/projects/new');
    const chosen = await admin.post('/projects/new', { name: 'web-taken', shadow_upstream: '1' });
    assert.equal(chosen.status, 303);
    assert.ok(await exists());
    const page = await fetch(`${server.url}/simple/web-taken/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    });
    assert.equal(page.headers.get('x-pier-upstream'), null, 'the local project is the answer');
    assert.deepEqual(((await page.json()) as { files: unknown[] }).files, []);
  } finally {
    await server.close();
    await upstream.close();
  }
});
