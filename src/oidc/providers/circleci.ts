// CircleCI: the OIDC ID token of a job, in $CIRCLE_OIDC_TOKEN / $CIRCLE_OIDC_TOKEN_V2 or made with
// a custom audience by `circleci run oidc get --claims '{"aud": "AUD"}'` (what `pier publish`
// runs, as the `id` library does). Sources:
// - https://circleci.com/docs/openid-connect-tokens/ (the issuer, the standard claims and the
//   `oidc.circleci.com/…` claims: org-id, project-id, pipeline-id, pipeline-definition-id,
//   workflow-id, job-id, context-ids, ssh-rerun, vcs-origin, vcs-ref; "if you allow OIDC tokens
//   to be generated for forks, you must check the oidc.circleci.com/vcs-origin claims");
// - https://circleci.com/docs/oidc-tokens-with-custom-claims/ (only `aud` can be customised;
//   `--root-issuer` makes the issuer https://oidc.circleci.com instead of the organisation's);
// - https://discuss.circleci.com/t/new-oidc-custom-claims/54214 (org-id, pipeline-id and
//   pipeline-definition-id in both the V1 and the V2 token formats).
//
// The issuer is per organisation, `https://oidc.circleci.com/org/ORGANIZATION_ID`, and a job's
// token (the `circleci run oidc get` that `pier publish` and `id` run has no `--root-issuer`)
// carries it. Issuers are exact strings in pier, checked before any network request, so there is
// no built-in issuer: an operator registers each organisation it trusts (`pier issuer add --kind
// circleci --url https://oidc.circleci.com/org/ORG_ID`), which also keeps the key sets pier
// fetches to those organisations'. If an operator registers the root issuer instead, every
// organisation's jobs share it: the organisation's id is pinned by its own claim either way. A
// publisher whose organisation is not the one its issuer URL names (…/org/ORG_ID) could never
// match, and is refused at registration (`issuerMismatch`).
//
// Pinned at registration (immutable UUIDs, compared exactly): the organisation
// (`oidc.circleci.com/org-id`) and the project (`oidc.circleci.com/project-id`). CircleCI ids are
// never reused, and a project renamed or moved to another repository keeps its id. Checked: an
// SSH re-run never publishes (`oidc.circleci.com/ssh-rerun` must be false: anyone who may re-run
// a job with SSH gets a shell in it, and the token with it). Required too: the repository the
// pipeline was triggered from (`vcs-origin`, in any case). A project that passes secrets to
// forks' pull requests runs them in the project, with its project id; CircleCI's documentation
// says policies must then check vcs-origin, so pier always does (pipelines triggered by a custom
// webhook carry none and cannot publish). Optional narrowing rules: a glob over the ref
// (`vcs-ref`, refs/tags/v*) and contexts the job must use (`context-ids`: a context's security
// groups and restrictions say who may run jobs with it). Every registration pins a project, so
// none matches every job of an issuer.
import {
  checkRules,
  firstMissingOrMistyped,
  flagString,
  foldCase,
  hasControlCharacter,
  identityString,
  linksOf,
  mismatch,
  nonEmptyClaim,
  optionalField,
  parseStoredFields,
  provenanceOf,
  quote,
  quoteList,
  stringClaim,
  trimmedField,
  type Rule,
} from './core.js';
import {
  refMatches,
  refPatternProblem,
  refPatternsOverlap,
  refPatternToRegExp,
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

export interface CircleCiConfig {
  /** The organisation's UUID (`oidc.circleci.com/org-id`), pinned at registration. */
  organizationId: string;
  /** The project's UUID (`oidc.circleci.com/project-id`), pinned at registration. */
  projectId: string;
  /** The repository pipelines come from, as `vcs-origin` names it: github.com/ORG/REPO. */
  vcsOrigin: string;
  /** '' = any; a glob over `vcs-ref` such as refs/tags/v*. */
  ref?: string;
  /** '' = none asked; context UUIDs, sorted, comma-separated: the job must use each. */
  contextIds?: string;
}

/** The prefix of an organisation's issuer: `https://oidc.circleci.com/org/ORG_ID`. */
export const CIRCLECI_ISSUER_PREFIX = 'https://oidc.circleci.com/org/';

const CLAIM = {
  orgId: 'oidc.circleci.com/org-id',
  projectId: 'oidc.circleci.com/project-id',
  sshRerun: 'oidc.circleci.com/ssh-rerun',
  jobId: 'oidc.circleci.com/job-id',
  vcsOrigin: 'oidc.circleci.com/vcs-origin',
  vcsRef: 'oidc.circleci.com/vcs-ref',
  contextIds: 'oidc.circleci.com/context-ids',
} as const;

/** The registered context UUIDs ('' = none). */
export function contextIdsOf(config: CircleCiConfig): string[] {
  const list = optionalField(config.contextIds);
  return list === '' ? [] : list.split(',');
}

/**
 * The organisation an issuer URL names (`…/org/ORG_ID`, on CircleCI's cloud or a CircleCI Server
 * host), or null for one of another form (the root issuer https://oidc.circleci.com).
 */
export function issuerOrganizationId(issuerUrl: string): string | null {
  const m = /\/org\/([0-9a-f-]{36})\/?$/.exec(issuerUrl);
  return m && VALID_UUID.test(m[1]!) ? m[1]! : null;
}

/** A publisher of another organisation than its issuer's could never match: refused at registration. */
export function circleciIssuerMismatch(config: CircleCiConfig, issuerUrl: string): string | null {
  const id = issuerOrganizationId(issuerUrl);
  return id === null || id === config.organizationId
    ? null
    : `The organization id ${config.organizationId} is not the issuer's (${issuerUrl}): register the organization's own issuer`;
}

// --- The claim checks -------------------------------------------------------------------------

/** `oidc.circleci.com/org-id`: the organisation's UUID pinned at registration. */
export function checkOrgId(config: CircleCiConfig, claim: string): string | null {
  return claim === config.organizationId
    ? null
    : mismatch(CLAIM.orgId, quote(config.organizationId), claim);
}

/** `oidc.circleci.com/project-id`: the project's UUID pinned at registration. */
export function checkProjectId(config: CircleCiConfig, claim: string): string | null {
  return claim === config.projectId
    ? null
    : mismatch(CLAIM.projectId, quote(config.projectId), claim);
}

/** `oidc.circleci.com/ssh-rerun`: false. A re-run with SSH hands a shell and the token to a person. */
export function checkSshRerun(_config: CircleCiConfig, claim: boolean): string | null {
  return claim === false
    ? null
    : `Check failed for claim ${quote(CLAIM.sshRerun)}: the job is a re-run with SSH, in which a person has a shell, so it may not publish`;
}

/**
 * `oidc.circleci.com/vcs-origin`: the registered repository, in any case (GitHub, GitLab and
 * Bitbucket names are unique regardless of case). A fork's pull request runs in the project, with
 * its project id, when the project passes secrets to forks: this claim is what tells them apart.
 */
export function checkVcsOrigin(config: CircleCiConfig, claim: string): string | null {
  return foldCase(claim) === foldCase(config.vcsOrigin)
    ? null
    : mismatch(CLAIM.vcsOrigin, quote(config.vcsOrigin), claim);
}

/** `oidc.circleci.com/vcs-ref`: any when the publisher has no pattern; else present and matching. */
export function checkVcsRef(config: CircleCiConfig, claim: string | undefined): string | null {
  const pattern = optionalField(config.ref);
  if (pattern === '') return null;
  if (claim === undefined)
    return `Missing claim ${quote(CLAIM.vcsRef)}: expected a ref matching ${quote(pattern)}`;
  return refMatches(pattern, claim)
    ? null
    : mismatch(CLAIM.vcsRef, `a ref matching ${quote(pattern)}`, claim);
}

/** `oidc.circleci.com/context-ids`: every registered context is among the job's. */
export function checkContextIds(
  config: CircleCiConfig,
  claim: readonly string[] | undefined,
): string | null {
  const expected = contextIdsOf(config);
  if (expected.length === 0) return null;
  if (claim === undefined)
    return `Missing claim ${quote(CLAIM.contextIds)}: expected the contexts ${quoteList(expected)}`;
  const missing = expected.filter((id) => !claim.includes(id));
  return missing.length === 0
    ? null
    : `Check failed for claim ${quote(CLAIM.contextIds)}: the job does not use the contexts ${quoteList(missing)}, got ${quoteList(claim)}`;
}

// --- The table --------------------------------------------------------------------------------

export const CIRCLECI_RULES: readonly Rule<CircleCiConfig>[] = [
  {
    claim: CLAIM.orgId,
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the organisation's UUID pinned at registration, exactly",
    verify: checkOrgId,
  },
  {
    claim: CLAIM.projectId,
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the project's UUID pinned at registration, exactly",
    verify: checkProjectId,
  },
  {
    claim: CLAIM.sshRerun,
    kind: 'required-verifiable',
    type: 'boolean',
    check: 'false: a job re-run with SSH (a person has a shell in it) never publishes',
    verify: checkSshRerun,
  },
  {
    claim: CLAIM.jobId,
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; not compared (recorded in provenance)',
  },
  {
    claim: CLAIM.vcsOrigin,
    kind: 'required-verifiable',
    type: 'string',
    check:
      "equals the registered repository, in any case (a fork's pull request differs; custom webhook pipelines have none)",
    verify: checkVcsOrigin,
  },
  {
    claim: CLAIM.vcsRef,
    kind: 'optional-verifiable',
    type: 'string',
    check: 'any when the publisher has no pattern; else present and matching it (pier)',
    verify: checkVcsRef,
  },
  {
    claim: CLAIM.contextIds,
    kind: 'optional-verifiable',
    type: 'string-list',
    check: 'any when the publisher names none; else a list holding every registered context UUID',
    verify: checkContextIds,
  },
];

export const CIRCLECI_UNCHECKED_CLAIMS: readonly string[] = [
  // `org/ORG/project/PROJECT/user/USER[/vcs-origin/…/vcs-ref/…]`: the ids and the VCS claims are
  // checked by their own claims; the user is whoever started the pipeline (any project member).
  'sub',
  // Identify the run, recorded in provenance; nothing to compare them with.
  'oidc.circleci.com/pipeline-id',
  'oidc.circleci.com/workflow-id',
  // Which of the project's pipeline definitions ran; those are set up by the project's
  // administrators, whom the project pin trusts already.
  'oidc.circleci.com/pipeline-definition-id',
];

// --- Registration ------------------------------------------------------------------------------

const VALID_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** `host[:port]/path…` without a scheme, as `vcs-origin` carries it. */
const VALID_VCS_ORIGIN = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9_.~-]+)+$/;

