// ActiveState Platform (reference §3.5 and §6; Warehouse `warehouse/oidc/models/activestate.py`
// and `warehouse/oidc/forms/activestate.py`).
//
// A publisher names an ActiveState organization and project and the actor (a platform user)
// allowed to publish; the actor's id, looked up at registration, is what is compared. Everything
// is exact: ActiveState's builder signs these claims as the platform knows them.
import {
  checkRules,
  firstMissingOrMistyped,
  identityString,
  mismatch,
  provenanceOf,
  quote,
  stringClaim,
  trimmedField,
  type Rule,
  flagString,
  linksOf,
  nonEmptyClaim,
  parseStoredFields,
} from './core.js';
import { given, mergeClaims, refusedSetting, shellQuote, text } from '../../dev-oidc/claims.js';
import type { DevClaims, DevTokenShape, JobSettings } from '../../dev-oidc/shape.js';
import { nameUuid } from '../../dev-oidc/uuid.js';
import type { ActiveStateConfig, ConfigInput, Provider, ValidateResult } from './types.js';

export const ACTIVESTATE_ISSUER_URL = 'https://platform.activestate.com/api/v1/oauth/oidc';

/** The name of ActiveState's builder that publishes to Python indexes. */
export const ACTIVESTATE_BUILDER = 'pypi-publisher';

// --- The claim checks -------------------------------------------------------------------------

/** `sub`: its first four ':'-separated parts are exactly `org:ORGANIZATION:project:PROJECT`. */
export function checkSub(config: ActiveStateConfig, claim: string): string | null {
  const expected = `org:${config.organization}:project:${config.project}`;
  const parts = claim.split(':');
  if (parts.length >= 4 && parts.slice(0, 4).join(':') === expected) return null;
  return mismatch('sub', `${quote(expected)}, optionally followed by ':…'`, claim);
}

export function checkOrganization(config: ActiveStateConfig, claim: string): string | null {
  return claim === config.organization
    ? null
    : mismatch('organization', quote(config.organization), claim);
}

export function checkProject(config: ActiveStateConfig, claim: string): string | null {
  return claim === config.project ? null : mismatch('project', quote(config.project), claim);
}

/** `actor_id`: exactly the id recorded at registration (the actor's name is not compared). */
export function checkActorId(config: ActiveStateConfig, claim: string): string | null {
  return claim === config.actorId ? null : mismatch('actor_id', quote(config.actorId), claim);
}

/** `builder`: always `pypi-publisher` (Warehouse's `check_claim_invariant`). */
export function checkBuilder(_config: ActiveStateConfig, claim: string): string | null {
  return claim === ACTIVESTATE_BUILDER
    ? null
    : mismatch('builder', quote(ACTIVESTATE_BUILDER), claim);
}

// --- The table --------------------------------------------------------------------------------

export const ACTIVESTATE_RULES: readonly Rule<ActiveStateConfig>[] = [
  {
    claim: 'sub',
    kind: 'required-verifiable',
    type: 'string',
    check: "first four ':'-separated parts are org:ORGANIZATION:project:PROJECT, exactly",
    verify: checkSub,
  },
  {
    claim: 'organization',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals ORGANIZATION, exactly',
    verify: checkOrganization,
  },
  {
    claim: 'project',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals PROJECT, exactly',
    verify: checkProject,
  },
  {
    claim: 'actor_id',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the actor's id recorded at registration, exactly",
    verify: checkActorId,
  },
  {
    claim: 'builder',
    kind: 'required-verifiable',
    type: 'string',
    check: `equals ${ACTIVESTATE_BUILDER}`,
    verify: checkBuilder,
  },
];

export const ACTIVESTATE_UNCHECKED_CLAIMS: readonly string[] = [
  // The actor's name; its id is checked.
  'actor',
  'artifact_id',
  'ingredient',
  'organization_id',
  'project_id',
  'project_path',
  'project_visibility',
  // Not required of ActiveState tokens; when present, the exchange still uses it only once.
  'jti',
];

export const ACTIVESTATE_UNCHECKED_PREFIXES: readonly string[] = [];

// --- Registration (reference §6, ActiveState row; names as in Warehouse's form) ---------------

const VALID_ORGANIZATION_OR_ACTOR = /^[a-zA-Z0-9-]{3,40}$/;
const VALID_PROJECT = /^[.a-zA-Z0-9-]{3,40}$/;

/** Warehouse's `_no_double_dashes` and `_no_leading_or_trailing_dashes`. */
function dashProblem(name: string): string | null {
  if (name.includes('--')) return 'Double dashes are not allowed in the name';
  if (name.startsWith('-') || name.endsWith('-'))
    return 'Leading or trailing dashes are not allowed in the name';
  return null;
}

