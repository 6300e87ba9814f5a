// Azure DevOps Pipelines: the OIDC token a job requests from its organization with a POST to
// `System.OidcRequestUri` (the SYSTEM_OIDCREQUESTURI variable), authorized by the job's
// `System.AccessToken`. Sources:
// - https://learn.microsoft.com/rest/api/azure/devops/distributedtask/oidctoken/create (the
//   request: `…/jobs/{jobId}/oidctoken?api-version=7.1[&serviceConnectionId={id}]`, answered with
//   `{"oidcToken": "…"}`; no request field chooses the audience);
// - https://learn.microsoft.com/azure/devops/release-notes/2024/sprint-240-update (the
//   System.OidcRequestUri variable);
// - https://learn.microsoft.com/azure/devops/pipelines/release/convert-service-connections (the
//   Azure DevOps issuer, `https://vstoken.dev.azure.com/{organization id}`, and the Microsoft
//   Entra issuer newer Azure Resource Manager service connections use instead,
//   `https://login.microsoftonline.com/{tenant}/v2.0`; the former is retired for those on
//   1 July 2027);
// - https://github.com/microsoft/azure-pipelines-tasks/blob/master/docs/service-connections/azure-oidc/README.md
//   (the service connection's subject, `sc://{organization}/{project}/{service connection}`);
// - the tokens Teleport's RFD 211 (gravitational/teleport, rfd/0211-azure-devops-joining.md)
//   records from real pipelines: a job's own token (no serviceConnectionId) has `sub`
//   `p://{organization}/{project}/{pipeline}` and the ids `org_id`, `prj_id`, `def_id`, the
//   repository claims `rpo_id`, `rpo_uri`, `rpo_ver`, `rpo_ref`, and `run_id`; a Generic service
//   connection's token has only `sub` and `jti`; both have `aud` "api://AzureADTokenExchange",
//   which cannot be changed, and live 5 (pipeline) or 15 (service connection) minutes; the
//   discovery document of every organization's issuer names one shared key set.
//
// What pier accepts, and why:
// - Only the Azure DevOps issuer, one per organization (`pier issuer add --kind azure --url
//   https://vstoken.dev.azure.com/ORG_ID`): no built-in one. The organization's id is pinned at
//   registration and must be the issuer's last path segment (the key set is shared by every
//   organization, so only `iss` says whose token it is). Tokens of the Microsoft Entra issuer
//   are not accepted: that issuer is a whole Entra tenant's, its tokens are issued to Azure
//   Resource Manager service connections as credentials Entra exchanges for Azure access tokens
//   (sending one to an index hands it an Azure credential), and they live a day, longer than
//   any token pier accepts (src/oidc/verify.ts).
// - A publisher names either a pipeline (its token, `p://…`, with the project's and pipeline's
//   ids pinned: names can be renamed and taken again, ids cannot; optionally a ref pattern over
//   `rpo_ref`) or a service connection (its token, `sc://…`). A service connection's token
//   carries almost nothing besides `sub`: its names are compared exactly, nothing else can be
//   pinned, and a connection deleted and re-created under the same name in that project matches.
//   Which pipelines may use the connection is Azure DevOps' setting (pipeline permissions,
//   approvals and checks): pier relies on it.
// - The audience: Azure DevOps writes "api://AzureADTokenExchange" into every token, so the
//   exchange accepts that audience (instead of this index's) from Azure issuers only
//   (`fixedAudience`). Such a token is not bound to this index: whoever receives a job's token
//   for another purpose could trade it here within its lifetime. The `jti` is recorded (a token
//   is used once here), and the lifetimes are minutes; for the rest, publish with a service
//   connection used for nothing but this index (its token then goes nowhere else).
import {
  checkRules,
  firstMissingOrMistyped,
  flagString,
  hasControlCharacter,
  identityString,
  isCommitSha,
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
import { refMatches, refPatternProblem, refPatternsOverlap, triggerOfRef } from './ref-glob.js';
import {
  DEFAULTS,
  given,
  mergeClaims,
  refusedSetting,
  shellQuote,
  stringOf,
  text,
} from '../../dev-oidc/claims.js';
import type {
  DevClaims,
  DevTokenShape,
  JobSettings,
  ServerSettings,
} from '../../dev-oidc/shape.js';
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

export interface AzureConfig {
  /** The organization's name, as `sub` writes it. */
  organization: string;
  /** The organization's id (a UUID), pinned: the last segment of its issuer URL, and `org_id`. */
  organizationId: string;
  /** The project's name. */
  project: string;
  /** A service connection's name: its tokens (`sc://…`) publish. '' for a pipeline publisher. */
  serviceConnection?: string;
  /** A pipeline's name: its own tokens (`p://…`) publish. '' for a service connection publisher. */
  pipeline?: string;
  /** The project's id (`prj_id`), pinned; a pipeline publisher's only. */
  projectId?: string;
  /** The pipeline definition's id (`def_id`), pinned; a pipeline publisher's only. */
  pipelineId?: string;
  /** '' = any; a glob over `rpo_ref` such as refs/tags/v*; a pipeline publisher's only. */
  ref?: string;
}

/** Where every organization's issuer lives: `https://vstoken.dev.azure.com/{organization id}`. */
export const AZURE_ISSUER_BASE = 'https://vstoken.dev.azure.com/';

/** The audience of every Azure DevOps token (it cannot be chosen). */
export const AZURE_DEVOPS_AUDIENCE = 'api://AzureADTokenExchange';

/** The variable `pier publish` reads a service connection's id from (src/client/ambient.ts). */
export const AZURE_SERVICE_CONNECTION_VARIABLE = 'PIER_AZURE_SERVICE_CONNECTION_ID';

const VALID_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether the publisher names a pipeline (else a service connection). */
export function isPipelinePublisher(config: AzureConfig): boolean {
  return optionalField(config.pipeline) !== '';
}

/** The `sub` of the publisher's tokens. */
export function azureSubject(config: AzureConfig): string {
  return isPipelinePublisher(config)
    ? `p://${config.organization}/${config.project}/${optionalField(config.pipeline)}`
    : `sc://${config.organization}/${config.project}/${optionalField(config.serviceConnection)}`;
}

/** The organization id an issuer URL names (its last path segment, lower-cased), or null. */
export function issuerOrganizationId(issuerUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    return null;
  }
  const last = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .pop();
  return last === undefined ? null : last.toLowerCase();
}

