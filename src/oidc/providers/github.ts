// GitHub Actions (reference §3.2, §6 and publishing-clients §7.1; Warehouse
// `warehouse/oidc/models/github.py` and `warehouse/oidc/forms/github.py`).
//
// A publisher names a repository (owner, owner id, name), a workflow file, optionally a
// deployment environment and, as pier's addition, optionally a glob of the git refs it accepts.
// The token is matched on `repository` + `repository_owner_id` + the workflow file in
// `job_workflow_ref`, never on `sub` (its format is customisable per repository, and GitHub's
// "immutable subject" changes it again).
//
// Reusable workflows: `repository` is the caller's repository while `job_workflow_ref` names the
// file that defines the job. So, as on PyPI, a reusable workflow from another repository never
// matches, and one from the same repository (run at the same ref) matches only a publisher that
// names the reusable file, not the caller.
import { githubDevShape } from '../../dev-oidc/actions.js';
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
import {
  optionalOverlap,
  refMatches,
  refPatternProblem,
  refPatternsOverlap,
  triggerOfRef,
} from './ref-glob.js';
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
  Claims,
  ConfigInput,
  GitHubConfig,
  PipelineTemplate,
  Provider,
  ProvenanceLinks,
  RegistrationField,
  TemplateContext,
  ValidateResult,
} from './types.js';

export const GITHUB_ISSUER_URL = 'https://token.actions.githubusercontent.com';

// --- The claim checks -------------------------------------------------------------------------

/** `repository`: OWNER/REPO in any case (GitHub owner and repository names are case-insensitive). */
export function checkRepository(config: GitHubConfig, claim: string): string | null {
  const expected = `${config.owner}/${config.repository}`;
  if (claim !== '' && foldCase(claim) === foldCase(expected)) return null;
  return mismatch('repository', `${quote(expected)} (in any case)`, claim);
}

/**
 * `repository_owner`: the owner in any case. Warehouse compares this one exactly, but the name is
 * not what protects the publisher: `repository_owner_id` (exact) pins the account. GitHub logins
 * are unique regardless of case and an owner may change only the case of theirs, and the owner
 * may have been typed in another case when its id was given by hand (no API lookup, e.g. GitHub
 * Enterprise Server); an exact comparison would then refuse the right account and protect nothing.
 * This also keeps it consistent with `repository`, which carries the same owner name.
 */
export function checkRepositoryOwner(config: GitHubConfig, claim: string): string | null {
  if (claim !== '' && foldCase(claim) === foldCase(config.owner)) return null;
  return mismatch('repository_owner', `${quote(config.owner)} (in any case)`, claim);
}

/**
 * `repository_owner_id`: exactly the numeric id recorded at registration. An account deleted and
 * re-created under the same name (or a name freed and taken by someone else) has a new id, so it
 * cannot take over the publisher.
 */
export function checkRepositoryOwnerId(config: GitHubConfig, claim: string): string | null {
  if (claim === config.ownerId) return null;
  return mismatch('repository_owner_id', quote(config.ownerId), claim);
}

/**
 * `job_workflow_ref`: exactly `OWNER/REPO/.github/workflows/WORKFLOW@REF` or `…@SHA`, with REF and
 * SHA the token's own `ref` and `sha` claims (one may be empty, as for deployments that name a
 * commit). OWNER/REPO is compared in any case, like `repository`; the rest exactly. Messages are
 * Warehouse's `_check_job_workflow_ref`.
 */
export function checkJobWorkflowRef(
  config: GitHubConfig,
  claim: string,
  claims: Claims,
): string | null {
  return checkWorkflowRefAt(config, `.github/workflows/${config.workflow}`, claim, claims);
}

/**
 * The check of `job_workflow_ref` against `OWNER/REPO/PATH@REF` or `…@SHA`, for a workflow file
 * at PATH in the repository (shared with GitHub-shaped forges whose workflows live elsewhere).
 */
