// The help page and the errors that point to it, as PyPI's messages point to pypi.org/help/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { WebClient } from './helpers.js';
import { HELP_TOPICS } from '../../src/help.js';

let server: TestServer;
let custom: TestServer;
let alice: string;

before(async () => {
  server = await startServer();
  custom = await startServer({ helpUrl: 'https://intranet.example.com/pier-help' });
  alice = await server.userWithToken('alice', { mayCreateProjects: true });
  await server.services.projects.create(OPERATOR, 'helped', 'alice');
});

after(async () => {
  await server.close();
  await custom.close();
});

test('/help/ has a section for every topic an error links to', async () => {
  const page = await new WebClient(server.url).get('/help/');
  assert.equal(page.status, 200);
  for (const topic of HELP_TOPICS)
    assert.match(page.text, new RegExp(`<section[^>]* id="${topic}"`));
  const bare = await new WebClient(server.url).get('/help');
  assert.equal(bare.status, 301);
  assert.equal(bare.location, '/help/');
});

test('a reused filename links to #file-name-reuse under the public URL', async () => {
  const w = await makeWheel({ name: 'helped', version: '1.0', salt: 'help' });
  const spec = () => uploadParts({ ...w, fields: { name: 'helped', version: '1.0' } });
  assert.equal((await postUpload(server.url, alice, await spec())).status, 200);
  await server.services.manage.delete(OPERATOR, 'helped', '1.0', w.filename);
  const res = await postUpload(server.url, alice, await spec());
  assert.equal(res.status, 400);
  const sentence = `See ${server.url}/help/#file-name-reuse for more information.`;
  assert.ok(res.body.trim().endsWith(sentence), res.body);
  assert.ok(res.statusText.endsWith(sentence), res.statusText);
});

test('bad credentials link to #invalid-auth; PIER_HELP_URL replaces the page', async () => {
  const w = await makeWheel({ name: 'helped', version: '2.0', salt: 'help' });
  const none = await postUpload(server.url, null, await uploadParts(w));
  assert.equal(none.status, 403);
  assert.match(
    none.body,
    new RegExp(
      `^Invalid or non-existent authentication information\\. See ${server.url}/help/#invalid-auth for more information\\.$`,
      'm',
    ),
  );
  const wrong = await postUpload(custom.url, 'pypi-pier_wrong', await uploadParts(w));
  assert.equal(wrong.status, 403);
  assert.match(
    wrong.body,
    /See https:\/\/intranet\.example\.com\/pier-help#invalid-auth for more information\./,
  );
});

test('a refused project name links to #project-name, in the REST API too', async () => {
  const admin = await server.userWithToken('root', { admin: true, scope: 'admin' });
  const res = await fetch(`${server.url}/api/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'He1ped', owner: 'alice' }),
  });
  const body = (await res.json()) as { message: string; help?: unknown };
  assert.equal(res.status, 400, body.message);
  assert.equal(
    body.message,
    `The name 'He1ped' is too similar to an existing project. See ${server.url}/help/#project-name for more information.`,
  );
  assert.equal(body.help, undefined);
});
