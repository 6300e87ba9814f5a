// The contract between the claim rules of each trusted-publishing provider (one file each, pure
// functions over plain data) and the parts of pier that do I/O: JWT verification, the database
// of publishers and the token exchange.
//
// A provider declares its rules in a table (`rules`), the way Warehouse's `oidc/models/*.py`
// declare `__required_verifiable_claims__`, `__required_unverifiable_claims__`,
// `__optional_verifiable_claims__` and `__unchecked_claims__`, so that a reviewer can read the
// table against the CI platform's documentation.
import type { DevTokenShape } from '../../dev-oidc/shape.js';

export type ProviderKind =
  | 'github'
  | 'gitlab'
  | 'google'
  | 'activestate'
  | 'buildkite'
  | 'generic'
  | 'forgejo'
  | 'circleci'
  | 'bitbucket'
  | 'jenkins'
  | 'azure';

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

/** A registration field, as the web form, the CLI and the REST API take it. */
export interface RegistrationField {
  /** The field's name in `validateConfig`'s input, the form and the REST API body. */
  name: string;
  label: string;
  placeholder?: string;
  hint?: string;
  optional?: boolean;
  /** A choice among values instead of a text input. */
  choices?: { value: string; label: string }[];
}

/** A `pier publisher add` option of a provider (options several providers share are merged). */
export interface CliOption {
  /** commander's flags: '--email <email>', or '--protected-ref' for a switch. */
  flags: string;
  /** What it means for this provider. */
  description: string;
  /** The option may be given several times (its flag then reads as a list). */
  repeatable?: boolean;
}

/** Parsed `pier publisher add` flags, by commander's camel-cased name. */
export type CliFlags = Readonly<Record<string, string | readonly string[] | boolean | undefined>>;

/** What a provider's CLI options become: its registration fields, or a one-line error. */
export type CliFieldsResult = { ok: true; fields: ConfigInput } | { ok: false; message: string };

/**
 * The links of the provenance line, from a CI run's claims: raw strings (the web layer accepts
 * only http(s) URLs and escapes everything), null for what the claims do not say.
 */
export interface ProvenanceLinks {
  repository: string | null;
  workflow: string | null;
  ref: string | null;
  commitUrl: string | null;
  runLabel: string | null;
  runUrl: string | null;
}

/** What a provider's pipeline template depends on besides the publisher. */
export interface TemplateContext {
  /** The upload URL as the platform's configuration reads it (a URL or a variable). */
  uploadUrl: string;
  /** The OIDC audience CI tokens are minted for. */
  audience: string;
  /** The GitHub Action reference (`owner/repo@ref`) to use, or null for the pypa action. */
  actionRef: string | null;
}

/** A ready-to-copy CI configuration (or, without a path, instructions). */
export interface PipelineTemplate {
  path: string | null;
  text: string;
  language: 'yaml' | 'text';
}

/**
 * The signing identity a publisher stands for (src/attestations/identity.ts turns this into the
 * rules a Fulcio certificate must meet). 'repository': the certificate's Source Repository URI is
 * the publisher's repository (in any case) and its Build Config URI the publisher's pipeline file
 * in it at the certificate's ref or commit; 'email': the certificate's SAN is the account's email.
 */
export type AttestationPolicy<C> =
  | {
      shape: 'repository';
      /** The web URL of the repository, as the certificate's Source Repository URI names it. */
      repositoryUrl(config: C, issuerUrl: string): string;
      /** One line for the Source Repository URI rule. */
      repositoryCheck: string;
      /** What follows the repository URL in the Build Config URI, before '@REF'. */
      configPath(config: C): string;
      /** One line for the Build Config URI rule. */
      configCheck: string;
      /** The owner's id recorded at registration, checked when the certificate carries one. */
      ownerId?(config: C): string;
      /** The Build Signer URI (the job's own file) may name the pipeline file instead. */
      buildSigner: boolean;
      /** The certificate must carry both the ref and the commit (else either suffices). */
      refAndDigest: boolean;
      /** The `publisher` object of a provenance document, as PyPI serves it. */
      publisher(config: C): Readonly<Record<string, string | null>>;
    }
  | {
      shape: 'email';
      email(config: C): string;
      publisher(config: C): Readonly<Record<string, string | null>>;
    }
  | { shape: 'unsupported'; reason: string };