function nameProblem(
  name: string,
  pattern: RegExp,
  required: string,
  invalid: string,
): string | null {
  if (name === '') return required;
  if (!pattern.test(name)) return invalid;
  return dashProblem(name);
}

export function validateActiveStateConfig(input: ConfigInput): ValidateResult<ActiveStateConfig> {
  const errors: Record<string, string> = {};
  const organization = trimmedField(input, 'organization');
  const project = trimmedField(input, 'project');
  const actor = trimmedField(input, 'actor');
  const actorId = trimmedField(input, 'actorId');
  const problems: [string, string | null][] = [
    [
      'organization',
      nameProblem(
        organization,
        VALID_ORGANIZATION_OR_ACTOR,
        'Specify ActiveState organization name',
        'Invalid ActiveState organization name',
      ),
    ],
    [
      'project',
      nameProblem(
        project,
        VALID_PROJECT,
        'Specify ActiveState project name',
        'Invalid ActiveState project name',
      ),
    ],
    [
      'actor',
      nameProblem(
        actor,
        VALID_ORGANIZATION_OR_ACTOR,
        'Specify the ActiveState actor username',
        'Invalid ActiveState username',
      ),
    ],
    [
      'actorId',
      actorId === ''
        ? "Specify the actor's id (it could not be looked up)"
        : /[\s:]/.test(actorId)
          ? `Invalid ActiveState actor id ${quote(actorId)}`
          : null,
    ],
  ];
  for (const [field, problem] of problems) if (problem !== null) errors[field] = problem;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, config: { organization, project, actor, actorId } };
}

// --- Presentation ----------------------------------------------------------------------------

// ---- `pier dev-oidc --kind activestate`: a token of ActiveState's pypi-publisher builder --------
// The claims Warehouse reads (reference §3.5): `sub` org:ORG:project:PROJECT, `organization`,
// `project`, `actor`, `actor_id`, `builder` pypi-publisher, and the unchecked `organization_id`,
// `project_id`, `project_path`, `project_visibility`, `artifact_id`, `ingredient`. ActiveState
// documents no example token: the ids are UUIDs here, made from the names (./dev-oidc/uuid.ts),
// so the printed publisher keeps matching. --repository ORG/PROJECT names the project; the actor
// comes from a --claims file (`actor`, `actor_id`); the builder's token says nothing of the rest.
// The issuer is the instance's /api/v1/oauth/oidc, as the platform's own.

export const ACTIVESTATE_ISSUER_PATH = '/api/v1/oauth/oidc';

export const ACTIVESTATE_DEV_DEFAULTS = {
  organization: 'acme-corp',
  project: 'widgets',
  actor: 'octocat',
} as const;

function activestateDevCheck(job: Readonly<JobSettings>): string | null {
  if (job.repository !== undefined) {
    const [org = '', project = '', ...rest] = job.repository.split('/');
    if (
      rest.length > 0 ||
      nameProblem(org, VALID_ORGANIZATION_OR_ACTOR, 'x', 'x') !== null ||
      nameProblem(project, VALID_PROJECT, 'x', 'x') !== null
    )
      return `--repository must be ORGANIZATION/PROJECT, ActiveState names (3 to 40 letters, digits and dashes; e.g. acme-corp/widgets), got '${job.repository}'`;
  }
  return refusedSetting(
    job,
    'activestate',
    "the pypi-publisher builder's token names the organization, project and actor only (set actor and actor_id in a --claims file)",
    ['repository'],
  );
}

function activestateDevClaims(job: Readonly<JobSettings>, file: Readonly<DevClaims>): DevClaims {
  const d = ACTIVESTATE_DEV_DEFAULTS;
  const [orgFlag, projectFlag] = job.repository?.split('/') ?? [];
  const organization = orgFlag ?? text(file.organization) ?? d.organization;
  const project = projectFlag ?? text(file.project) ?? d.project;
  const actor = text(file.actor) ?? d.actor;
  const derived: DevClaims = {
    sub: `org:${organization}:project:${project}`,
    organization,
    organization_id: nameUuid(`activestate-organization:${organization}`),
    project,
    project_id: nameUuid(`activestate-project:${organization}/${project}`),
    project_path: `${organization}/${project}`,
    project_visibility: 'public',
    actor,
    actor_id: nameUuid(`activestate-actor:${actor}`),
    builder: ACTIVESTATE_BUILDER,
    artifact_id: nameUuid(`activestate-artifact:${organization}/${project}`),
    ingredient: project,
  };
  return mergeClaims(derived, file, given({ organization: orgFlag, project: projectFlag }));
}

