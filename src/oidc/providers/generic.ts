// A generic OIDC publisher, for a CI platform pier has no provider of its own for (Jenkins,
// CircleCI, Woodpecker, a company's own identity service …): the issuer (registered with
// `pier issuer add --kind generic`, there is no built-in one), and a list of claim rules, each
// `claim = value` (the claim is a string equal to the value, character for character) or
// `claim ~ glob` (a string matching the glob of src/oidc/providers/ref-glob.ts: `*` any run
// without '/', `**` any run). Every rule must hold; a claim missing from the token, null, or not
// a string (a number, a boolean, an array) fails its rule: there is no string form to compare.
//
// pier cannot know which of an unknown issuer's claims identify a job and which a job's author
// picks, so the registrant says so: at least one claim is marked immutable (`sub`, a project or
// repository id: a value the issuer assigns and never gives to another job's owner), and each
// immutable claim has an exact rule. Registration refuses rules that could match every job of the
// issuer: no rules, no exact rule on an immutable claim, a glob without a literal character (`*`,
// `**`, `*/*`), an empty value, and claims that say nothing about the job (`iss`, `aud`, `exp`,
// `iat`, `nbf`, `jti`, …: the JWT verification checks or ignores them).
//
// The lookup key is the exact rule on the first immutable claim (by name), so candidates are
// found through the index: the token offers one key per string claim it carries.
import {
  DEFAULTS,
  environmentOf,
  given,
  mergeClaims,
  shellQuote,
  text,
} from '../../dev-oidc/claims.js';
import type { DevClaims, DevTokenShape, JobSettings } from '../../dev-oidc/shape.js';
import {
  controlCharacterIn,
  hasControlCharacter,
  identityString,
  linksOf,
  missingClaim,
  mismatch,
  nonEmptyClaim,
  provenanceOf,
  quote,
  trimmedField,
  wrongType,
} from './core.js';
import { refPatternToRegExp } from './ref-glob.js';
import type {
  ClaimFailure,
  ClaimRule,
  Claims,
  CliFlags,
  CliFieldsResult,
  ConfigInput,
  GenericClaimRule,
  GenericConfig,
  PipelineTemplate,
  Provider,
  ProvenanceLinks,
  TemplateContext,
  ValidateResult,
} from './types.js';

/** At most this many rules per publisher. */
export const MAX_RULES = 16;
/** At most this many characters per value or glob. */
export const MAX_VALUE_LENGTH = 256;
/** A token offers at most this many lookup keys (one per string claim). */
export const MAX_LOOKUP_KEYS = 64;

/** Claim names: letters, digits and `_ . : -`, starting with a letter or `_`, at most 64. */
const VALID_CLAIM = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/**
 * Claims that say nothing about which job a token is for: the registered claims the JWT
 * verification checks (`iss`, `aud`, `exp`, `nbf`, `iat`), the token's own id (`jti`, unique per
 * token) and the per-login values of OpenID Connect (`nonce`, `auth_time`, `at_hash`, `c_hash`).
 */
export const RESERVED_CLAIMS: readonly string[] = [
  'iss',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'nonce',
  'auth_time',
  'at_hash',
  'c_hash',
];

// --- Rules ------------------------------------------------------------------------------------

/** A glob without a literal character other than '/' could match any value. */
function globMatchesTooMuch(glob: string): boolean {
  return !/[^*/]/.test(glob);
}

function ruleText(rule: GenericClaimRule): string {
  return `${rule.claim} ${rule.op} ${rule.value}`;
}

/** One rule against the claims: null when it holds, else the sentence saying why not. */
export function checkGenericRule(rule: GenericClaimRule, claims: Claims): string | null {
  const value = claims[rule.claim];
  if (value === undefined || value === null) return missingClaim(rule.claim);
  if (typeof value !== 'string') return wrongType(rule.claim, 'string', value);
  if (hasControlCharacter(value)) return controlCharacterIn(rule.claim);
  if (rule.op === '=')
    return value === rule.value ? null : mismatch(rule.claim, quote(rule.value), value);
  return refPatternToRegExp(rule.value).test(value)
    ? null
    : mismatch(rule.claim, `a value matching ${quote(rule.value)}`, value);
}

