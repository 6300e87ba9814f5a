// @backends: runs on the embedded default and on PostgreSQL with S3.
// Sign-in and sessions: cookie attributes; sessions in the database, shared by every process and
// dead on the very next request once signed out, revoked, expired or their user disabled; sign-in
// rate limiting per username and per address, stored in the database; TOTP enrolment, sign-in
// with a code, codes used once; administrators made to enrol first when the operator says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP, Secret } from 'otpauth';
import { startServer, type TestServer } from '../support/server.js';
import { DEFAULT_LIMITS } from '../../src/auth/password-throttle.js';
import { addUser, WebClient } from './helpers.js';

async function withServer<T>(
  fn: (server: TestServer) => Promise<T>,
  overrides: Record<string, unknown> = {},
): Promise<T> {
  const server = await startServer(overrides);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

function cookieLine(setCookies: string[], name: string): string {
  const line = setCookies.find((c) => c.startsWith(`${name}=`));
  assert.ok(line, `a ${name} cookie in ${setCookies.join(' | ')}`);
  return line;
}

test('session cookies: HttpOnly, SameSite=Lax, Path=/; Secure and __Host- when the public URL is HTTPS', async () => {
  await withServer(async (server) => {
    const pw = await addUser(server, 'ann');
    const web = new WebClient(server.url);
    const login = await web.get('/login');
    const csrf = cookieLine(login.setCookies, 'pier_csrf');
    assert.match(csrf, /; Path=\/;/);
    assert.match(csrf, /; HttpOnly/);
    assert.match(csrf, /; SameSite=Lax/);
    assert.doesNotMatch(csrf, /Secure/);
    const r = await web.post('/login', { username: 'ann', password: pw, next: '/' });
    assert.equal(r.status, 303);
    const session = cookieLine(r.setCookies, 'pier_session');
    for (const attr of [/; Path=\//, /; HttpOnly/, /; SameSite=Lax/]) assert.match(session, attr);
    assert.doesNotMatch(session, /Secure|Domain/i);
    assert.equal((await web.get('/account')).status, 200);
    // The responses of the web interface forbid framing and sniffing, and scripts from elsewhere.
    const page = await web.get('/account');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
  });
  await withServer(
    async (server) => {
      const pw = await addUser(server, 'ann');
      const web = new WebClient(server.listenUrl);
      const login = await web.get('/login');
      assert.match(cookieLine(login.setCookies, '__Host-pier_csrf'), /; Secure/);
      const r = await web.post('/login', { username: 'ann', password: pw, next: '/' });
      const session = cookieLine(r.setCookies, '__Host-pier_session');
      for (const attr of [/; Path=\//, /; HttpOnly/, /; Secure/, /; SameSite=Lax/])
        assert.match(session, attr);
      assert.doesNotMatch(session, /Domain/i);
    },
    { publicUrl: 'https://pypi.example.com' },
  );
});

test('wrong passwords are refused alike for known and unknown users; `next` stays on this site', async () => {
  await withServer(async (server) => {
    const pw = await addUser(server, 'ann');
    const web = new WebClient(server.url);
    for (const [u, p] of [
      ['ann', 'wrong'],
      ['nobody', 'wrong'],
      ['ann', ''],
    ]) {
      await web.get('/login');
      const r = await web.post('/login', { username: u!, password: p! });
      assert.equal(r.status, 401);
      assert.match(r.text, /Invalid username or password\./);
      assert.equal(web.cookies.has('pier_session'), false);
    }
    await web.get('/login?next=//evil.example.com/');
    const r = await web.post('/login', {
      username: 'ann',
      password: pw,
      next: '//evil.example.com/',
    });
    assert.equal(r.location, '/');
    const next = new WebClient(server.url);
    await next.get('/account');
    assert.equal((await next.get('/account')).location, '/login?next=%2Faccount');
    await next.get('/login?next=%2Faccount');
    assert.equal(
      (await next.post('/login', { username: 'ann', password: pw, next: '/account' })).location,
      '/account',
    );
  });
});

test('sessions live in the database: shared by processes, and dead at once when ended', async () => {
  await withServer(async (a) => {
    const b = await startServer(a.sameData());
    try {
      const pw = await addUser(a, 'ann');
      await addUser(a, 'root', { admin: true });
      const web = new WebClient(a.url);
      assert.equal((await web.signIn('ann', pw)).status, 303);
      const atB = new WebClient(b.url);
      for (const [k, v] of web.cookies) atB.cookies.set(k, v);
      const page = await atB.get('/account');
      assert.equal(page.status, 200, 'the other process knows the session');
      assert.match(page.text, /<h1>ann<\/h1>/);

      // Signed out at A: B refuses the cookie on its very next request.
      await web.get('/account');
      assert.equal((await web.post('/logout')).status, 303);
      assert.equal((await atB.get('/account')).status, 303);
      assert.equal((await atB.get('/account')).location, '/login?next=%2Faccount');

      // Revoked from another session (the account page's list).
      const first = new WebClient(a.url);
      await first.signIn('ann', pw);
      const second = new WebClient(b.url);
      await second.signIn('ann', pw);
      const list = await second.get('/account');
      const ids = [...list.text.matchAll(/\/account\/sessions\/(\d+)\/revoke/g)].map((m) => m[1]!);
      assert.equal(ids.length, 2);
      const user = await a.services.auth.requireUser('ann');
      const sessions = await a.services.web.sessions.listOf(user.id);
      const firstId = sessions[sessions.length - 1]!.id; // the oldest: `first`'s
      assert.ok(ids.includes(String(firstId)));
      assert.equal((await second.post(`/account/sessions/${firstId}/revoke`)).status, 303);
      assert.equal((await first.get('/account')).status, 303, 'the revoked session is dead');
      assert.equal((await second.get('/account')).status, 200, 'the other one lives');

      // Expired (12 hours after sign-in, or 2 hours idle).
      await a.services.db.kysely
        .updateTable('web_sessions')
        .set({ expires_at: Date.now() - 1 })
        .execute();
      assert.equal((await second.get('/account')).status, 303);
      const third = new WebClient(a.url);
      await third.signIn('ann', pw);
      await a.services.db.kysely
        .updateTable('web_sessions')
        .set({ last_seen_at: Date.now() - 3 * 3600_000 })
        .execute();
      assert.equal((await third.get('/account')).status, 303, 'idle too long');

      // A disabled user's sessions stop working.
      const fourth = new WebClient(b.url);
      await fourth.signIn('ann', pw);
      assert.equal((await fourth.get('/account')).status, 200);
      const admin = new WebClient(a.url);
      await admin.signIn('root', 'root-password-1');
      await admin.get('/admin/users');
      assert.equal((await admin.post('/admin/users/ann', { change: 'disable' })).status, 303);
      assert.equal((await fourth.get('/account')).status, 303);
      assert.equal((await fourth.signIn('ann', pw)).status, 401, 'and it cannot sign in');

      // A password change signs out every other session.
      await admin.post('/admin/users/ann', { change: 'enable' });
      const keep = new WebClient(a.url);
      await keep.signIn('ann', pw);
      const lose = new WebClient(b.url);
      await lose.signIn('ann', pw);
      await keep.get('/account');
      assert.equal(
        (await keep.post('/account/password', { current: pw, password: 'another-password-2' }))
          .status,
        303,
      );
      assert.equal((await keep.get('/account')).status, 200);
      assert.equal((await lose.get('/account')).status, 303);
    } finally {
      await b.close();
    }
  });
});

test('sign-in is rate limited per username and per address, in the database', async () => {
  await withServer(async (a) => {
    const b = await startServer(a.sameData());
    try {
      const pw = await addUser(a, 'ann');
      const web = new WebClient(a.url);
      await web.get('/login');
      for (let i = 0; i < DEFAULT_LIMITS.perUsername; i++) {
        const r = await web.post('/login', { username: 'ann', password: `wrong-${i}` });
        assert.equal(r.status, 401, `attempt ${i + 1}`);
      }
      // Even the right password is refused now, without being checked, with a clear message;
      // and by the other process too (the failures are in the database).
      for (const base of [a.url, b.url]) {
        const client = new WebClient(base);
        await client.get('/login');
        const r = await client.post('/login', { username: 'ANN', password: pw });
        assert.equal(r.status, 429);
        assert.match(
          r.text,
          /Too many failed sign-in attempts for this account\. Try again in 15 minutes\./,
        );
        assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
        assert.equal(client.cookies.has('pier_session'), false);
      }
      // Another user is not affected, until the address has failed too often.
      const other = await addUser(a, 'bea');
      const client = new WebClient(b.url);
      assert.equal((await client.signIn('bea', other)).status, 303);
      const failuresSoFar = DEFAULT_LIMITS.perUsername;
      await web.get('/login');
      for (let i = failuresSoFar; i < DEFAULT_LIMITS.perAddress; i++)
        assert.equal(
          (await web.post('/login', { username: `user${i}`, password: 'x' })).status,
          401,
        );
      const late = new WebClient(a.url);
      await late.get('/login');
      const r = await late.post('/login', { username: 'bea', password: other });
      assert.equal(r.status, 429);
      assert.match(r.text, /Too many failed sign-in attempts from your address\./);
      // The window passes: sign-in works again, and a success clears the username's count.
      await a.services.db.kysely
        .updateTable('login_failures')
        .set({ at: Date.now() - 16 * 60_000 })
        .execute();
      assert.equal((await late.post('/login', { username: 'ann', password: pw })).status, 303);
    } finally {
      await b.close();
    }
  });
});

function codeAt(secret: string, offsetSteps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + offsetSteps * 30_000,
  });
}

test('TOTP: enrol with the URI and secret, confirm, then a code at every sign-in, each code once', async () => {
  await withServer(async (server) => {
    const pw = await addUser(server, 'ann');
    const web = new WebClient(server.url);
    await web.signIn('ann', pw);
    const start = await web.get('/account/2fa');
    assert.match(start.text, /Set up two-factor authentication/);
    assert.equal((await web.post('/account/2fa/begin')).location, '/account/2fa');
    const enrol = await web.get('/account/2fa');
    const secret = /<div class="secret" id="totp-secret">([A-Z2-7]+)<\/div>/.exec(enrol.text)?.[1];
    assert.ok(secret, 'the secret is shown as text');
    assert.match(
      enrol.text,
      new RegExp(
        `otpauth://totp/pier%20\\(127\\.0\\.0\\.1%3A\\d+\\):ann\\?issuer=pier%20\\(127\\.0\\.0\\.1%3A\\d+\\)&amp;secret=${secret}&amp;algorithm=SHA1&amp;digits=6&amp;period=30`,
      ),
    );
    assert.equal((await web.post('/account/2fa/confirm', { code: '000000' })).status, 400);
    assert.equal((await web.post('/account/2fa/confirm', { code: codeAt(secret) })).status, 303);
    assert.match((await web.get('/account')).text, /badge-tp">enabled/);

    // Sign in again: the password leads to the code, not to a session.
    const next = new WebClient(server.url);
    const r = await next.signIn('ann', pw);
    assert.equal(r.location, '/login/2fa?next=%2F');
    assert.equal((await next.get('/account')).status, 303, 'no access before the code');
    const step = await next.get('/login/2fa?next=%2F');
    assert.match(step.text, /Enter the 6-digit code/);
    assert.equal((await next.post('/login/2fa', { code: '123456', next: '/' })).status, 401);
    // The code of enrolment was used: it cannot be used again.
    assert.equal((await next.post('/login/2fa', { code: codeAt(secret), next: '/' })).status, 401);
    const ok = await next.post('/login/2fa', { code: codeAt(secret, 1), next: '/account' });
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/account');
    assert.equal((await next.get('/account')).status, 200);
    // Nor can that one, in another browser.
    const third = new WebClient(server.url);
    await third.signIn('ann', pw);
    await third.get('/login/2fa');
    assert.equal((await third.post('/login/2fa', { code: codeAt(secret, 1) })).status, 401);

    // Turning it off needs a valid code.
    await next.get('/account/2fa');
    assert.equal((await next.post('/account/2fa/disable', { code: '000000' })).status, 400);
    const audit = await server.services.db.kysely
      .selectFrom('audit_events')
      .select('action')
      .execute();
    assert.ok(audit.some((e) => e.action === 'user-2fa-enable'));
  });
});

test('PIER_REQUIRE_2FA_FOR_ADMINS: an administrator enrols before anything else', async () => {
  await withServer(
    async (server) => {
      const adminPw = await addUser(server, 'root', { admin: true });
      const userPw = await addUser(server, 'ann');
      const user = new WebClient(server.url);
      await user.signIn('ann', userPw);
      assert.equal((await user.get('/account/tokens')).status, 200, 'users are not affected');

      const admin = new WebClient(server.url);
      await admin.signIn('root', adminPw);
      for (const path of ['/', '/admin/users', '/account/tokens', '/project/x/'])
        assert.equal((await admin.get(path)).location, '/account/2fa', path);
      const page = await admin.get('/account/2fa');
      assert.match(page.text, /requires administrators to use two-factor authentication/);
      assert.equal(
        (await admin.post('/account/tokens', { name: 'x', scope: 'admin' })).status,
        403,
      );
      assert.equal((await server.services.auth.listTokens({})).length, 0);
      await admin.post('/account/2fa/begin');
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(
        (await admin.get('/account/2fa')).text,
      )![1]!;
      assert.equal(
        (await admin.post('/account/2fa/confirm', { code: codeAt(secret) })).status,
        303,
      );
      assert.equal((await admin.get('/admin/users')).status, 200);
      await admin.get('/account/2fa');
      assert.equal(
        (await admin.post('/account/2fa/disable', { code: codeAt(secret, 1) })).status,
        403,
      );
    },
    { requireTwoFactorForAdmins: true },
  );
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('HTTP Basic counts failures in the same throttle as the web sign-in, in every process', async () => {
  await withServer(async (a) => {
    const b = await startServer(a.sameData());
    try {
      const pw = await addUser(a, 'ann');
      const get = (base: string, path: string, authorization: string) =>
        fetch(`${base}${path}`, { headers: { authorization } });
      // Guessing over Basic, on the API and on reads, counts per user name...
      for (let i = 0; i < DEFAULT_LIMITS.perUsername; i++) {
        const path = i % 2 === 0 ? '/api/whoami' : '/simple/';
        assert.equal((await get(a.url, path, basic('ann', `guess-${i}`))).status, 401, path);
      }
      // ...so that the right password is refused unchecked, over Basic in either process,
      for (const base of [a.url, b.url]) {
        const r = await get(base, '/api/whoami', basic('Ann', pw));
        assert.equal(r.status, 429);
        assert.match(r.statusText, /Too many failed sign-in attempts for this account/);
        assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
      }
      // ...and at the web sign-in.
      const web = new WebClient(b.url);
      assert.equal((await web.signIn('ann', pw)).status, 429);

      // The other way round: failed web sign-ins lock Basic out too.
      const other = await addUser(a, 'bea');
      assert.equal((await get(a.url, '/api/whoami', basic('bea', other))).status, 200);
      const browser = new WebClient(a.url);
      await browser.get('/login');
      for (let i = 0; i < DEFAULT_LIMITS.perUsername; i++)
        assert.equal(
          (await browser.post('/login', { username: 'bea', password: 'x' })).status,
          401,
        );
      assert.equal((await get(b.url, '/simple/', basic('bea', other))).status, 429);
      const upload = await fetch(`${b.url}/legacy/`, {
        method: 'POST',
        headers: { authorization: basic('bea', other) },
      });
      assert.equal(upload.status, 429);
    } finally {
      await b.close();
    }
  });
});

test('a wrong password for an unknown user costs the same scrypt as for a known one', async () => {
  await withServer(async (server) => {
    await addUser(server, 'ann');
    const time = async (username: string) => {
      const started = process.hrtime.bigint();
      const r = await server.services.auth.authenticatePassword(username, 'wrong-password', null);
      assert.equal(r.ok, false);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    await time('warm-up'); // the dummy hash is made once per process
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time('ann'));
      unknown.push(await time(`nobody-${i}`));
    }
    // scrypt (N=2^15) takes tens of milliseconds; a lookup that finds no user, well under one.
    assert.ok(
      median(unknown) > median(known) * 0.5,
      `unknown ${unknown.join(', ')} ms against known ${known.join(', ')} ms`,
    );
  });
});

test("an administrator's password reset ends the user's web sessions", async () => {
  await withServer(async (server) => {
    const pw = await addUser(server, 'ann');
    const admin = await server.userWithToken('root', { admin: true, scope: 'admin' });
    const browsers = [new WebClient(server.url), new WebClient(server.url)];
    for (const web of browsers) {
      assert.equal((await web.signIn('ann', pw)).status, 303);
      assert.equal((await web.get('/account')).status, 200);
    }
    const r = await fetch(`${server.url}/api/users/ann`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'a-new-password-2' }),
    });
    assert.equal(r.status, 200, await r.text());
    for (const web of browsers)
      assert.equal((await web.get('/account')).location, '/login?next=%2Faccount');
    const rows = await server.services.db.kysely
      .selectFrom('web_sessions')
      .innerJoin('users', 'users.id', 'web_sessions.user_id')
      .where('users.username', '=', 'ann')
      .select('web_sessions.id')
      .execute();
    assert.deepEqual(rows, []);
    // The new password signs in.
    assert.equal((await new WebClient(server.url).signIn('ann', 'a-new-password-2')).status, 303);
  });
});

test('changing your own password keeps this browser signed in and ends the others', async () => {
  await withServer(async (server) => {
    const pw = await addUser(server, 'ann');
    const here = new WebClient(server.url);
    const there = new WebClient(server.url);
    for (const web of [here, there]) assert.equal((await web.signIn('ann', pw)).status, 303);
    await here.get('/account');
    const r = await here.post('/account/password', { current: pw, password: 'a-new-password-3' });
    assert.equal(r.status, 303, r.text.slice(0, 500));
    assert.equal((await here.get('/account')).status, 200);
    assert.equal((await there.get('/account')).location, '/login?next=%2Faccount');
  });
});
