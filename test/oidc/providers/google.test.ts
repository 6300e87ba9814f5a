// Google's claim rules (reference §3.4) and registration form (§6), against the identity token
// of a service account.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { googleProvider } from '../../../src/oidc/providers/google.js';
import type { GoogleConfig } from '../../../src/oidc/providers/types.js';
import { assertClassified, ruleTests, withClaims, type RuleCase } from './support.js';

const ISSUER = 'https://accounts.google.com';
const EMAIL = 'release@my-project.iam.gserviceaccount.com';

/** The identity token of a service account on Compute Engine (`format=full`). */
const TOKEN = {
  aud: 'pier.example.com',
  azp: '117843524623590187360',
  email: EMAIL,
  email_verified: true,
  exp: 1735693200,
  google: {
    compute_engine: {
      instance_creation_timestamp: 1735600000,
      instance_id: '4223423423423423423',
      instance_name: 'release-runner',
      project_id: 'my-project',
      project_number: 123456789012,
      zone: 'europe-west1-b',
    },
  },
  iat: 1735689600,
  iss: 'https://accounts.google.com',
  sub: '117843524623590187360',
};

const PUBLISHER: GoogleConfig = { email: EMAIL, sub: '' };

const cases: Record<string, RuleCase<GoogleConfig>[]> = {
  email: [
    { name: 'the address', failures: [] },
    {
      name: 'the address in another case (compared exactly)',
      claims: { email: 'Release@my-project.iam.gserviceaccount.com' },
      failures: [
        "Check failed for claim 'email': expected 'release@my-project.iam.gserviceaccount.com', got 'Release@my-project.iam.gserviceaccount.com'",
      ],
    },
    {
      name: 'another account',
      claims: { email: 'ci@other.iam.gserviceaccount.com' },
      failures: [
        "Check failed for claim 'email': expected 'release@my-project.iam.gserviceaccount.com', got 'ci@other.iam.gserviceaccount.com'",
      ],
    },
    {
      name: 'equal, but with a control character (compared by no rule)',
      claims: { email: 'release\x00@my-project.iam.gserviceaccount.com' },
      config: { email: 'release\x00@my-project.iam.gserviceaccount.com' },
      failures: ["Check failed for claim 'email': it contains a control character"],
    },
    { name: 'missing', claims: { email: undefined }, failures: ["Missing claim 'email'"] },
    {
      name: 'an array',
      claims: { email: [EMAIL] },
      failures: ["Check failed for claim 'email': expected a string, got an array"],
    },
  ],
  email_verified: [
    { name: 'true', failures: [] },
    {
      name: 'false',
      claims: { email_verified: false },
      failures: ["Check failed for claim 'email_verified': expected true, got false"],
    },
    {
      name: 'the string "true"',
      claims: { email_verified: 'true' },
      failures: ["Check failed for claim 'email_verified': expected a boolean, got a string"],
    },
    {
      name: 'the number 1',
      claims: { email_verified: 1 },
      failures: ["Check failed for claim 'email_verified': expected a boolean, got a number"],
    },
    {
      name: 'missing',
      claims: { email_verified: undefined },
      failures: ["Missing claim 'email_verified'"],
    },
    {
      name: 'null',
      claims: { email_verified: null },
      failures: ["Missing claim 'email_verified'"],
    },
  ],
  sub: [
    { name: 'a publisher without sub: any', failures: [] },
    { name: 'a publisher without sub: none', claims: { sub: undefined }, failures: [] },
    { name: 'the registered sub', config: { sub: '117843524623590187360' }, failures: [] },
    {
      name: 'an account re-created under the same email (a new sub)',
      claims: { sub: '100000000000000000001' },
      config: { sub: '117843524623590187360' },
      failures: [
        "Check failed for claim 'sub': expected '117843524623590187360', got '100000000000000000001'",
      ],
    },
    {
      name: 'missing, for a publisher with a sub',
      claims: { sub: undefined },
      config: { sub: '117843524623590187360' },
      failures: ["Missing claim 'sub': expected '117843524623590187360'"],
    },
    {
      name: 'a number',
      claims: { sub: 117843524623590 },
      failures: ["Check failed for claim 'sub': expected a string, got a number"],
    },
  ],
};

ruleTests(googleProvider, { claims: TOKEN, config: PUBLISHER, issuer: ISSUER }, cases);

test('Google: the table', () => {
  assert.deepEqual(
    googleProvider.rules.map((r) => `${r.kind} ${r.claim}`),
    ['required-verifiable email', 'required-verifiable email_verified', 'optional-verifiable sub'],
  );
  assertClassified(googleProvider, TOKEN);
  assertClassified(googleProvider, { ...TOKEN, jti: 'x' });
});

test('Google: provenance, describe, url', () => {
  assert.deepEqual(googleProvider.provenance(TOKEN), {
    email: EMAIL,
    sub: '117843524623590187360',
  });
  assert.deepEqual(googleProvider.provenance(withClaims(TOKEN, { sub: undefined })), {
    email: EMAIL,
    sub: null,
  });
  assert.equal(googleProvider.describe(PUBLISHER), `Google ${EMAIL}`);
  assert.equal(googleProvider.describe({ email: EMAIL, sub: '42' }), `Google ${EMAIL}, sub 42`);
  assert.equal(googleProvider.url(PUBLISHER, ISSUER, TOKEN), null);
});

test('Google: lookup, identity, specificity', () => {
  assert.equal(googleProvider.lookupKeyOfConfig(PUBLISHER), EMAIL);
  assert.deepEqual(googleProvider.lookupKeyOfClaims(TOKEN), { ok: true, key: EMAIL });
  assert.deepEqual(
    googleProvider.lookupKeyOfClaims(withClaims(TOKEN, { email_verified: 'true' })),
    {
      ok: false,
      failure: {
        claim: 'email_verified',
        message: "Check failed for claim 'email_verified': expected a boolean, got a string",
      },
    },
  );
  assert.notEqual(
    googleProvider.identityOf(PUBLISHER),
    googleProvider.identityOf({ email: EMAIL, sub: '1' }),
  );
  assert.ok(
    googleProvider.specificity({ email: EMAIL, sub: '1' }) > googleProvider.specificity(PUBLISHER),
  );
});

test('Google registration', async (t) => {
  const refused: [string, Record<string, string | undefined>, Record<string, string>][] = [
    ['email missing', {}, { email: 'Specify an email address' }],
    ['email blank', { email: '  ' }, { email: 'Specify an email address' }],
    ['no @', { email: 'release.example.com' }, { email: 'Invalid email address.' }],
    ['two @', { email: 'a@b@example.com' }, { email: 'Invalid email address.' }],
    ['no dot in the domain', { email: 'release@localhost' }, { email: 'Invalid email address.' }],
    ['a space inside', { email: 'rel ease@example.com' }, { email: 'Invalid email address.' }],
    [
      'sub with a space',
      { email: EMAIL, sub: '117 843' },
      { sub: 'Invalid subject: it cannot contain whitespace' },
    ],
  ];
  for (const [name, input, errors] of refused)
    await t.test(name, () =>
      assert.deepEqual(googleProvider.validateConfig(input), { ok: false, errors }),
    );
  await t.test('accepted, trimmed', () => {
    assert.deepEqual(googleProvider.validateConfig({ email: ` ${EMAIL} ` }), {
      ok: true,
      config: { email: EMAIL, sub: '' },
    });
    assert.deepEqual(
      googleProvider.validateConfig({ email: EMAIL, sub: ' 117843524623590187360 ' }),
      {
        ok: true,
        config: { email: EMAIL, sub: '117843524623590187360' },
      },
    );
  });
});