export interface Provider<C> {
  kind: ProviderKind;
  /** 'GitHub', 'GitLab', 'Google', 'ActiveState'. */
  displayName: string;
  /**
   * The issuer built in for this provider, exactly as tokens carry it in `iss`; null when every
   * publisher names a registered issuer (generic OIDC, or a self-hosted forge where each instance
   * is its own issuer).
   */
  builtinIssuer: string | null;
  /** One line for the docs' table: what the publisher names. */
  summary: string;
  /** The registration fields, in the order the form shows them. */
  fields: readonly RegistrationField[];
  /** A valid registration, for the docs (its pipeline template) and the registry's tests. */
  example: ConfigInput;
  /** `pier publisher add` options, and how they become the registration fields. */
  cli: {
    options: readonly CliOption[];
    /** An example of the options, for the docs. */
    example: string;
    fields(flags: CliFlags): CliFieldsResult;
  };
  /** A configuration as stored (JSON), typed, or null when it is not one of this provider's. */
  parseConfig(stored: unknown): C | null;
  /** Whether a job could satisfy both publishers (same issuer and lookup key assumed). */
  overlaps(a: C, b: C): boolean;
  /** The repository, workflow, commit and CI run a run's claims name, under this issuer. */
  links(claims: Claims, issuerUrl: string): ProvenanceLinks;
  /** The policy for attestations' signing certificates. */
  attestation: AttestationPolicy<C>;
  /** The pipeline file for the settings page. */
  template: {
    /** How the platform's configuration reads a CI variable, or null (then text says what). */
    variable(name: string): string | null;
    render(config: C, context: TemplateContext): PipelineTemplate;
  };
  /** The table. */
  rules: readonly ClaimRule[];
  /** Claims deliberately not checked (besides the registered claims the JWT verification checks). */
  uncheckedClaims: readonly string[];
  /** Prefixes of claim names deliberately not checked. */
  uncheckedPrefixes: readonly string[];
  /**
   * Registration fields → normalized config, with the reference §6 messages next to each field.
   * Network lookups (GitHub's owner id, Forgejo's repository and owner ids: src/oidc/id-lookup.ts)
   * are done by the caller; the ids arrive as fields (e.g. ownerId).
   */
  validateConfig(input: ConfigInput): ValidateResult<C>;
  /**
   * Indexed key to find candidate publishers from a token, from the config and from claims
   * (lower-cased 'owner/repo' for GitHub, lower-cased project_path for GitLab, email for Google,
   * 'org/project' for ActiveState). Whatever passes `check` has the config's key.
   */
  lookupKeyOfConfig(config: C): string;
  /**
   * The key from a token; fails on the first required claim that is missing or mistyped. A
   * provider whose key claim depends on the publisher (generic OIDC) offers several keys.
   */
  lookupKeyOfClaims(
    claims: Claims,
  ):
    | { ok: true; key: string }
    | { ok: true; keys: readonly string[] }
    | { ok: false; failure: ClaimFailure };
  /**
   * Publishers with different lookup keys may still match one job (generic OIDC: keys on
   * different claims), so rival pending publishers are compared across keys.
   */
  rivalsAcrossLookupKeys?: boolean;
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
  /**
   * The platform always writes `aud` as a list (Jenkins' OpenID Connect Provider plugin): a list
   * of the index's audience alone is then accepted too (src/oidc/verify.ts). Never a longer list.
   */
  audienceList?: boolean;
  /**
   * The audience every token of the platform carries, when a job cannot ask for another (Azure
   * DevOps: api://AzureADTokenExchange): the exchange expects it instead of the index's. Such
   * tokens are not bound to this index; the provider's module says what makes up for it.
   */
  fixedAudience?: string;
  /**
   * Why an issuer URL cannot be one of this kind's (`pier issuer add --kind KIND`), or null; for
   * a platform whose issuers have a known form (Azure DevOps: one per organization id).
   */
  issuerProblem?(url: string, insecure: boolean): string | null;
  /**
   * Why a valid configuration can never match a token of this issuer (its organization id is
   * not the issuer's), or null: `pier publisher add` refuses it instead of storing a dead rule.
   */
  issuerMismatch?(config: C, issuerUrl: string): string | null;
  /** The tokens `pier dev-oidc --kind KIND` mints, when the platform's shape can be imitated. */
  dev?: DevTokenShape;
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

export interface BuildkiteConfig {
  /** The organization's slug. */
  organization: string;
  /** The pipeline's slug. */
  pipeline: string;
  /** The organization's UUID (`organization_id`), pinned at registration. */
  organizationId: string;
  /** The pipeline's UUID (`pipeline_id`), pinned at registration. */
  pipelineId: string;
  /** '' = any. */
  branch?: string;
  /** '' = any. */
  stepKey?: string;
}

/** One rule of a generic OIDC publisher: `claim = value` (exact) or `claim ~ glob`. */
export interface GenericClaimRule {
  claim: string;
  op: '=' | '~';
  value: string;
}

export interface GenericConfig {
  /** Sorted by claim, one per claim. */
  rules: GenericClaimRule[];
  /** Claims the registrant marked immutable, sorted; each has an exact rule. */
  immutable: string[];
}

export interface ForgejoConfig {
  owner: string;
  /** `repository_owner_id`, pinned at registration. */
  ownerId: string;
  repository: string;
  /** `repository_id`, pinned at registration. */
  repositoryId: string;
  /** The workflow file's path in the repository: `.forgejo/workflows/release.yml`. */
  workflow: string;
  /** '' = any. */
  environment: string;
  /** '' = any; a glob such as refs/tags/v*. */
  ref: string;
}
