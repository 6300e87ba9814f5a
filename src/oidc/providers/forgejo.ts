// Forgejo Actions (and any Gitea-family forge emitting the same tokens): the OIDC ID token a job
// asks its forge for, GitHub-Actions-shaped (`repository`, `repository_owner`, `job_workflow_ref`,
// `ref`, `sha`, `environment`, `sub` = `repo:OWNER/REPO:…`). Sources:
// - https://forgejo.org/docs/next/user/actions/security-openid-connect (the tokens, their
//   request through ACTIONS_ID_TOKEN_REQUEST_URL, the claims, the trust relationships);
// - https://forgejo.org/docs/next/user/authorized-integrations/ and Forgejo's
//   `forgejo admin user create-authorized-integration` (the issuer of an instance is
//   `https://HOST/api/actions`, e.g. https://codeberg.org/api/actions);
// - Forgejo PR #12355, "expose immutable identifiers in Forgejo Actions JWTs" (the
//   `repository_id`, `repository_owner_id` and `actor_id` claims, and `sub` changing to
//   `repo:OWNER-ID/REPO-ID:…` for new repositories while existing ones keep `repo:OWNER/REPO:…`).
// Gitea: no documented Actions OIDC ID token was found (go-gitea/gitea#33681 asks for one); a Gitea
// instance that emits this shape is registered the same way, as an issuer of kind forgejo.
//
// The ids are pinned at registration: given, or looked up from the instance's REST API when left
// empty (src/oidc/forgejo-lookup.ts, `GET /api/v1/repos/{owner}/{repo}`).
//
// Every instance is its own issuer (self-hosted): there is no built-in one, and a publisher names
// an issuer registered with `pier issuer add --kind forgejo --url https://HOST/api/actions`.
// A publisher names a repository (owner, name) pinned by both immutable ids, the workflow file by
// its path in the repository (Forgejo reads `.forgejo/workflows/` and `.github/workflows/`),
// optionally an environment and a ref glob. The rules whose claims mean what they mean on GitHub
// are GitHub's own rows (src/oidc/providers/github.ts), shared, not copied. Forgejo and Gitea
// user and repository names are unique regardless of case, so names compare in any case as on
// GitHub; the ids compare exactly, so a renamed, deleted or re-created repository or owner whose
// name is taken by someone else matches nothing. A token from a Forgejo without the ids (before
// PR #12355) says which claim is missing.
import { forgejoDevShape } from '../../dev-oidc/actions.js';
import {
  checkRules,
  firstMissingOrMistyped,
  flagString,
  foldCase,
  hasControlCharacter,
  identityString,
  isCommitSha,
  isNumericId,
  isRepositoryPath,
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
  checkEventName,
  checkWorkflowRefAt,
  environmentProblem,
  githubTrigger,
  sharedGitHubRule,
} from './github.js';
import { optionalOverlap, refPatternProblem, refPatternsOverlap } from './ref-glob.js';
import type {
  Claims,
  ConfigInput,
  ForgejoConfig,
  PipelineTemplate,
  Provider,
  ProvenanceLinks,
  TemplateContext,
  ValidateResult,
} from './types.js';

/** The path of an instance's issuer under its web root: `https://codeberg.org/api/actions`. */
export const FORGEJO_ISSUER_PATH = '/api/actions';

/** The directories Forgejo and Gitea read workflows from. */
export const FORGEJO_WORKFLOW_DIRECTORIES = [
  '.forgejo/workflows/',
  '.gitea/workflows/',
  '.github/workflows/',
] as const;

// --- The claim checks -------------------------------------------------------------------------

/** `repository_id`: exactly the repository's numeric id pinned at registration. */
export function checkRepositoryId(config: ForgejoConfig, claim: string): string | null {
  return claim === config.repositoryId
    ? null
    : mismatch('repository_id', quote(config.repositoryId), claim);
}

