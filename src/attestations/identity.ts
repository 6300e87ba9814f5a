// Which signing identity a trusted publisher stands for: the policy an attestation's Fulcio
// certificate must meet to count as built by that publisher (pypi-attestations' `GitHubPublisher`,
// `GitLabPublisher`, `GooglePublisher` policies; reference attestations.md §4), one table per
// provider in the shape of the claim tables (src/oidc/providers/), pure functions over plain data.
//
// Differences from PyPI, each on purpose:
// - the certificate's issuer must be the issuer the publisher is bound to, never a hard-coded one
//   (a publisher of a custom GitLab or GitHub Enterprise issuer verifies against its own);
// - GitHub: the workflow file is matched with trusted publishing's `job_workflow_ref` semantics
//   too: the Build Signer URI (the file that defines the job, what the publisher's token matched)
//   may name the publisher's workflow, as well as the Build Config URI (the top-level workflow,
//   PyPI's rule), both in the publisher's repository at the certificate's ref or commit; so a
//   publisher naming a reusable workflow of its repository verifies, where PyPI refuses it;
// - GitHub: the repository owner's numeric id, when the certificate carries it, must be the one
//   recorded at registration (an account re-created under the same name is another owner).
import { foldCase, quote } from '../oidc/providers/core.js';
import { PROVIDERS } from '../oidc/providers/index.js';
import type { AttestationPolicy, ProviderKind } from '../oidc/providers/types.js';
import type { CertificateField, SignerIdentity } from './sigstore.js';

/** PyPI's name for a publisher in provenance documents (`publisher.kind`). */
export type AttestationPublisherKind = 'GitHub' | 'GitLab' | 'Google';

/** The `publisher` object of a provenance document, as PyPI serves it. */
export type AttestationPublisher =
  | { kind: 'GitHub'; repository: string; workflow: string; environment: string | null }
  | { kind: 'GitLab'; repository: string; workflow_filepath: string; environment: string | null }
  | { kind: 'Google'; email: string };

/** The certificate fields' names in Fulcio's documentation, for messages. */
export const FIELD_NAMES: Record<CertificateField | 'san', string> = {
  san: 'Subject Alternative Name',
  issuer: 'Issuer',
  buildSignerUri: 'Build Signer URI',
  runnerEnvironment: 'Runner Environment',
  sourceRepositoryUri: 'Source Repository URI',
  sourceRepositoryDigest: 'Source Repository Digest',
  sourceRepositoryRef: 'Source Repository Ref',
  sourceRepositoryOwnerId: 'Source Repository Owner ID',
  buildConfigUri: 'Build Config URI',
};

export interface IdentityRule<C> {
  field: CertificateField | 'san';
  /** One line: how it is checked. */
  check: string;
  /** null when the certificate passes, else the whole sentence. */
  verify(config: C, identity: SignerIdentity, issuerUrl: string): string | null;
}

function value(identity: SignerIdentity, field: CertificateField | 'san'): string | undefined {
  return field === 'san' ? identity.san || undefined : identity.fields[field];
}

function got(v: string | undefined): string {
  return v === undefined ? 'nothing' : quote(v);
}

export function fieldMismatch(
  field: CertificateField | 'san',
  expected: string,
  actual: string | undefined,
): string {
  return `the certificate's ${FIELD_NAMES[field]}: expected ${expected}, got ${got(actual)}`;
}

/** The certificate's issuer is the publisher's issuer, exactly (publishers are issuer-bound). */
function issuerRule<C>(): IdentityRule<C> {
  return {
    field: 'issuer',
    check: "equals the publisher's issuer URL, exactly",
    verify(_config, identity, issuerUrl) {
      const actual = identity.fields.issuer;
      return actual === issuerUrl ? null : fieldMismatch('issuer', quote(issuerUrl), actual);
    },
  };
}

/** `{web}/{path}@{ref or sha}` for the certificate's ref and commit: one of these must match. */
function atRefOrSha(prefix: string, identity: SignerIdentity): string[] {
  const refs = [identity.fields.sourceRepositoryRef, identity.fields.sourceRepositoryDigest];
  return refs.filter((r): r is string => r !== undefined && r !== '').map((r) => `${prefix}@${r}`);
}

/** Compares `{web}/OWNER/REPO/rest`: the repository part in any ASCII case, the rest exactly. */
function sameRepositoryUri(actual: string, expected: string, repositoryPart: number): boolean {
  return (
    foldCase(actual.slice(0, repositoryPart)) === foldCase(expected.slice(0, repositoryPart)) &&
    actual.slice(repositoryPart) === expected.slice(repositoryPart)
  );
}

// --- The rules, from each provider's policy (src/oidc/providers/<kind>: `attestation`) ------

