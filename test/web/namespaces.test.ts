// @backends: runs on the embedded default and on PostgreSQL with S3.
// The administrators' namespaces page (PEP 752): reserve, grant, revoke and release through its
// forms, a refusal shown with its reason and status, and nothing for anyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.js';
import { addUser, WebClient } from './helpers.js';

test('administrators reserve, grant, revoke and release namespaces from the web', async () => {
  const server = await startServer();
  try {
    const rootPw = await addUser(server, 'root', { admin: true });
    const userPw = await addUser(server, 'uma');
    await addUser(server, 'vic');
    const admin = new WebClient(server.url);
    await admin.signIn('root', rootPw);

    await admin.get('/admin/namespaces');
    const reserved = await admin.post('/admin/namespaces', { name: 'Acme', owner: 'uma' });
    assert.equal(reserved.status, 303, reserved.text.slice(0, 500));
    let page = await admin.get('/admin/namespaces');
    assert.match(page.text, /Reserved acme for uma\./);
    assert.match(page.text, /<code>acme<\/code\s*>\s*<span class="muted">\(Acme\)<\/span>/);
    assert.deepEqual(await server.services.namespaces.names(), ['acme']);

    const clash = await admin.post('/admin/namespaces', { name: 'acme-eu', owner: 'vic' });
    assert.equal(clash.status, 409);
    assert.match(
      clash.text,
      /overlaps the reserved namespace &#39;acme&#39;|overlaps the reserved namespace 'acme'/,
    );
    assert.match(clash.text, /value="acme-eu"/, 'the form keeps what was typed');

    assert.equal((await admin.post('/admin/namespaces/acme/grant', { user: 'vic' })).status, 303);
    assert.deepEqual((await server.services.namespaces.view('acme')).owners, ['uma', 'vic']);
    page = await admin.get('/admin/namespaces');
    assert.match(page.text, /Revoke vic/);
    assert.equal((await admin.post('/admin/namespaces/acme/revoke', { user: 'vic' })).status, 303);
    assert.deepEqual((await server.services.namespaces.view('acme')).owners, ['uma']);
    await admin.get('/admin/namespaces');
    assert.equal((await admin.post('/admin/namespaces/acme/release', {})).status, 303);
    assert.deepEqual(await server.services.namespaces.names(), []);

    const user = new WebClient(server.url);
    await user.signIn('uma', userPw);
    assert.equal((await user.get('/admin/namespaces')).status, 403);
  } finally {
    await server.close();
  }
});
