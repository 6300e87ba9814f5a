// @backends: runs on the embedded default and on PostgreSQL with S3.
// Local passwords turned off (password_sign_in = false, with a company sign-in provider): the
// sign-in page offers only the provider, a right password is refused on the web and over HTTP
// Basic with the reason and changes nothing, API tokens keep working; `pier sso list` and
// `pier sso link` work from the command line (the operator's way in) and never show the secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPier, startServer, type TestServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { addUser, WebClient } from './helpers.js';

const SECRET = 'corp-client-secret-never-shown-42';
let server: TestServer;
let toml: string;
let password: string;
let token: string;

before(async () => {
  const dir = tempDir('pier-sso-pw-');
  toml = join(dir, 'pier.toml');
  writeFileSync(
    toml,
    [
      'password_sign_in = false',
      'read_access = "authenticated"',
      '[sso.corp]',
      'display_name = "Corp"',
      // Never contacted here.
      'issuer = "https://idp.corp.example"',
      'client_id = "pier"',
      `client_secret = "${SECRET}"`,
    ].join('\n'),
  );
  server = await startServer({ config: toml });
  password = await addUser(server, 'alice');
  token = await server.userWithToken('alice', { scope: 'read' });
});

after(async () => {
  await server?.close();
});

async function sessionCount(): Promise<number> {
  const r = await server.services.db.kysely
    .selectFrom('web_sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

test('the sign-in page offers the provider only, and a right password is refused', async () => {
  const web = new WebClient(server.url);
  const page = await web.get('/login');
  assert.equal(page.status, 200);
  assert.match(page.text, /href="\/login\/sso\/corp\?next=%2F"/);
  assert.doesNotMatch(page.text, /id="login-form"/);
  assert.match(page.text, /Password sign-in is turned off/);
  assert.doesNotMatch(page.text, new RegExp(SECRET));
  const before = await sessionCount();
  // The page has no form to take a CSRF token from: a scripted client's own double submit.
  const csrf = 'c'.repeat(43);
  web.cookies.set('pier_csrf', csrf);
  const r = await web.post('/login', { _csrf: csrf, username: 'alice', password, next: '/' });
  assert.equal(r.status, 403);
  assert.match(r.text, /Password sign-in is turned off on this index/);
  assert.equal(await sessionCount(), before);
});

test('HTTP Basic refuses passwords with the reason; API tokens keep working', async () => {
  const basic = (u: string, p: string) => ({
    authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`,
  });
  const refused = await fetch(`${server.url}/simple/`, { headers: basic('alice', password) });
  assert.equal(refused.status, 401);
  assert.match(await refused.text(), /Password sign-in is turned off.*API token/);
  const wrong = await fetch(`${server.url}/simple/`, { headers: basic('alice', 'wrong') });
  assert.equal(wrong.status, 401, 'refused before the password is checked');
  const ok = await fetch(`${server.url}/simple/`, { headers: basic('__token__', token) });
  assert.equal(ok.status, 200);
});

test('pier sso list shows the providers without their secret; pier sso link links a user', async () => {
  const env = { ...server.env(), PIER_CONFIG: toml };
  const list = await runPier(['sso', 'list', '--json'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.doesNotMatch(list.stdout + list.stderr, new RegExp(SECRET));
  const [corp] = JSON.parse(list.stdout) as Record<string, unknown>[];
  assert.equal(corp!.name, 'corp');
  assert.equal(
    corp!.redirect_uri,
    `${server.services.publicUrl().replace(/:\d+$/, ':8080')}/login/sso/corp/callback`,
  );
  const link = await runPier(
    ['sso', 'link', 'alice', '--provider', 'corp', '--subject', 'alice-1'],
    env,
  );
  assert.equal(link.code, 0, link.stderr);
  const again = await runPier(
    ['sso', 'link', 'alice', '--provider', 'corp', '--subject', 'alice-1'],
    env,
  );
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /linked to a pier user already/);
  const nobody = await runPier(
    ['sso', 'link', 'nobody', '--provider', 'corp', '--subject', 'x'],
    env,
  );
  assert.notEqual(nobody.code, 0);
  assert.match(nobody.stderr, /No user named 'nobody'/);
  const ids = await runPier(['sso', 'list', '--user', 'alice', '--json'], env);
  assert.deepEqual(
    (JSON.parse(ids.stdout) as { subject: string; issuer: string }[]).map((i) => [
      i.issuer,
      i.subject,
    ]),
    [['https://idp.corp.example', 'alice-1']],
  );
  const help = await runPier(['sso', '--help'], env);
  assert.match(help.stdout, /link \[options\] <user>/);
});

test('the REST API: providers without their secret, and linking, for administrators', async () => {
  const admin = await server.userWithToken('root', { admin: true, scope: 'admin' });
  const bearer = (t: string) => ({
    authorization: `Basic ${Buffer.from(`__token__:${t}`).toString('base64')}`,
    'content-type': 'application/json',
  });
  const list = await fetch(`${server.url}/api/sso/providers`, { headers: bearer(admin) });
  assert.equal(list.status, 200);
  const text = await list.text();
  assert.doesNotMatch(text, new RegExp(SECRET));
  assert.deepEqual(
    (JSON.parse(text) as { providers: { name: string }[] }).providers.map((p) => p.name),
    ['corp'],
  );
  const notAdmin = await fetch(`${server.url}/api/sso/providers`, { headers: bearer(token) });
  assert.equal(notAdmin.status, 403);
  await addUser(server, 'bob');
  const link = (body: unknown) =>
    fetch(`${server.url}/api/users/bob/sso-identities`, {
      method: 'POST',
      headers: bearer(admin),
      body: JSON.stringify(body),
    });
  assert.equal((await link({ provider: 'corp' })).status, 400);
  assert.equal((await link({ provider: 'nope', subject: 'b' })).status, 404);
  const ok = await link({ provider: 'corp', subject: 'bob-1' });
  assert.equal(ok.status, 201);
  assert.equal((await link({ provider: 'corp', subject: 'bob-1' })).status, 409);
  const ids = await fetch(`${server.url}/api/users/bob/sso-identities`, { headers: bearer(admin) });
  assert.deepEqual(
    ((await ids.json()) as { identities: { subject: string }[] }).identities.map((i) => i.subject),
    ['bob-1'],
  );
});