/** A repository-shaped policy (GitHub, GitLab) as a table of rules. */
function repositoryRules<C>(
  policy: Extract<AttestationPolicy<C>, { shape: 'repository' }>,
): IdentityRule<C>[] {
  const rules: IdentityRule<C>[] = [
    issuerRule(),
    {
      field: 'sourceRepositoryUri',
      check: policy.repositoryCheck,
      verify(config, identity, issuerUrl) {
        const expected = policy.repositoryUrl(config, issuerUrl);
        const actual = identity.fields.sourceRepositoryUri;
        if (actual !== undefined && foldCase(actual) === foldCase(expected)) return null;
        return fieldMismatch('sourceRepositoryUri', `${quote(expected)} (in any case)`, actual);
      },
    },
  ];
  const ownerId = policy.ownerId;
  if (ownerId)
    rules.push({
      field: 'sourceRepositoryOwnerId',
      check: "when present, equals the owner's numeric id recorded at registration",
      verify(config, identity) {
        const actual = identity.fields.sourceRepositoryOwnerId;
        if (actual === undefined || actual === ownerId(config)) return null;
        return fieldMismatch('sourceRepositoryOwnerId', quote(ownerId(config)), actual);
      },
    });
  rules.push({
    field: 'buildConfigUri',
    check: policy.configCheck,
    verify(config, identity, issuerUrl) {
      const { sourceRepositoryRef: ref, sourceRepositoryDigest: sha } = identity.fields;
      if (policy.refAndDigest && (ref === undefined || sha === undefined))
        return 'the certificate must have both a Source Repository Ref and a Source Repository Digest';
      const repository = policy.repositoryUrl(config, issuerUrl);
      const refs = atRefOrSha(`${repository}${policy.configPath(config)}`, identity);
      if (refs.length === 0 && !policy.refAndDigest)
        return 'the certificate has neither a Source Repository Ref nor a Source Repository Digest';
      const candidates = [identity.fields.buildConfigUri];
      if (policy.buildSigner) candidates.push(identity.fields.buildSignerUri);
      const matches = candidates.some(
        (uri) =>
          uri !== undefined && refs.some((e) => sameRepositoryUri(uri, e, repository.length)),
      );
      if (matches) return null;
      const mismatch = fieldMismatch(
        'buildConfigUri',
        `one of ${refs.map(quote).join(', ')}`,
        identity.fields.buildConfigUri,
      );
      return policy.buildSigner
        ? `${mismatch} (Build Signer URI ${got(identity.fields.buildSignerUri)})`
        : mismatch;
    },
  });
  return rules;
}

/** An email-shaped policy (Google) as a table of rules. */
function emailRules<C>(
  policy: Extract<AttestationPolicy<C>, { shape: 'email' }>,
): IdentityRule<C>[] {
  return [
    issuerRule(),
    {
      field: 'san',
      check: "equals the service account's e-mail address, exactly",
      verify(config, identity) {
        const actual = value(identity, 'san');
        const expected = policy.email(config);
        return actual === expected ? null : fieldMismatch('san', quote(expected), actual);
      },
    },
  ];
}

/** The rules a certificate must meet for a publisher of this kind (null: unsupported). */
export function identityRules(kind: ProviderKind): readonly IdentityRule<unknown>[] | null {
  const policy = PROVIDERS[kind].attestation;
  switch (policy.shape) {
    case 'repository':
      return repositoryRules(policy);
    case 'email':
      return emailRules(policy);
    case 'unsupported':
      return null;
  }
}

export const GITHUB_IDENTITY_RULES = identityRules('github')!;
export const GITLAB_IDENTITY_RULES = identityRules('gitlab')!;
export const GOOGLE_IDENTITY_RULES = identityRules('google')!;

// --- The policy --------------------------------------------------------------------------------

/** A registered publisher as the policies see it. */
export interface PublisherIdentity {
  kind: ProviderKind;
  issuerUrl: string;
  config: unknown;
}

/** Why no attestation can be verified for this kind of publisher, or null. */
export function unsupportedKind(kind: ProviderKind): string | null {
  const policy = PROVIDERS[kind].attestation;
  return policy.shape === 'unsupported' ? policy.reason : null;
}

/** The first rule the certificate fails, or null when it is this publisher's. */
export function checkIdentity(
  publisher: PublisherIdentity,
  identity: SignerIdentity,
): string | null {
  const rules = identityRules(publisher.kind);
  if (rules === null) return unsupportedKind(publisher.kind);
  for (const rule of rules) {
    const failure = rule.verify(publisher.config, identity, publisher.issuerUrl);
    if (failure !== null) return failure;
  }
  return null;
}

/** The publisher as a provenance document names it (PyPI's `attestation_identity`). */
export function attestationPublisher(publisher: PublisherIdentity): AttestationPublisher | null {
  const policy = PROVIDERS[publisher.kind].attestation;
  if (policy.shape === 'unsupported') return null;
  return policy.publisher(publisher.config) as AttestationPublisher;
}