export function checkWorkflowRefAt(
  config: { owner: string; repository: string },
  path: string,
  claim: string,
  claims: Claims,
): string | null {
  if (claim === '') return 'The job_workflow_ref claim is empty';
  const ref = stringClaim(claims, 'ref');
  const sha = stringClaim(claims, 'sha');
  if (ref === '' && sha === '') return 'The ref and sha claims are empty';
  const repository = `${config.owner}/${config.repository}/`;
  const expected = [ref, sha].filter((r) => r !== '').map((r) => `${repository}${path}@${r}`);
  const head = claim.slice(0, repository.length);
  const tail = claim.slice(repository.length);
  const matches =
    foldCase(head) === foldCase(repository) &&
    expected.some((e) => e.slice(repository.length) === tail);
  if (matches) return null;
  return `The job_workflow_ref claim does not match, expecting one of ${quoteList([...new Set(expected)])}, got ${quote(claim)}`;
}

/**
 * `event_name`: not `pull_request_target`, which runs with the base repository's permissions (and
 * so could mint an upload token) for a pull request from anyone's fork (Warehouse PR #19601).
 */
export function checkEventName(_config: GitHubConfig, claim: string): string | null {
  if (claim !== 'pull_request_target') return null;
  return "Publishing from a workflow invoked via 'pull_request_target' is not supported.";
}

/**
 * `ref` (pier): when the publisher has a ref pattern, the token's ref must match it. Without one
 * the claim is only required to be present, as on PyPI.
 */
export function checkRef(config: GitHubConfig, claim: string): string | null {
  const pattern = optionalField(config.ref);
  if (refMatches(pattern, claim)) return null;
  return mismatch('ref', `a ref matching ${quote(pattern)}`, claim);
}

/**
 * `environment`: a publisher without an environment accepts any (or none). Otherwise the job must
 * run in that environment; GitHub environment names are case-insensitive (ASCII case only: a
 * Unicode look-alike such as KELVIN SIGN for 'k' is another name).
 */
export function checkEnvironment(config: GitHubConfig, claim: string | undefined): string | null {
  const expected = optionalField(config.environment);
  if (expected === '') return null;
  if (claim === undefined) return `Missing claim 'environment': expected ${quote(expected)}`;
  if (claim !== '' && foldCase(claim) === foldCase(expected)) return null;
  return mismatch('environment', `${quote(expected)} (in any case)`, claim);
}

// --- The table --------------------------------------------------------------------------------

export const GITHUB_RULES: readonly Rule<GitHubConfig>[] = [
  {
    claim: 'repository',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals OWNER/REPO, in any case',
    verify: checkRepository,
  },
  {
    claim: 'repository_owner',
    kind: 'required-verifiable',
    type: 'string',
    check: 'equals OWNER, in any case (the owner id pins the account)',
    verify: checkRepositoryOwner,
  },
  {
    claim: 'repository_owner_id',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the owner's numeric id recorded at registration, exactly",
    verify: checkRepositoryOwnerId,
  },
  {
    claim: 'job_workflow_ref',
    kind: 'required-verifiable',
    type: 'string',
    check:
      "is OWNER/REPO/.github/workflows/WORKFLOW@REF or @SHA, with the token's ref and sha (OWNER/REPO in any case, the rest exactly)",
    verify: checkJobWorkflowRef,
  },
  {
    claim: 'event_name',
    kind: 'required-verifiable',
    type: 'string',
    check: 'is not pull_request_target',
    verify: checkEventName,
  },
  {
    claim: 'ref',
    kind: 'required-verifiable',
    type: 'string',
    check: "matches the publisher's ref pattern, if it has one (pier; PyPI only requires it)",
    verify: checkRef,
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
    check: 'any when the publisher has none; else present and equal, in any ASCII case',
    verify: checkEnvironment,
  },
  protectedRefRule(),
];

/**
 * One row of GitHub's table, for a forge whose tokens carry the same claim with the same meaning
 * (its configuration has GitHub's fields): shared, never copied.
 */