/**
 * `job_workflow_ref`: `OWNER/REPO/PATH@REF` or `…@SHA`, PATH the registered workflow file, REF and
 * SHA the token's own `ref` and `sha` (GitHub's check, at Forgejo's workflow path).
 */
export function checkForgejoJobWorkflowRef(
  config: ForgejoConfig,
  claim: string,
  claims: Claims,
): string | null {
  return checkWorkflowRefAt(config, config.workflow, claim, claims);
}

/** `event_name`: when the token carries it, not `pull_request_target` (GitHub's reason). */
export function checkOptionalEventName(
  config: ForgejoConfig,
  claim: string | undefined,
): string | null {
  return claim === undefined ? null : checkEventName(config, claim);
}

// --- The table --------------------------------------------------------------------------------

export const FORGEJO_RULES: readonly Rule<ForgejoConfig>[] = [
  sharedGitHubRule<ForgejoConfig>('repository'),
  sharedGitHubRule<ForgejoConfig>('repository_owner'),
  {
    claim: 'repository_id',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the repository's numeric id pinned at registration, exactly",
    verify: checkRepositoryId,
  },
  sharedGitHubRule<ForgejoConfig>('repository_owner_id'),
  {
    claim: 'job_workflow_ref',
    kind: 'required-verifiable',
    type: 'string',
    check:
      "is OWNER/REPO/PATH@REF or @SHA, PATH the registered workflow file, with the token's ref and sha (OWNER/REPO in any case, the rest exactly)",
    verify: checkForgejoJobWorkflowRef,
  },
  sharedGitHubRule<ForgejoConfig>('ref'),
  sharedGitHubRule<ForgejoConfig>('sha'),
  sharedGitHubRule<ForgejoConfig>('jti'),
  sharedGitHubRule<ForgejoConfig>('environment'),
  {
    claim: 'event_name',
    kind: 'optional-verifiable',
    type: 'string',
    check: 'when present, is not pull_request_target',
    verify: checkOptionalEventName,
  },
];

export const FORGEJO_UNCHECKED_CLAIMS: readonly string[] = [
  // `repo:OWNER/REPO:…` for existing repositories, `repo:OWNER-ID/REPO-ID:…` for new ones (PR
  // #12355): its format depends on the repository's history; the ids are checked by their claims.
  'sub',
  // Who started the run: any writer of the repository may; the environment is the narrowing rule.
  'actor',
  'actor_id',
  // Identify the run, recorded in provenance; nothing to compare them with.
  'run_id',
  'run_number',
  'run_attempt',
  // A pull request's branches, and the kind of `ref` (which the ref pattern already names).
  'head_ref',
  'base_ref',
  'ref_type',
  // The caller of a reusable workflow; matching is on job_workflow_ref (the job's own file).
  'workflow',
  'workflow_ref',
  'workflow_sha',
  'job_workflow_sha',
  'repository_visibility',
  'runner_environment',
  // Forgejo has no protected-ref claim pier knows of: the protected-refs option is not offered.
  'ref_protected',
];

// --- Registration ------------------------------------------------------------------------------

/** Forgejo user and organization names (letters, digits, - _ .), as Gitea allows them. */
const VALID_OWNER = /^[a-zA-Z0-9_.-]+$/;
const VALID_REPOSITORY = /^[a-zA-Z0-9_.-]+$/;

