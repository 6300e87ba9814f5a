// A browser test: it runs once, on the embedded default (the sign-in's rows on PostgreSQL are
// tested by sso-tokens and sso-passwords, which run on both backends).
// Company sign-in in Debian's Chromium, through a real OpenID Provider (oidc-provider, as the
// company's IdP) and its own login and consent pages: the first sign-in creates the user with its
// groups and hands them to the afterSignIn hook, a group change is stored at the next sign-in, a
// user who leaves the allowed group is disabled (tokens included) and comes back with it, a user
// removed at the provider is refused and their session ends at the provider's session_max_age,
// a user name taken by a local account is never taken over (an administrator links it, and then
// the TOTP step applies as after a password), and a tampered state, nonce or PKCE verifier, a
// replayed or foreign callback, and a provider whose issuer differs are refused, changing nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { startCompanyIdp, type CompanyIdp } from '../support/company-idp.js';
import { enableTotp } from '../support/two-factor.js';
import { addUser, launchChromium } from './helpers.js';

let idp: CompanyIdp;
let server: TestServer;
let browser: Browser;
let impostorServer: Server;
const hookCalls: { userId: number; provider: string; groups: string[] }[] = [];

before(async () => {
  idp = await startCompanyIdp();
  impostorServer = createServer((req, res) => {
    void fetch(`${idp.issuer}${req.url}`).then(async (r) => {
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => impostorServer.listen(0, '127.0.0.1', resolve));
  const impostor = `http://127.0.0.1:${(impostorServer.address() as AddressInfo).port}`;
  const dir = tempDir('pier-sso-');
  const secretFile = join(dir, 'corp-secret');
  writeFileSync(secretFile, `${idp.clientSecret}\n`);
  const toml = join(dir, 'pier.toml');
  writeFileSync(
    toml,
    [
      '[sso.corp]',
      'display_name = "Corp"',
      `issuer = "${idp.issuer}"`,
      `client_id = "${idp.clientId}"`,
      `client_secret_file = "${secretFile}"`,
      'allowed_groups = ["pier-users"]',
      'insecure = true',
      '',
      '[sso.short]',
      'display_name = "Corp (short sessions)"',
      `issuer = "${idp.issuer}"`,
      `client_id = "${idp.clientId}"`,
      `client_secret = "${idp.clientSecret}"`,
      'session_max_age = "2s"',
      'insecure = true',
      '',
      '[sso.wrong]',
      // A server that hands out the company provider's discovery document as its own.
      `issuer = "${impostor}"`,
      `client_id = "${idp.clientId}"`,
      'insecure = true',
      '',
    ].join('\n'),
  );
  server = await startServer({ config: toml });
  idp.allowRedirects(['corp', 'short', 'wrong'].map((p) => server.services.sso.redirectUri(p)));
  server.services.sso.afterSignIn.push((e) => {
    hookCalls.push(e);
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
  await new Promise((resolve) => impostorServer?.close(resolve));
});

const db = () => server.services.db.kysely;

async function identity(subject: string) {
  const row = await db()
    .selectFrom('sso_identities')
    .selectAll()
    .where('subject', '=', subject)
    .executeTakeFirst();
  return row ? { ...row, groups: JSON.parse(row.groups_json) as string[] } : null;
}

async function counts() {
  const n = async (table: 'users' | 'sso_identities' | 'web_sessions') =>
    Number(
      (
        await db()
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    users: await n('users'),
    identities: await n('sso_identities'),
    sessions: await n('web_sessions'),
  };
}

const FLOW_COOKIE = 'pier_sso';

/**
 * Starts a sign-in through `provider` in a fresh browser, signs in at the provider's own pages as
 * `login`, and returns on the first pier page after it. `atProvider` runs while the browser is at
 * the provider (the flow cookie is set by then).
 */
async function signIn(
  provider: string,
  login: string,
  opts: { context?: BrowserContext; atProvider?: (c: BrowserContext) => Promise<void> } = {},
): Promise<{ page: Page; context: BrowserContext; status: number; callbacks: string[] }> {
  const context = opts.context ?? (await browser.newContext());
  const page = await context.newPage();
  const callbacks: string[] = [];
  let status = 0;
  page.on('response', (r) => {
    if (r.url().startsWith(`${server.url}/login/sso/${provider}/callback`)) {
      callbacks.push(r.url());
      status = r.status();
    }
  });
  await page.goto(`${server.url}/login`);
  await Promise.all([page.waitForURL(`${idp.issuer}/**`), page.click(`#sso-${provider}`)]);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  if (opts.atProvider) await opts.atProvider(context);
  const loginPath = new URL(page.url()).pathname;
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(server.url) || u.pathname !== loginPath),
    page.click('button[type=submit]'),
  ]);
  // The consent page, the first time this browser's provider session meets pier.
  if (!page.url().startsWith(server.url) && page.url().includes('/interaction/')) {
    await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
    await Promise.all([page.waitForURL(`${server.url}/**`), page.click('button[type=submit]')]);
  }
  await page.waitForLoadState('load');
  return { page, context, status, callbacks };
}

async function signedInAs(page: Page): Promise<string | null> {
  const user = page.locator('header a.user');
  return (await user.count()) > 0 ? ((await user.textContent()) ?? '').trim() : null;
}

async function errorText(page: Page): Promise<string> {
  return ((await page.textContent('main')) ?? '').replace(/\s+/g, ' ');
}

/** Changes one field of the flow cookie, as an attacker who can write this browser's cookies. */
function tamper(field: 'state' | 'nonce' | 'codeVerifier') {
  return async (context: BrowserContext) => {
    const cookie = (await context.cookies(server.url)).find((c) => c.name === FLOW_COOKIE);
    assert.ok(cookie, 'the flow cookie is set while the browser is at the provider');
    const flow = JSON.parse(Buffer.from(cookie.value, 'base64url').toString()) as Record<
      string,
      string
    >;
    flow[field] = `${flow[field]!.slice(0, -4)}AAAA`;
    await context.addCookies([
      { ...cookie, value: Buffer.from(JSON.stringify(flow)).toString('base64url') },
    ]);
  };
}

test('the sign-in page offers every configured provider; an unknown one is a 404', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/login`);
  const names = await page.locator('#sso-providers a').allTextContents();
  assert.deepEqual(
    names.map((n) => n.trim()),
    ['Sign in with Corp', 'Sign in with Corp (short sessions)', 'Sign in with wrong'],
  );
  assert.equal(await page.locator('#login-form').count(), 1, 'passwords still sign in');
  const r = await fetch(`${server.url}/login/sso/nobody`, { redirect: 'manual' });
  assert.equal(r.status, 404);
  await page.context().close();
});

test('first sign-in creates the user with its groups; the hook gets them; tokens work', async () => {
  idp.accounts.set('alice-sub', { preferred_username: 'alice', groups: ['pier-users', 'dev'] });
  hookCalls.length = 0;
  const { page, context } = await signIn('corp', 'alice-sub');
  assert.equal(page.url(), `${server.url}/`);
  assert.equal(await signedInAs(page), 'alice');
  const user = await server.services.auth.requireUser('alice');
  assert.equal(user.password_hash, null, 'a company user has no pier password');
  const id = await identity('alice-sub');
  assert.equal(id?.issuer, idp.issuer);
  assert.equal(id?.user_id, user.id);
  assert.deepEqual(id?.groups, ['pier-users', 'dev']);
  assert.deepEqual(hookCalls, [
    { userId: user.id, provider: 'corp', groups: ['pier-users', 'dev'] },
  ]);
  // The session is the same kind as after a password, bounded by the provider's max age.
  const session = await db()
    .selectFrom('web_sessions')
    .selectAll()
    .where('user_id', '=', user.id)
    .executeTakeFirstOrThrow();
  assert.equal(session.sso_provider, 'corp');
  assert.equal(session.pending_2fa, 0);
  assert.equal(session.expires_at - session.created_at, 3600_000);

  // An API token made in the browser reads the index with the user's rights.
  await page.goto(`${server.url}/account/tokens`);
  await page.fill('#f-name', 'laptop');
  await Promise.all([page.waitForLoadState('load'), page.click('#token-form button[type=submit]')]);
  const token = ((await page.textContent('#new-token-value')) ?? '').trim();
  assert.match(token, /^pypi-/);
  const auth = await server.services.auth.authenticateToken(token);
  assert.equal(auth.ok, true);
  await context.close();
  tokens.alice = token;
});

const tokens: Record<string, string> = {};

/** The teams a user is in, as "organisation/team". */
async function teamsOf(username: string): Promise<string[]> {
  const user = await server.services.auth.requireUser(username);
  const rows = await db()
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .innerJoin('organizations', 'organizations.id', 'teams.organization_id')
    .select(['organizations.name as org', 'teams.name as team'])
    .where('team_members.user_id', '=', user.id)
    .execute();
  return rows.map((r) => `${r.org}/${r.team}`).sort();
}

test('a group change reaches pier at the next sign-in, and the hook every time; groups map to teams', async () => {
  // The company's groups 'ops' and 'dev' map to teams of an organisation.
  await server.services.orgs.create(OPERATOR, 'corp-org', 'alice');
  for (const team of ['ops', 'dev']) {
    await server.services.orgs.createTeam(OPERATOR, 'corp-org', team);
    await server.services.orgs.mapGroup(OPERATOR, 'corp-org', team, 'corp', team);
  }
  idp.accounts.set('alice-sub', { preferred_username: 'alice', groups: ['pier-users', 'ops'] });
  hookCalls.length = 0;
  const { page, context } = await signIn('corp', 'alice-sub');
  assert.equal(await signedInAs(page), 'alice');
  assert.deepEqual((await identity('alice-sub'))?.groups, ['pier-users', 'ops']);
  assert.deepEqual(
    hookCalls.map((c) => c.groups),
    [['pier-users', 'ops']],
  );
  assert.deepEqual(await teamsOf('alice'), ['corp-org/ops'], 'in the team of her group only');
  await context.close();
});

test('leaving the allowed group disables the user at the next sign-in; rejoining enables it', async () => {
  const alice = await server.services.auth.requireUser('alice');
  idp.accounts.set('alice-sub', { preferred_username: 'alice', groups: ['dev'] });
  hookCalls.length = 0;
  const { page, context, status } = await signIn('corp', 'alice-sub');
  assert.equal(status, 403);
  assert.match(await errorText(page), /not in a group allowed to use this index.*now disabled/);
  assert.equal(await signedInAs(page), null);
  assert.equal((await server.services.auth.requireUser('alice')).disabled, 1);
  assert.deepEqual(hookCalls, [], 'no hook for a refused sign-in');
  const sessions = await server.services.web.sessions.listOf(alice.id);
  assert.equal(sessions.length, 0, "every one of the user's sessions ended");
  const auth = await server.services.auth.authenticateToken(tokens.alice!);
  assert.equal(auth.ok, false, "the user's API tokens stop working");
  await context.close();

  idp.accounts.set('alice-sub', { preferred_username: 'alice', groups: ['pier-users'] });
  const again = await signIn('corp', 'alice-sub');
  assert.equal(await signedInAs(again.page), 'alice');
  assert.equal((await server.services.auth.requireUser('alice')).disabled, 0);
  assert.equal((await server.services.auth.authenticateToken(tokens.alice!)).ok, true);
  assert.deepEqual(await teamsOf('alice'), [], 'out of the group, out of its team');
  await again.context.close();
});

test('a user removed at the provider is refused, and their session ends at its max age', async () => {
  idp.accounts.set('bob-sub', { preferred_username: 'bob', groups: [] });
  const { page, context } = await signIn('short', 'bob-sub');
  assert.equal(await signedInAs(page), 'bob');
  const bob = await server.services.auth.requireUser('bob');
  const [session] = await server.services.web.sessions.listOf(bob.id);
  assert.equal(session!.expires_at - session!.created_at, 2000);

  idp.accounts.delete('bob-sub');
  const before = await counts();
  const refused = await signIn('short', 'bob-sub');
  // The provider no longer knows the account: it stops at its own error page, never sending the
  // browser back to pier with a code.
  assert.ok(!refused.page.url().startsWith(server.url), refused.page.url());
  assert.deepEqual(refused.callbacks, []);
  assert.match((await refused.page.textContent('body')) ?? '', /something went wrong/i);
  assert.equal((await counts()).sessions, before.sessions, 'no session started');
  await refused.context.close();

  // The session already open stops working once its provider's max age has passed.
  const deadline = session!.expires_at + 1500;
  let signedIn: string | null;
  for (;;) {
    await page.goto(`${server.url}/`);
    signedIn = await signedInAs(page);
    if (signedIn === null || Date.now() > deadline) break;
    await page.waitForTimeout(250);
  }
  assert.ok(Date.now() >= session!.expires_at, 'signed in until the max age');
  assert.equal(signedIn, null);
  await context.close();
});

test('a user name taken by a local account is never taken over; an admin link lets it in, with TOTP', async () => {
  const password = await addUser(server, 'carol');
  const carol = await server.services.auth.requireUser('carol');
  idp.accounts.set('carol-at-corp', {
    preferred_username: 'Carol@corp.example',
    groups: ['pier-users'],
  });
  const before = await counts();
  const { page, context, status } = await signIn('corp', 'carol-at-corp');
  assert.equal(status, 403);
  assert.match(
    await errorText(page),
    /account named 'Carol' exists already and is not linked to Corp/,
  );
  assert.deepEqual(await counts(), before, 'no user, identity or session');
  assert.equal(await identity('carol-at-corp'), null);
  assert.equal((await server.services.auth.authenticatePassword('carol', password, null)).ok, true);
  await context.close();

  await server.services.sso.link(OPERATOR, {
    username: 'carol',
    provider: 'corp',
    subject: 'carol-at-corp',
  });
  const secret = await enableTotp(server.services, 'carol');
  const linked = await signIn('corp', 'carol-at-corp');
  assert.equal(new URL(linked.page.url()).pathname, '/login/2fa', 'the second factor is asked');
  assert.equal(await signedInAs(linked.page), null);
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + 30_000,
  });
  await linked.page.fill('#f-code', code);
  await Promise.all([
    linked.page.waitForURL(`${server.url}/`),
    linked.page.click('#totp-form button[type=submit]'),
  ]);
  assert.equal(await signedInAs(linked.page), 'carol');
  const [session] = await server.services.web.sessions.listOf(carol.id);
  assert.equal(session!.sso_provider, 'corp', 'the TOTP step keeps the provider');
  assert.equal(session!.expires_at - session!.created_at, 3600_000);
  await linked.context.close();
});

for (const field of ['state', 'nonce', 'codeVerifier'] as const)
  test(`a tampered ${field} is refused and changes nothing`, async () => {
    idp.accounts.set('dave-sub', { preferred_username: 'dave', groups: ['pier-users'] });
    const before = await counts();
    const { page, context, status } = await signIn('corp', 'dave-sub', {
      atProvider: tamper(field),
    });
    assert.equal(status, 403);
    const text = await errorText(page);
    const expected = {
      state: /unexpected "state" response parameter value/i,
      nonce: /unexpected ID Token "nonce" claim value/i,
      codeVerifier: /invalid_grant/,
    }[field];
    assert.match(text, expected);
    assert.equal(await signedInAs(page), null);
    assert.deepEqual(await counts(), before);
    assert.equal(await server.services.auth.findUser('dave'), undefined);
    await context.close();
  });

test('a callback replayed, or opened in another browser, is refused', async () => {
  idp.accounts.set('erin-sub', { preferred_username: 'erin', groups: ['pier-users'] });
  const { page, context, callbacks } = await signIn('corp', 'erin-sub');
  assert.equal(await signedInAs(page), 'erin');
  const callback = callbacks[0]!;
  const before = await counts();
  // Another browser (an attacker's link): no flow of its own.
  const other = await (await browser.newContext()).newPage();
  const r1 = await other.goto(callback);
  assert.equal(r1?.status(), 403);
  assert.match(await errorText(other), /not started in this browser/);
  // The same browser again: the flow was spent.
  const r2 = await page.goto(callback);
  assert.equal(r2?.status(), 403);
  assert.deepEqual(await counts(), before);
  await other.context().close();
  await context.close();
});

test('a provider whose discovery document names another issuer is refused before any sign-in', async () => {
  const r = await fetch(`${server.url}/login/sso/wrong`, { redirect: 'manual' });
  assert.equal(r.status, 502);
  const text = await r.text();
  assert.match(text, /cannot be reached: .*issuer/i, text);
});