function uuidField(
  input: ConfigInput,
  name: string,
  what: string,
  errors: Record<string, string>,
): string {
  // CircleCI writes UUIDs in lower case.
  const value = trimmedField(input, name).toLowerCase();
  if (value === '') errors[name] = `Specify the ${what}'s UUID`;
  else if (!VALID_UUID.test(value)) errors[name] = `Invalid UUID: ${quote(value)}`;
  return value;
}

export function validateCircleCiConfig(input: ConfigInput): ValidateResult<CircleCiConfig> {
  const errors: Record<string, string> = {};
  const organizationId = uuidField(input, 'organizationId', 'organization', errors);
  const projectId = uuidField(input, 'projectId', 'project', errors);
  const vcsOrigin = trimmedField(input, 'vcsOrigin');
  if (vcsOrigin === '')
    errors.vcsOrigin =
      "Specify the repository pipelines come from (github.com/ORG/REPO): a fork's pull request runs in the project too";
  else if (/^[a-z]+:\/\//i.test(vcsOrigin))
    errors.vcsOrigin =
      'Give the repository without its scheme, as CircleCI does: github.com/ORG/REPO';
  else if (!VALID_VCS_ORIGIN.test(vcsOrigin) || /\/\.{1,2}(\/|$)/.test(vcsOrigin))
    errors.vcsOrigin = 'Invalid repository: HOST/ORG/REPO, such as github.com/acme/app';
  const ref = trimmedField(input, 'ref');
  const refProblem = ref === '' ? null : refPatternProblem(ref);
  if (refProblem) errors.ref = refProblem;
  const contexts = trimmedField(input, 'contextIds')
    .toLowerCase()
    .split(/[\s,]+/)
    .filter((s) => s !== '');
  const badContext = contexts.find((c) => !VALID_UUID.test(c) || hasControlCharacter(c));
  if (badContext !== undefined)
    errors.contextIds = `Context ids are UUIDs separated by commas, got ${quote(badContext)}`;
  else if (contexts.length > 10) errors.contextIds = 'Name at most 10 contexts';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      organizationId,
      projectId,
      vcsOrigin,
      ref,
      contextIds: [...new Set(contexts)].sort().join(','),
    },
  };
}

