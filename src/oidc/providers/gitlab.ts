// GitLab CI/CD `id_tokens` (reference §3.3, §6 and publishing-clients §7.2; Warehouse
// `warehouse/oidc/models/gitlab.py` and `warehouse/oidc/forms/gitlab.py`).
//
// A publisher names a project (namespace, which may contain '/' for subgroups, and project), the
// top-level pipeline file, optionally an environment and, as pier's addition, optionally a glob of
// the git refs it accepts. It is bound to its issuer: gitlab.com or a self-managed instance the
// operator registered (`ci_config_ref_uri` carries the instance's host, checked here; the issuer
// itself is matched by the exchange). The token is matched on `project_path` and the pipeline file
// in `ci_config_ref_uri`, plus the environment.
import {
  DEFAULTS,
  environmentOf,
  given,
  mergeClaims,
  shellQuote,
  stringOf,
  text,
} from '../../dev-oidc/claims.js';
import type { DevClaims, DevTokenShape, JobSettings } from '../../dev-oidc/shape.js';
import {
  checkRules,
  foldCase,
  firstMissingOrMistyped,
  identityString,
  isCommitSha,
  mismatch,
  optionalField,
  provenanceOf,
  quote,
  quoteList,
  stringClaim,
  trimmedField,
  flagString,
  isNumericId,
  isRepositoryPath,
  nonEmptyClaim,
  parseStoredFields,
  yamlScalar,
  type Rule,
} from './core.js';
import { optionalOverlap, refMatches, refPatternProblem, refPatternsOverlap } from './ref-glob.js';
import {
  describeProtectedRef,
  PROTECTED_REF_FIELD,
  PROTECTED_REF_OPTION,
  protectedRefFlag,
  protectedRefIdentity,
  protectedRefRule,
  validateProtectedRef,
} from './protected-ref.js';
import type {
  ConfigInput,
  GitLabConfig,
  PipelineTemplate,
  Provider,
  ProvenanceLinks,
  RegistrationField,
  TemplateContext,
  ValidateResult,
  Claims,
} from './types.js';
import { gitlabTokenVariable } from '../../client/ambient.js';

export const GITLAB_ISSUER_URL = 'https://gitlab.com';

/** The issuer URL without its scheme, as GitLab writes the instance in `ci_config_ref_uri`. */
export function gitlabInstance(issuerUrl: string): string {
  return issuerUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
}

// --- The claim checks -------------------------------------------------------------------------

/**
 * `sub`: `project_path:NAMESPACE/PROJECT` in any case, optionally followed by `:…` (the rest of the
 * subject is configurable per project and not compared), as Warehouse's `_check_sub`.
 */
export function checkSub(config: GitLabConfig, claim: string): string | null {
  const expected = `project_path:${config.namespace}/${config.project}`;
  const [kind = '', path = ''] = claim.split(':');
  if (kind !== '' && path !== '' && foldCase(`${kind}:${path}`) === foldCase(expected)) return null;
  return mismatch('sub', `${quote(expected)} (in any case), optionally followed by ':…'`, claim);
}

/** `project_path`: NAMESPACE/PROJECT in any case (GitLab paths are case-insensitive). */
export function checkProjectPath(config: GitLabConfig, claim: string): string | null {
  const expected = `${config.namespace}/${config.project}`;
  if (claim !== '' && foldCase(claim) === foldCase(expected)) return null;
  return mismatch('project_path', `${quote(expected)} (in any case)`, claim);
}

/**
 * `ci_config_ref_uri`: exactly `HOST/NAMESPACE/PROJECT//WORKFLOW_PATH@REF_PATH` or `…@SHA`, with
 * HOST the issuer URL without its scheme and REF_PATH and SHA the token's own claims, which must
 * both be non-empty (stricter than GitHub, as Warehouse). HOST/NAMESPACE/PROJECT is compared in any
 * case, like `project_path`; the pipeline file and the ref exactly. Messages are Warehouse's.
 */