export function checkGenericRules(config: GenericConfig, claims: Claims): ClaimFailure[] {
  const failures: ClaimFailure[] = [];
  for (const rule of config.rules) {
    const message = checkGenericRule(rule, claims);
    if (message !== null) failures.push({ claim: rule.claim, message });
  }
  return failures;
}

// --- Registration ------------------------------------------------------------------------------

/** Why one rule (`claim = value` or `claim ~ glob`) cannot be registered, or the rule. */
export function parseGenericRule(text: string): GenericClaimRule | string {
  const at = text.search(/[=~]/);
  if (at < 0) return `'${text}' is not a rule: write CLAIM = VALUE or CLAIM ~ GLOB`;
  const claim = text.slice(0, at).trim();
  const op = text[at] as '=' | '~';
  const value = text.slice(at + 1).trim();
  if (!VALID_CLAIM.test(claim))
    return `'${claim}' is not a claim name: letters, digits and _ . : - (at most 64)`;
  if (RESERVED_CLAIMS.includes(claim))
    return `The claim '${claim}' says nothing about the job: it cannot be a rule`;
  if (hasControlCharacter(value)) return `The rule on '${claim}' contains a control character`;
  if (value.length > MAX_VALUE_LENGTH)
    return `The rule on '${claim}' is too long (at most ${MAX_VALUE_LENGTH} characters)`;
  if (value === '') return `The rule on '${claim}' has no value: it would match too much`;
  if (op === '~') {
    if (!value.includes('*'))
      return `The glob on '${claim}' has no '*': write ${claim} = ${value} for an exact rule`;
    if (globMatchesTooMuch(value))
      return `The glob on '${claim}' matches every value: it needs a literal part`;
  }
  return { claim, op, value };
}

/** Rules are separated by ';' or line breaks (values therefore hold neither). */
function splitRules(text: string): string[] {
  return text
    .split(/[;\r\n]+/)
    .map((r) => r.trim())
    .filter((r) => r !== '');
}

/** `sub, project_id` or `sub project_id`. */
function splitNames(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((n) => n.trim())
    .filter((n) => n !== '');
}

export function validateGenericConfig(input: ConfigInput): ValidateResult<GenericConfig> {
  const errors: Record<string, string> = {};
  const rulesText = typeof input.rules === 'string' ? input.rules : '';
  const texts = splitRules(rulesText);
  const rules: GenericClaimRule[] = [];
  if (texts.length === 0)
    errors.rules = 'Specify the claim rules: CLAIM = VALUE or CLAIM ~ GLOB, separated by ;';
  else if (texts.length > MAX_RULES) errors.rules = `Too many rules (at most ${MAX_RULES})`;
  else
    for (const text of texts) {
      const rule = parseGenericRule(text);
      if (typeof rule === 'string') {
        errors.rules = rule;
        break;
      }
      if (rules.some((r) => r.claim === rule.claim)) {
        errors.rules = `Two rules on the claim '${rule.claim}': one per claim`;
        break;
      }
      rules.push(rule);
    }
  const names = splitNames(trimmedField(input, 'immutable'));
  const immutable = [...new Set(names)].sort();
  if (immutable.length === 0)
    errors.immutable =
      'Name at least one immutable claim (one the issuer assigns and never reuses, such as sub), with an exact rule';
  else if (immutable.length > MAX_RULES) errors.immutable = 'Too many immutable claims';
  else if (!errors.rules)
    for (const name of immutable) {
      if (!VALID_CLAIM.test(name) || hasControlCharacter(name)) {
        errors.immutable = `'${name}' is not a claim name`;
        break;
      }
      if (!rules.some((r) => r.claim === name && r.op === '=')) {
        errors.immutable = `The immutable claim '${name}' needs an exact rule (${name} = VALUE)`;
        break;
      }
    }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  rules.sort((a, b) => (a.claim < b.claim ? -1 : a.claim > b.claim ? 1 : 0));
  return { ok: true, config: { rules, immutable } };
}