export function validateForgejoConfig(input: ConfigInput): ValidateResult<ForgejoConfig> {
  const errors: Record<string, string> = {};
  const owner = trimmedField(input, 'owner');
  if (owner === '') errors.owner = 'Specify the repository owner (user or organization)';
  else if (!VALID_OWNER.test(owner) || /^[.]+$/.test(owner))
    errors.owner = 'Invalid user or organization name';
  const repository = trimmedField(input, 'repository');
  if (repository === '') errors.repository = 'Specify repository name';
  else if (!VALID_REPOSITORY.test(repository) || /^[.]+$/.test(repository))
    errors.repository = 'Invalid repository name';
  const ownerId = trimmedField(input, 'ownerId');
  if (ownerId === '') errors.ownerId = "Specify the owner's numeric id";
  else if (!/^[0-9]+$/.test(ownerId))
    errors.ownerId = `The owner's id must be the forge's numeric id, got ${quote(ownerId)}`;
  const repositoryId = trimmedField(input, 'repositoryId');
  if (repositoryId === '') errors.repositoryId = "Specify the repository's numeric id";
  else if (!/^[0-9]+$/.test(repositoryId))
    errors.repositoryId = `The repository's id must be the forge's numeric id, got ${quote(repositoryId)}`;
  const workflow = trimmedField(input, 'workflow');
  const directory = FORGEJO_WORKFLOW_DIRECTORIES.find((d) => workflow.startsWith(d));
  const file = directory ? workflow.slice(directory.length) : '';
  if (workflow === '') errors.workflow = 'Specify the workflow file (.forgejo/workflows/FILE.yml)';
  else if (!directory)
    errors.workflow = `The workflow file must be in ${FORGEJO_WORKFLOW_DIRECTORIES.join(', ')}`;
  else if (!(file.endsWith('.yml') || file.endsWith('.yaml')))
    errors.workflow = 'Workflow name must end with .yml or .yaml';
  else if (file.includes('/') || /\s/.test(file) || hasControlCharacter(file) || file.includes('@'))
    errors.workflow = 'The workflow file is a file name in that directory, without @ or spaces';
  const environment = input.environment ?? '';
  const environmentError = environmentProblem(environment);
  if (environmentError) errors.environment = environmentError;
  const ref = trimmedField(input, 'ref');
  const refProblem = ref === '' ? null : refPatternProblem(ref);
  if (refProblem) errors.ref = refProblem;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      owner,
      ownerId,
      repository,
      repositoryId,
      workflow,
      environment: foldCase(environment),
      ref,
    },
  };
}

// --- Presentation ----------------------------------------------------------------------------

/**
 * The web root of an instance from its issuer URL (`https://HOST[/PATH]/api/actions` →
 * `https://HOST[/PATH]`), or null for an issuer not of that form (then no links are made up).
 */
export function forgejoWebBase(issuerUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (!url.pathname.endsWith(FORGEJO_ISSUER_PATH)) return null;
  return url.origin + url.pathname.slice(0, -FORGEJO_ISSUER_PATH.length);
}

const PROVENANCE_CLAIMS = [
  'repository',
  'repository_id',
  'repository_owner_id',
  'workflow_ref',
  'job_workflow_ref',
  'ref',
  'sha',
  'run_id',
  'run_number',
  'environment',
  'event_name',
] as const;

/** `OWNER/REPO` (two names, neither `.` nor `..`): safe under the instance's web root. */
function isOwnerRepository(value: string | null): value is string {
  return isRepositoryPath(value) && value.split('/').length === 2;
}

/** The workflow file and ref of `OWNER/REPO/PATH@REF`. */
function workflowOfRef(jobWorkflowRef: string | null): { file: string; ref: string } | null {
  if (!jobWorkflowRef) return null;
  const m = /^[^/]+\/[^/]+\/(\.[a-z]+\/workflows\/[^@]+)@(.+)$/.exec(jobWorkflowRef);
  return m ? { file: m[1]!, ref: m[2]! } : null;
}

/**
 * Repository, workflow, commit and run on the instance's web host. A run's page is
 * `OWNER/REPO/actions/runs/N` with N the repository's run number (`run_number`), not `run_id`.
 */
