// Buildkite Pipelines: the OIDC token a job asks its agent for (`buildkite-agent oidc
// request-token --audience AUD`). Sources:
// - https://buildkite.com/docs/agent/v3/cli-oidc (the command; `--claim` adds optional claims,
//   also read from BUILDKITE_OIDC_TOKEN_CLAIMS);
// - https://buildkite.com/docs/pipelines/security/oidc (the claims: organization and pipeline
//   slugs, branch, commit, step key, job id, agent id; optional organization_id and pipeline_id);
// - https://buildkite.com/docs/apis/workload-identity-federation/buildkite-agents ("agents in
//   every Buildkite organization share the same issuer", https://agent.buildkite.com, so an
//   organization claim must always be checked);
// - an example token with `jti`, https://github.com/rubygems/rubygems.org/issues/5412.
//
// A publisher names an organization and a pipeline by slug, and pins both by their UUIDs
// (`organization_id`, `pipeline_id`): slugs can be renamed and then taken by another pipeline,
// ids cannot. The ids are optional claims, so the publishing step must request them (the
// pipeline template sets BUILDKITE_OIDC_TOKEN_CLAIMS=organization_id,pipeline_id); a token
// without them matches no publisher and says which claim is missing. pier does not look the ids
// up: Buildkite's REST API needs an API token (they are shown in the pipeline's settings and by
// `GET /v2/organizations/ORG/pipelines/PIPELINE`). Optionally a branch and a step key narrow it.
import { DEFAULTS, given, mergeClaims, shellQuote, stringOf, text } from '../../dev-oidc/claims.js';
import type { DevClaims, DevTokenShape, JobSettings } from '../../dev-oidc/shape.js';
import {
  checkRules,
  firstMissingOrMistyped,
  flagString,
  hasControlCharacter,
  identityString,
  isNumericId,
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
import { optionalOverlap } from './ref-glob.js';
import type {
  BuildkiteConfig,
  ConfigInput,
  PipelineTemplate,
  Provider,
  ProvenanceLinks,
  TemplateContext,
  ValidateResult,
} from './types.js';

export const BUILDKITE_ISSUER_URL = 'https://agent.buildkite.com';

/** The optional claims the publishing step must request. */
export const BUILDKITE_PINNED_CLAIMS = 'organization_id,pipeline_id';

// --- The claim checks -------------------------------------------------------------------------

/** `organization_slug`: exactly the registered slug (slugs are lower-case; no folding). */
export function checkOrganizationSlug(config: BuildkiteConfig, claim: string): string | null {
  return claim === config.organization
    ? null
    : mismatch('organization_slug', quote(config.organization), claim);
}

/** `pipeline_slug`: exactly the registered slug. */
export function checkPipelineSlug(config: BuildkiteConfig, claim: string): string | null {
  return claim === config.pipeline
    ? null
    : mismatch('pipeline_slug', quote(config.pipeline), claim);
}

/** `organization_id`: the organization's UUID recorded at registration (a re-created one differs). */
export function checkOrganizationId(config: BuildkiteConfig, claim: string): string | null {
  return claim === config.organizationId
    ? null
    : mismatch('organization_id', quote(config.organizationId), claim);
}

/** `pipeline_id`: the pipeline's UUID recorded at registration (a renamed slug cannot move it). */
export function checkPipelineId(config: BuildkiteConfig, claim: string): string | null {
  return claim === config.pipelineId
    ? null
    : mismatch('pipeline_id', quote(config.pipelineId), claim);
}

/** `build_branch`: any when the publisher has none; else present and exactly equal. */
export function checkBuildBranch(
  config: BuildkiteConfig,
  claim: string | undefined,
): string | null {
  const expected = optionalField(config.branch);
  if (expected === '') return null;
  if (claim === undefined) return `Missing claim 'build_branch': expected ${quote(expected)}`;
  return claim === expected ? null : mismatch('build_branch', quote(expected), claim);
}

/** `step_key`: any when the publisher has none; else present and exactly equal. */
export function checkStepKey(config: BuildkiteConfig, claim: string | undefined): string | null {
  const expected = optionalField(config.stepKey);
  if (expected === '') return null;
  if (claim === undefined) return `Missing claim 'step_key': expected ${quote(expected)}`;
  return claim === expected ? null : mismatch('step_key', quote(expected), claim);
}

// --- The table --------------------------------------------------------------------------------

export const BUILDKITE_RULES: readonly Rule<BuildkiteConfig>[] = [
  {
    claim: 'organization_slug',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals the registered organization slug, exactly',
    verify: checkOrganizationSlug,
  },
  {
    claim: 'pipeline_slug',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals the registered pipeline slug, exactly',
    verify: checkPipelineSlug,
  },
  {
    claim: 'organization_id',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the organization's UUID pinned at registration (an optional claim: requested)",
    verify: checkOrganizationId,
  },
  {
    claim: 'pipeline_id',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the pipeline's UUID pinned at registration (an optional claim: requested)",
    verify: checkPipelineId,
  },
  {
    claim: 'build_commit',
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; not compared',
  },
  {
    claim: 'job_id',
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; not compared',
  },
  {
    claim: 'jti',
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; used once per issuer (the exchange records it)',
  },
  {
    claim: 'build_branch',
    kind: 'optional-verifiable',
    type: 'string',
    check: 'any when the publisher has none; else present and equal, exactly',
    verify: checkBuildBranch,
  },
  {
    claim: 'step_key',
    kind: 'optional-verifiable',
    type: 'string',
    check: 'any when the publisher has none; else present and equal, exactly',
    verify: checkStepKey,
  },
];

export const BUILDKITE_UNCHECKED_CLAIMS: readonly string[] = [
  // Made of the slugs, the ref, the commit and the step key, each checked by its own claim.
  'sub',
  // Identify the run, recorded in provenance; nothing to compare them with.
  'build_number',
  'agent_id',
  // A tag name anyone who can start a build may type; the branch rule is the narrowing one.
  'build_tag',
  'build_source',
  'runner_environment',
  // Optional claims about the agent's cluster and queue: where it ran, not what.
  'cluster_id',
  'cluster_name',
  'queue_id',
  'queue_key',
];

export const BUILDKITE_UNCHECKED_PREFIXES: readonly string[] = ['agent_tag:'];

// --- Registration ------------------------------------------------------------------------------

const VALID_SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const VALID_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function validateBuildkiteConfig(input: ConfigInput): ValidateResult<BuildkiteConfig> {
  const errors: Record<string, string> = {};
  const organization = trimmedField(input, 'organization');
  if (organization === '') errors.organization = 'Specify the organization slug';
  else if (!VALID_SLUG.test(organization))
    errors.organization = 'Invalid slug: lower-case letters, digits and dashes';
  const pipeline = trimmedField(input, 'pipeline');
  if (pipeline === '') errors.pipeline = 'Specify the pipeline slug';
  else if (!VALID_SLUG.test(pipeline))
    errors.pipeline = 'Invalid slug: lower-case letters, digits and dashes';
  // UUIDs compare in lower case: Buildkite writes them so.
  const organizationId = trimmedField(input, 'organizationId').toLowerCase();
  if (organizationId === '') errors.organizationId = "Specify the organization's UUID";
  else if (!VALID_UUID.test(organizationId)) errors.organizationId = 'Invalid UUID';
  const pipelineId = trimmedField(input, 'pipelineId').toLowerCase();
  if (pipelineId === '') errors.pipelineId = "Specify the pipeline's UUID";
  else if (!VALID_UUID.test(pipelineId)) errors.pipelineId = 'Invalid UUID';
  const branch = trimmedField(input, 'branch');
  if (/\s/.test(branch) || hasControlCharacter(branch))
    errors.branch = 'Branch names cannot contain whitespace or control characters';
  const stepKey = trimmedField(input, 'stepKey');
  if (/\s/.test(stepKey) || hasControlCharacter(stepKey))
    errors.stepKey = 'Step keys cannot contain whitespace or control characters';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: { organization, pipeline, organizationId, pipelineId, branch, stepKey },
  };
}