export function sharedGitHubRule<C extends GitHubConfig>(claim: string): Rule<C> {
  const rule = GITHUB_RULES.find((r) => r.claim === claim);
  if (!rule) throw new Error(`GitHub's table has no rule for '${claim}'`);
  return rule as Rule<C>;
}

/** Claims deliberately not checked (Warehouse's `__unchecked_claims__`). */
export const GITHUB_UNCHECKED_CLAIMS: readonly string[] = [
  // Customisable per repository and organization, and changed by GitHub's immutable subjects:
  // never match on it (Warehouse PR #19422).
  'sub',
  'actor',
  'actor_id',
  'run_id',
  'run_number',
  'run_attempt',
  'head_ref',
  'base_ref',
  'ref_type',
  // Not verified, as on PyPI: a repository deleted and re-created under the same owner is not
  // detected (the owner id is).
  'repository_id',
  'workflow',
  'repository_visibility',
  'workflow_sha',
  'job_workflow_sha',
  // The caller of a reusable workflow; matching is on job_workflow_ref (the job's own file).
  'workflow_ref',
  'runner_environment',
  'environment_node_id',
  'enterprise',
  'enterprise_id',
  'check_run_id',
];

/** Custom repository properties (`repo_property_<name>`). */
export const GITHUB_UNCHECKED_PREFIXES: readonly string[] = ['repo_property_'];

// --- Registration (reference §6, GitHub row) ---------------------------------------------------

const VALID_OWNER = /^[a-zA-Z0-9][a-zA-Z0-9-]*$/;
const VALID_REPOSITORY = /^[a-zA-Z0-9_.-]+$/;
/** Control characters and ' " ` , ; \ (Warehouse's `_INVALID_ENVIRONMENT_CHARS`). */
const INVALID_ENVIRONMENT_CHARS = /[\x00-\x1f\x7f'"`,;\\]/;

/** What is wrong with an environment name (Warehouse's rules), or null. */
export function environmentProblem(environment: string): string | null {
  if ([...environment].length > 255)
    return 'Environment name is too long (maximum is 255 characters)';
  if (/^\s/.test(environment)) return 'Environment name may not start with whitespace';
  if (/\s$/.test(environment)) return 'Environment name may not end with whitespace';
  if (INVALID_ENVIRONMENT_CHARS.test(environment))
    return 'Environment name must not contain non-printable characters or the characters "\'", """, "`", ",", ";", "\\"';
  return null;
}

export function validateGitHubConfig(input: ConfigInput): ValidateResult<GitHubConfig> {
  const errors: Record<string, string> = {};

  const owner = trimmedField(input, 'owner');
  if (owner === '') errors.owner = 'Specify GitHub repository owner (username or organization)';
  else if (!VALID_OWNER.test(owner)) errors.owner = 'Invalid GitHub user or organization name.';

  const ownerId = trimmedField(input, 'ownerId');
  if (ownerId === '') errors.ownerId = "Specify the owner's numeric id (it could not be looked up)";
  else if (!/^[0-9]+$/.test(ownerId))
    errors.ownerId = `The owner's id must be GitHub's numeric account id, got ${quote(ownerId)}`;

  const repository = trimmedField(input, 'repository');
  if (repository === '') errors.repository = 'Specify repository name';
  else if (!VALID_REPOSITORY.test(repository)) errors.repository = 'Invalid repository name';

  const workflow = trimmedField(input, 'workflow');
  if (workflow === '') errors.workflow = 'Specify workflow filename';
  else if (!(workflow.endsWith('.yml') || workflow.endsWith('.yaml')))
    errors.workflow = 'Workflow name must end with .yml or .yaml';
  else if (workflow.includes('/'))
    errors.workflow = 'Workflow filename must be a filename only, without directories';

  // Not trimmed: surrounding whitespace is refused, not silently dropped.
  const environment = input.environment ?? '';
  const environmentError = environmentProblem(environment);
  if (environmentError) errors.environment = environmentError;

  const ref = trimmedField(input, 'ref');
  const refProblem = ref === '' ? null : refPatternProblem(ref);
  if (refProblem) errors.ref = refProblem;
  const protectedRef = validateProtectedRef(input.protectedRef, errors);

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  // GitHub environment names are case-insensitive: stored lower-cased, as Warehouse does (ASCII
  // letters only, the rule of every case-insensitive comparison: see foldCase).
  return {
    ok: true,
    config: {
      owner,
      ownerId,
      repository,
      workflow,
      environment: foldCase(environment),
      ref,
      ...(protectedRef ? { protectedRef } : {}),
    },
  };
}

// --- Presentation ----------------------------------------------------------------------------

/**
 * The web host of a GitHub-kind issuer: github.com for GitHub's issuer (also with an enterprise
 * slug), SUBDOMAIN.ghe.com for `https://token.actions.SUBDOMAIN.ghe.com`, and the issuer's own
 * origin otherwise (GitHub Enterprise Server's `https://HOST/_services/token`).
 */
export function githubWebBase(issuerUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    return null;
  }
  if (url.hostname === 'token.actions.githubusercontent.com') return 'https://github.com';
  const residency = /^token\.actions\.([a-z0-9-]+\.ghe\.com)$/i.exec(url.hostname);
  if (residency) return `https://${residency[1]!.toLowerCase()}`;
  return url.origin;
}