// --- Presentation ----------------------------------------------------------------------------

const PROVENANCE_CLAIMS = [
  'oidc.circleci.com/org-id',
  'oidc.circleci.com/project-id',
  'oidc.circleci.com/pipeline-definition-id',
  'oidc.circleci.com/pipeline-id',
  'oidc.circleci.com/workflow-id',
  'oidc.circleci.com/job-id',
  'oidc.circleci.com/vcs-origin',
  'oidc.circleci.com/vcs-ref',
] as const;

/** The web URL of a `vcs-origin` (github.com/ORG/REPO → https://github.com/ORG/REPO), or null. */
export function vcsOriginUrl(origin: string | null): string | null {
  if (origin === null || !VALID_VCS_ORIGIN.test(origin) || /\/\.{1,2}(\/|$)/.test(origin))
    return null;
  return `https://${origin}`;
}

/** The repository and ref a job came from; CircleCI's tokens name no commit and no run number. */
export function circleciLinks(claims: Claims): ProvenanceLinks {
  const links = linksOf(nonEmptyClaim(claims, CLAIM.vcsOrigin));
  links.ref = nonEmptyClaim(claims, CLAIM.vcsRef);
  const workflow = nonEmptyClaim(claims, 'oidc.circleci.com/workflow-id');
  if (workflow !== null && VALID_UUID.test(workflow)) links.runLabel = `workflow ${workflow}`;
  return links;
}

