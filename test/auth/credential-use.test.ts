// Which credential may be used for what, as a table: every credential kind for every use, for
// accounts with and without a second factor, under each setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenRow, User } from '../../src/db/schema.js';
import type { Principal } from '../../src/auth/principal.js';
import {
  CREDENTIAL_KINDS,
  CREDENTIAL_USES,
  credentialUseRefusal,
  passwordIsNotEnough,
  type CredentialKind,
  type CredentialUse,
  type PasswordPolicy,
} from '../../src/auth/credential-use.js';

const user = (over: Partial<User> = {}): User =>
  ({
    id: 1,
    username: 'ann',
    username_key: 'ann',
    password_hash: 'x',
    is_admin: 0,
    may_create_projects: 0,
    disabled: 0,
    created_at: 0,
    totp_secret: null,
    totp_enabled_at: null,
    totp_last_step: null,
    ...over,
  }) as User;
const withTotp = { totp_secret: 'JBSWY3DPEHPK3PXP', totp_enabled_at: 1 };
const asUser = (u: User): Principal => ({ kind: 'user', user: u });

const plain = asUser(user());
const twoFactor = asUser(user(withTotp));
const admin = asUser(user({ is_admin: 1 }));
const adminTwoFactor = asUser(user({ is_admin: 1, ...withTotp }));
// Enrolment begun but not confirmed: no second factor yet.
const enrolling = asUser(user({ totp_secret: 'JBSWY3DPEHPK3PXP' }));
const token: Principal = {
  kind: 'token',
  token: { id: 1, scope: 'admin', publisher_id: null } as TokenRow,
  user: user(withTotp),
  projectIds: null,
};

const DEFAULT: PasswordPolicy = { passwordReads: false, requireTwoFactorForAdmins: false };
const READS: PasswordPolicy = { passwordReads: true, requireTwoFactorForAdmins: false };
const ADMINS: PasswordPolicy = { passwordReads: false, requireTwoFactorForAdmins: true };

type Row = [string, Principal, PasswordPolicy, Record<CredentialUse, boolean>];
const ALL = { read: true, upload: true, manage: true };
const NONE = { read: false, upload: false, manage: false };
const READ_ONLY = { read: true, upload: false, manage: false };

// Allowed uses of the *password*, per account and setting.
const passwordRows: Row[] = [
  ['no second factor', plain, DEFAULT, ALL],
  ['no second factor, reads allowed', plain, READS, ALL],
  ['second factor', twoFactor, DEFAULT, NONE],
  ['second factor, reads allowed', twoFactor, READS, READ_ONLY],
  ['enrolment not confirmed', enrolling, DEFAULT, ALL],
  ['administrator without a second factor', admin, DEFAULT, ALL],
  ['administrator without one, when administrators must have one', admin, ADMINS, NONE],
  ['a user, when administrators must have one', plain, ADMINS, ALL],
  ['administrator with a second factor', adminTwoFactor, DEFAULT, NONE],
  [
    'administrator, reads allowed, administrators must have one',
    admin,
    { passwordReads: true, requireTwoFactorForAdmins: true },
    READ_ONLY,
  ],
];

test('passwords: refused on the API and for uploads when the account has a second factor', () => {
  for (const [who, principal, policy, allowed] of passwordRows)
    for (const use of CREDENTIAL_USES) {
      const refusal = credentialUseRefusal(principal, 'password', use, policy);
      assert.equal(refusal === null, allowed[use], `${who}: password for ${use}`);
      if (refusal !== null) {
        assert.match(refusal, /Use an API token instead \(username __token__/);
        assert.doesNotMatch(refusal, /\n/);
      }
    }
});

test('tokens and web sessions are never refused by this rule', () => {
  const others: CredentialKind[] = CREDENTIAL_KINDS.filter((k) => k !== 'password');
  assert.deepEqual(others, ['token', 'session']);
  for (const [who, principal, policy] of passwordRows)
    for (const kind of others)
      for (const use of CREDENTIAL_USES)
        assert.equal(
          credentialUseRefusal(principal, kind, use, policy),
          null,
          `${who} ${kind} ${use}`,
        );
  for (const use of CREDENTIAL_USES)
    assert.equal(credentialUseRefusal(token, 'token', use, DEFAULT), null);
  assert.equal(credentialUseRefusal({ kind: 'anonymous' }, 'password', 'manage', DEFAULT), null);
});

test('the table covers every use, and both kinds of account behind a second factor', () => {
  for (const [, , , allowed] of passwordRows)
    assert.deepEqual(Object.keys(allowed).sort(), [...CREDENTIAL_USES].sort());
  const refusedSome = passwordRows.filter(([, p, policy]) =>
    passwordIsNotEnough((p as { user: User }).user, policy),
  );
  const allowedAll = passwordRows.filter(
    ([, p, policy]) => !passwordIsNotEnough((p as { user: User }).user, policy),
  );
  assert.ok(refusedSome.length >= 3 && allowedAll.length >= 3);
});

test('the refusal names the account and what was refused', () => {
  assert.equal(
    credentialUseRefusal(twoFactor, 'password', 'upload', DEFAULT),
    "User 'ann' has two-factor authentication: its password is not accepted for uploads. Use an API token instead (username __token__, the token as password).",
  );
  assert.match(
    credentialUseRefusal(admin, 'password', 'manage', ADMINS) ?? '',
    /^User 'ann' is an administrator, and administrators must use two-factor authentication: its password is not accepted on the API\./,
  );
});