const PROVENANCE_CLAIMS = [
  'repository',
  'repository_owner_id',
  'workflow_ref',
  'job_workflow_ref',
  'ref',
  'sha',
  'run_id',
  'run_attempt',
  'environment',
  'event_name',
] as const;

export const GITHUB_FIELDS: readonly RegistrationField[] = [
  {
    name: 'owner',
    label: 'Owner',
    placeholder: 'octo-org',
    hint: 'The GitHub user or organization that owns the repository.',
  },
  { name: 'repository', label: 'Repository name', placeholder: 'octo-repo' },
  {
    name: 'workflow',
    label: 'Workflow file name',
    placeholder: 'release.yml',
    hint: 'The file under .github/workflows/ that publishes.',
  },
  {
    name: 'environment',
    label: 'Environment',
    placeholder: 'release',
    optional: true,
    hint: 'The GitHub environment of the publishing job. Strongly recommended, with required reviewers.',
  },
  {
    name: 'ownerId',
    label: "Owner's numeric id",
    placeholder: '65',
    optional: true,
    hint: "Looked up from the provider's API when left empty; enter it when pier cannot reach the provider (e.g. from https://api.github.com/users/OWNER).",
  },
  {
    name: 'ref',
    label: 'Ref pattern',
    placeholder: 'refs/tags/v*',
    optional: true,
    hint: 'Only these refs may publish (pier): * within a path segment, ** across segments.',
  },
  PROTECTED_REF_FIELD,
];

/** The workflow file and ref of `OWNER/REPO/.github/workflows/FILE@REF`. */
function workflowOfRef(jobWorkflowRef: string | null): { file: string; ref: string } | null {
  if (!jobWorkflowRef) return null;
  const m = /^[^/]+\/[^/]+\/\.github\/workflows\/([^@]+)@(.+)$/.exec(jobWorkflowRef);
  return m ? { file: m[1]!, ref: m[2]! } : null;
}

/** Repository, workflow, commit and run of GitHub-shaped claims, on the issuer's web host. */
export function githubLinks(claims: Claims, issuerUrl: string): ProvenanceLinks {
  const repository = nonEmptyClaim(claims, 'repository');
  const workflow = workflowOfRef(nonEmptyClaim(claims, 'job_workflow_ref'));
  const links: ProvenanceLinks = {
    repository,
    workflow: workflow?.file ?? null,
    ref: nonEmptyClaim(claims, 'ref') ?? workflow?.ref ?? null,
    commitUrl: null,
    runLabel: null,
    runUrl: null,
  };
  const base = githubWebBase(issuerUrl);
  if (base === null || !isRepositoryPath(repository)) return links;
  const repoUrl = `${base}/${repository}`;
  const sha = nonEmptyClaim(claims, 'sha');
  if (sha !== null && isCommitSha(sha)) links.commitUrl = `${repoUrl}/commit/${sha}`;
  const runId = nonEmptyClaim(claims, 'run_id');
  const attempt = nonEmptyClaim(claims, 'run_attempt');
  if (isNumericId(runId)) {
    const withAttempt = isNumericId(attempt);
    links.runLabel = `run ${runId}${withAttempt ? `, attempt ${attempt}` : ''}`;
    links.runUrl = `${repoUrl}/actions/runs/${runId}${withAttempt ? `/attempts/${attempt}` : ''}`;
  }
  return links;
}

