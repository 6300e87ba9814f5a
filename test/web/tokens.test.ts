// API tokens in the web interface, without JavaScript: creating one is Post/Redirect/Get (the
// token is shown once, by the page the POST redirects to, and a reload creates nothing), and
// revoking asks first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { addUser, WebClient } from './helpers.js';

let server: TestServer;
let web: WebClient;

before(async () => {
  server = await startServer();
  const pw = await addUser(server, 'tess');
  web = new WebClient(server.url);
  assert.equal((await web.signIn('tess', pw)).status, 303);
});

after(() => server.close());

const tokensOf = async () => server.services.auth.listTokens({});

test('creating a token redirects; the token is shown once, and a reload creates no second one', async () => {
  await web.get('/account/tokens');
  const created = await web.post('/account/tokens', {
    name: 'laptop',
    scope: 'read',
    projects: '',
    expires: '1d',
  });
  assert.equal(created.status, 303, created.text.slice(0, 500));
  assert.equal(created.location, '/account/tokens');
  assert.doesNotMatch(created.text, /pypi-pier_/, 'the POST answer carries no token');
  const shown = await web.get('/account/tokens');
  const value = /<pre id="new-token-value">([^<]+)<\/pre>/.exec(shown.text)?.[1];
  assert.match(value ?? '', /^pypi-pier_/);
  assert.match(shown.text, /Token “laptop” was created\./);
  const reloaded = await web.get('/account/tokens');
  assert.equal(reloaded.status, 200);
  assert.doesNotMatch(reloaded.text, /new-token-value|pypi-pier_[A-Za-z0-9]{8}/);
  assert.equal((await tokensOf()).length, 1);
});

test('revoking asks for confirmation first; the confirmation page revokes', async () => {
  const [token] = await tokensOf();
  const list = await web.get('/account/tokens');
  assert.doesNotMatch(
    list.text,
    new RegExp(`<form[^>]*action="/account/tokens/${token!.id}/revoke"`),
  );
  assert.match(list.text, new RegExp(`href="/account/tokens/${token!.id}/revoke"`));
  const confirm = await web.get(`/account/tokens/${token!.id}/revoke`);
  assert.equal(confirm.status, 200);
  assert.match(confirm.text, /Revoke “laptop”\?/);
  assert.equal((await tokensOf())[0]!.revokedAt, null, 'asking revokes nothing');
  const done = await web.post(`/account/tokens/${token!.id}/revoke`);
  assert.equal(done.status, 303);
  assert.notEqual((await tokensOf())[0]!.revokedAt, null);
  assert.equal((await web.get(`/account/tokens/${token!.id}/revoke`)).status, 404);
});