// --- Presentation ----------------------------------------------------------------------------

const PROVENANCE_CLAIMS = [
  'organization_slug',
  'pipeline_slug',
  'build_number',
  'build_branch',
  'build_tag',
  'build_commit',
  'step_key',
  'job_id',
] as const;

/** The organization/pipeline, branch, step and build of a job, on buildkite.com. */
export function buildkiteLinks(
  claims: Readonly<Record<string, unknown>>,
  issuerUrl: string,
): ProvenanceLinks {
  const org = nonEmptyClaim(claims, 'organization_slug');
  const pipeline = nonEmptyClaim(claims, 'pipeline_slug');
  const safe =
    org !== null && pipeline !== null && VALID_SLUG.test(org) && VALID_SLUG.test(pipeline);
  const links = linksOf(org && pipeline ? `${org}/${pipeline}` : null);
  links.workflow = nonEmptyClaim(claims, 'step_key');
  links.ref = nonEmptyClaim(claims, 'build_branch');
  const number = claims.build_number;
  const build = typeof number === 'number' ? String(number) : null;
  if (isNumericId(build)) {
    links.runLabel = `build ${build}`;
    // Buildkite's web host is known for its own issuer only.
    if (safe && issuerUrl === BUILDKITE_ISSUER_URL)
      links.runUrl = `https://buildkite.com/${org}/${pipeline}/builds/${build}`;
  }
  return links;
}