/**
 * An Azure issuer is `https://vstoken.dev.azure.com/ORGANIZATION_ID` (with --insecure, a loopback
 * stand-in ending in the id): never the Microsoft Entra issuer, whose tokens pier refuses.
 */
export function azureIssuerProblem(url: string, insecure: boolean): string | null {
  const id = issuerOrganizationId(url);
  const shape = `Azure DevOps issuers are ${AZURE_ISSUER_BASE}ORGANIZATION_ID (the organization's id, a UUID)`;
  if (
    /^https:\/\/login\.(microsoftonline\.com|microsoftonline\.us|partner\.microsoftonline\.cn)\//.test(
      url,
    )
  )
    return `${shape}: pier does not accept tokens of the Microsoft Entra issuer (Azure credentials of a whole tenant, valid for a day)`;
  if (id === null || !VALID_UUID.test(id) || id !== url.split('/').pop())
    return `${shape}, got ${url}`;
  if (!insecure && url !== `${AZURE_ISSUER_BASE}${id}`) return `${shape}, got ${url}`;
  return null;
}

/** A publisher's organization id is its issuer's, or it can match no token of that issuer. */
export function azureIssuerMismatch(config: AzureConfig, issuerUrl: string): string | null {
  const id = issuerOrganizationId(issuerUrl);
  return id === config.organizationId
    ? null
    : `The organization id ${config.organizationId} is not the issuer's (${issuerUrl}): register the organization's own issuer`;
}

// --- The claim checks -------------------------------------------------------------------------

/**
 * `sub`: exactly the registered pipeline's or service connection's subject, and the token is
 * from the issuer of the pinned organization id.
 */
export function checkSubject(config: AzureConfig, claim: string, _c: Claims, issuerUrl: string) {
  const issuerId = issuerOrganizationId(issuerUrl);
  if (issuerId !== config.organizationId)
    return `Check failed for claim 'sub': the publisher's organization id ${quote(config.organizationId)} is not its issuer's (${quote(issuerId ?? issuerUrl)})`;
  const expected = azureSubject(config);
  return claim === expected ? null : mismatch('sub', quote(expected), claim);
}

