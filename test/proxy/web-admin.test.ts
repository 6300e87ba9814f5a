// @backends: runs on the embedded default and on PostgreSQL with S3.
// The exclude list in the web interface: administrators see both lists and change the run-time
// one; everyone else is turned away, and a refused change changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.js';
import { addUser, WebClient } from '../web/helpers.js';

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
