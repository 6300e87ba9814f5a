// Google identity tokens, typically of a service account (reference §3.4 and §6; Warehouse
// `warehouse/oidc/models/google.py` and `warehouse/oidc/forms/google.py`).
//
// A publisher names an email address and, optionally, the account's `sub` (its unique numeric
// id): with a `sub`, an account deleted and re-created under the same email does not match.
import {
  checkRules,
  firstMissingOrMistyped,
  identityString,
  mismatch,
  optionalField,
  provenanceOf,
  quote,
  stringClaim,
  trimmedField,
  type Rule,
} from './core.js';
import type { ConfigInput, GoogleConfig, Provider, ValidateResult } from './types.js';

export const GOOGLE_ISSUER_URL = 'https://accounts.google.com';

// --- The claim checks -------------------------------------------------------------------------

/** `email`: exactly the registered address. */
export function checkEmail(config: GoogleConfig, claim: string): string | null {
  if (claim === config.email) return null;
  return mismatch('email', quote(config.email), claim);
}

/**
 * `email_verified`: the JSON boolean `true`. The string "true" or the number 1 are refused by the
 * rule's type before this runs (Warehouse's Python `==` would have let 1 through).
 */
export function checkEmailVerified(_config: GoogleConfig, claim: boolean): string | null {
  if (claim) return null;
  return "Check failed for claim 'email_verified': expected true, got false";
}

/** `sub`: any when the publisher has none; otherwise present and exactly equal. */
export function checkSub(config: GoogleConfig, claim: string | undefined): string | null {
  const expected = optionalField(config.sub);
  if (expected === '') return null;
  if (claim === undefined) return `Missing claim 'sub': expected ${quote(expected)}`;
  if (claim === expected) return null;
  return mismatch('sub', quote(expected), claim);
}

// --- The table --------------------------------------------------------------------------------

export const GOOGLE_RULES: readonly Rule<GoogleConfig>[] = [
  {
    claim: 'email',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals the registered email, exactly',
    verify: checkEmail,
  },
  {
    claim: 'email_verified',
    kind: 'required-verifiable',
    type: 'boolean',
    check: 'is the JSON boolean true',
    verify: checkEmailVerified,
  },
  {
    claim: 'sub',
    kind: 'optional-verifiable',
    type: 'string',
    check: 'any when the publisher has none; else present and equal, exactly',
    verify: checkSub,
  },
];

export const GOOGLE_UNCHECKED_CLAIMS: readonly string[] = [
  'azp',
  'google',
  // Not required of Google tokens; when present, the exchange still uses it only once.
  'jti',
];

export const GOOGLE_UNCHECKED_PREFIXES: readonly string[] = [];

// --- Registration (reference §6, Google row) ---------------------------------------------------

/** One '@', no whitespace or control characters, a dot in the domain. */
const VALID_EMAIL =
  /^[^\s@\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+\.[^\s@\x00-\x1f\x7f.][^\s@\x00-\x1f\x7f]*$/;

export function validateGoogleConfig(input: ConfigInput): ValidateResult<GoogleConfig> {
  const errors: Record<string, string> = {};
  const email = trimmedField(input, 'email');
  if (email === '') errors.email = 'Specify an email address';
  else if (!VALID_EMAIL.test(email)) errors.email = 'Invalid email address.';
  const sub = trimmedField(input, 'sub');
  if (/[\s\x00-\x1f\x7f]/.test(sub)) errors.sub = 'Invalid subject: it cannot contain whitespace';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, config: { email, sub } };
}

// --- Presentation ----------------------------------------------------------------------------

export const googleProvider: Provider<GoogleConfig> = {
  kind: 'google',
  displayName: 'Google',
  rules: GOOGLE_RULES,
  uncheckedClaims: GOOGLE_UNCHECKED_CLAIMS,
  uncheckedPrefixes: GOOGLE_UNCHECKED_PREFIXES,
  validateConfig: validateGoogleConfig,

  lookupKeyOfConfig: (config) => config.email,

  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(GOOGLE_RULES, claims);
    if (failure) return { ok: false, failure };
    return { ok: true, key: stringClaim(claims, 'email') };
  },

  identityOf: (config) => identityString([config.email, optionalField(config.sub)]),

  check: (config, claims, issuerUrl) => checkRules(GOOGLE_RULES, config, claims, issuerUrl),

  specificity: (config) => (optionalField(config.sub) !== '' ? 1 : 0),

  provenance: (claims) => provenanceOf(claims, ['email', 'sub']),

  describe: (config) =>
    `Google ${config.email}${optionalField(config.sub) !== '' ? `, sub ${config.sub}` : ''}`,

  url: () => null,
};