export function checkCiConfigRefUri(
  config: GitLabConfig,
  claim: string,
  claims: Claims,
  issuerUrl: string,
): string | null {
  if (claim === '') return 'The ci_config_ref_uri claim is empty';
  const refPath = stringClaim(claims, 'ref_path');
  const sha = stringClaim(claims, 'sha');
  if (refPath === '' || sha === '') return 'The ref_path and sha claims are empty';
  const project = `${gitlabInstance(issuerUrl)}/${config.namespace}/${config.project}//`;
  const expected = [refPath, sha].map((r) => `${project}${config.workflowPath}@${r}`);
  const head = claim.slice(0, project.length);
  const tail = claim.slice(project.length);
  const matches =
    foldCase(head) === foldCase(project) && expected.some((e) => e.slice(project.length) === tail);
  if (matches) return null;
  return `The ci_config_ref_uri claim does not match, expecting one of ${quoteList([...new Set(expected)])}, got ${quote(claim)}`;
}

/** `ref_path` (pier): when the publisher has a ref pattern, the token's ref_path must match it. */
export function checkRefPath(config: GitLabConfig, claim: string): string | null {
  const pattern = optionalField(config.ref);
  if (refMatches(pattern, claim)) return null;
  return mismatch('ref_path', `a ref matching ${quote(pattern)}`, claim);
}

/**
 * `environment`: a publisher without an environment accepts any (or none). Otherwise the job must
 * run in exactly that environment: GitLab environment names are case-sensitive.
 */
export function checkEnvironment(config: GitLabConfig, claim: string | undefined): string | null {
  const expected = optionalField(config.environment);
  if (expected === '') return null;
  if (claim === undefined) return `Missing claim 'environment': expected ${quote(expected)}`;
  if (claim === expected) return null;
  return mismatch('environment', quote(expected), claim);
}

// --- The table --------------------------------------------------------------------------------

export const GITLAB_RULES: readonly Rule<GitLabConfig>[] = [
  {
    claim: 'sub',
    kind: 'required-verifiable',
    type: 'string',
    check: "starts with project_path:NAMESPACE/PROJECT (in any case), then ':' or nothing",
    verify: checkSub,
  },
  {
    claim: 'project_path',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals NAMESPACE/PROJECT, in any case',
    verify: checkProjectPath,
  },
  {
    claim: 'ci_config_ref_uri',
    kind: 'required-verifiable',
    type: 'string',
    check:
      "is HOST/NAMESPACE/PROJECT//WORKFLOW_PATH@REF_PATH or @SHA, HOST from the issuer URL, with the token's ref_path and sha, both non-empty (HOST/NAMESPACE/PROJECT in any case, the rest exactly)",
    verify: checkCiConfigRefUri,
  },
  {
    claim: 'ref_path',
    kind: 'required-verifiable',
    type: 'string',
    check: "matches the publisher's ref pattern, if it has one (pier; PyPI only requires it)",
    verify: checkRefPath,
  },
  { claim: 'sha', kind: 'required-unverifiable', type: 'string', check: 'present; not compared' },
  {
    claim: 'jti',
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; used once per issuer (the exchange records it)',
  },
  {
    claim: 'environment',
    kind: 'optional-verifiable',
    type: 'string',
    check: 'any when the publisher has none; else present and equal, case-sensitively',
    verify: checkEnvironment,
  },
  protectedRefRule(),
];

