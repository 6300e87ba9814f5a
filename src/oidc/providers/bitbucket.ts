// Bitbucket Pipelines: the OIDC token of a step with `oidc: true` (or `oidc: audiences: [...]`),
// in the variable BITBUCKET_STEP_OIDC_TOKEN. Sources:
// - https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/
//   (the step's `oidc` attribute, the variable, the identity provider URL and audience shown in
//   Repository settings > Pipelines > OpenID Connect, and the workspace, repository and
//   deployment environment UUIDs to restrict a resource server to);
// - https://www.atlassian.com/blog/bitbucket/bitbucket-pipelines-oidc-now-supports-multiple-audiences
//   (`oidc: audiences:` under a step or `options`, at most 10);
// - the claims as relying parties read them: Teleport's Bitbucket join method
//   (gravitational/teleport lib/bitbucket: `workspaceUuid`, `repositoryUuid`, `pipelineUuid`,
//   `stepUuid`, `deploymentEnvironmentUuid`, `branchName`; "Bitbucket UUIDs must begin and end
//   with braces") and Google's workload identity examples (`assertion.repositoryUuid == '{…}'`,
//   audience `ari:cloud:bitbucket::workspace/UUID`).
//
// The issuer is per workspace, `https://api.bitbucket.org/2.0/workspaces/WORKSPACE/pipelines-config/identity/oidc`
// (WORKSPACE the workspace's slug): there is no built-in issuer, and an operator registers each
// workspace it trusts with `pier issuer add --kind bitbucket --url …`.
//
// Audience: Bitbucket sets `aud` to `ari:cloud:bitbucket::workspace/WORKSPACE_UUID` unless the
// step lists its own audiences. pier's audience check (src/oidc/verify.ts) wants its own audience
// as the one string `aud`, so the publishing step declares `oidc: audiences: [AUDIENCE]` with
// pier's audience alone; a token for Bitbucket's default audience, or for several audiences at
// once (replayable at each of them), is refused before any rule here runs. `pier publish` reads
// the variable and says so before the exchange when the audience is not pier's.
//
// Pinned at registration (immutable, compared exactly): the workspace's UUID (`workspaceUuid`)
// and the repository's (`repositoryUuid`): a repository renamed, moved or deleted and re-created
// under its name has another UUID. Optional: a branch pattern over `branchName` (pier's glob:
// `release/*`) and a deployment environment (`deploymentEnvironmentUuid`; a deployment
// environment's settings say which branches may deploy to it and who may run it). Every
// registration pins a repository, so none matches every step of an issuer.
import {
  checkRules,
  firstMissingOrMistyped,
  flagString,
  identityString,
  linksOf,
  mismatch,
  nonEmptyClaim,
  optionalField,
  parseStoredFields,
  provenanceOf,
  quote,
  stringClaim,
  trimmedField,
  yamlScalar,
  type Rule,
} from './core.js';
import {
  branchPatternProblem,
  optionalOverlap,
  refMatches,
  refPatternsOverlap,
} from './ref-glob.js';
import { DEFAULTS, given, mergeClaims, shellQuote, text } from '../../dev-oidc/claims.js';
import type { DevTokenShape } from '../../dev-oidc/shape.js';
import { nameUuid } from '../../dev-oidc/uuid.js';
import type {
  Claims,
  ConfigInput,
  PipelineTemplate,
  Provider,
  ProvenanceLinks,
  TemplateContext,
  ValidateResult,
} from './types.js';

export interface BitbucketConfig {
  /** The workspace's UUID in braces (`workspaceUuid`), pinned at registration. */
  workspaceUuid: string;
  /** The repository's UUID in braces (`repositoryUuid`), pinned at registration. */
  repositoryUuid: string;
  /** '' = any; a glob over the branch name: main, release/*. */
  branch?: string;
  /** '' = any; the deployment environment's UUID in braces. */
  deploymentEnvironmentUuid?: string;
}

