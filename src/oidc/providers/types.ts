// The contract between the claim rules of each trusted-publishing provider (one file each, pure
// functions over plain data) and the parts of pier that do I/O: JWT verification, the database
// of publishers and the token exchange.
//
// A provider declares its rules in a table (`rules`), the way Warehouse's `oidc/models/*.py`
// declare `__required_verifiable_claims__`, `__required_unverifiable_claims__`,
// `__optional_verifiable_claims__` and `__unchecked_claims__`, so that a reviewer can read the
// table against the CI platform's documentation.

export type ProviderKind = 'github' | 'gitlab' | 'google' | 'activestate';

/** The verified JWT payload. */
export type Claims = Readonly<Record<string, unknown>>;

/** A rule of the table that the token does not satisfy. `message` is the whole human sentence. */
export interface ClaimFailure {
  claim: string;
  message: string;
}

/** Registration fields, as typed. */
export type ConfigInput = Readonly<Record<string, string | undefined>>;

/** A normalized configuration, or a message per field. */
export type ValidateResult<C> =
  { ok: true; config: C } | { ok: false; errors: Record<string, string> };

export interface ClaimRule {
  claim: string;
  /**
   * required-verifiable: must be present (not null) and pass the check;
   * required-unverifiable: must be present, is not compared;
   * optional-verifiable: the check runs whether or not the claim is present.
   */
  kind: 'required-verifiable' | 'required-unverifiable' | 'optional-verifiable';
  /** One line: how it is checked. */
  check: string;
}

export interface Provider<C> {
  kind: ProviderKind;
  /** 'GitHub', 'GitLab', 'Google', 'ActiveState'. */
  displayName: string;
  /** The table. */
  rules: readonly ClaimRule[];
  /** Claims deliberately not checked (besides the registered claims the JWT verification checks). */
  uncheckedClaims: readonly string[];
  /** Prefixes of claim names deliberately not checked. */
  uncheckedPrefixes: readonly string[];
  /**
   * Registration fields → normalized config, with the reference §6 messages next to each field.
   * Network lookups (GitHub owner id, ActiveState ids) are done by the caller; the ids arrive as
   * fields (e.g. ownerId).
   */
  validateConfig(input: ConfigInput): ValidateResult<C>;
  /**
   * Indexed key to find candidate publishers from a token, from the config and from claims
   * (lower-cased 'owner/repo' for GitHub, lower-cased project_path for GitLab, email for Google,
   * 'org/project' for ActiveState). Whatever passes `check` has the config's key.
   */
  lookupKeyOfConfig(config: C): string;
  /** The key from a token; fails on the first required claim that is missing or mistyped. */
  lookupKeyOfClaims(
    claims: Claims,
  ): { ok: true; key: string } | { ok: false; failure: ClaimFailure };
  /** A canonical string identifying the publisher's trust rule, for duplicate detection. */
  identityOf(config: C): string;
  /**
   * Every rule of the table against the claims, for a publisher registered under issuerUrl.
   * [] means it matches. Failures in table order.
   */
  check(config: C, claims: Claims, issuerUrl: string): ClaimFailure[];
  /** Higher = more specific; among several matching publishers the most specific wins. */
  specificity(config: C): number;
  /** The claims that identify the CI run (provenance of minted tokens and uploaded files). */
  provenance(claims: Claims): Record<string, string | null>;
  /** One line for lists and audit logs. */
  describe(config: C): string;
  /** Link to the source (and to the commit when claims are given), or null (Google). */
  url(config: C, issuerUrl: string, claims?: Claims): string | null;
}

export interface GitHubConfig {
  owner: string;
  ownerId: string;
  repository: string;
  workflow: string;
  /** '' = any. */
  environment: string;
  /** '' = any; a glob such as refs/tags/v*. */
  ref: string;
  /** 'true': protected branches and tags only (src/oidc/providers/protected-ref.ts). */
  protectedRef?: string;
}

export interface GitLabConfig {
  namespace: string;
  project: string;
  workflowPath: string;
  /** '' = any. */
  environment: string;
  /** '' = any; a glob such as refs/tags/v*. */
  ref: string;
  /** 'true': protected branches and tags only (src/oidc/providers/protected-ref.ts). */
  protectedRef?: string;
}

export interface GoogleConfig {
  email: string;
  /** '' = any. */
  sub: string;
}

export interface ActiveStateConfig {
  organization: string;
  project: string;
  actor: string;
  actorId: string;
}