/** CircleCI's filters are regular expressions: the glob's, between slashes. */
function filterRegExp(glob: string): string {
  return `/${refPatternToRegExp(glob).source}/`;
}

/** The `filters:` of the publishing job for a ref pattern (tags must be asked for explicitly). */
function filters(ref: string): string[] {
  const tag = /^refs\/tags\/(.+)$/.exec(ref);
  if (tag)
    return [
      '          filters:',
      '            branches:',
      '              ignore: /.*/',
      '            tags:',
      `              only: ${filterRegExp(tag[1]!)}`,
    ];
  const branch = /^refs\/heads\/(.+)$/.exec(ref);
  if (branch)
    return [
      '          filters:',
      '            branches:',
      `              only: ${filterRegExp(branch[1]!)}`,
    ];
  return [];
}

/** The config: build and publish in a job whose token `pier publish` asks for with pier's audience. */
export function circleciConfig(c: CircleCiConfig, context: TemplateContext): PipelineTemplate {
  const contexts = contextIdsOf(c);
  const lines = [
    `# .circleci/config.yml of the project ${c.projectId}`,
    'version: 2.1',
    'jobs:',
    '  publish:',
    '    docker:',
    '      - image: cimg/python:3.12-node',
    '    steps:',
    '      - checkout',
    '      - run: python3 -m pip install build && python3 -m build',
    '      - run: |',
    '          # pier publish runs `circleci run oidc get` with the index audience; no secret is stored.',
    '          npm install --global "$PIER_PACKAGE" # pier, as your organisation distributes it',
    `          pier publish --repository-url ${context.uploadUrl} dist/`,
    'workflows:',
    '  release:',
    '    jobs:',
    '      - publish:',
    ...(contexts.length > 0
      ? [
          '          # The contexts the publisher names, by their names in Organization Settings > Contexts.',
          '          context:',
          ...contexts.map((id) => `            - CONTEXT_NAME # the context ${id}`),
        ]
      : []),
    ...filters(optionalField(c.ref)),
  ];
  return { path: '.circleci/config.yml', text: lines.join('\n') + '\n', language: 'yaml' };
}

// --- Development tokens (pier dev-oidc --kind circleci) ----------------------------------------

/** The organisation of development tokens when --owner-id gives none. */
export const DEV_CIRCLECI_ORG = nameUuid('circleci-organization');

/**
 * A CircleCI job's token: the organisation from --owner-id (a UUID), the project a stable UUID of
 * --repository, which is also the GitHub repository of vcs-origin; --ref is vcs-ref; an
 * --environment stands for a context (CircleCI's gate on who may run a job), by a stable UUID.
 */