function parseGenericConfig(stored: unknown): GenericConfig | null {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return null;
  const { rules, immutable } = stored as Record<string, unknown>;
  if (!Array.isArray(rules) || !Array.isArray(immutable) || rules.length === 0) return null;
  const out: GenericClaimRule[] = [];
  for (const r of rules as unknown[]) {
    if (r === null || typeof r !== 'object') return null;
    const { claim, op, value } = r as Record<string, unknown>;
    if (typeof claim !== 'string' || typeof value !== 'string' || (op !== '=' && op !== '~'))
      return null;
    out.push({ claim, op, value });
  }
  if (!immutable.every((n): n is string => typeof n === 'string')) return null;
  // A configuration whose immutable claims lack their exact rule was written by no validation.
  if (
    immutable.length === 0 ||
    !immutable.every((n) => out.some((r) => r.claim === n && r.op === '='))
  )
    return null;
  return { rules: out, immutable: [...immutable] };
}

/** The exact rule the lookup key comes from: the first immutable claim's. */
function keyRule(config: GenericConfig): GenericClaimRule {
  const name = [...config.immutable].sort()[0]!;
  return config.rules.find((r) => r.claim === name && r.op === '=')!;
}

function lookupKey(claim: string, value: string): string {
  return JSON.stringify([claim, value]);
}

/** The token's candidate keys: one per claim that could be an immutable exact rule's. */
export function genericLookupKeys(claims: Claims): string[] {
  const keys: string[] = [];
  for (const [name, value] of Object.entries(claims)) {
    if (keys.length >= MAX_LOOKUP_KEYS) break;
    if (typeof value !== 'string' || value === '' || value.length > MAX_VALUE_LENGTH) continue;
    if (!VALID_CLAIM.test(name) || RESERVED_CLAIMS.includes(name)) continue;
    if (hasControlCharacter(value) || /[;\r\n]/.test(value)) continue;
    keys.push(lookupKey(name, value));
  }
  return keys;
}

/**
 * Whether a job could satisfy both (conservative): disjoint only when both have an exact rule on
 * one claim with different values, or an exact value of one fails the other's glob on that claim.
 */
export function genericOverlap(a: GenericConfig, b: GenericConfig): boolean {
  for (const ra of a.rules) {
    const rb = b.rules.find((r) => r.claim === ra.claim);
    if (!rb) continue;
    if (ra.op === '=' && rb.op === '=' && ra.value !== rb.value) return false;
    if (ra.op === '=' && rb.op === '~' && !refPatternToRegExp(rb.value).test(ra.value))
      return false;
    if (ra.op === '~' && rb.op === '=' && !refPatternToRegExp(ra.value).test(rb.value))
      return false;
  }
  return true;
}

// --- CLI ---------------------------------------------------------------------------------------

