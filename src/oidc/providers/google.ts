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
  flagString,
  linksOf,
  nonEmptyClaim,
  parseStoredFields,
  yamlScalar,
  type Rule,
} from './core.js';
import { optionalOverlap } from './ref-glob.js';
import {
  isLoopbackHost,
  mergeClaims,
  refusedSetting,
  shellQuote,
  text,
} from '../../dev-oidc/claims.js';
import type { DevClaims, DevTokenShape } from '../../dev-oidc/shape.js';
import type {
  ConfigInput,
  GoogleConfig,
  PipelineTemplate,
  Provider,
  TemplateContext,
  ValidateResult,
} from './types.js';

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

/** A Cloud Build configuration running as the service account. */
export function googleBuild(c: GoogleConfig, context: TemplateContext): PipelineTemplate {
  const lines = [
    `# cloudbuild.yaml, run as ${c.email}`,
    'steps:',
    '  - name: python:3.12',
    '    entrypoint: bash',
    "    args: ['-c', 'python -m pip install build && python -m build']",
    '  - name: node:20',
    '    entrypoint: bash',
    `    args: ['-c', 'npm install --global "$$PIER_PACKAGE" && pier publish --repository-url ${context.uploadUrl} dist/']`,
    `serviceAccount: ${yamlScalar(`projects/$PROJECT_ID/serviceAccounts/${c.email}`)}`,
    'options:',
    '  logging: CLOUD_LOGGING_ONLY',
  ];
  return { path: 'cloudbuild.yaml', text: lines.join('\n') + '\n', language: 'yaml' };
}

// ---- `pier dev-oidc --kind google`: a service account's identity token -----------------------
// What a job on Compute Engine (and Cloud Build, Cloud Run, GKE, whose metadata servers answer
// the same request) gets from its metadata server: GET
// http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity?audience=AUD&format=full
// with `Metadata-Flavor: Google`, answered with the bare JWT
// (https://cloud.google.com/compute/docs/instances/verifying-instance-identity), whose claims
// are `email`, `email_verified`, `sub` and `azp` (the account's unique id) and, in the full
// format, `google.compute_engine` (the instance). Google's client libraries, and `pier publish`,
// reach it at GCE_METADATA_HOST when that is set: the server exports it. The token names an
// account, not a repository or a workflow, so every job flag is refused; a --claims file sets
// `email` (and `sub`, which `azp` follows). Like Google's, the metadata endpoint asks for no
// secret: it listens on loopback addresses only, and over plain HTTP as Google's does.

/** The account of the development tokens (a service account's address and unique id). */
export const GOOGLE_DEV_DEFAULTS = {
  email: 'publisher@octo-project.iam.gserviceaccount.com',
  sub: '104892763512096341265',
  project: 'octo-project',
  projectNumber: 123456789012,
} as const;

function googleDevClaims(_job: unknown, file: Readonly<DevClaims>): DevClaims {
  const d = GOOGLE_DEV_DEFAULTS;
  const sub = text(file.sub) ?? d.sub;
  const derived: DevClaims = {
    sub,
    azp: sub,
    email: d.email,
    email_verified: true,
    google: {
      compute_engine: {
        instance_creation_timestamp: 1735600000,
        instance_id: '4223423423423423423',
        instance_name: 'release-runner',
        project_id: d.project,
        project_number: d.projectNumber,
        zone: 'europe-west1-b',
      },
    },
  };
  return mergeClaims(derived, file);
}

const googleDevShape: DevTokenShape = {
  platform: 'Google Cloud',
  tokenRequest: 'gce-metadata',
  checkJob(job, server) {
    const refused = refusedSetting(
      job,
      'google',
      'a service account\'s token names the account (email, sub), not a job; set "email" in a --claims file',
    );
    if (refused) return refused;
    if (server?.tls)
      return '--tls-cert is not for --kind google: jobs reach the metadata server over plain HTTP (GCE_METADATA_HOST names no scheme)';
    if (server && !isLoopbackHost(server.host))
      return `--host must be a loopback address for --kind google: its metadata endpoint, like Google's, asks for no secret, got '${server.host}'`;
    return null;
  },
  claims: googleDevClaims,
  environment: () => ({}),
  publisherFlags: (c) => [
    `--email ${shellQuote(text(c.email) ?? '<EMAIL>')}`,
    ...(text(c.sub) ? [`--sub ${shellQuote(String(c.sub))}`] : []),
  ],
  notes: [
    "# (GCE_METADATA_HOST is where Google's client libraries and pier publish find the metadata",
    "#  server; like Google's, it gives a token to whoever asks on this machine.)",
  ],
  flags:
    "a service account's identity token from the metadata server (GCE_METADATA_HOST); no job flags apply: a --claims file sets email and sub (azp follows sub)",
};

export const googleProvider: Provider<GoogleConfig> = {
  dev: googleDevShape,
  kind: 'google',
  displayName: 'Google',
  builtinIssuer: GOOGLE_ISSUER_URL,
  summary: "a service account's email, optionally its unique id (`sub`)",
  fields: [
    {
      name: 'email',
      label: 'Service account email',
      placeholder: 'publisher@project.iam.gserviceaccount.com',
    },
    {
      name: 'sub',
      label: 'Subject (unique id)',
      optional: true,
      hint: "The account's numeric id: with it, an account re-created under the same email does not match.",
    },
  ],
  example: { email: 'publisher@my-project.iam.gserviceaccount.com', sub: '117843524623590187360' },
  cli: {
    options: [
      { flags: '--email <email>', description: 'Google: the service account email' },
      { flags: '--sub <sub>', description: 'Google: the subject (optional)' },
    ],
    example: '--email SA@PROJECT.iam.gserviceaccount.com [--sub ID]',
    fields: (flags) => ({
      ok: true,
      fields: { email: flagString(flags, 'email'), sub: flagString(flags, 'sub') },
    }),
  },
  parseConfig: (stored) => parseStoredFields<GoogleConfig>(stored, ['email'], ['sub']),
  // The email is the lookup key; the subject, when given, is exact.
  overlaps: (a, b) => optionalOverlap(optionalField(a.sub), optionalField(b.sub)),
  links: (claims) => linksOf(nonEmptyClaim(claims, 'email')),
  attestation: {
    shape: 'email',
    email: (c) => c.email,
    publisher: (c) => ({ kind: 'Google', email: c.email }),
  },
  template: {
    variable: (name) => `$_${name}`,
    render: googleBuild,
  },
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
