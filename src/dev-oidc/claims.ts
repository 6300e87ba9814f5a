// What every development token shape (./shape.ts) is made with: the defaults and the precedence of
// the settings, the --claims file and the derived claims.
//
// Precedence, lowest first: defaults; claims derived from the settings (sub, workflow_ref, ...);
// the claims file; the claims the flags set directly. A setting's value comes from its flag,
// else from the file's claim of the same meaning (when a string), else the default — so
// derived claims follow the flags and the file, unless the file sets the derived claim itself.
// A claim whose final value is null is removed.
import type { DevClaims, JobSettings } from './shape.js';

export type Claims = DevClaims;
export type DevClaimsIn = Readonly<DevClaims>;

export const DEFAULTS = {
  repository: 'octo-org/octo-repo',
  ownerId: '65',
  repositoryId: '74',
  githubWorkflow: 'release.yml',
  gitlabWorkflow: '.gitlab-ci.yml',
  ref: 'refs/heads/main',
  sha: '1c4a7a3f0b8e2d9c6f5e4d3c2b1a09f8e7d6c5b4',
  githubEvent: 'push',
  gitlabEvent: 'push',
  actor: 'octocat',
  actorId: '12',
  runId: '1234567890',
  runNumber: '1',
  runAttempt: '1',
  jobId: '1234567891',
  namespaceId: '72',
} as const;

/** A non-empty string, else undefined. */
export const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** A claim as an environment variable's value: strings, numbers and booleans. */
export const stringOf = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : undefined;

/** A value as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Drop the undefined entries (a flag not given). */
export function given(claims: Record<string, string | undefined>): DevClaims {
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
}

/** Later objects win; a null value removes the claim. */
export function mergeClaims(...layers: DevClaimsIn[]): DevClaims {
  const out: DevClaims = {};
  for (const layer of layers) Object.assign(out, layer);
  for (const [k, v] of Object.entries(out)) if (v === null) delete out[k];
  return out;
}

/** The environment: its flag, else the file's non-empty `environment` claim. */
export function environmentOf(job: Readonly<JobSettings>, file: DevClaimsIn): string | undefined {
  if (job.environment !== undefined) return job.environment;
  return text(file.environment);
}

/** The job settings by the flag that sets each, for the refusals of a platform without them. */
export const SETTING_FLAGS: readonly (readonly [keyof JobSettings, string])[] = [
  ['repository', '--repository'],
  ['ownerId', '--owner-id'],
  ['workflow', '--workflow'],
  ['environment', '--environment'],
  ['ref', '--ref'],
  ['sha', '--sha'],
  ['event', '--event'],
  ['jobWorkflowRef', '--job-workflow-ref'],
];

/**
 * The first setting given that the platform's tokens cannot say, as `--FLAG is not for --kind
 * KIND: WHY` (refused rather than silently left out), or null.
 */
export function refusedSetting(
  job: Readonly<JobSettings>,
  kind: string,
  why: string,
  allowed: readonly (keyof JobSettings)[] = [],
): string | null {
  for (const [setting, flag] of SETTING_FLAGS)
    if (job[setting] !== undefined && !allowed.includes(setting))
      return `${flag} is not for --kind ${kind}: ${why}`;
  return null;
}

/** A loopback address to listen on: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  return /^127(?:\.\d{1,3}){3}$/.test(host) || host === '::1' || host === 'localhost';
}