const activestateDevShape: DevTokenShape = {
  platform: 'ActiveState',
  issuer: (baseUrl) => `${baseUrl}${ACTIVESTATE_ISSUER_PATH}`,
  checkJob: activestateDevCheck,
  claims: activestateDevClaims,
  environment: () => ({}),
  publisherFlags: (c) => [
    `--organization ${shellQuote(text(c.organization) ?? '<ORG>')}`,
    `--activestate-project ${shellQuote(text(c.project) ?? '<PROJECT>')}`,
    `--actor ${shellQuote(text(c.actor) ?? '<ACTOR>')}`,
    `--actor-id ${shellQuote(text(c.actor_id) ?? '<ID>')}`,
  ],
  notes: [
    "# (ActiveState's builder publishes with its own token; here ActiveState-shaped tokens come",
    '#  from the token endpoint above, which OIDC clients use when GITHUB_ACTIONS=true.)',
  ],
  flags:
    '--repository ORG/PROJECT derives sub, organization, project and project_path; a --claims file sets actor (actor_id follows it); the other job flags are refused',
};

export const activestateProvider: Provider<ActiveStateConfig> = {
  dev: activestateDevShape,
  kind: 'activestate',
  displayName: 'ActiveState',
  builtinIssuer: ACTIVESTATE_ISSUER_URL,
  summary: 'an organization, a project, an actor and its id',
  fields: [
    { name: 'organization', label: 'Organization', placeholder: 'my-org' },
    { name: 'project', label: 'ActiveState project', placeholder: 'my-project' },
    { name: 'actor', label: 'Actor (user name)', placeholder: 'my-user' },
    {
      name: 'actorId',
      label: "Actor's id",
      hint: 'The ActiveState user id of the actor (pier does not look it up).',
    },
  ],
  example: { organization: 'my-org', project: 'my-project', actor: 'my-user', actorId: 'a-1' },
  cli: {
    options: [
      { flags: '--organization <org>', description: 'ActiveState organization' },
      { flags: '--activestate-project <name>', description: 'ActiveState project' },
      { flags: '--actor <name>', description: 'ActiveState actor' },
      { flags: '--actor-id <id>', description: 'ActiveState actor id' },
    ],
    example: '--organization O --activestate-project P --actor A --actor-id ID',
    fields: (flags) => ({
      ok: true,
      fields: {
        organization: flagString(flags, 'organization'),
        project: flagString(flags, 'activestateProject'),
        actor: flagString(flags, 'actor'),
        actorId: flagString(flags, 'actorId'),
      },
    }),
  },
  parseConfig: (stored) =>
    parseStoredFields<ActiveStateConfig>(stored, ['organization', 'project', 'actor', 'actorId']),
  // The actor id is exact.
  overlaps: (a, b) => a.actorId === b.actorId,
  links(claims) {
    const org = nonEmptyClaim(claims, 'organization');
    const project = nonEmptyClaim(claims, 'project');
    return linksOf(org && project ? `${org}/${project}` : null);
  },
  attestation: {
    shape: 'unsupported',
    reason: 'Attestations are not currently supported with ActiveState publishers',
  },
  // ActiveState publishes through its own builder: no file to write.
  template: {
    variable: () => null,
    render: (c, context) => ({
      path: null,
      language: 'text',
      text:
        `ActiveState's platform publishes with its pypi-publisher builder: in the project ` +
        `${c.organization}/${c.project}, publish as ${c.actor} to the repository ${context.uploadUrl}\n`,
    }),
  },
  rules: ACTIVESTATE_RULES,
  uncheckedClaims: ACTIVESTATE_UNCHECKED_CLAIMS,
  uncheckedPrefixes: ACTIVESTATE_UNCHECKED_PREFIXES,
  validateConfig: validateActiveStateConfig,

  lookupKeyOfConfig: (config) => `${config.organization}/${config.project}`,

  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(ACTIVESTATE_RULES, claims);
    if (failure) return { ok: false, failure };
    return {
      ok: true,
      key: `${stringClaim(claims, 'organization')}/${stringClaim(claims, 'project')}`,
    };
  },

  // Warehouse's unique constraint: (organization, project, actor_id).
  identityOf: (config) => identityString([config.organization, config.project, config.actorId]),

  check: (config, claims, issuerUrl) => checkRules(ACTIVESTATE_RULES, config, claims, issuerUrl),

  specificity: () => 0,

  provenance: (claims) => provenanceOf(claims, ['organization', 'project', 'actor', 'builder']),

  describe: (config) =>
    `ActiveState ${config.organization}/${config.project}, actor ${config.actor}`,

  url(config, issuerUrl) {
    let origin: string;
    try {
      origin = new URL(issuerUrl).origin;
    } catch {
      return null;
    }
    return `${origin}/${encodeURIComponent(config.organization)}/${encodeURIComponent(config.project)}`;
  },
};