/** `https://api.bitbucket.org/2.0/workspaces/WORKSPACE/pipelines-config/identity/oidc`. */
export function bitbucketIssuerUrl(workspace: string): string {
  return `https://api.bitbucket.org/2.0/workspaces/${encodeURIComponent(workspace)}/pipelines-config/identity/oidc`;
}

// --- The claim checks -------------------------------------------------------------------------

/** `workspaceUuid`: the workspace's UUID pinned at registration. */
export function checkWorkspaceUuid(config: BitbucketConfig, claim: string): string | null {
  return claim === config.workspaceUuid
    ? null
    : mismatch('workspaceUuid', quote(config.workspaceUuid), claim);
}

/** `repositoryUuid`: the repository's UUID pinned at registration. */
export function checkRepositoryUuid(config: BitbucketConfig, claim: string): string | null {
  return claim === config.repositoryUuid
    ? null
    : mismatch('repositoryUuid', quote(config.repositoryUuid), claim);
}

/** `branchName`: any when the publisher has no pattern; else present and matching it. */
export function checkBranchName(config: BitbucketConfig, claim: string | undefined): string | null {
  const pattern = optionalField(config.branch);
  if (pattern === '') return null;
  // Tag and custom pipelines may run on no branch.
  if (claim === undefined || claim === '')
    return `Missing claim 'branchName': expected a branch matching ${quote(pattern)}`;
  return refMatches(pattern, claim)
    ? null
    : mismatch('branchName', `a branch matching ${quote(pattern)}`, claim);
}

/** `deploymentEnvironmentUuid`: any when the publisher has none; else present and equal. */
export function checkDeploymentEnvironmentUuid(
  config: BitbucketConfig,
  claim: string | undefined,
): string | null {
  const expected = optionalField(config.deploymentEnvironmentUuid);
  if (expected === '') return null;
  if (claim === undefined)
    return `Missing claim 'deploymentEnvironmentUuid': expected ${quote(expected)} (the step has no deployment)`;
  return claim === expected ? null : mismatch('deploymentEnvironmentUuid', quote(expected), claim);
}

// --- The table --------------------------------------------------------------------------------

export const BITBUCKET_RULES: readonly Rule<BitbucketConfig>[] = [
  {
    claim: 'workspaceUuid',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the workspace's UUID pinned at registration, exactly",
    verify: checkWorkspaceUuid,
  },
  {
    claim: 'repositoryUuid',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the repository's UUID pinned at registration, exactly",
    verify: checkRepositoryUuid,
  },
  {
    claim: 'pipelineUuid',
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; not compared (recorded in provenance)',
  },
  {
    claim: 'stepUuid',
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; not compared (recorded in provenance)',
  },
  {
    claim: 'branchName',
    kind: 'optional-verifiable',
    type: 'string',
    check: 'any when the publisher has no pattern; else present and matching it (pier)',
    verify: checkBranchName,
  },
  {
    claim: 'deploymentEnvironmentUuid',
    kind: 'optional-verifiable',
    type: 'string',
    check: 'any when the publisher has none; else present and equal, exactly',
    verify: checkDeploymentEnvironmentUuid,
  },
];

export const BITBUCKET_UNCHECKED_CLAIMS: readonly string[] = [
  // Made of UUIDs each checked or recorded by its own claim; its form is described differently
  // ({repositoryUuid}:{stepUuid} in Teleport's code, {pipelineUuid}[:{environment}]:{stepUuid} in
  // the tokens of the bitbucket-pipeline-runner emulator), so pier relies on the claims alone.
  'sub',
  // The workspace owner's account (the emulator's tokens), the same for every repository of the
  // workspace, whose UUID is pinned.
  'accountUuid',
];

// --- Registration ------------------------------------------------------------------------------

const BARE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID as Bitbucket writes it in tokens: lower case, in braces (given with or without them). */
export function bracedUuid(value: string): string | null {
  const bare = value
    .trim()
    .toLowerCase()
    .replace(/^\{(.*)\}$/, '$1');
  return BARE_UUID.test(bare) ? `{${bare}}` : null;
}