function flagList(flags: CliFlags, name: string): string[] {
  const value = flags[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function cliFields(flags: CliFlags): CliFieldsResult {
  const rules: string[] = [];
  for (const [name, op] of [
    ['claim', '='],
    ['claimGlob', '~'],
  ] as const) {
    for (const option of flagList(flags, name)) {
      const at = option.indexOf('=');
      if (at < 0)
        return {
          ok: false,
          message: `--${name === 'claim' ? 'claim' : 'claim-glob'} takes NAME=${op === '=' ? 'VALUE' : 'GLOB'}, not '${option}'`,
        };
      if (/[;\r\n]/.test(option))
        return { ok: false, message: `A claim rule cannot contain ';' or a line break` };
      rules.push(`${option.slice(0, at)} ${op} ${option.slice(at + 1)}`);
    }
  }
  return {
    ok: true,
    fields: {
      rules: rules.length > 0 ? rules.join('; ') : undefined,
      immutable: flagList(flags, 'immutable').join(',') || undefined,
    },
  };
}

// --- Presentation ----------------------------------------------------------------------------

export function genericLinks(claims: Claims): ProvenanceLinks {
  const links = linksOf(null);
  const sub = nonEmptyClaim(claims, 'sub');
  if (sub !== null && !hasControlCharacter(sub)) links.runLabel = `sub ${sub}`;
  return links;
}

export function genericTemplate(c: GenericConfig, context: TemplateContext): PipelineTemplate {
  const lines = [
    `Have the CI job ask its issuer for an OIDC token with the audience ${context.audience}, whose claims satisfy every rule:`,
    '',
    ...c.rules.map((r) => `    ${ruleText(r)}`),
    '',
    'Write the token to a file, then publish with it:',
    '',
    `    pier publish --repository-url ${context.uploadUrl} --oidc-token-file TOKEN_FILE dist/`,
  ];
  return { path: null, text: lines.join('\n') + '\n', language: 'text' };
}

const GENERIC_RULES: readonly ClaimRule[] = [
  {
    claim: 'CLAIM = VALUE',
    kind: 'required-verifiable',
    check:
      'each exact rule: the claim is a string equal to VALUE, character for character (every immutable claim has one)',
  },
  {
    claim: 'CLAIM ~ GLOB',
    kind: 'required-verifiable',
    check:
      "each glob rule: the claim is a string matching GLOB ('*' any run without '/', '**' any run)",
  },
];

// ---- `pier dev-oidc --kind generic`: tokens of an issuer pier has no provider for ----------
// There is no platform to imitate: the tokens are what the --claims file says, over a few plain
// claims the flags set (repository, owner_id, workflow, ref, sha, event_name, environment) and
// `sub`, `project:REPOSITORY` unless the file names its own. The printed publisher pins `sub`
// exactly and marks it immutable (a generic publisher needs one such claim), plus the
// environment when the token has one: the rules the tokens satisfy, and no broader.

function genericDevCheck(job: Readonly<JobSettings>): string | null {
  const plain = (flag: string, value: string | undefined) =>
    value !== undefined && (value === '' || /\s/.test(value) || hasControlCharacter(value))
      ? `${flag} must be a value without whitespace, got ${JSON.stringify(value)}`
      : null;
  const problem =
    plain('--repository', job.repository) ??
    plain('--owner-id', job.ownerId) ??
    plain('--workflow', job.workflow);
  if (problem) return problem;
  if (job.ref !== undefined && !/^refs\/\S+$/.test(job.ref))
    return `--ref must be a full ref such as refs/heads/main or refs/tags/v1.0, got '${job.ref}'`;
  if (job.jobWorkflowRef !== undefined)
    return '--job-workflow-ref is only for --kind github (reusable workflows)';
  return null;
}

function genericDevClaims(job: Readonly<JobSettings>, file: Readonly<DevClaims>): DevClaims {
  const repository = job.repository ?? text(file.repository) ?? DEFAULTS.repository;
  const environment = environmentOf(job, file);
  const derived: DevClaims = {
    sub: `project:${repository}`,
    repository,
    owner_id: job.ownerId ?? text(file.owner_id) ?? DEFAULTS.ownerId,
    workflow: job.workflow ?? text(file.workflow) ?? DEFAULTS.githubWorkflow,
    ref: job.ref ?? text(file.ref) ?? DEFAULTS.ref,
    sha: job.sha ?? text(file.sha) ?? DEFAULTS.sha,
    event_name: job.event ?? text(file.event_name) ?? DEFAULTS.githubEvent,
    ...(environment ? { environment } : {}),
  };
  const flagged = given({
    repository: job.repository,
    owner_id: job.ownerId,
    workflow: job.workflow,
    ref: job.ref,
    sha: job.sha,
    event_name: job.event,
    environment: job.environment,
  });
  return mergeClaims(derived, file, flagged);
}

const genericDevShape: DevTokenShape = {
  platform: 'generic OIDC',
  checkJob: genericDevCheck,
  claims: (job, file) => genericDevClaims(job, file),
  environment: () => ({}),
  publisherFlags: (c) => [
    `--claim ${shellQuote(`sub=${text(c.sub) ?? '<SUB>'}`)}`,
    '--immutable sub',
    ...(text(c.environment)
      ? [`--claim ${shellQuote(`environment=${String(c.environment)}`)}`]
      : []),
  ],
  notes: [
    '# (Generic tokens: the --claims file decides what they carry; the publisher below pins sub.)',
  ],
  flags:
    '--repository (repository, and sub = project:REPOSITORY unless the --claims file sets sub), --owner-id (owner_id), --workflow, --ref, --sha, --event (event_name) set plain claims',
};

export const genericProvider: Provider<GenericConfig> = {
  dev: genericDevShape,
  kind: 'generic',
  displayName: 'Generic OIDC',
  builtinIssuer: null,
  summary:
    'claim rules (CLAIM = VALUE, CLAIM ~ GLOB) for a registered issuer, with an exact rule on at least one claim marked immutable',
  fields: [
    {
      name: 'rules',
      label: 'Claim rules',
      placeholder: 'sub = project:acme/app; ref ~ refs/tags/v*',
      hint: "CLAIM = VALUE or CLAIM ~ GLOB, separated by ';'. Every rule must hold.",
    },
    {
      name: 'immutable',
      label: 'Immutable claims',
      placeholder: 'sub',
      hint: 'Claims the issuer assigns and never gives to another owner (such as sub or a project id), each with an exact rule.',
    },
  ],
  example: { rules: 'sub = project:acme/app; ref ~ refs/tags/v*', immutable: 'sub' },
  cli: {
    options: [
      {
        flags: '--claim <name=value>',
        description: 'generic: the claim equals the value (repeatable)',
        repeatable: true,
      },
      {
        flags: '--claim-glob <name=glob>',
        description: 'generic: the claim matches the glob (repeatable)',
        repeatable: true,
      },
      {
        flags: '--immutable <name>',
        description: 'generic: a claim that never changes owner, with a --claim (repeatable)',
        repeatable: true,
      },
    ],
    example: '--claim sub=project:acme/app --immutable sub [--claim-glob ref=refs/tags/v*]',
    fields: cliFields,
  },
  parseConfig: parseGenericConfig,
  overlaps: genericOverlap,
  links: (claims) => genericLinks(claims),
  attestation: {
    shape: 'unsupported',
    reason: 'Attestations are not currently supported with generic OIDC publishers',
  },
  template: {
    variable: () => null,
    render: genericTemplate,
  },
  rules: GENERIC_RULES,
  // Whatever the registered rules do not name is not checked.
  uncheckedClaims: [],
  uncheckedPrefixes: [],
  validateConfig: validateGenericConfig,
  lookupKeyOfConfig: (c) => {
    const rule = keyRule(c);
    return lookupKey(rule.claim, rule.value);
  },
  lookupKeyOfClaims(claims) {
    const keys = genericLookupKeys(claims);
    if (keys.length === 0)
      return {
        ok: false,
        failure: { claim: 'sub', message: 'the token carries no string claim a rule could name' },
      };
    return { ok: true, keys };
  },
  identityOf: (c) => identityString([...c.rules.map(ruleText), '|', ...c.immutable]),
  check: (config, claims) => checkGenericRules(config, claims),
  specificity: (c) => c.rules.length,
  provenance: (claims) => provenanceOf(claims, ['sub']),
  describe: (c) => `Generic OIDC ${c.rules.map(ruleText).join('; ')}`,
  url: () => null,
  rivalsAcrossLookupKeys: true,
};
