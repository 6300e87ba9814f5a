// @backends: runs on the embedded default and on PostgreSQL with S3.
// The rules of src/oidc/verify.ts about the token itself rather than its claims: the canonical
// encoding of its segments, single use of a token without `jti` (keyed on what the issuer
// signed), and the longest lifetime accepted. Against tokens from an issuer the test writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_TOKEN_LIFETIME_SECONDS,
  isCanonicalBase64url,
  singleUseKey,
} from '../../src/oidc/verify.js';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { githubClaims, makeKey, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { RELEASE_JOB_FIELDS } from '../support/dev-oidc.js';
import { postMintToken } from '../support/mint.js';

let server: TestServer;
let github: TestIssuer;
let google: TestIssuer;
let audience: string;
const EMAIL = 'release@octo.iam.gserviceaccount.com';

const mint = (token: string) => postMintToken(server.url, token);

function expectError(r: { status: number; body: any }, code: string, description: RegExp) {
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.errors[0].code, code);
  assert.match(r.body.errors[0].description, description);
}

async function mintedTokenCount(): Promise<number> {
  const row = await server.services.db.kysely
    .selectFrom('tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('publisher_id', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A Google-style token: no `jti`, so single use rests on the token itself. */
function googleClaims(over: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: google.url,
    aud: audience,
    iat: now,
    exp: now + 3600,
    sub: '1234',
    email: EMAIL,
    email_verified: true,
    ...over,
  };
}

before(async () => {
  github = await startTestIssuer();
  google = await startTestIssuer();
  server = await startServer();
  audience = new URL(server.url).host;
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: github.url, insecure: true });
  await server.services.issuers.add(OPERATOR, { kind: 'google', url: google.url, insecure: true });
  await server.services.auth.addUser(OPERATOR, {
    username: 'owner',
    password: 'owner-password',
    mayCreateProjects: true,
  });
  await server.services.projects.create(OPERATOR, 'octo-lib', 'owner');
  await server.services.publishers.add(OPERATOR, 'octo-lib', {
    kind: 'github',
    issuerUrl: github.url,
    fields: RELEASE_JOB_FIELDS,
  });
  await server.services.publishers.add(OPERATOR, 'octo-lib', {
    kind: 'google',
    issuerUrl: google.url,
    fields: { email: EMAIL },
  });
});

after(async () => {
  await server.close();
  await github.close();
  await google.close();
});

test('canonical base64url: the URL-safe alphabet, no padding, no whitespace, no stray bits', () => {
  const cases: [string, boolean][] = [
    ['', true],
    ['AA', true], // one byte, 0x00
    ['AQ', true], // one byte, 0x01
    ['AR', false], // the same byte with a stray bit set in the unused part
    ['AAA', true],
    ['AAB', false],
    ['AAAA', true],
    ['AA==', false],
    ['AA=', false],
    ['A', false],
    ['AA AA', false],
    ['AA\nAA', false],
    [' AAAA', false],
    ['AAAA\t', false],
    ['+/+/', false],
    ['-_-_', true],
  ];
  for (const [segment, canonical] of cases)
    assert.equal(isCanonicalBase64url(segment), canonical, JSON.stringify(segment));
});

test('singleUseKey: the jti when there is one, else a hash of the signed header.payload', () => {
  const a = 'eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl';
  const b = 'eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.b3RoZXItc2lnbmF0dXJl';
  const c = 'eyJhbGciOiJFUzI1NiJ9.eyJhIjoyfQ.c2lnbmF0dXJl';
  assert.equal(singleUseKey(a, { jti: 'run-42' }), 'run-42');
  assert.match(singleUseKey(a, {}), /^sha256:[0-9a-f]{64}$/);
  assert.equal(singleUseKey(a, {}), singleUseKey(b, {}), 'another signature of the same text');
  assert.equal(singleUseKey(a, { jti: '' }), singleUseKey(a, {}), 'an empty jti is none');
  assert.notEqual(singleUseKey(a, {}), singleUseKey(c, {}), 'another payload');
});

test('a token without jti re-encoded (padding, whitespace, stray bits) yields no second upload token', async () => {
  const token = await google.sign(googleClaims());
  const [header, payload, signature] = token.split('.') as [string, string, string];
  // 256 signature bytes are 342 characters: the last one carries 4 unused bits.
  assert.equal(signature.length % 4, 2);
  const last = signature.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const strayBits = alphabet[alphabet.indexOf(last) ^ 1]!;
  const variants = [
    `${signature}==`,
    `${signature.slice(0, 100)}\n${signature.slice(100)}`,
    `${signature.slice(0, 100)} ${signature.slice(100)}`,
    `${signature}\n`,
    `${signature.slice(0, -1)}${strayBits}`,
  ];

  const first = await mint(token);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const minted = await mintedTokenCount();
  for (const variant of variants) {
    const r = await mint(`${header}.${payload}.${variant}`);
    expectError(r, 'invalid-token', /signature is not in canonical base64url/);
  }
  assert.equal(await mintedTokenCount(), minted, 'no variant minted an upload token');
  expectError(await mint(token), 'invalid-reuse-token', /already used/);
});

test('a token without jti with its ES256 twin signature (r, n - s) is the same token: already used', async () => {
  const key = await makeKey('ES256');
  google.keys.push(key);
  const second = await startServer(server.sameData());
  try {
    const claims = googleClaims({ aud: new URL(second.url).host });
    const token = await google.sign(claims, { key });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
    const twinS = Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex');
    const twin = `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), twinS]).toString('base64url')}`;
    assert.notEqual(twin, token);

    const post = (t: string) =>
      fetch(`${second.url}/_/oidc/mint-token`, {
        method: 'POST',
        body: JSON.stringify({ token: t }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
    const first = await post(token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    expectError(await post(twin), 'invalid-reuse-token', /already used/);
  } finally {
    await second.close();
  }
});

test('a token valid for longer than six hours is refused, whoever signed it', async () => {
  const now = Math.floor(Date.now() / 1000);
  assert.equal(MAX_TOKEN_LIFETIME_SECONDS, 6 * 3600);
  const minted = await mintedTokenCount();
  const tooLong: Record<string, unknown>[] = [
    { iat: now, exp: now + MAX_TOKEN_LIFETIME_SECONDS + 1 },
    { iat: now, exp: now + 10 * 365 * 86_400 },
    // Issued long ago, still valid for a day: the lifetime is what counts.
    { iat: now - 86_400, nbf: now - 86_400, exp: now + 86_400 },
  ];
  for (const times of tooLong) {
    const r = await mint(await github.sign(githubClaims(github.url, audience, times)));
    expectError(
      r,
      'invalid-token',
      /^malformed or invalid token: the token is valid for \d+ seconds \(exp - iat\), longer than the 21600 seconds pier accepts$/,
    );
    const g = await mint(await google.sign(googleClaims(times)));
    expectError(g, 'invalid-token', /longer than the 21600 seconds pier accepts/);
  }
  assert.equal(await mintedTokenCount(), minted, 'nothing minted');
  // GitHub's five minutes, Google's hour and exactly six hours are accepted.
  for (const lifetime of [300, 3600, MAX_TOKEN_LIFETIME_SECONDS]) {
    const r = await mint(
      await github.sign(githubClaims(github.url, audience, { iat: now, exp: now + lifetime })),
    );
    assert.equal(r.status, 200, `${lifetime}: ${JSON.stringify(r.body)}`);
  }
});