/** A pinned id a pipeline publisher requires and a service connection publisher ignores. */
function pinnedId(claim: string, expected: (c: AzureConfig) => string) {
  return (config: AzureConfig, value: string | undefined): string | null => {
    if (!isPipelinePublisher(config)) return null;
    const want = expected(config);
    if (value === undefined) return `Missing claim ${quote(claim)}: expected ${quote(want)}`;
    return value.toLowerCase() === want ? null : mismatch(claim, quote(want), value);
  };
}

/** `org_id`: when present (a pipeline's token), the pinned organization id. */
export function checkOrgId(config: AzureConfig, value: string | undefined): string | null {
  if (value === undefined)
    return isPipelinePublisher(config)
      ? `Missing claim 'org_id': expected ${quote(config.organizationId)}`
      : null;
  return value.toLowerCase() === config.organizationId
    ? null
    : mismatch('org_id', quote(config.organizationId), value);
}

export const checkProjectId = pinnedId('prj_id', (c) => optionalField(c.projectId));
export const checkDefinitionId = pinnedId('def_id', (c) => optionalField(c.pipelineId));

/** `rpo_ref`: the publisher's ref pattern, if it has one (only pipeline publishers may). */
export function checkRepositoryRef(config: AzureConfig, value: string | undefined): string | null {
  const pattern = optionalField(config.ref);
  if (pattern === '') return null;
  if (value === undefined)
    return `Missing claim 'rpo_ref': expected a ref matching ${quote(pattern)}`;
  return refMatches(pattern, value)
    ? null
    : mismatch('rpo_ref', `a ref matching ${quote(pattern)}`, value);
}

// --- The table --------------------------------------------------------------------------------

export const AZURE_RULES: readonly Rule<AzureConfig>[] = [
  {
    claim: 'sub',
    kind: 'required-verifiable',
    type: 'string',
    check:
      'is p://ORG/PROJECT/PIPELINE or sc://ORG/PROJECT/CONNECTION as registered, exactly, from the issuer of the pinned organization id',
    verify: checkSubject,
  },
  {
    claim: 'org_id',
    kind: 'optional-verifiable',
    type: 'string',
    check: "the organization's id pinned at registration (required in a pipeline's token)",
    verify: checkOrgId,
  },
  {
    claim: 'prj_id',
    kind: 'optional-verifiable',
    type: 'string',
    check: "a pipeline publisher: the project's id pinned at registration; else not compared",
    verify: checkProjectId,
  },
  {
    claim: 'def_id',
    kind: 'optional-verifiable',
    type: 'string',
    check:
      "a pipeline publisher: the pipeline's definition id pinned at registration; else not compared",
    verify: checkDefinitionId,
  },
  {
    claim: 'rpo_ref',
    kind: 'optional-verifiable',
    type: 'string',
    check: "matches the publisher's ref pattern, if it has one (pier)",
    verify: checkRepositoryRef,
  },
  {
    claim: 'jti',
    kind: 'required-unverifiable',
    type: 'string',
    check: 'present; used once per issuer (the exchange records it)',
  },
];

export const AZURE_UNCHECKED_CLAIMS: readonly string[] = [
  // The repository the pipeline builds (its name, URL and commit): the pipeline's ids pin what
  // runs; recorded in provenance.
  'rpo_id',
  'rpo_uri',
  'rpo_ver',
  // Identifies the run, recorded in provenance; nothing to compare it with.
  'run_id',
];

// --- Registration ------------------------------------------------------------------------------

/** Azure DevOps organization names: letters, digits and hyphens, not starting with a hyphen. */
const VALID_ORGANIZATION = /^[A-Za-z0-9][A-Za-z0-9-]{0,49}$/;

/** A name that is one segment of `sub`: no slash, no control character, not blank. */
function nameProblem(value: string, what: string): string | null {
  if (value === '') return `Specify the ${what}`;
  if (value.includes('/') || hasControlCharacter(value))
    return `The ${what} cannot contain / or control characters`;
  if (value.includes('*')) return `The ${what} is a name, not a pattern`;
  return null;
}