export function forgejoLinks(claims: Claims, issuerUrl: string): ProvenanceLinks {
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
  const base = forgejoWebBase(issuerUrl);
  const runNumber = nonEmptyClaim(claims, 'run_number');
  if (isNumericId(runNumber)) links.runLabel = `run ${runNumber}`;
  if (base === null || !isOwnerRepository(repository)) return links;
  const repoUrl = `${base}/${repository}`;
  const sha = nonEmptyClaim(claims, 'sha');
  if (sha !== null && isCommitSha(sha)) links.commitUrl = `${repoUrl}/commit/${sha}`;
  if (isNumericId(runNumber)) links.runUrl = `${repoUrl}/actions/runs/${runNumber}`;
  return links;
}

/** The workflow: build, then publish from a job that may request an OIDC token. */
export function forgejoWorkflow(c: ForgejoConfig, context: TemplateContext): PipelineTemplate {
  const environment = optionalField(c.environment);
  const lines = [
    `# ${c.workflow} in ${c.owner}/${c.repository}`,
    'name: Release',
    ...githubTrigger(optionalField(c.ref)),
    'jobs:',
    '  publish:',
    '    runs-on: docker',
    ...(environment !== '' ? [`    environment: ${yamlScalar(environment)}`] : []),
    '    # The OIDC token for trusted publishing (ACTIONS_ID_TOKEN_REQUEST_URL); no secret is stored.',
    '    enable-openid-connect: true',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - run: python3 -m pip install build && python3 -m build',
    '      - run: |',
    '          npm install --global "$PIER_PACKAGE" # pier, as your organisation distributes it',
    `          pier publish --repository-url ${context.uploadUrl} dist/`,
  ];
  return { path: c.workflow, text: lines.join('\n') + '\n', language: 'yaml' };
}

