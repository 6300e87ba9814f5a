// Protected refs (pier): a GitHub or GitLab publisher can accept jobs on protected branches and
// tags only, from the `ref_protected` claim both platforms send as the string "true" or
// "false". Sources: GitHub's "About security hardening with OpenID Connect" (the example token's
// `"ref_protected": "false"`) and GitLab's "ID token authentication" (`ref_protected`: "true if
// the Git ref is protected, false otherwise"). Who may push to a protected ref is the
// platform's setting (branch protection rules, GitLab protected branches and tags): this rule
// lets an index owner rely on it. A narrowing rule: two publishers that differ only in it still
// overlap (src/oidc/overlap.ts stays conservative).
import { mismatch } from './core.js';
import type { Rule } from './core.js';
import type { CliFlags, CliOption, RegistrationField } from './types.js';

export interface ProtectedRefConfig {
  /** 'true': protected refs only; absent or '' = any ref (configurations stored before it). */
  protectedRef?: string;
}

export function protectedRefOnly(config: ProtectedRefConfig): boolean {
  return config.protectedRef === 'true';
}

/** The registration field: '' or 'false' (any ref) and 'true'; anything else is refused. */
export function validateProtectedRef(
  value: string | undefined,
  errors: Record<string, string>,
): '' | 'true' {
  const v = (value ?? '').trim();
  if (v === '' || v === 'false') return '';
  if (v === 'true') return 'true';
  errors.protectedRef = "Must be 'true' (protected branches and tags only) or 'false'";
  return '';
}

export function checkProtectedRef(
  config: ProtectedRefConfig,
  claim: string | undefined,
): string | null {
  if (!protectedRefOnly(config) || claim === 'true') return null;
  if (claim === undefined)
    return "Missing claim 'ref_protected': the publisher accepts protected branches and tags only";
  return mismatch('ref_protected', "'true' (protected branches and tags only)", claim);
}

/** The rule of the claim tables of GitHub and GitLab. */
export function protectedRefRule<C extends ProtectedRefConfig>(): Rule<C> {
  return {
    claim: 'ref_protected',
    kind: 'optional-verifiable',
    type: 'string',
    check: "'true' when the publisher accepts protected refs only (pier); else not compared",
    verify: checkProtectedRef,
  };
}

/** Its part of the publisher's identity: nothing when off, so stored identities keep their key. */
export function protectedRefIdentity(config: ProtectedRefConfig): string[] {
  return protectedRefOnly(config) ? ['protected-ref'] : [];
}

export function describeProtectedRef(config: ProtectedRefConfig): string {
  return protectedRefOnly(config) ? ', protected refs only' : '';
}

/** Its registration field, as the web form shows it. */
export const PROTECTED_REF_FIELD: RegistrationField = {
  name: 'protectedRef',
  label: 'Refs',
  choices: [
    { value: '', label: 'any ref' },
    { value: 'true', label: 'protected branches and tags only' },
  ],
  hint: 'With protected refs only, a job on an unprotected branch cannot publish (pier).',
};

/** Its `pier publisher add` switch. */
export const PROTECTED_REF_OPTION: CliOption = {
  flags: '--protected-ref',
  description: 'only jobs on protected branches and tags (ref_protected; pier extension)',
};

/** The switch as a registration field. */
export function protectedRefFlag(flags: CliFlags): string | undefined {
  return flags.protectedRef === true ? 'true' : undefined;
}