/**
 * The publish action named when no other is configured (PIER_ACTION_REF names pier's own,
 * action.yml at the root of pier's repository, as the organisation hosts it): its inputs are
 * those of pier's action, and it uploads to any index given `repository-url:`.
 */
export const PYPA_ACTION = 'pypa/gh-action-pypi-publish@release/v1';

/** The `on:` trigger that matches a ref pattern (`refs/tags/v*` → tags v*), if it has one. */
export function githubTrigger(ref: string): string[] {
  const { kind, quoted } = triggerOfRef(ref);
  return ['on:', '  push:', `    ${kind}: [${quoted}]`];
}

/**
 * The standard two-job workflow: build and upload the artifact; then publish with
 * `permissions: id-token: write` in the publisher's environment, with the publish action.
 */
export function githubWorkflow(c: GitHubConfig, context: TemplateContext): PipelineTemplate {
  const environment = c.environment ?? '';
  const lines = [
    `# .github/workflows/${c.workflow} in ${c.owner}/${c.repository}`,
    'name: Release',
    ...githubTrigger(c.ref ?? ''),
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - run: pipx run build',
    '      - uses: actions/upload-artifact@v4',
    '        with: { name: dist, path: dist/ }',
    '  publish:',
    '    needs: build',
    '    runs-on: ubuntu-latest',
    ...(environment !== ''
      ? [`    environment: ${yamlScalar(environment)} # add required reviewers to it`]
      : []),
    '    permissions:',
    '      id-token: write # the OIDC token for trusted publishing; no secret is stored',
    '    steps:',
    '      - uses: actions/download-artifact@v4',
    '        with: { name: dist, path: dist/ }',
    `      - uses: ${context.actionRef ?? PYPA_ACTION}`,
    '        with:',
    `          repository-url: ${context.uploadUrl}`,
  ];
  return {
    path: `.github/workflows/${c.workflow}`,
    text: lines.join('\n') + '\n',
    language: 'yaml',
  };
}