/** Claims deliberately not checked (Warehouse's `__unchecked_claims__`). */
export const GITLAB_UNCHECKED_CLAIMS: readonly string[] = [
  // Not verified, as on PyPI: a namespace or project deleted and re-created under the same path is
  // not detected (Warehouse issues #13575, #15643: GitLab's API cannot resolve every namespace id
  // at registration).
  'project_id',
  'namespace_id',
  'namespace_path',
  'user_id',
  'user_login',
  'user_email',
  'user_identities',
  'pipeline_id',
  'pipeline_source',
  'job_id',
  // The bare branch or tag name; `ref_path` carries the full ref.
  'ref',
  'ref_type',
  'environment_protected',
  'deployment_tier',
  'environment_action',
  'runner_id',
  'runner_environment',
  'ci_config_sha',
  'project_visibility',
  'user_access_level',
  'groups_direct',
  'job_namespace_id',
  'job_namespace_path',
  'job_project_id',
  'job_project_path',
  'job_source',
];

export const GITLAB_UNCHECKED_PREFIXES: readonly string[] = [];

// --- Registration (reference §6, GitLab row) ---------------------------------------------------

const VALID_NAMESPACE = /^[a-zA-Z0-9][a-zA-Z0-9_./+-]*[a-zA-Z0-9]$/;
const VALID_PROJECT = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*[a-zA-Z0-9]$/;
const CONSECUTIVE_SPECIALS = /[._-]{2}/;
const GIT_OR_ATOM = /\.(git|atom)$/i;
const VALID_ENVIRONMENT = /^[a-zA-Z0-9\-_/${} ]+$/;

export function validateGitLabConfig(input: ConfigInput): ValidateResult<GitLabConfig> {
  const errors: Record<string, string> = {};

  const namespace = trimmedField(input, 'namespace');
  if (namespace === '') errors.namespace = 'Specify GitLab namespace (username or group/subgroup)';
  else if (GIT_OR_ATOM.test(namespace)) errors.namespace = 'Name ends with .git or .atom';
  else if (!VALID_NAMESPACE.test(namespace) || CONSECUTIVE_SPECIALS.test(namespace))
    errors.namespace = 'Invalid GitLab username or group/subgroup name.';

  const project = trimmedField(input, 'project');
  if (project === '') errors.project = 'Specify project name';
  else if (GIT_OR_ATOM.test(project)) errors.project = 'Name ends with .git or .atom';
  else if (!VALID_PROJECT.test(project) || CONSECUTIVE_SPECIALS.test(project))
    errors.project = 'Invalid project name';

  const workflowPath = trimmedField(input, 'workflowPath');
  if (workflowPath === '') errors.workflowPath = 'Specify top-level pipeline file path';
  else if (!(workflowPath.endsWith('.yml') || workflowPath.endsWith('.yaml')))
    errors.workflowPath = 'Top-level pipeline file path must end with .yml or .yaml';
  else if (workflowPath.startsWith('/') || workflowPath.endsWith('/'))
    errors.workflowPath = 'Top-level pipeline file path cannot start or end with /';

  // Whitespace only means "any"; otherwise kept as typed (GitLab environments are case-sensitive).
  const rawEnvironment = input.environment ?? '';
  const environment = rawEnvironment.trim() === '' ? '' : rawEnvironment;
  if (environment !== '' && !VALID_ENVIRONMENT.test(environment))
    errors.environment = 'Invalid environment name';

  const ref = trimmedField(input, 'ref');
  const refProblem = ref === '' ? null : refPatternProblem(ref);
  if (refProblem) errors.ref = refProblem;
  const protectedRef = validateProtectedRef(input.protectedRef, errors);

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      namespace,
      project,
      workflowPath,
      environment,
      ref,
      ...(protectedRef ? { protectedRef } : {}),
    },
  };
}

// --- Presentation ----------------------------------------------------------------------------

const PROVENANCE_CLAIMS = [
  'project_path',
  'ci_config_ref_uri',
  'ref_path',
  'sha',
  'pipeline_id',
  'job_id',
  'environment',
] as const;

