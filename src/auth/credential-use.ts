// Which kind of credential may be used for what. A second factor protects an account only if its
// password alone cannot do what the second factor guards: like PyPI (which refuses passwords for
// uploads from accounts with two-factor authentication, and whose management API never took
// passwords), a user with a second factor, or an administrator when administrators must have one,
// uses API tokens on the REST API and for uploads. Reading the index with the password (pip with
// credentials in the index URL, .netrc or a keyring) is allowed only when the operator says so.
// A pure function over plain data: the auth service calls it wherever credentials are resolved.
import type { User } from '../db/schema.js';
import { TOKEN_USERNAME } from './credentials.js';
import { principalUser, type Principal } from './principal.js';

/** How the principal proved who it is. */
export type CredentialKind = 'password' | 'token' | 'session';
export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['password', 'token', 'session'];

/** What a request does with the credential. */
export type CredentialUse =
  /** The Simple API, the JSON API and file downloads. */
  | 'read'
  /** POST /legacy/. */
  | 'upload'
  /** The REST API under /api/. */
  | 'manage';
export const CREDENTIAL_USES: readonly CredentialUse[] = ['read', 'upload', 'manage'];

export interface PasswordPolicy {
  /** PIER_BASIC_PASSWORD_READS: users with a second factor may read with their password. */
  passwordReads: boolean;
  /** PIER_REQUIRE_2FA_FOR_ADMINS: administrators count as having a second factor. */
  requireTwoFactorForAdmins: boolean;
  /** PIER_PASSWORD_SIGN_IN: false refuses every password (company sign-in and tokens only). */
  passwordSignIn?: boolean;
}

/** Why no password is accepted at all, or null when passwords sign in (PIER_PASSWORD_SIGN_IN). */
export function passwordsOffRefusal(policy: PasswordPolicy): string | null {
  if (policy.passwordSignIn !== false) return null;
  return (
    'Password sign-in is turned off on this index. Sign in to the web interface through your ' +
    `company's sign-in, and use an API token here (username ${TOKEN_USERNAME}, the token as password).`
  );
}

export function hasSecondFactor(user: Pick<User, 'totp_enabled_at' | 'totp_secret'>): boolean {
  return user.totp_enabled_at !== null && user.totp_secret !== null;
}

/** Whether the account's password alone is not enough: it has, or must have, a second factor. */
export function passwordIsNotEnough(
  user: Pick<User, 'totp_enabled_at' | 'totp_secret' | 'is_admin'>,
  policy: PasswordPolicy,
): boolean {
  return hasSecondFactor(user) || (policy.requireTwoFactorForAdmins && user.is_admin === 1);
}

const USE_WORDS: Record<CredentialUse, string> = {
  read: 'for reading the index',
  upload: 'for uploads',
  manage: 'on the API',
};

/**
 * Why `credential` may not be used for `use` by `principal`, or null when it may. Tokens and web
 * sessions (whose sign-in asked for the second factor) are never refused here; what they may do
 * is the permissions' business.
 */
export function credentialUseRefusal(
  principal: Principal,
  credential: CredentialKind,
  use: CredentialUse,
  policy: PasswordPolicy,
): string | null {
  if (credential !== 'password') return null;
  const user = principalUser(principal);
  if (user === null || !passwordIsNotEnough(user, policy)) return null;
  if (use === 'read' && policy.passwordReads) return null;
  const why = hasSecondFactor(user)
    ? 'has two-factor authentication'
    : 'is an administrator, and administrators must use two-factor authentication';
  return (
    `User '${user.username}' ${why}: its password is not accepted ${USE_WORDS[use]}. ` +
    `Use an API token instead (username ${TOKEN_USERNAME}, the token as password).`
  );
}