export function validateAzureConfig(input: ConfigInput): ValidateResult<AzureConfig> {
  const errors: Record<string, string> = {};
  const organization = trimmedField(input, 'organization');
  if (organization === '') errors.organization = 'Specify the organization';
  else if (!VALID_ORGANIZATION.test(organization))
    errors.organization = 'Invalid organization name: letters, digits and hyphens';
  const organizationId = trimmedField(input, 'organizationId').toLowerCase();
  if (organizationId === '')
    errors.organizationId = "Specify the organization's id (the last part of its issuer URL)";
  else if (!VALID_UUID.test(organizationId)) errors.organizationId = 'Invalid UUID';
  const project = trimmedField(input, 'project');
  const projectProblem = nameProblem(project, 'project');
  if (projectProblem) errors.project = projectProblem;
  const pipeline = trimmedField(input, 'pipeline');
  const serviceConnection = trimmedField(input, 'serviceConnection');
  const projectId = trimmedField(input, 'projectId').toLowerCase();
  const pipelineId = trimmedField(input, 'pipelineId');
  const ref = trimmedField(input, 'ref');
  if (pipeline !== '' && serviceConnection !== '')
    errors.serviceConnection = 'Name a pipeline or a service connection, not both';
  else if (pipeline === '' && serviceConnection === '')
    errors.pipeline = 'Name the pipeline (or a service connection) whose tokens publish';
  else if (pipeline !== '') {
    const problem = nameProblem(pipeline, 'pipeline');
    if (problem) errors.pipeline = problem;
    if (projectId === '')
      errors.projectId = "Specify the project's id (a pipeline's token pins it)";
    else if (!VALID_UUID.test(projectId)) errors.projectId = 'Invalid UUID';
    if (pipelineId === '') errors.pipelineId = "Specify the pipeline's definition id";
    else if (!/^[0-9]{1,10}$/.test(pipelineId))
      errors.pipelineId = `The pipeline's definition id is a number, got ${quote(pipelineId)}`;
    const refProblem = ref === '' ? null : refPatternProblem(ref);
    if (refProblem) errors.ref = refProblem;
  } else {
    const problem = nameProblem(serviceConnection, 'service connection');
    if (problem) errors.serviceConnection = problem;
    // A service connection's token says nothing more: these would never be checked.
    if (projectId !== '' || pipelineId !== '')
      errors.pipelineId = "A service connection's token carries no project or pipeline id";
    if (ref !== '') errors.ref = "A service connection's token carries no ref";
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const config: AzureConfig =
    pipeline !== ''
      ? { organization, organizationId, project, pipeline, projectId, pipelineId, ref }
      : { organization, organizationId, project, serviceConnection };
  return { ok: true, config };
}

// --- Presentation ----------------------------------------------------------------------------

const PROVENANCE_CLAIMS = [
  'sub',
  'org_id',
  'prj_id',
  'def_id',
  'rpo_uri',
  'rpo_ref',
  'rpo_ver',
  'run_id',
] as const;

/** The pipeline or connection, the ref and the run; a link to the run on dev.azure.com. */
export function azureLinks(claims: Claims, issuerUrl: string): ProvenanceLinks {
  const sub = nonEmptyClaim(claims, 'sub');
  const parts = sub === null ? null : /^(p|sc):\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(sub);
  const links = linksOf(parts ? `${parts[2]}/${parts[3]}` : null);
  links.workflow = parts ? parts[4]! : null;
  links.ref = nonEmptyClaim(claims, 'rpo_ref');
  const run = nonEmptyClaim(claims, 'run_id');
  if (isNumericId(run)) {
    links.runLabel = `run ${run}`;
    // Azure DevOps' web host is known for its own issuers only, and the names must be URL-safe.
    const org = parts?.[2];
    const project = parts?.[3];
    if (
      issuerUrl.startsWith(AZURE_ISSUER_BASE) &&
      org !== undefined &&
      project !== undefined &&
      VALID_ORGANIZATION.test(org)
    )
      links.runUrl = `https://dev.azure.com/${org}/${encodeURIComponent(project)}/_build/results?buildId=${run}`;
  }
  const commit = nonEmptyClaim(claims, 'rpo_ver');
  const repository = nonEmptyClaim(claims, 'rpo_uri');
  if (commit !== null && isCommitSha(commit) && repository?.startsWith('https://github.com/'))
    links.commitUrl = `${repository.replace(/\.git$/, '')}/commit/${commit}`;
  return links;
}

/** The trigger that matches a ref pattern, if it has one. */
function trigger(ref: string): string[] {
  const { kind, quoted } = triggerOfRef(ref);
  return ['trigger:', `  ${kind}:`, `    include: [${quoted}]`];
}

/** The pipeline: build, then publish with the job's token (or the service connection's). */
export function azurePipeline(c: AzureConfig, context: TemplateContext): PipelineTemplate {
  const connection = !isPipelinePublisher(c);
  const lines = [
    `# azure-pipelines.yml of ${c.organization}/${c.project}${connection ? '' : `, pipeline ${optionalField(c.pipeline)}`}`,
    ...trigger(optionalField(c.ref)),
    'pool:',
    '  vmImage: ubuntu-latest',
    'steps:',
    '  - script: python3 -m pip install build && python3 -m build',
    '  - script: |',
    '      npm install --global "$PIER_PACKAGE" # pier, as your organisation distributes it',
    `      pier publish --repository-url ${context.uploadUrl} dist/`,
    '    env:',
    '      # Authorizes the OIDC token request to System.OidcRequestUri; no secret is stored.',
    '      SYSTEM_ACCESSTOKEN: $(System.AccessToken)',
    ...(connection
      ? [
          `      # The id of the service connection ${yamlScalar(optionalField(c.serviceConnection))}: its token, not the job's.`,
          '      # Azure DevOps gives it only to a job with a task input naming the connection.',
          `      ${AZURE_SERVICE_CONNECTION_VARIABLE}: SERVICE_CONNECTION_ID`,
        ]
      : []),
  ];
  return { path: 'azure-pipelines.yml', text: lines.join('\n') + '\n', language: 'yaml' };
}

// ---- `pier dev-oidc --kind azure`: a pipeline's own token ----------------------------------
// The token a job gets by POSTing to SYSTEM_OIDCREQUESTURI with System.AccessToken (the request
// `pier publish` makes, src/client/ambient.ts), with the claims Teleport's RFD 211 records: `sub`
// p://ORG/PROJECT/PIPELINE, `org_id`, `prj_id`, `def_id`, `rpo_id`, `rpo_uri`, `rpo_ver`,
// `rpo_ref`, `run_id`, and `aud` always api://AzureADTokenExchange. The issuer is the server's
// URL followed by the organization's id, the form pier's Azure issuer check takes with --insecure
// (a loopback stand-in ending in the id: azureIssuerProblem), so nothing is relaxed for it; over
// HTTPS pier takes only https://vstoken.dev.azure.com/ID, so --tls-cert is refused. Flags:
// --repository ORG/PROJECT (the names in sub), --owner-id (the organization's id, in the issuer
// and org_id), --workflow (the pipeline's name), --ref (rpo_ref), --sha (rpo_ver). A service
// connection's token (serviceConnectionId) is not imitated.

export const AZURE_DEV_DEFAULTS = {
  organization: 'contoso',
  organizationId: '0ca3ddd9-f0b0-4635-a98c-5866526961b6',
  project: 'libraries',
  pipeline: 'release',
  pipelineId: '12',
} as const;

/** The organization id of the development tokens: --owner-id, else the file's org_id, else the default. */
function devOrganizationId(job: Readonly<JobSettings>, file: Readonly<DevClaims>): string {
  return job.ownerId ?? text(file.org_id) ?? AZURE_DEV_DEFAULTS.organizationId;
}

function azureDevCheck(job: Readonly<JobSettings>, server?: Readonly<ServerSettings>) {
  const { repository, ownerId, workflow, ref } = job;
  if (repository !== undefined) {
    const [org = '', project = '', ...rest] = repository.split('/');
    if (rest.length > 0 || !VALID_ORGANIZATION.test(org) || nameProblem(project, 'project'))
      return `--repository must be ORGANIZATION/PROJECT (e.g. contoso/libraries), got '${repository}'`;
  }
  if (ownerId !== undefined && !VALID_UUID.test(ownerId))
    return `--owner-id must be the organization's id, a lower-case UUID (the last part of its issuer URL), got '${ownerId}'`;
  if (workflow !== undefined && nameProblem(workflow, 'pipeline'))
    return `--workflow is the pipeline's name here (one segment of p://ORG/PROJECT/PIPELINE), got '${workflow}'`;
  if (ref !== undefined && !/^refs\/(?:heads|tags|pull)\/\S+$/.test(ref))
    return `--ref must be a full ref such as refs/heads/main or refs/tags/v1.0, got '${ref}'`;
  const refused = refusedSetting(
    job,
    'azure',
    "a pipeline's token names its organization, project, pipeline and repository ref only",
    ['repository', 'ownerId', 'workflow', 'ref', 'sha'],
  );
  if (refused) return refused;
  if (server?.tls)
    return `--tls-cert is not for --kind azure: over HTTPS pier takes only ${AZURE_ISSUER_BASE}ORGANIZATION_ID as an Azure issuer (a plain-HTTP loopback stand-in with --insecure)`;
  if (server?.issuer !== undefined) {
    const problem = azureIssuerProblem(server.issuer, server.issuer.startsWith('http:'));
    if (problem) return `--issuer: ${problem}`;
    const id = issuerOrganizationId(server.issuer);
    if (ownerId !== undefined && id !== ownerId)
      return `--owner-id ${ownerId} is not the organization id of --issuer ${server.issuer}`;
  }
  return null;
}

function azureDevClaims(job: Readonly<JobSettings>, file: Readonly<DevClaims>, issuer: string) {
  const d = AZURE_DEV_DEFAULTS;
  const [orgFlag, projectFlag] = job.repository?.split('/') ?? [];
  const subject = /^p:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(text(file.sub) ?? '');
  const organization = orgFlag ?? subject?.[1] ?? d.organization;
  const project = projectFlag ?? subject?.[2] ?? d.project;
  const pipeline = job.workflow ?? subject?.[3] ?? d.pipeline;
  // The issuer names the organization: its id is the issuer's, whatever else says.
  const fromIssuer = issuerOrganizationId(issuer);
  const orgId =
    fromIssuer !== null && VALID_UUID.test(fromIssuer) ? fromIssuer : devOrganizationId(job, file);
  const derived: DevClaims = {
    sub: `p://${organization}/${project}/${pipeline}`,
    org_id: orgId,
    prj_id: nameUuid(`azure-project:${organization}/${project}`),
    def_id: d.pipelineId,
    rpo_id: nameUuid(`azure-repository:${organization}/${project}`),
    rpo_uri: `https://dev.azure.com/${organization}/${project}/_git/${project}`,
    rpo_ver: job.sha ?? text(file.rpo_ver) ?? DEFAULTS.sha,
    rpo_ref: job.ref ?? text(file.rpo_ref) ?? DEFAULTS.ref,
    run_id: DEFAULTS.runId,
  };
  const flagged = given({
    sub:
      job.repository !== undefined || job.workflow !== undefined ? String(derived.sub) : undefined,
    org_id: job.ownerId,
    rpo_ver: job.sha,
    rpo_ref: job.ref,
  });
  return mergeClaims(derived, file, flagged);
}

const azureDevShape: DevTokenShape = {
  platform: 'Azure Pipelines',
  tokenRequest: 'azure-devops',
  fixedAudience: AZURE_DEVOPS_AUDIENCE,
  issuer: (baseUrl, job, file) => `${baseUrl}/${devOrganizationId(job, file)}`,
  checkJob: azureDevCheck,
  claims: azureDevClaims,
  environment(claims) {
    const parts = /^p:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(text(claims.sub) ?? '');
    return {
      TF_BUILD: 'True',
      SYSTEM_COLLECTIONURI: parts ? `https://dev.azure.com/${parts[1]}/` : undefined,
      SYSTEM_TEAMPROJECT: parts?.[2],
      SYSTEM_TEAMPROJECTID: stringOf(claims.prj_id),
      SYSTEM_DEFINITIONID: stringOf(claims.def_id),
      BUILD_DEFINITIONNAME: parts?.[3],
      BUILD_BUILDID: stringOf(claims.run_id),
      BUILD_SOURCEBRANCH: stringOf(claims.rpo_ref),
      BUILD_SOURCEVERSION: stringOf(claims.rpo_ver),
    };
  },
  publisherFlags(c) {
    const parts = /^p:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(text(c.sub) ?? '');
    return [
      `--organization ${shellQuote(parts?.[1] ?? '<ORG>')}`,
      `--organization-id ${shellQuote(text(c.org_id) ?? '<ORG_ID>')}`,
      `--azure-project ${shellQuote(parts?.[2] ?? '<PROJECT>')}`,
      `--pipeline ${shellQuote(parts?.[3] ?? '<PIPELINE>')}`,
      `--project-id ${shellQuote(text(c.prj_id) ?? '<UUID>')}`,
      `--pipeline-id ${shellQuote(text(c.def_id) ?? '<ID>')}`,
    ];
  },
  notes: [
    `# (Its tokens' audience is always ${AZURE_DEVOPS_AUDIENCE}, as Azure DevOps'; the issuer ends in the`,
    '#  organization id, as https://vstoken.dev.azure.com/ORG_ID does.)',
  ],
  flags:
    "a pipeline's own token, from a POST to SYSTEM_OIDCREQUESTURI with SYSTEM_ACCESSTOKEN, audience api://AzureADTokenExchange: --repository ORG/PROJECT and --workflow (the pipeline) derive sub, --owner-id is the organization id (the issuer's last segment, org_id), --ref and --sha set rpo_ref and rpo_ver",
};

export const azureProvider: Provider<AzureConfig> = {
  dev: azureDevShape,
  kind: 'azure',
  displayName: 'Azure Pipelines',
  builtinIssuer: null,
  summary:
    "a pipeline (pinned by the project's and its definition's ids, optionally a ref pattern) or a service connection, of an organization pinned by its issuer's id",
  fields: [
    { name: 'organization', label: 'Organization', placeholder: 'contoso' },
    {
      name: 'organizationId',
      label: "Organization's id",
      placeholder: '0ca3ddd9-f0b0-4635-a98c-5866526961b6',
      hint: 'The last part of its issuer URL, https://vstoken.dev.azure.com/ID: pinned.',
    },
    { name: 'project', label: 'Project', placeholder: 'libraries' },
    {
      name: 'pipeline',
      label: 'Pipeline',
      placeholder: 'release',
      optional: true,
      hint: 'The pipeline whose own tokens publish (p://ORG/PROJECT/PIPELINE). Or name a service connection instead.',
    },
    {
      name: 'projectId',
      label: "Project's id",
      placeholder: '271ef6f7-5998-4b0f-86fb-4b54d9129990',
      optional: true,
      hint: 'For a pipeline: the project’s UUID (GET https://dev.azure.com/ORG/_apis/projects/PROJECT): pinned.',
    },
    {
      name: 'pipelineId',
      label: "Pipeline's definition id",
      placeholder: '12',
      optional: true,
      hint: 'For a pipeline: the definitionId in its URL: pinned, so another pipeline given this name does not match.',
    },
    {
      name: 'ref',
      label: 'Ref pattern',
      placeholder: 'refs/tags/v*',
      optional: true,
      hint: 'For a pipeline: only these refs may publish (pier): * within a path segment, ** across segments.',
    },
    {
      name: 'serviceConnection',
      label: 'Service connection',
      placeholder: 'pier-publish',
      optional: true,
      hint: 'Instead of a pipeline: a service connection used only for this index, whose tokens (sc://ORG/PROJECT/NAME) publish. Its name is all its token says.',
    },
  ],
  example: {
    organization: 'contoso',
    organizationId: '0ca3ddd9-f0b0-4635-a98c-5866526961b6',
    project: 'libraries',
    pipeline: 'release',
    projectId: '271ef6f7-5998-4b0f-86fb-4b54d9129990',
    pipelineId: '12',
    ref: 'refs/tags/v*',
    serviceConnection: '',
  },
  cli: {
    options: [
      { flags: '--organization <org>', description: 'Azure DevOps organization' },
      { flags: '--organization-id <uuid>', description: 'Azure DevOps organization id' },
      { flags: '--azure-project <name>', description: 'Azure DevOps project' },
      { flags: '--pipeline <name>', description: 'Azure Pipelines pipeline' },
      { flags: '--project-id <uuid>', description: 'Azure DevOps project id (for --pipeline)' },
      {
        flags: '--pipeline-id <id>',
        description: 'Azure Pipelines definition id (for --pipeline)',
      },
      { flags: '--ref <glob>', description: 'Azure Pipelines: only runs on matching refs' },
      {
        flags: '--service-connection <name>',
        description: 'Azure DevOps service connection (instead of --pipeline)',
      },
    ],
    example:
      '--issuer https://vstoken.dev.azure.com/ORG_ID --organization ORG --organization-id ORG_ID --azure-project PROJECT --pipeline PIPELINE --project-id UUID --pipeline-id N [--ref R]',
    fields: (flags) => ({
      ok: true,
      fields: {
        organization: flagString(flags, 'organization'),
        organizationId: flagString(flags, 'organizationId'),
        project: flagString(flags, 'azureProject'),
        pipeline: flagString(flags, 'pipeline'),
        projectId: flagString(flags, 'projectId'),
        pipelineId: flagString(flags, 'pipelineId'),
        ref: flagString(flags, 'ref'),
        serviceConnection: flagString(flags, 'serviceConnection'),
      },
    }),
  },
  rules: AZURE_RULES,
  uncheckedClaims: AZURE_UNCHECKED_CLAIMS,
  uncheckedPrefixes: [],
  fixedAudience: AZURE_DEVOPS_AUDIENCE,
  issuerProblem: azureIssuerProblem,
  issuerMismatch: azureIssuerMismatch,
  validateConfig: validateAzureConfig,
  parseConfig: (stored) =>
    parseStoredFields<AzureConfig>(
      stored,
      ['organization', 'organizationId', 'project'],
      ['pipeline', 'projectId', 'pipelineId', 'ref', 'serviceConnection'],
    ),
  lookupKeyOfConfig: azureSubject,
  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(AZURE_RULES, claims);
    if (failure) return { ok: false, failure };
    return { ok: true, key: stringClaim(claims, 'sub') };
  },
  identityOf: (c) =>
    identityString([
      azureSubject(c),
      c.organizationId,
      optionalField(c.projectId),
      optionalField(c.pipelineId),
      optionalField(c.ref),
    ]),
  check: (config, claims, issuerUrl) => checkRules(AZURE_RULES, config, claims, issuerUrl),
  specificity: (c) => (optionalField(c.ref) !== '' ? 1 : 0),
  overlaps: (a, b) =>
    azureSubject(a) === azureSubject(b) &&
    a.organizationId === b.organizationId &&
    optionalField(a.projectId) === optionalField(b.projectId) &&
    optionalField(a.pipelineId) === optionalField(b.pipelineId) &&
    refPatternsOverlap(optionalField(a.ref), optionalField(b.ref)),
  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),
  describe(c) {
    if (!isPipelinePublisher(c))
      return `Azure Pipelines ${c.organization}/${c.project}, service connection ${optionalField(c.serviceConnection)}`;
    let text = `Azure Pipelines ${c.organization}/${c.project}, pipeline ${optionalField(c.pipeline)} (${optionalField(c.pipelineId)})`;
    if (optionalField(c.ref) !== '') text += `, ref ${c.ref}`;
    return text;
  },
  url: (c, issuerUrl) =>
    issuerUrl.startsWith(AZURE_ISSUER_BASE)
      ? isPipelinePublisher(c)
        ? `https://dev.azure.com/${encodeURIComponent(c.organization)}/${encodeURIComponent(c.project)}/_build?definitionId=${optionalField(c.pipelineId)}`
        : `https://dev.azure.com/${encodeURIComponent(c.organization)}/${encodeURIComponent(c.project)}`
      : null,
  links: azureLinks,
  attestation: {
    shape: 'unsupported',
    reason:
      'Attestations are not currently supported with Azure Pipelines publishers (Sigstore has no Azure DevOps identity)',
  },
  template: {
    variable: (name) => `$(${name})`,
    render: azurePipeline,
  },
};
