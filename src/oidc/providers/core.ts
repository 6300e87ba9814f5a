// What every provider's table shares (Warehouse's `oidc/models/_core.py`, as pure functions): the
// typed rule, the evaluation of a table against a token, the sentences that say what was expected
// and what came, and the reading of registration fields.
//
// Every claim is typed at the boundary (crates.io's lesson): a required claim that is absent or
// null is "Missing claim 'x'", and a claim of the wrong JSON type fails with "expected a string,
// got a number" before any check sees it, so no check ever runs on a value it did not expect.
import { pythonRepr } from '../../packaging/errors.js';
import type { ClaimFailure, ClaimRule, Claims, CliFlags, ProvenanceLinks } from './types.js';

/** A check: null when the claim passes, else the whole sentence saying why not. */
export type Verify<C, V> = (
  config: C,
  value: V,
  claims: Claims,
  issuerUrl: string,
) => string | null;

/** A row of a provider's table: the public description plus the JSON type and the check. */
export type Rule<C> =
  | (ClaimRule & { kind: 'required-verifiable'; type: 'string'; verify: Verify<C, string> })
  | (ClaimRule & { kind: 'required-verifiable'; type: 'boolean'; verify: Verify<C, boolean> })
  | (ClaimRule & { kind: 'required-unverifiable'; type: 'string' })
  | (ClaimRule & {
      kind: 'optional-verifiable';
      type: 'string';
      /** Runs with `undefined` when the claim is absent or null. */
      verify: Verify<C, string | undefined>;
    });

/**
 * Registered claims that the JWT verification (src/oidc/verify.ts) checks before any provider
 * rule runs (Warehouse's `__preverified_claims__`).
 */
export const PREVERIFIED_CLAIMS: readonly string[] = ['iss', 'iat', 'nbf', 'exp', 'aud'];

type JsonType = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null' | 'absent';

export function jsonTypeOf(value: unknown): JsonType {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return type;
  return 'object';
}