/** The pipeline: build, then publish in a step whose token carries the pinned ids. */
export function buildkitePipeline(c: BuildkiteConfig, context: TemplateContext): PipelineTemplate {
  const branch = optionalField(c.branch);
  const stepKey = optionalField(c.stepKey);
  const lines = [
    `# .buildkite/pipeline.yml of ${c.organization}/${c.pipeline}`,
    'steps:',
    '  - label: ":python: build"',
    '    command: python3 -m pip install build && python3 -m build',
    '    artifact_paths: "dist/*"',
    '  - wait',
    '  - label: ":rocket: publish"',
    ...(stepKey !== '' ? [`    key: ${yamlScalar(stepKey)}`] : []),
    ...(branch !== '' ? [`    branches: ${yamlScalar(branch)}`] : []),
    '    env:',
    '      # The ids pier pinned at registration, added to the OIDC token.',
    `      BUILDKITE_OIDC_TOKEN_CLAIMS: ${BUILDKITE_PINNED_CLAIMS}`,
    '    command: |',
    '      buildkite-agent artifact download "dist/*" .',
    '      npm install --global "$$PIER_PACKAGE" # pier, as your organisation distributes it',
    `      pier publish --repository-url ${context.uploadUrl} dist/`,
  ];
  return { path: '.buildkite/pipeline.yml', text: lines.join('\n') + '\n', language: 'yaml' };
}

// ---- `pier dev-oidc --kind buildkite`: a step's `buildkite-agent oidc request-token` ----------
// The claims of https://buildkite.com/docs/pipelines/security/oidc (organization_slug,
// pipeline_slug, build_number, build_branch, build_tag, build_commit, build_source, step_key,
// job_id, agent_id, and the optional organization_id and pipeline_id a step requests with
// `--claim` or BUILDKITE_OIDC_TOKEN_CLAIMS), `sub` in its documented form
// `organization:ORG:pipeline:PIPELINE:ref:REF:commit:SHA:step:KEY`, and the agent's default
// audience `https://buildkite.com/ORG` (https://buildkite.com/docs/agent/v3/cli-oidc). The
// flags: --repository ORG/PIPELINE (the slugs), --owner-id (organization_id), --workflow (the
// step key), --ref (build_branch, and build_tag for refs/tags/…), --sha (build_commit), --event
// (build_source). Buildkite has no deployment environments: --environment is refused.