export const forgejoProvider: Provider<ForgejoConfig> = {
  kind: 'forgejo',
  dev: forgejoDevShape,
  displayName: 'Forgejo',
  builtinIssuer: null,
  summary:
    'a repository on a registered Forgejo instance (pinned by repository and owner ids), a workflow file, optionally an environment and a ref pattern',
  fields: [
    {
      name: 'owner',
      label: 'Owner',
      placeholder: 'forgejo',
      hint: 'The user or organization that owns the repository.',
    },
    { name: 'repository', label: 'Repository name', placeholder: 'release-app' },
    {
      name: 'repositoryId',
      label: "Repository's numeric id",
      placeholder: '2817',
      optional: true,
      hint: "Pinned, so a repository re-created under this name does not match. Looked up from the instance's API (the `id` of https://HOST/api/v1/repos/OWNER/REPO) when left empty; enter it for a private repository or an instance pier cannot reach.",
    },
    {
      name: 'ownerId',
      label: "Owner's numeric id",
      placeholder: '48',
      optional: true,
      hint: 'Pinned, so an account that takes over the name does not match. Looked up with the repository (its `owner.id`) when left empty.',
    },
    {
      name: 'workflow',
      label: 'Workflow file',
      placeholder: '.forgejo/workflows/release.yml',
      hint: 'Its path in the repository, under .forgejo/workflows/ (or .gitea/ or .github/).',
    },
    {
      name: 'environment',
      label: 'Environment',
      placeholder: 'release',
      optional: true,
      hint: 'Only jobs running in this environment.',
    },
    {
      name: 'ref',
      label: 'Ref pattern',
      placeholder: 'refs/tags/v*',
      optional: true,
      hint: 'Only these refs may publish (pier): * within a path segment, ** across segments.',
    },
  ],
  example: {
    owner: 'forgejo',
    repository: 'release-app',
    repositoryId: '2817',
    ownerId: '48',
    workflow: '.forgejo/workflows/release.yml',
    environment: 'release',
    ref: 'refs/tags/v*',
  },
  cli: {
    options: [
      { flags: '--repository <path>', description: 'Forgejo OWNER/REPO' },
      {
        flags: '--repository-id <id>',
        description: "Forgejo repository's numeric id (looked up from the instance when omitted)",
      },
      {
        flags: '--owner-id <id>',
        description: "Forgejo owner's numeric id (looked up from the instance when omitted)",
      },
      {
        flags: '--workflow <file>',
        description: 'Forgejo workflow path (.forgejo/workflows/release.yml)',
      },
      { flags: '--environment <env>', description: 'Forgejo: only jobs in this environment' },
      { flags: '--ref <glob>', description: 'Forgejo: only jobs on matching refs' },
    ],
    example:
      '--issuer https://codeberg.org/api/actions --repository OWNER/REPO --workflow .forgejo/workflows/release.yml [--repository-id ID --owner-id ID] [--environment ENV]',
    fields(flags) {
      const path = flagString(flags, 'repository');
      if (!path) return { ok: false, message: 'Forgejo publishers need --repository OWNER/REPO' };
      const [owner, repository, ...rest] = path.split('/');
      if (!owner || !repository || rest.length)
        return { ok: false, message: `--repository must be OWNER/REPO, got '${path}'` };
      return {
        ok: true,
        fields: {
          owner,
          repository,
          repositoryId: flagString(flags, 'repositoryId'),
          ownerId: flagString(flags, 'ownerId'),
          workflow: flagString(flags, 'workflow'),
          environment: flagString(flags, 'environment'),
          ref: flagString(flags, 'ref'),
        },
      };
    },
  },
  rules: FORGEJO_RULES,
  uncheckedClaims: FORGEJO_UNCHECKED_CLAIMS,
  uncheckedPrefixes: [],
  validateConfig: validateForgejoConfig,
  parseConfig: (stored) =>
    parseStoredFields<ForgejoConfig>(
      stored,
      ['owner', 'ownerId', 'repository', 'repositoryId', 'workflow'],
      ['environment', 'ref'],
    ),
  lookupKeyOfConfig: (c) => foldCase(`${c.owner}/${c.repository}`),
  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(FORGEJO_RULES, claims);
    if (failure) return { ok: false, failure };
    return { ok: true, key: foldCase(stringClaim(claims, 'repository')) };
  },
  identityOf: (c) =>
    identityString([
      foldCase(`${c.owner}/${c.repository}`),
      c.repositoryId,
      c.ownerId,
      c.workflow,
      foldCase(optionalField(c.environment)),
      optionalField(c.ref),
    ]),
  check: (config, claims, issuerUrl) => checkRules(FORGEJO_RULES, config, claims, issuerUrl),
  specificity: (c) =>
    (optionalField(c.environment) !== '' ? 2 : 0) + (optionalField(c.ref) !== '' ? 1 : 0),
  // The ids and the workflow path are exact; the environment in any case; the ref patterns.
  overlaps: (a, b) =>
    a.repositoryId === b.repositoryId &&
    a.ownerId === b.ownerId &&
    a.workflow === b.workflow &&
    optionalOverlap(optionalField(a.environment), optionalField(b.environment), foldCase) &&
    refPatternsOverlap(optionalField(a.ref), optionalField(b.ref)),
  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),
  describe(c) {
    let text = `Forgejo ${c.owner}/${c.repository}, workflow ${c.workflow}`;
    if (optionalField(c.environment) !== '') text += `, environment ${c.environment}`;
    if (optionalField(c.ref) !== '') text += `, ref ${c.ref}`;
    return text;
  },
  url(c, issuerUrl, claims) {
    const base = forgejoWebBase(issuerUrl);
    if (base === null) return null;
    const repository = `${base}/${encodeURIComponent(c.owner)}/${encodeURIComponent(c.repository)}`;
    const sha = claims ? stringClaim(claims, 'sha') : '';
    return isCommitSha(sha) ? `${repository}/commit/${sha}` : repository;
  },
  links: forgejoLinks,
  attestation: {
    shape: 'unsupported',
    reason:
      'Attestations are not currently supported with Forgejo publishers (Sigstore has no Forgejo identity)',
  },
  template: {
    variable: (name) => `\${{ vars.${name} }}`,
    render: forgejoWorkflow,
  },
};