function pathSegments(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export const GITLAB_FIELDS: readonly RegistrationField[] = [
  {
    name: 'namespace',
    label: 'Namespace',
    placeholder: 'my-group/subgroup',
    hint: 'The GitLab user, group or subgroup.',
  },
  { name: 'project', label: 'Project name', placeholder: 'my-project' },
  { name: 'workflowPath', label: 'Top-level pipeline file path', placeholder: '.gitlab-ci.yml' },
  { name: 'environment', label: 'Environment', placeholder: 'release', optional: true },
  { name: 'ref', label: 'Ref pattern', placeholder: 'refs/tags/v*', optional: true },
  PROTECTED_REF_FIELD,
];

/** The pipeline file and ref of `HOST/NAMESPACE/PROJECT//PATH@REF`. */
function pipelineOfRefUri(ciConfigRefUri: string | null): { file: string; ref: string } | null {
  if (!ciConfigRefUri) return null;
  const m = /\/\/([^@]+)@(.+)$/.exec(ciConfigRefUri);
  return m ? { file: m[1]!, ref: m[2]! } : null;
}

/** Project, pipeline file, commit and pipeline (or job) of GitLab claims, on the issuer's host. */
export function gitlabLinks(claims: Claims, issuerUrl: string): ProvenanceLinks {
  const path = nonEmptyClaim(claims, 'project_path');
  const pipeline = pipelineOfRefUri(nonEmptyClaim(claims, 'ci_config_ref_uri'));
  const links: ProvenanceLinks = {
    repository: path,
    workflow: pipeline?.file ?? null,
    ref: nonEmptyClaim(claims, 'ref_path') ?? pipeline?.ref ?? null,
    commitUrl: null,
    runLabel: null,
    runUrl: null,
  };
  if (!isRepositoryPath(path)) return links;
  const projectUrl = `${issuerUrl.replace(/\/+$/, '')}/${path}`;
  const sha = nonEmptyClaim(claims, 'sha');
  if (sha !== null && isCommitSha(sha)) links.commitUrl = `${projectUrl}/-/commit/${sha}`;
  const pipelineId = nonEmptyClaim(claims, 'pipeline_id');
  const jobId = nonEmptyClaim(claims, 'job_id');
  if (isNumericId(pipelineId)) {
    links.runLabel = `pipeline ${pipelineId}`;
    links.runUrl = `${projectUrl}/-/pipelines/${pipelineId}`;
  } else if (isNumericId(jobId)) {
    links.runLabel = `job ${jobId}`;
    links.runUrl = `${projectUrl}/-/jobs/${jobId}`;
  }
  return links;
}

/** The two-job pipeline, with `id_tokens:` for this index's audience. */
export function gitlabPipeline(c: GitLabConfig, context: TemplateContext): PipelineTemplate {
  const environment = c.environment ?? '';
  const tag = /^refs\/tags\//.test(c.ref ?? '');
  const lines = [
    `# ${c.workflowPath} in ${c.namespace}/${c.project}`,
    'stages: [build, publish]',
    '',
    'build:',
    '  stage: build',
    '  image: python:3.12',
    '  script:',
    '    - python -m pip install build',
    '    - python -m build',
    '  artifacts:',
    '    paths: [dist/]',
    '',
    'publish:',
    '  stage: publish',
    '  image: node:20',
    '  needs: [build]',
    ...(tag ? ['  rules:', '    - if: $CI_COMMIT_TAG'] : []),
    ...(environment !== ''
      ? [`  environment: ${yamlScalar(environment)} # protect it under Settings → CI/CD`]
      : []),
    '  id_tokens:',
    `    ${gitlabTokenVariable(context.audience)}:`,
    `      aud: ${yamlScalar(context.audience)}`,
    '  script:',
    '    - npm install --global "$PIER_PACKAGE" # pier, as your organisation distributes it',
    `    - pier publish --repository-url ${context.uploadUrl} dist/`,
  ];
  return {
    path: c.workflowPath ?? '.gitlab-ci.yml',
    text: lines.join('\n') + '\n',
    language: 'yaml',
  };
}

function gitlabProjectUrl(config: GitLabConfig, issuerUrl: string): string {
  return `${issuerUrl.replace(/\/+$/, '')}/${config.namespace}/${config.project}`;
}

// ---- `pier dev-oidc --kind gitlab`: GitLab CI `id_tokens` (publishing-clients §7.2) ----

const GITLAB_PROJECT_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$/;

/** The issuer as GitLab writes it in ci_config_ref_uri: without its scheme. */
export function gitlabHost(issuer: string): string {
  return issuer.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

/** GitLab's default tier for an environment's name. */
function deploymentTier(environment: string): string {
  const name = environment.toLowerCase();
  if (/^(prod|production|live)\b/.test(name)) return 'production';
  if (/^(stag|staging|pre-?prod|model|demo)/.test(name)) return 'staging';
  if (/^(test|qc|qa)/.test(name)) return 'testing';
  if (/^(dev|review|trunk)/.test(name)) return 'development';
  return 'other';
}

function gitlabDevCheck(job: Readonly<JobSettings>): string | null {
  const { repository, ownerId, workflow, ref, jobWorkflowRef } = job;
  if (repository !== undefined && !GITLAB_PROJECT_PATH.test(repository))
    return `--repository must be the project path NAMESPACE/PROJECT (e.g. my-group/my-project), got '${repository}'`;
  if (ownerId !== undefined && !/^[1-9][0-9]*$/.test(ownerId))
    return `--owner-id must be the owner's numeric id (digits only, e.g. 65), got '${ownerId}'`;
  if (
    workflow !== undefined &&
    (!/\.(?:yml|yaml)$/.test(workflow) ||
      workflow.startsWith('/') ||
      workflow.split('/').some((part) => part === '' || part === '..') ||
      /[\s@\\]/.test(workflow))
  )
    return `--workflow must be the CI configuration's path in the project ending in .yml or .yaml (e.g. .gitlab-ci.yml), got '${workflow}'`;
  if (ref !== undefined && !/^refs\/(?:heads|tags)\/\S+$/.test(ref))
    return `--ref must be a full ref such as refs/heads/main or refs/tags/v1.0, got '${ref}'`;
  if (jobWorkflowRef !== undefined)
    return '--job-workflow-ref is only for --kind github (reusable workflows)';
  return null;
}

function gitlabDevClaims(
  job: Readonly<JobSettings>,
  file: Readonly<DevClaims>,
  issuer: string,
): DevClaims {
  const projectPath = job.repository ?? text(file.project_path) ?? DEFAULTS.repository;
  const namespacePath = projectPath.slice(0, Math.max(projectPath.lastIndexOf('/'), 0));
  const namespaceId = job.ownerId ?? text(file.namespace_id) ?? DEFAULTS.namespaceId;
  const refPath = job.ref ?? text(file.ref_path) ?? DEFAULTS.ref;
  const tag = /^refs\/tags\/(.+)$/.exec(refPath)?.[1];
  const branch = /^refs\/heads\/(.+)$/.exec(refPath)?.[1];
  const ref = tag ?? branch ?? refPath;
  const refType = tag !== undefined ? 'tag' : 'branch';
  const sha = job.sha ?? text(file.sha) ?? DEFAULTS.sha;
  const event = job.event ?? text(file.pipeline_source) ?? DEFAULTS.gitlabEvent;
  const environment = environmentOf(job, file);
  const configPath = job.workflow ?? DEFAULTS.gitlabWorkflow;

  const derived: DevClaims = {
    namespace_id: namespaceId,
    namespace_path: namespacePath,
    project_id: DEFAULTS.repositoryId,
    project_path: projectPath,
    user_id: DEFAULTS.actorId,
    user_login: DEFAULTS.actor,
    user_email: `${DEFAULTS.actor}@example.com`,
    user_access_level: 'maintainer',
    job_project_id: DEFAULTS.repositoryId,
    job_project_path: projectPath,
    job_namespace_id: namespaceId,
    job_namespace_path: namespacePath,
    pipeline_id: DEFAULTS.runId,
    pipeline_source: event,
    job_id: DEFAULTS.jobId,
    ref,
    ref_type: refType,
    ref_path: refPath,
    ref_protected: 'false',
    ...(environment
      ? {
          environment,
          environment_protected: 'false',
          deployment_tier: deploymentTier(environment),
          environment_action: 'start',
        }
      : {}),
    runner_id: 1,
    runner_environment: 'gitlab-hosted',
    sha,
    project_visibility: 'public',
    ci_config_ref_uri: `${gitlabHost(issuer)}/${projectPath}//${configPath}@${refPath}`,
    ci_config_sha: sha,
    sub: `project_path:${projectPath}:ref_type:${refType}:ref:${ref}`,
  };
  const flagged = given({
    project_path: job.repository,
    namespace_id: job.ownerId,
    environment: job.environment,
    ref_path: job.ref,
    sha: job.sha,
    pipeline_source: job.event,
  });
  return mergeClaims(derived, file, flagged);
}

const gitlabDevShape: DevTokenShape = {
  platform: 'GitLab CI',
  jwksPath: '/oauth/discovery/keys',
  checkJob: gitlabDevCheck,
  claims: gitlabDevClaims,
  environment(claims, issuer) {
    const configUri = stringOf(claims.ci_config_ref_uri);
    return {
      CI_SERVER_URL: issuer,
      CI_PROJECT_PATH: stringOf(claims.project_path),
      CI_CONFIG_PATH: configUri ? /\/\/(.*[^/]\.(?:yml|yaml))@/.exec(configUri)?.[1] : undefined,
      CI_COMMIT_REF_NAME: stringOf(claims.ref),
      CI_COMMIT_SHA: stringOf(claims.sha),
      CI_PIPELINE_ID: stringOf(claims.pipeline_id),
      CI_JOB_ID: stringOf(claims.job_id),
    };
  },
  publisherFlags(c) {
    const uri = text(c.ci_config_ref_uri) ?? '';
    const workflow = /(?<=\/\/)(.*[^/]\.(?:yml|yaml))(?=@)/.exec(uri)?.[1];
    return [
      `--repository ${shellQuote(text(c.project_path) ?? '<NAMESPACE/PROJECT>')}`,
      `--workflow ${shellQuote(workflow ?? '<PATH.yml>')}`,
      ...(text(c.environment) ? [`--environment ${shellQuote(String(c.environment))}`] : []),
    ];
  },
  notes: [
    '# (GitLab hands a job its token in a variable; here GitLab-shaped tokens come from the',
    '#  token endpoint above, which OIDC clients use when GITHUB_ACTIONS=true.)',
  ],
  flags:
    '--repository NAMESPACE/PROJECT, --owner-id (namespace_id), --workflow CONFIG-PATH, --ref and --event (pipeline_source) derive sub, ci_config_ref_uri, namespace_path, ref and ref_type',
};

export const gitlabProvider: Provider<GitLabConfig> = {
  kind: 'gitlab',
  dev: gitlabDevShape,
  displayName: 'GitLab',
  builtinIssuer: GITLAB_ISSUER_URL,
  summary:
    'a project (namespace and name), the top-level pipeline file, optionally an environment, a ref pattern and protected refs only',
  fields: GITLAB_FIELDS,
  example: {
    namespace: 'my-group/subgroup',
    project: 'my-project',
    workflowPath: '.gitlab-ci.yml',
    environment: 'release',
    ref: 'refs/tags/v*',
    protectedRef: '',
  },
  cli: {
    options: [
      { flags: '--repository <path>', description: 'GitLab NAMESPACE/PROJECT' },
      { flags: '--workflow <file>', description: 'GitLab top-level pipeline file path' },
      {
        flags: '--environment <env>',
        description: 'GitLab: only jobs running in this deployment environment',
      },
      { flags: '--ref <glob>', description: 'GitLab: only jobs on matching refs' },
      PROTECTED_REF_OPTION,
    ],
    example: '--repository NAMESPACE/PROJECT --workflow .gitlab-ci.yml [--environment ENV]',
    fields(flags) {
      const path = flagString(flags, 'repository');
      if (!path)
        return { ok: false, message: 'GitLab publishers need --repository NAMESPACE/PROJECT' };
      const at = path.lastIndexOf('/');
      if (at <= 0)
        return { ok: false, message: `--repository must be NAMESPACE/PROJECT, got '${path}'` };
      return {
        ok: true,
        fields: {
          namespace: path.slice(0, at),
          project: path.slice(at + 1),
          workflowPath: flagString(flags, 'workflow'),
          environment: flagString(flags, 'environment'),
          ref: flagString(flags, 'ref'),
          protectedRef: protectedRefFlag(flags),
        },
      };
    },
  },
  parseConfig: (stored) =>
    parseStoredFields<GitLabConfig>(
      stored,
      ['namespace', 'project', 'workflowPath'],
      ['environment', 'ref', 'protectedRef'],
    ),
  // The pipeline file and the environment are compared exactly.
  overlaps: (a, b) =>
    a.workflowPath === b.workflowPath &&
    optionalOverlap(optionalField(a.environment), optionalField(b.environment)) &&
    refPatternsOverlap(optionalField(a.ref), optionalField(b.ref)),
  links: gitlabLinks,
  attestation: {
    shape: 'repository',
    repositoryUrl: gitlabProjectUrl,
    repositoryCheck: 'equals ISSUER/NAMESPACE/PROJECT (in any case)',
    configPath: (c) => `//${c.workflowPath}`,
    configCheck:
      'is PROJECT_URL//CI_CONFIG_PATH@REF or @SHA; the certificate has both the ref and the commit',
    buildSigner: false,
    refAndDigest: true,
    publisher(c) {
      const environment = optionalField(c.environment);
      return {
        kind: 'GitLab',
        repository: `${c.namespace}/${c.project}`,
        workflow_filepath: c.workflowPath,
        environment: environment === '' ? null : environment,
      };
    },
  },
  template: {
    variable: (name) => `"$${name}"`,
    render: gitlabPipeline,
  },
  rules: GITLAB_RULES,
  uncheckedClaims: GITLAB_UNCHECKED_CLAIMS,
  uncheckedPrefixes: GITLAB_UNCHECKED_PREFIXES,
  validateConfig: validateGitLabConfig,

  lookupKeyOfConfig: (config) => foldCase(`${config.namespace}/${config.project}`),

  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(GITLAB_RULES, claims);
    if (failure) return { ok: false, failure };
    return { ok: true, key: foldCase(stringClaim(claims, 'project_path')) };
  },

  identityOf: (config) =>
    identityString([
      foldCase(`${config.namespace}/${config.project}`),
      config.workflowPath,
      optionalField(config.environment),
      optionalField(config.ref),
      ...protectedRefIdentity(config),
    ]),

  check: (config, claims, issuerUrl) => checkRules(GITLAB_RULES, config, claims, issuerUrl),

  specificity: (config) =>
    (optionalField(config.environment) !== '' ? 2 : 0) + (optionalField(config.ref) !== '' ? 1 : 0),

  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),

  describe(config) {
    let text = `GitLab ${config.namespace}/${config.project}, pipeline ${config.workflowPath}`;
    if (optionalField(config.environment) !== '') text += `, environment ${config.environment}`;
    if (optionalField(config.ref) !== '') text += `, ref ${config.ref}`;
    text += describeProtectedRef(config);
    return text;
  },

  url(config, issuerUrl, claims) {
    const project = `${issuerUrl.replace(/\/+$/, '')}/${pathSegments(config.namespace)}/${encodeURIComponent(config.project)}`;
    const sha = claims ? stringClaim(claims, 'sha') : '';
    return isCommitSha(sha) ? `${project}/-/commit/${sha}` : project;
  },
};