/** The ids and names of Buildkite's documented example token. */
export const BUILDKITE_DEV_DEFAULTS = {
  organization: 'acme-inc',
  pipeline: 'super-duper-app',
  organizationId: '0184990a-4782-42b5-afc1-16715b10b8ff',
  pipelineId: '0184990a-477b-4fa8-9968-496074483cee',
  jobId: '0184990a-477b-4fa8-9968-496074483cef',
  agentId: '0184990a-4782-42b5-afc1-16715b10b8fe',
  stepKey: 'publish',
  source: 'webhook',
} as const;

function buildkiteDevCheck(job: Readonly<JobSettings>): string | null {
  const { repository, ownerId, workflow, environment, ref, jobWorkflowRef } = job;
  if (repository !== undefined) {
    const [org, pipeline, ...rest] = repository.split('/');
    if (!org || !pipeline || rest.length > 0 || !VALID_SLUG.test(org) || !VALID_SLUG.test(pipeline))
      return `--repository must be ORGANIZATION/PIPELINE, both slugs (e.g. acme-inc/super-duper-app), got '${repository}'`;
  }
  if (ownerId !== undefined && !VALID_UUID.test(ownerId))
    return `--owner-id must be the organization's UUID (organization_id, lower case), got '${ownerId}'`;
  if (
    workflow !== undefined &&
    (workflow === '' || /\s/.test(workflow) || hasControlCharacter(workflow))
  )
    return `--workflow is the step key (step_key) here, without whitespace, got '${workflow}'`;
  if (environment !== undefined)
    return '--environment: Buildkite has no deployment environments; narrow with --workflow (the step key) or --ref (the branch)';
  if (ref !== undefined && !/^refs\/(?:heads|tags)\/\S+$/.test(ref))
    return `--ref must be a full ref such as refs/heads/main or refs/tags/v1.0, got '${ref}'`;
  if (jobWorkflowRef !== undefined)
    return '--job-workflow-ref is only for --kind github (reusable workflows)';
  return null;
}

/** The branch and tag of a full ref: a tag is built as its own branch name, as Buildkite does. */
function branchAndTag(refPath: string): { branch: string; tag: string | undefined } {
  const tag = /^refs\/tags\/(.+)$/.exec(refPath)?.[1];
  const branch = /^refs\/heads\/(.+)$/.exec(refPath)?.[1];
  return { branch: tag ?? branch ?? refPath, tag };
}

function buildkiteDevClaims(job: Readonly<JobSettings>, file: Readonly<DevClaims>): DevClaims {
  const d = BUILDKITE_DEV_DEFAULTS;
  const [orgFlag, pipelineFlag] = job.repository?.split('/') ?? [];
  const organization = orgFlag ?? text(file.organization_slug) ?? d.organization;
  const pipeline = pipelineFlag ?? text(file.pipeline_slug) ?? d.pipeline;
  const stepKey = job.workflow ?? text(file.step_key) ?? d.stepKey;
  const refPath =
    job.ref ??
    (text(file.build_tag) ? `refs/tags/${String(file.build_tag)}` : undefined) ??
    (text(file.build_branch) ? `refs/heads/${String(file.build_branch)}` : undefined) ??
    DEFAULTS.ref;
  const { branch, tag } = branchAndTag(refPath);
  const sha = job.sha ?? text(file.build_commit) ?? DEFAULTS.sha;
  const derived: DevClaims = {
    sub: `organization:${organization}:pipeline:${pipeline}:ref:${refPath}:commit:${sha}:step:${stepKey}`,
    organization_slug: organization,
    pipeline_slug: pipeline,
    build_number: Number(DEFAULTS.runNumber),
    build_branch: branch,
    ...(tag !== undefined ? { build_tag: tag } : {}),
    build_commit: sha,
    build_source: job.event ?? text(file.build_source) ?? d.source,
    step_key: stepKey,
    job_id: d.jobId,
    agent_id: d.agentId,
    // Optional claims: these tokens carry them, as a publishing step requests them.
    organization_id: job.ownerId ?? text(file.organization_id) ?? d.organizationId,
    pipeline_id: text(file.pipeline_id) ?? d.pipelineId,
  };
  const ref = job.ref === undefined ? undefined : branchAndTag(job.ref);
  const flagged = given({
    organization_slug: orgFlag,
    pipeline_slug: pipelineFlag,
    organization_id: job.ownerId,
    step_key: job.workflow,
    build_branch: ref?.branch,
    build_tag: ref?.tag,
    build_commit: job.sha,
    build_source: job.event,
  });
  return mergeClaims(derived, file, flagged);
}