const circleciDevShape: DevTokenShape = {
  platform: 'CircleCI',
  checkJob(job) {
    if (job.ownerId !== undefined && !VALID_UUID.test(job.ownerId))
      return `--owner-id must be the CircleCI organization's UUID, got ${quote(job.ownerId)}`;
    if (job.repository !== undefined && !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(job.repository))
      return `--repository must be OWNER/REPO (the GitHub repository), got ${quote(job.repository)}`;
    return null;
  },
  claims(job, file) {
    const repository = job.repository ?? DEFAULTS.repository;
    const org = job.ownerId ?? text(file[CLAIM.orgId]) ?? DEV_CIRCLECI_ORG;
    const project = text(file[CLAIM.projectId]) ?? nameUuid(`circleci-project:${repository}`);
    const ref = job.ref ?? text(file[CLAIM.vcsRef]) ?? DEFAULTS.ref;
    const origin = `github.com/${repository}`;
    const derived = {
      sub: `org/${org}/project/${project}/user/${nameUuid('circleci-user')}/vcs-origin/${origin}/vcs-ref/${ref}`,
      [CLAIM.contextIds]: job.environment ? [nameUuid(`circleci-context:${job.environment}`)] : [],
      [CLAIM.jobId]: nameUuid(`circleci-job:${DEFAULTS.jobId}`),
      [CLAIM.orgId]: org,
      'oidc.circleci.com/pipeline-definition-id': nameUuid(`circleci-definition:${repository}`),
      'oidc.circleci.com/pipeline-id': nameUuid(`circleci-pipeline:${DEFAULTS.runId}`),
      [CLAIM.projectId]: project,
      [CLAIM.sshRerun]: false,
      [CLAIM.vcsOrigin]: origin,
      [CLAIM.vcsRef]: ref,
      'oidc.circleci.com/workflow-id': nameUuid(`circleci-workflow:${DEFAULTS.runId}`),
    };
    return mergeClaims(
      derived,
      file,
      given({ [CLAIM.orgId]: job.ownerId, [CLAIM.vcsRef]: job.ref }),
    );
  },
  environment: () => ({}),
  publisherFlags(c) {
    const contexts = c[CLAIM.contextIds];
    return [
      `--organization-id ${shellQuote(text(c[CLAIM.orgId]) ?? '<UUID>')}`,
      `--project-id ${shellQuote(text(c[CLAIM.projectId]) ?? '<UUID>')}`,
      ...(text(c[CLAIM.vcsOrigin])
        ? [`--vcs-origin ${shellQuote(String(c[CLAIM.vcsOrigin]))}`]
        : []),
      ...(Array.isArray(contexts)
        ? contexts
            .filter((id) => typeof id === 'string')
            .map((id) => `--context-id ${shellQuote(id)}`)
        : []),
    ];
  },
  notes: [
    '# (A CircleCI job runs `circleci run oidc get`; here CircleCI-shaped tokens come from the',
    '#  token endpoint above, which OIDC clients use when GITHUB_ACTIONS=true.)',
  ],
  flags:
    '--owner-id (the organization UUID), --repository OWNER/REPO (vcs-origin github.com/OWNER/REPO and a stable project UUID), --ref (vcs-ref) and --environment (a context UUID) derive sub and the oidc.circleci.com/ claims',
};

