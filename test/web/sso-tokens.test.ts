// @backends: runs on the embedded default and on PostgreSQL with S3.
// ID tokens no honest provider sends: a provider the test writes itself (its token endpoint is the
// one thing a real provider cannot be made to get wrong) answers the code with an ID token that is
// expired, unsigned, signed with a key it never published, for another client, from another
// issuer, or without the nonce. Each is refused with the reason and changes nothing; the same
// provider's honest token signs in (so the refusals are the checks', not the harness's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { startServer, type TestServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { WebClient } from './helpers.js';

type Forge = (nonce: string) => Promise<string>;
let idpServer: Server;
let issuer = '';
let server: TestServer;
let publicJwk: JWK;
let sign: (claims: Record<string, unknown>, alg?: string) => Promise<string>;
let signOther: (claims: Record<string, unknown>) => Promise<string>;
let forge: Forge;
let lastNonce = '';

before(async () => {
  const keys = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  publicJwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  sign = (claims) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(keys.privateKey);
  signOther = (claims) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(other.privateKey);
  idpServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration')
      return json({
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      });
    if (url.pathname === '/jwks') return json({ keys: [publicJwk] });
    if (url.pathname === '/token' && req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        void forge(lastNonce).then((idToken) =>
          json({ access_token: 'at', token_type: 'Bearer', expires_in: 60, id_token: idToken }),
        );
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
  const dir = tempDir('pier-sso-tokens-');
  const toml = join(dir, 'pier.toml');
  writeFileSync(
    toml,
    `[sso.forged]\nissuer = "${issuer}"\nclient_id = "pier"\nclient_secret = "s"\ninsecure = true\n`,
  );
  server = await startServer({ config: toml });
});

after(async () => {
  await server?.close();
  await new Promise((resolve) => idpServer?.close(resolve));
});

const now = () => Math.floor(Date.now() / 1000);
const honest = (nonce: string) => ({
  iss: issuer,
  aud: 'pier',
  sub: 'user-1',
  preferred_username: 'frank',
  nonce,
  iat: now(),
  exp: now() + 300,
});

function unsigned(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

async function counts() {
  const n = async (table: 'users' | 'sso_identities' | 'web_sessions') =>
    Number(
      (
        await server.services.db.kysely
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

/** A whole sign-in as a browser makes it, with the provider's pages skipped. */
async function signInWith(f: Forge) {
  forge = f;
  const web = new WebClient(server.url);
  const start = await web.get('/login/sso/forged');
  assert.equal(start.status, 303);
  const authorize = new URL(start.location!);
  assert.equal(authorize.origin, issuer);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  lastNonce = authorize.searchParams.get('nonce')!;
  const state = authorize.searchParams.get('state')!;
  return web.get(`/login/sso/forged/callback?code=c0de&state=${encodeURIComponent(state)}`);
}

const refusals: [string, Forge, RegExp][] = [
  [
    'expired',
    (n) => sign({ ...honest(n), iat: now() - 3600, exp: now() - 1800 }),
    /timestamp|exp/i,
  ],
  ['unsigned (alg none)', async (n) => unsigned(honest(n)), /alg|JWS|unexpected/i],
  ['signed with a key never published', (n) => signOther(honest(n)), /signature/i],
  ['for another client', (n) => sign({ ...honest(n), aud: 'someone-else' }), /aud/],
  ['from another issuer', (n) => sign({ ...honest(n), iss: 'https://evil.example' }), /iss/],
  [
    'without the nonce',
    (n) => {
      const { nonce: _nonce, ...rest } = honest(n);
      return sign(rest);
    },
    /nonce/,
  ],
];

for (const [what, f, reason] of refusals)
  test(`an ID token ${what} is refused and changes nothing`, async () => {
    const before = await counts();
    const r = await signInWith(f);
    assert.equal(r.status, 403);
    assert.match(r.text, /forged sign-in failed/);
    assert.match(r.text, reason);
    assert.deepEqual(await counts(), before);
  });

test('the honest ID token of the same provider signs in', async () => {
  const r = await signInWith((n) => sign(honest(n)));
  assert.equal(r.status, 303, r.text);
  assert.equal(r.location, '/');
  assert.equal((await server.services.auth.requireUser('frank')).password_hash, null);
});