const buildkiteDevShape: DevTokenShape = {
  platform: 'Buildkite',
  defaultAudience(claims) {
    const org = text(claims.organization_slug);
    return org ? `https://buildkite.com/${org}` : undefined;
  },
  checkJob: buildkiteDevCheck,
  claims: (job, file) => buildkiteDevClaims(job, file),
  environment: (claims) => ({
    BUILDKITE_ORGANIZATION_SLUG: stringOf(claims.organization_slug),
    BUILDKITE_PIPELINE_SLUG: stringOf(claims.pipeline_slug),
    BUILDKITE_BRANCH: stringOf(claims.build_branch),
    BUILDKITE_TAG: stringOf(claims.build_tag),
    BUILDKITE_COMMIT: stringOf(claims.build_commit),
    BUILDKITE_BUILD_NUMBER: stringOf(claims.build_number),
    BUILDKITE_SOURCE: stringOf(claims.build_source),
    BUILDKITE_STEP_KEY: stringOf(claims.step_key),
    BUILDKITE_JOB_ID: stringOf(claims.job_id),
  }),
  publisherFlags: (c) => [
    `--organization ${shellQuote(text(c.organization_slug) ?? '<ORG>')}`,
    `--pipeline ${shellQuote(text(c.pipeline_slug) ?? '<PIPELINE>')}`,
    `--organization-id ${shellQuote(text(c.organization_id) ?? '<UUID>')}`,
    `--pipeline-id ${shellQuote(text(c.pipeline_id) ?? '<UUID>')}`,
    ...(text(c.step_key) ? [`--step-key ${shellQuote(String(c.step_key))}`] : []),
  ],
  notes: [
    '# (A Buildkite step gets its token from `buildkite-agent oidc request-token`; here',
    '#  Buildkite-shaped tokens come from the token endpoint above. They carry organization_id and',
    '#  pipeline_id, which a real step requests: BUILDKITE_OIDC_TOKEN_CLAIMS=organization_id,pipeline_id.)',
  ],
  flags:
    '--repository ORG/PIPELINE (the slugs), --owner-id (organization_id), --workflow (step_key), --ref (build_branch, build_tag), --sha (build_commit) and --event (build_source) derive sub',
};