function uuidField(
  input: ConfigInput,
  name: string,
  what: string,
  errors: Record<string, string>,
  optional = false,
): string {
  const value = trimmedField(input, name);
  if (value === '') {
    if (!optional) errors[name] = `Specify the ${what}'s UUID`;
    return '';
  }
  const uuid = bracedUuid(value);
  if (uuid === null) errors[name] = `Invalid UUID: ${quote(value)} (expected {xxxxxxxx-xxxx-…})`;
  return uuid ?? '';
}

export function validateBitbucketConfig(input: ConfigInput): ValidateResult<BitbucketConfig> {
  const errors: Record<string, string> = {};
  const workspaceUuid = uuidField(input, 'workspaceUuid', 'workspace', errors);
  const repositoryUuid = uuidField(input, 'repositoryUuid', 'repository', errors);
  const branch = trimmedField(input, 'branch');
  const branchProblem = branch === '' ? null : branchPatternProblem(branch);
  if (branchProblem) errors.branch = branchProblem;
  const deploymentEnvironmentUuid = uuidField(
    input,
    'deploymentEnvironmentUuid',
    'deployment environment',
    errors,
    true,
  );
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, config: { workspaceUuid, repositoryUuid, branch, deploymentEnvironmentUuid } };
}

// --- Presentation ----------------------------------------------------------------------------

const PROVENANCE_CLAIMS = [
  'workspaceUuid',
  'repositoryUuid',
  'pipelineUuid',
  'stepUuid',
  'branchName',
  'deploymentEnvironmentUuid',
] as const;

/** The branch a step ran on; Bitbucket's tokens name no repository slug, commit or build number. */
export function bitbucketLinks(claims: Claims): ProvenanceLinks {
  const links = linksOf(null);
  links.ref = nonEmptyClaim(claims, 'branchName');
  const pipeline = nonEmptyClaim(claims, 'pipelineUuid');
  if (pipeline !== null && bracedUuid(pipeline) === pipeline)
    links.runLabel = `pipeline ${pipeline}`;
  return links;
}

/** The pipeline file: a step that asks for a token for pier's audience alone, then publishes. */
export function bitbucketPipeline(c: BitbucketConfig, context: TemplateContext): PipelineTemplate {
  const branch = optionalField(c.branch);
  const environment = optionalField(c.deploymentEnvironmentUuid);
  const lines = [
    `# bitbucket-pipelines.yml of the repository ${c.repositoryUuid}`,
    'pipelines:',
    ...(branch !== ''
      ? ['  branches:', `    ${yamlScalar(branch)}:`]
      : ['  custom:', '    release:']),
    '      - step:',
    '          name: Build',
    '          image: python:3.12',
    '          script:',
    '            - python3 -m pip install build && python3 -m build',
    '          artifacts:',
    "            - 'dist/**'",
    '      - step:',
    '          name: Publish',
    '          image: node:20',
    ...(environment !== ''
      ? [
          `          # The deployment environment ${environment}, by its name:`,
          '          deployment: production',
        ]
      : []),
    '          # A token for the index alone (its audience), in BITBUCKET_STEP_OIDC_TOKEN.',
    '          oidc:',
    '            audiences:',
    `              - ${yamlScalar(context.audience)}`,
    '          script:',
    '            - npm install --global "$PIER_PACKAGE" # pier, as your organisation distributes it',
    `            - pier publish --repository-url ${context.uploadUrl} dist/`,
  ];
  return { path: 'bitbucket-pipelines.yml', text: lines.join('\n') + '\n', language: 'yaml' };
}

// --- Development tokens (pier dev-oidc --kind bitbucket) ---------------------------------------

const braced = (name: string) => `{${nameUuid(name)}}`;

/**
 * A Bitbucket step's token: --repository WORKSPACE/REPO gives stable workspace and repository
 * UUIDs, --ref refs/heads/BRANCH the branch, --environment a deployment environment's UUID.
 */