function article(type: JsonType): string {
  if (type === 'null' || type === 'absent') return type === 'null' ? 'null' : 'nothing';
  return type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`;
}

/** A claim value quoted as Warehouse's messages quote it (Python `repr`). */
export function quote(value: string): string {
  // Configurations come back from the database as JSON: never throw on a field gone missing.
  return pythonRepr(typeof value === 'string' ? value : String(value));
}

/** Python's `repr(sorted(values))`, as in Warehouse's "expecting one of [...]". */
export function quoteList(values: readonly string[]): string {
  return `[${[...values].sort().map(quote).join(', ')}]`;
}

export function missingClaim(claim: string): string {
  return `Missing claim ${quote(claim)}`;
}

export function wrongType(claim: string, expected: 'string' | 'boolean', value: unknown): string {
  return `Check failed for claim ${quote(claim)}: expected ${article(expected)}, got ${article(jsonTypeOf(value))}`;
}

/**
 * C0 controls (U+0000–U+001F), DEL (U+007F) and C1 controls (U+0080–U+009F). No claim a rule
 * compares (names, paths, refs, ids, emails) can legitimately hold one, and a glob or a
 * comparison must never be the judge of, say, a `ref` with a newline in it.
 */
const CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/;

/** Whether the value holds a control character: such a claim matches no publisher. */
export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

export function controlCharacterIn(claim: string): string {
  return `Check failed for claim ${quote(claim)}: it contains a control character`;
}

/** "Check failed for claim 'environment': expected 'release', got 'staging'". */
export function mismatch(claim: string, expected: string, got: string): string {
  return `Check failed for claim ${quote(claim)}: expected ${expected}, got ${quote(got)}`;
}

function runRule<C>(rule: Rule<C>, config: C, claims: Claims, issuerUrl: string): string | null {
  const value = claims[rule.claim];
  if (value === undefined || value === null) {
    if (rule.kind === 'optional-verifiable')
      return rule.verify(config, undefined, claims, issuerUrl);
    return missingClaim(rule.claim);
  }
  if (jsonTypeOf(value) !== rule.type) return wrongType(rule.claim, rule.type, value);
  if (typeof value === 'string' && hasControlCharacter(value))
    return controlCharacterIn(rule.claim);
  switch (rule.kind) {
    case 'required-unverifiable':
      return null;
    case 'optional-verifiable':
      return rule.verify(config, value as string, claims, issuerUrl);
    case 'required-verifiable':
      return rule.type === 'string'
        ? rule.verify(config, value as string, claims, issuerUrl)
        : rule.verify(config, value as boolean, claims, issuerUrl);
  }
}

/** Every rule of the table against the claims, failures in table order ([] = it matches). */
export function checkRules<C>(
  rules: readonly Rule<C>[],
  config: C,
  claims: Claims,
  issuerUrl: string,
): ClaimFailure[] {
  const failures: ClaimFailure[] = [];
  for (const rule of rules) {
    const message = runRule(rule, config, claims, issuerUrl);
    if (message !== null) failures.push({ claim: rule.claim, message });
  }
  return failures;
}

/**
 * The first required claim that is absent, null or of the wrong JSON type (Warehouse checks the
 * existence of every required claim before it looks a publisher up), or null.
 */
export function firstMissingOrMistyped<C>(
  rules: readonly Rule<C>[],
  claims: Claims,
): ClaimFailure | null {
  for (const rule of rules) {
    if (rule.kind === 'optional-verifiable') continue;
    const value = claims[rule.claim];
    if (value === undefined || value === null)
      return { claim: rule.claim, message: missingClaim(rule.claim) };
    if (jsonTypeOf(value) !== rule.type)
      return { claim: rule.claim, message: wrongType(rule.claim, rule.type, value) };
  }
  return null;
}

/** A claim that is a string, or '' (absent, null or another type: its own rule reports that). */
export function stringClaim(claims: Claims, name: string): string {
  const value = claims[name];
  return typeof value === 'string' ? value : '';
}

/** The named claims as strings (numbers and booleans written out), or null. */
export function provenanceOf(
  claims: Claims,
  names: readonly string[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of names) {
    const value = claims[name];
    out[name] =
      typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : null;
  }
  return out;
}

/** A config field that may be absent in a stored configuration: absent reads as '' ("any"). */
export function optionalField(value: string | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** A registration field, trimmed ('' when not given). */
export function trimmedField(
  input: Readonly<Record<string, string | undefined>>,
  name: string,
): string {
  const value = input[name];
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * ASCII-only case folding: the one rule for every case-insensitive comparison of claims and
 * registration fields (GitHub owners, repositories and environments, GitLab paths, host names).
 * Only A–Z become a–z; every other character stays as it is. Unicode lower-casing would let
 * look-alikes through: KELVIN SIGN (U+212A) lower-cases to 'k', and so 'p\u212Ag' would match
 * 'pkg'. Never use `toLowerCase`, `localeCompare` or `Intl.Collator` on a claim.
 */
export function foldCase(value: string): string {
  return value.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

/** An unambiguous canonical string from the parts of a trust rule. */
export function identityString(parts: readonly string[]): string {
  return JSON.stringify(parts);
}

/** A 7 to 64 digit hexadecimal commit id, safe to put into a URL. */
export function isCommitSha(value: string): boolean {
  return /^[0-9a-fA-F]{7,64}$/.test(value);
}

/**
 * A stored configuration (parsed JSON) read back as the provider's type: every `required` field a
 * string, every `optional` one a string or absent (absent reads as "any" downstream), nothing
 * else kept. null when it is not such an object: a row no validation wrote.
 */
export function parseStoredFields<C>(
  stored: unknown,
  required: readonly (keyof C & string)[],
  optional: readonly (keyof C & string)[] = [],
): C | null {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return null;
  const source = stored as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const name of required) {
    const value = source[name];
    if (typeof value !== 'string') return null;
    out[name] = value;
  }
  for (const name of optional) {
    const value = source[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') return null;
    out[name] = value;
  }
  return out as C;
}

/** A YAML scalar: plain when unambiguous, else double-quoted (JSON strings are valid YAML). */
export function yamlScalar(value: string): string {
  const plain = /^[A-Za-z0-9_][A-Za-z0-9_./ -]*$/;
  const keyword = /^(true|false|yes|no|on|off|null|~|[0-9.+-]+)$/i;
  if (plain.test(value) && !keyword.test(value) && !/ $/.test(value)) return value;
  return JSON.stringify(value);
}

/** Digits only (run and pipeline ids), safe to put into a URL. */
export function isNumericId(value: string | null): value is string {
  return value !== null && /^[0-9]{1,20}$/.test(value);
}

/**
 * `OWNER/REPO` or `GROUP/SUB/PROJECT` of path-safe names, safe to put into a URL: no segment is
 * `.` or `..`, which a browser would resolve out of the repository (`octo-org/..` → the host's root).
 */
export function isRepositoryPath(value: string | null): value is string {
  return (
    value !== null &&
    /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/.test(value) &&
    value.split('/').every((segment) => !/^[.]+$/.test(segment))
  );
}

/** A claim that is a non-empty string, or null. */
export function nonEmptyClaim(claims: Claims, name: string): string | null {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The links of a provider that says nothing but a name (or nothing at all). */
export function linksOf(repository: string | null): ProvenanceLinks {
  return {
    repository,
    workflow: null,
    ref: null,
    commitUrl: null,
    runLabel: null,
    runUrl: null,
  };
}

/** A flag as a string ('' for a switch or an absent option is `undefined`). */
export function flagString(flags: CliFlags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}