export const buildkiteProvider: Provider<BuildkiteConfig> = {
  kind: 'buildkite',
  dev: buildkiteDevShape,
  displayName: 'Buildkite',
  builtinIssuer: BUILDKITE_ISSUER_URL,
  summary:
    'an organization and a pipeline by slug, both pinned by UUID, optionally a branch and a step key',
  fields: [
    { name: 'organization', label: 'Organization slug', placeholder: 'acme-inc' },
    { name: 'pipeline', label: 'Pipeline slug', placeholder: 'super-duper-app' },
    {
      name: 'organizationId',
      label: "Organization's UUID",
      placeholder: '0184990a-4782-42b5-afc1-16715b10b8ff',
      hint: "From the organization's settings or Buildkite's API: pinned, so a re-created organization does not match.",
    },
    {
      name: 'pipelineId',
      label: "Pipeline's UUID",
      placeholder: '0184990a-477b-4fa8-9968-496074483cee',
      hint: "From the pipeline's settings: pinned, so another pipeline given this slug later does not match.",
    },
    { name: 'branch', label: 'Branch', placeholder: 'main', optional: true },
    {
      name: 'stepKey',
      label: 'Step key',
      placeholder: 'publish',
      optional: true,
      hint: 'Only the step with this key (its `key:` in the pipeline) may publish.',
    },
  ],
  example: {
    organization: 'acme-inc',
    pipeline: 'super-duper-app',
    organizationId: '0184990a-4782-42b5-afc1-16715b10b8ff',
    pipelineId: '0184990a-477b-4fa8-9968-496074483cee',
    branch: 'main',
    stepKey: 'publish',
  },
  cli: {
    options: [
      { flags: '--organization <org>', description: 'Buildkite organization slug' },
      { flags: '--pipeline <slug>', description: 'Buildkite pipeline slug' },
      { flags: '--organization-id <uuid>', description: "Buildkite organization's UUID" },
      { flags: '--pipeline-id <uuid>', description: "Buildkite pipeline's UUID" },
      { flags: '--branch <name>', description: 'Buildkite: only builds of this branch' },
      { flags: '--step-key <key>', description: 'Buildkite: only the step with this key' },
    ],
    example:
      '--organization ORG --pipeline PIPELINE --organization-id UUID --pipeline-id UUID [--branch B]',
    fields: (flags) => ({
      ok: true,
      fields: {
        organization: flagString(flags, 'organization'),
        pipeline: flagString(flags, 'pipeline'),
        organizationId: flagString(flags, 'organizationId'),
        pipelineId: flagString(flags, 'pipelineId'),
        branch: flagString(flags, 'branch'),
        stepKey: flagString(flags, 'stepKey'),
      },
    }),
  },
  rules: BUILDKITE_RULES,
  uncheckedClaims: BUILDKITE_UNCHECKED_CLAIMS,
  uncheckedPrefixes: BUILDKITE_UNCHECKED_PREFIXES,
  validateConfig: validateBuildkiteConfig,
  parseConfig: (stored) =>
    parseStoredFields<BuildkiteConfig>(
      stored,
      ['organization', 'pipeline', 'organizationId', 'pipelineId'],
      ['branch', 'stepKey'],
    ),
  lookupKeyOfConfig: (c) => `${c.organization}/${c.pipeline}`,
  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(BUILDKITE_RULES, claims);
    if (failure) return { ok: false, failure };
    return {
      ok: true,
      key: `${stringClaim(claims, 'organization_slug')}/${stringClaim(claims, 'pipeline_slug')}`,
    };
  },
  identityOf: (c) =>
    identityString([
      c.organization,
      c.pipeline,
      c.organizationId,
      c.pipelineId,
      optionalField(c.branch),
      optionalField(c.stepKey),
    ]),
  check: (config, claims, issuerUrl) => checkRules(BUILDKITE_RULES, config, claims, issuerUrl),
  specificity: (c) =>
    (optionalField(c.branch) !== '' ? 2 : 0) + (optionalField(c.stepKey) !== '' ? 1 : 0),
  // The pinned ids are exact; the branch and the step key, when both constrain, too.
  overlaps: (a, b) =>
    a.organizationId === b.organizationId &&
    a.pipelineId === b.pipelineId &&
    optionalOverlap(optionalField(a.branch), optionalField(b.branch)) &&
    optionalOverlap(optionalField(a.stepKey), optionalField(b.stepKey)),
  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),
  describe(c) {
    let text = `Buildkite ${c.organization}/${c.pipeline}`;
    if (optionalField(c.branch) !== '') text += `, branch ${c.branch}`;
    if (optionalField(c.stepKey) !== '') text += `, step ${c.stepKey}`;
    return text;
  },
  url: (c, issuerUrl) =>
    issuerUrl === BUILDKITE_ISSUER_URL
      ? `https://buildkite.com/${encodeURIComponent(c.organization)}/${encodeURIComponent(c.pipeline)}`
      : null,
  links: buildkiteLinks,
  attestation: {
    shape: 'unsupported',
    reason: 'Attestations are not currently supported with Buildkite publishers',
  },
  template: {
    variable: (name) => `"$$${name}"`,
    render: buildkitePipeline,
  },
};