const bitbucketDevShape: DevTokenShape = {
  platform: 'Bitbucket Pipelines',
  checkJob(job) {
    if (job.repository !== undefined && !/^[a-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(job.repository))
      return `--repository must be WORKSPACE/REPO (the workspace's slug in lower case), got ${quote(job.repository)}`;
    if (job.ref !== undefined && !job.ref.startsWith('refs/heads/'))
      return `--ref must be a branch (refs/heads/NAME): Bitbucket's tokens name branches only, got ${quote(job.ref)}`;
    return null;
  },
  claims(job, file) {
    const repository = job.repository ?? DEFAULTS.repository;
    const workspace = repository.split('/')[0]!;
    const repositoryUuid =
      text(file.repositoryUuid) ?? braced(`bitbucket-repository:${repository}`);
    const step = braced(`bitbucket-step:${DEFAULTS.jobId}`);
    const environment = job.environment ? braced(`bitbucket-environment:${job.environment}`) : null;
    const derived = {
      sub: environment ? `${repositoryUuid}:${environment}:${step}` : `${repositoryUuid}:${step}`,
      accountUuid: braced(`bitbucket-account:${workspace}`),
      workspaceUuid: braced(`bitbucket-workspace:${workspace}`),
      repositoryUuid,
      pipelineUuid: braced(`bitbucket-pipeline:${DEFAULTS.runId}`),
      stepUuid: step,
      branchName: (job.ref ?? DEFAULTS.ref).replace(/^refs\/heads\//, ''),
      deploymentEnvironmentUuid: environment,
    };
    return mergeClaims(
      derived,
      file,
      given({ branchName: job.ref?.replace(/^refs\/heads\//, '') }),
    );
  },
  environment: () => ({}),
  publisherFlags: (c) => [
    `--workspace-uuid ${shellQuote(text(c.workspaceUuid) ?? '<UUID>')}`,
    `--repository-uuid ${shellQuote(text(c.repositoryUuid) ?? '<UUID>')}`,
    ...(text(c.deploymentEnvironmentUuid)
      ? [`--deployment-environment-uuid ${shellQuote(String(c.deploymentEnvironmentUuid))}`]
      : []),
  ],
  notes: [
    '# (A Bitbucket step has its token in BITBUCKET_STEP_OIDC_TOKEN; here Bitbucket-shaped tokens',
    '#  come from the token endpoint above, which OIDC clients use when GITHUB_ACTIONS=true.)',
  ],
  flags:
    '--repository WORKSPACE/REPO (stable workspace and repository UUIDs), --ref refs/heads/BRANCH (branchName) and --environment (a deployment environment UUID) derive sub and the UUID claims',
};

export const bitbucketProvider: Provider<BitbucketConfig> = {
  kind: 'bitbucket',
  dev: bitbucketDevShape,
  displayName: 'Bitbucket Pipelines',
  builtinIssuer: null,
  summary:
    "a Bitbucket repository (workspace and repository pinned by UUID) under its workspace's registered issuer, optionally a branch pattern and a deployment environment",
  fields: [
    {
      name: 'workspaceUuid',
      label: "Workspace's UUID",
      placeholder: '{8a1fdada-cbc0-452c-81ce-07534945e18b}',
      hint: 'Repository settings > Pipelines > OpenID Connect (the audience ends with it).',
    },
    {
      name: 'repositoryUuid',
      label: "Repository's UUID",
      placeholder: '{437da666-7aab-4b60-a947-ec542536ca0d}',
      hint: 'The same page: pinned, so a repository re-created under this name does not match.',
    },
    {
      name: 'branch',
      label: 'Branch pattern',
      placeholder: 'main',
      optional: true,
      hint: 'Only steps on matching branches (pier): * within a path segment, ** across segments.',
    },
    {
      name: 'deploymentEnvironmentUuid',
      label: "Deployment environment's UUID",
      placeholder: '{2b7e1a4c-0d9f-4e3b-8a6c-5f1e2d3c4b5a}',
      optional: true,
      hint: 'Only steps deploying to this environment (listed on the OpenID Connect page).',
    },
  ],
  example: {
    workspaceUuid: '{8a1fdada-cbc0-452c-81ce-07534945e18b}',
    repositoryUuid: '{437da666-7aab-4b60-a947-ec542536ca0d}',
    branch: 'main',
    deploymentEnvironmentUuid: '{2b7e1a4c-0d9f-4e3b-8a6c-5f1e2d3c4b5a}',
  },
  cli: {
    options: [
      { flags: '--workspace-uuid <uuid>', description: "Bitbucket workspace's UUID" },
      { flags: '--repository-uuid <uuid>', description: "Bitbucket repository's UUID" },
      { flags: '--branch <name>', description: 'Bitbucket: only branches matching this pattern' },
      {
        flags: '--deployment-environment-uuid <uuid>',
        description: 'Bitbucket: only steps deploying to this environment',
      },
    ],
    example:
      '--issuer https://api.bitbucket.org/2.0/workspaces/WORKSPACE/pipelines-config/identity/oidc --workspace-uuid UUID --repository-uuid UUID [--branch main]',
    fields: (flags) => ({
      ok: true,
      fields: {
        workspaceUuid: flagString(flags, 'workspaceUuid'),
        repositoryUuid: flagString(flags, 'repositoryUuid'),
        branch: flagString(flags, 'branch'),
        deploymentEnvironmentUuid: flagString(flags, 'deploymentEnvironmentUuid'),
      },
    }),
  },
  rules: BITBUCKET_RULES,
  uncheckedClaims: BITBUCKET_UNCHECKED_CLAIMS,
  uncheckedPrefixes: [],
  validateConfig: validateBitbucketConfig,
  parseConfig: (stored) =>
    parseStoredFields<BitbucketConfig>(
      stored,
      ['workspaceUuid', 'repositoryUuid'],
      ['branch', 'deploymentEnvironmentUuid'],
    ),
  lookupKeyOfConfig: (c) => c.repositoryUuid,
  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(BITBUCKET_RULES, claims);
    if (failure) return { ok: false, failure };
    return { ok: true, key: stringClaim(claims, 'repositoryUuid') };
  },
  identityOf: (c) =>
    identityString([
      c.workspaceUuid,
      c.repositoryUuid,
      optionalField(c.branch),
      optionalField(c.deploymentEnvironmentUuid),
    ]),
  check: (config, claims, issuerUrl) => checkRules(BITBUCKET_RULES, config, claims, issuerUrl),
  specificity: (c) =>
    (optionalField(c.deploymentEnvironmentUuid) !== '' ? 2 : 0) +
    (optionalField(c.branch) !== '' ? 1 : 0),
  // The pinned ids and the environment are exact; branch patterns as ref patterns.
  overlaps: (a, b) =>
    a.workspaceUuid === b.workspaceUuid &&
    a.repositoryUuid === b.repositoryUuid &&
    optionalOverlap(
      optionalField(a.deploymentEnvironmentUuid),
      optionalField(b.deploymentEnvironmentUuid),
    ) &&
    refPatternsOverlap(optionalField(a.branch), optionalField(b.branch)),
  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),
  describe(c) {
    let text = `Bitbucket repository ${c.repositoryUuid}`;
    if (optionalField(c.branch) !== '') text += `, branch ${c.branch}`;
    if (optionalField(c.deploymentEnvironmentUuid) !== '')
      text += `, environment ${c.deploymentEnvironmentUuid}`;
    return text;
  },
  // Tokens and registrations name UUIDs only; a repository's web page needs its slug.
  url: () => null,
  links: bitbucketLinks,
  attestation: {
    shape: 'unsupported',
    reason: 'Attestations are not currently supported with Bitbucket Pipelines publishers',
  },
  template: {
    variable: (name) => `"$${name}"`,
    render: bitbucketPipeline,
  },
};