export const circleciProvider: Provider<CircleCiConfig> = {
  kind: 'circleci',
  dev: circleciDevShape,
  displayName: 'CircleCI',
  builtinIssuer: null,
  summary:
    "a CircleCI project (organisation and project pinned by UUID) under its organisation's registered issuer, its repository, never an SSH re-run, optionally a ref pattern and contexts",
  fields: [
    {
      name: 'organizationId',
      label: "Organization's UUID",
      placeholder: 'c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90',
      hint: 'Organization Settings > Overview; its issuer is https://oidc.circleci.com/org/UUID.',
    },
    {
      name: 'projectId',
      label: "Project's UUID",
      placeholder: '1f0e2d3c-4b5a-4697-8877-665544332211',
      hint: "Project Settings > Overview: pinned, so another project never matches, even one of this repository's.",
    },
    {
      name: 'vcsOrigin',
      label: 'Repository',
      placeholder: 'github.com/acme/release-app',
      hint: "As CircleCI names it, without https://: a fork's pull request, which may run in the project, comes from another.",
    },
    {
      name: 'ref',
      label: 'Ref pattern',
      placeholder: 'refs/tags/v*',
      optional: true,
      hint: 'Only these refs may publish (pier): * within a path segment, ** across segments.',
    },
    {
      name: 'contextIds',
      label: 'Context UUIDs',
      placeholder: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      optional: true,
      hint: "Only jobs that use every one of these contexts (comma-separated; Organization Settings > Contexts): a context's restrictions say who may run such jobs.",
    },
  ],
  example: {
    organizationId: 'c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90',
    projectId: '1f0e2d3c-4b5a-4697-8877-665544332211',
    vcsOrigin: 'github.com/acme/release-app',
    ref: 'refs/tags/v*',
    contextIds: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  },
  cli: {
    options: [
      { flags: '--organization-id <uuid>', description: "CircleCI organization's UUID" },
      { flags: '--project-id <uuid>', description: "CircleCI project's UUID" },
      {
        flags: '--vcs-origin <host/org/repo>',
        description: 'CircleCI: the repository pipelines come from (github.com/ORG/REPO)',
      },
      { flags: '--ref <glob>', description: 'CircleCI: only jobs on matching refs (vcs-ref)' },
      {
        flags: '--context-id <uuid>',
        description: 'CircleCI: only jobs that use this context (repeatable)',
        repeatable: true,
      },
    ],
    example:
      '--issuer https://oidc.circleci.com/org/ORG_ID --organization-id ORG_ID --project-id UUID --vcs-origin github.com/ORG/REPO [--ref refs/tags/v*]',
    fields(flags) {
      const contexts = flags.contextId;
      return {
        ok: true,
        fields: {
          organizationId: flagString(flags, 'organizationId'),
          projectId: flagString(flags, 'projectId'),
          vcsOrigin: flagString(flags, 'vcsOrigin'),
          ref: flagString(flags, 'ref'),
          contextIds: Array.isArray(contexts) ? contexts.join(',') : flagString(flags, 'contextId'),
        },
      };
    },
  },
  rules: CIRCLECI_RULES,
  uncheckedClaims: CIRCLECI_UNCHECKED_CLAIMS,
  uncheckedPrefixes: [],
  validateConfig: validateCircleCiConfig,
  issuerMismatch: circleciIssuerMismatch,
  parseConfig: (stored) =>
    parseStoredFields<CircleCiConfig>(
      stored,
      ['organizationId', 'projectId', 'vcsOrigin'],
      ['ref', 'contextIds'],
    ),
  lookupKeyOfConfig: (c) => `${c.organizationId}/${c.projectId}`,
  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(CIRCLECI_RULES, claims);
    if (failure) return { ok: false, failure };
    return {
      ok: true,
      key: `${stringClaim(claims, CLAIM.orgId)}/${stringClaim(claims, CLAIM.projectId)}`,
    };
  },
  identityOf: (c) =>
    identityString([
      c.organizationId,
      c.projectId,
      foldCase(c.vcsOrigin),
      optionalField(c.ref),
      optionalField(c.contextIds),
    ]),
  check: (config, claims, issuerUrl) => checkRules(CIRCLECI_RULES, config, claims, issuerUrl),
  specificity: (c) =>
    (optionalField(c.ref) !== '' ? 2 : 0) + (optionalField(c.contextIds) !== '' ? 1 : 0),
  // The pinned ids are exact; the repository in any case; the ref patterns. Contexts only narrow
  // (a job may use several), so two publishers that differ in them alone overlap.
  overlaps: (a, b) =>
    a.organizationId === b.organizationId &&
    a.projectId === b.projectId &&
    foldCase(a.vcsOrigin) === foldCase(b.vcsOrigin) &&
    refPatternsOverlap(optionalField(a.ref), optionalField(b.ref)),
  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),
  describe(c) {
    let text = `CircleCI project ${c.projectId} (${c.vcsOrigin})`;
    if (optionalField(c.ref) !== '') text += `, ref ${c.ref}`;
    const contexts = contextIdsOf(c);
    if (contexts.length > 0) text += `, contexts ${contexts.join(', ')}`;
    return text;
  },
  url: (c) => vcsOriginUrl(c.vcsOrigin),
  links: circleciLinks,
  attestation: {
    shape: 'unsupported',
    reason: 'Attestations are not currently supported with CircleCI publishers',
  },
  template: {
    variable: (name) => `"$${name}"`,
    render: circleciConfig,
  },
};