export const githubProvider: Provider<GitHubConfig> = {
  kind: 'github',
  dev: githubDevShape,
  displayName: 'GitHub',
  builtinIssuer: GITHUB_ISSUER_URL,
  summary:
    'a repository (with its owner id), a workflow file, optionally an environment, a ref pattern and protected refs only',
  fields: GITHUB_FIELDS,
  example: {
    owner: 'octo-org',
    repository: 'octo-repo',
    workflow: 'release.yml',
    environment: 'release',
    ownerId: '65',
    ref: 'refs/tags/v*',
    protectedRef: 'true',
  },
  cli: {
    options: [
      { flags: '--repository <path>', description: 'GitHub OWNER/REPO' },
      { flags: '--workflow <file>', description: 'GitHub workflow file name (release.yml)' },
      {
        flags: '--environment <env>',
        description: 'GitHub: only jobs running in this deployment environment',
      },
      {
        flags: '--owner-id <id>',
        description: "GitHub owner's numeric id (looked up from the provider's API when omitted)",
      },
      {
        flags: '--ref <glob>',
        description: 'GitHub: only jobs on matching refs, e.g. refs/tags/v* (pier extension)',
      },
      PROTECTED_REF_OPTION,
    ],
    example: '--repository OWNER/REPO --workflow release.yml [--environment ENV] [--owner-id ID]',
    fields(flags) {
      const path = flagString(flags, 'repository');
      if (!path) return { ok: false, message: 'GitHub publishers need --repository OWNER/REPO' };
      const [owner, repository, ...rest] = path.split('/');
      if (!owner || !repository || rest.length)
        return { ok: false, message: `--repository must be OWNER/REPO, got '${path}'` };
      return {
        ok: true,
        fields: {
          owner,
          repository,
          workflow: flagString(flags, 'workflow'),
          environment: flagString(flags, 'environment'),
          ownerId: flagString(flags, 'ownerId'),
          ref: flagString(flags, 'ref'),
          protectedRef: protectedRefFlag(flags),
        },
      };
    },
  },
  parseConfig: (stored) =>
    parseStoredFields<GitHubConfig>(
      stored,
      ['owner', 'ownerId', 'repository', 'workflow'],
      ['environment', 'ref', 'protectedRef'],
    ),
  // The owner id and the workflow file are compared exactly, the environment in any case.
  overlaps: (a, b) =>
    a.ownerId === b.ownerId &&
    a.workflow === b.workflow &&
    optionalOverlap(optionalField(a.environment), optionalField(b.environment), foldCase) &&
    refPatternsOverlap(optionalField(a.ref), optionalField(b.ref)),
  links: githubLinks,
  attestation: {
    shape: 'repository',
    repositoryUrl: (c, issuerUrl) => `${githubWebBase(issuerUrl) ?? ''}/${c.owner}/${c.repository}`,
    repositoryCheck:
      'equals https://github.com/OWNER/REPO (in any case), the repository the job ran in',
    configPath: (c) => `/.github/workflows/${c.workflow}`,
    configCheck:
      'the Build Config URI (top-level workflow) or the Build Signer URI (the job’s own file) is REPO_URL/.github/workflows/WORKFLOW@REF or @SHA',
    ownerId: (c) => c.ownerId,
    buildSigner: true,
    refAndDigest: false,
    publisher(c) {
      const environment = optionalField(c.environment);
      return {
        kind: 'GitHub',
        repository: `${c.owner}/${c.repository}`,
        workflow: c.workflow,
        environment: environment === '' ? null : environment,
      };
    },
  },
  template: {
    variable: (name) => `\${{ vars.${name} }}`,
    render: githubWorkflow,
  },
  rules: GITHUB_RULES,
  uncheckedClaims: GITHUB_UNCHECKED_CLAIMS,
  uncheckedPrefixes: GITHUB_UNCHECKED_PREFIXES,
  validateConfig: validateGitHubConfig,

  lookupKeyOfConfig: (config) => foldCase(`${config.owner}/${config.repository}`),

  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(GITHUB_RULES, claims);
    if (failure) return { ok: false, failure };
    return { ok: true, key: foldCase(stringClaim(claims, 'repository')) };
  },

  identityOf: (config) =>
    identityString([
      foldCase(`${config.owner}/${config.repository}`),
      config.ownerId,
      config.workflow,
      foldCase(optionalField(config.environment)),
      optionalField(config.ref),
      ...protectedRefIdentity(config),
    ]),

  check: (config, claims, issuerUrl) => checkRules(GITHUB_RULES, config, claims, issuerUrl),

  specificity: (config) =>
    (optionalField(config.environment) !== '' ? 2 : 0) + (optionalField(config.ref) !== '' ? 1 : 0),

  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),

  describe(config) {
    let text = `GitHub ${config.owner}/${config.repository}, workflow ${config.workflow}`;
    if (optionalField(config.environment) !== '') text += `, environment ${config.environment}`;
    if (optionalField(config.ref) !== '') text += `, ref ${config.ref}`;
    text += describeProtectedRef(config);
    return text;
  },

  url(config, issuerUrl, claims) {
    const base = githubWebBase(issuerUrl);
    if (base === null) return null;
    const repository = `${base}/${encodeURIComponent(config.owner)}/${encodeURIComponent(config.repository)}`;
    const sha = claims ? stringClaim(claims, 'sha') : '';
    return isCommitSha(sha) ? `${repository}/commit/${sha}` : repository;
  },
};
