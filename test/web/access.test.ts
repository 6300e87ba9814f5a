// @backends: runs on the embedded default and on PostgreSQL with S3.
// Who sees what in the web interface — the rules of src/auth/permissions.ts, applied to pages:
// private projects exist only for their people; management pages are for owners; an index that
// requires credentials for every read sends anonymous visitors to the sign-in page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer } from '../support/server.js';
import { addUser, WebClient } from './helpers.js';

test('private projects, owners’ pages and administrators’ pages', async () => {
  const server = await startServer();
  try {
    const s = server.services;
    const ownerPw = await addUser(server, 'olga');
    const maintainerPw = await addUser(server, 'max');
    const strangerPw = await addUser(server, 'sam');
    await s.projects.create(OPERATOR, 'secret-thing', 'olga');
    await s.projects.create(OPERATOR, 'open-thing', 'olga');
    await s.projects.setRole(OPERATOR, 'secret-thing', 'max', 'maintainer');
    await s.projects.update(OPERATOR, 'secret-thing', { private: true });

    const anonymous = new WebClient(server.url);
    const stranger = new WebClient(server.url);
    await stranger.signIn('sam', strangerPw);
    const maintainer = new WebClient(server.url);
    await maintainer.signIn('max', maintainerPw);
    const owner = new WebClient(server.url);
    await owner.signIn('olga', ownerPw);

    for (const client of [anonymous, stranger]) {
      const home = await client.get('/');
      assert.match(home.text, /open-thing/);
      assert.doesNotMatch(home.text, /secret-thing/);
      assert.doesNotMatch((await client.get('/?q=secret')).text, /secret-thing/);
      assert.equal((await client.get('/project/secret-thing/')).status, 404);
    }
    assert.equal((await stranger.get('/manage/project/secret-thing/publishing/')).status, 404);
    assert.equal((await stranger.get('/manage/project/open-thing/publishing/')).status, 403);
    assert.equal(
      (await anonymous.get('/manage/project/open-thing/publishing/')).location,
      '/login?next=%2Fmanage%2Fproject%2Fopen-thing%2Fpublishing%2F',
    );

    const page = await maintainer.get('/project/secret-thing/');
    assert.equal(page.status, 200);
    assert.match(page.text, /badge-private">private/);
    assert.doesNotMatch(page.text, /\/manage\/project\//, 'no management links for a maintainer');
    for (const path of ['publishing/', 'collaborators/', 'audit/'])
      assert.equal(
        (await maintainer.get(`/manage/project/secret-thing/${path}`)).status,
        403,
        path,
      );

    const ownerPage = await owner.get('/project/secret-thing/');
    assert.match(ownerPage.text, /href="\/manage\/project\/secret-thing\/publishing\/"/);
    for (const path of ['publishing/', 'collaborators/', 'audit/'])
      assert.equal((await owner.get(`/manage/project/secret-thing/${path}`)).status, 200, path);
    // A name that is not normalized leads to the canonical page.
    assert.equal((await owner.get('/project/Secret_Thing/')).location, '/project/secret-thing/');

    for (const path of ['/admin/users', '/admin/issuers', '/admin/namespaces', '/admin/audit'])
      assert.equal((await owner.get(path)).status, 403, path);
    assert.equal((await owner.get('/projects/new')).status, 200);
    await owner.get('/projects/new');
    const refused = await owner.post('/projects/new', { name: 'not-allowed' });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /You are not allowed to create projects/);
  } finally {
    await server.close();
  }
});

test('with PIER_READ_ACCESS=authenticated, anonymous visitors are sent to sign in', async () => {
  const server = await startServer({ readAccess: 'authenticated' });
  try {
    const pw = await addUser(server, 'ann');
    await server.services.projects.create(OPERATOR, 'thing', 'ann');
    const anonymous = new WebClient(server.url);
    assert.equal((await anonymous.get('/')).location, '/login?next=%2F');
    assert.equal(
      (await anonymous.get('/project/thing/')).location,
      '/login?next=%2Fproject%2Fthing%2F',
    );
    assert.equal((await anonymous.get('/login')).status, 200);
    assert.equal((await anonymous.get('/static/pier.css')).status, 200);
    const ann = new WebClient(server.url);
    await ann.signIn('ann', pw);
    assert.match((await ann.get('/')).text, /thing/);
    assert.equal((await ann.get('/project/thing/')).status, 200);
  } finally {
    await server.close();
  }
});
