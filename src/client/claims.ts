// What an OIDC token says about the job, read without verifying it (the index verifies): the
// claims that decide which trusted publisher matches, rendered for a failed exchange, and the
// `pier publisher add` command that would trust exactly this job. Never the token itself.

export type Claims = Record<string, unknown>;

/** The payload of a JWT (`header.payload.signature`), or null if it is not one. */
export function decodeJwtPayload(token: string): Claims | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const json = Buffer.from(parts[1], 'base64url').toString('utf8');
    const payload: unknown = JSON.parse(json);
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Claims)
      : null;
  } catch {
    return null;
  }
}

export type TokenPlatform =
  'github' | 'gitlab' | 'google' | 'buildkite' | 'circleci' | 'bitbucket' | 'unknown';

/** Which CI platform's token this is, from the claims it carries. */
export function tokenPlatform(claims: Claims): TokenPlatform {
  if ('job_workflow_ref' in claims || 'repository_owner_id' in claims) return 'github';
  if ('ci_config_ref_uri' in claims || 'project_path' in claims) return 'gitlab';
  if ('organization_slug' in claims || 'pipeline_slug' in claims) return 'buildkite';
  if (typeof claims.iss === 'string' && claims.iss.startsWith('https://oidc.circleci.com'))
    return 'circleci';
  if ('workspaceUuid' in claims && 'repositoryUuid' in claims) return 'bitbucket';
  if ('email' in claims && typeof claims.iss === 'string' && /google/.test(claims.iss))
    return 'google';
  return 'unknown';
}

/** The claims each platform's publishers are matched on, in the order they are shown. */
export const IDENTIFYING_CLAIMS: Readonly<Record<TokenPlatform, readonly string[]>> = {
  github: [
    'repository',
    'repository_owner',
    'repository_owner_id',
    'workflow_ref',
    'job_workflow_ref',
    'ref',
    'environment',
    'sub',
  ],
  gitlab: ['project_path', 'ci_config_ref_uri', 'ref_path', 'environment', 'sub'],
  google: ['email', 'email_verified', 'sub'],
  buildkite: ['organization_slug', 'pipeline_slug', 'sub'],
  circleci: [
    'oidc.circleci.com/org-id',
    'oidc.circleci.com/project-id',
    'oidc.circleci.com/vcs-origin',
    'oidc.circleci.com/vcs-ref',
    'oidc.circleci.com/context-ids',
    'oidc.circleci.com/ssh-rerun',
    'sub',
  ],
  bitbucket: ['workspaceUuid', 'repositoryUuid', 'branchName', 'deploymentEnvironmentUuid', 'sub'],
  unknown: ['sub'],
};

function show(value: unknown): string {
  if (value === undefined || value === null) return 'MISSING';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `name: value` lines for the identifying claims (and the issuer and audience), MISSING if absent. */
export function renderClaims(claims: Claims): string[] {
  const platform = tokenPlatform(claims);
  const names = ['iss', 'aud', ...IDENTIFYING_CLAIMS[platform]];
  const width = Math.max(...names.map((n) => n.length));
  return names.map((name) => `${name.padEnd(width)}  ${show(claims[name])}`);
}

/** A value as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The public issuers pier trusts without being told (a publisher names others with --issuer). */
export const BUILT_IN_ISSUERS: Readonly<Record<string, string>> = {
  github: 'https://token.actions.githubusercontent.com',
  gitlab: 'https://gitlab.com',
  google: 'https://accounts.google.com',
};

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** The workflow file a GitHub publisher names: the one that defines the job. */
export function githubWorkflowFile(claims: Claims): string | undefined {
  const ref = text(claims.job_workflow_ref) ?? text(claims.workflow_ref);
  return ref ? /\.github\/workflows\/([^@]+)@/.exec(ref)?.[1] : undefined;
}

/** The CI configuration path a GitLab publisher names (`…//PATH@REF` of ci_config_ref_uri). */
export function gitlabConfigPath(claims: Claims): string | undefined {
  const uri = text(claims.ci_config_ref_uri);
  return uri ? /\/\/(.+)@[^@]*$/.exec(uri)?.[1] : undefined;
}

/**
 * The `pier publisher add` command that trusts the job this token describes, for `project`;
 * null for a platform pier's publishers do not cover, or when a needed claim is missing.
 */
export function publisherCommand(claims: Claims, project: string): string | null {
  const platform = tokenPlatform(claims);
  const issuer = text(claims.iss);
  const args = ['pier', 'publisher', 'add', shellQuote(project)];
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined) args.push(flag, shellQuote(value));
  };
  if (platform === 'github') {
    const repository = text(claims.repository);
    const workflow = githubWorkflowFile(claims);
    if (!repository || !workflow) return null;
    args.push('--provider', 'github');
    add('--repository', repository);
    add('--workflow', workflow);
    add('--owner-id', text(claims.repository_owner_id));
    add('--environment', text(claims.environment));
  } else if (platform === 'gitlab') {
    const repository = text(claims.project_path);
    const workflow = gitlabConfigPath(claims);
    if (!repository || !workflow) return null;
    args.push('--provider', 'gitlab');
    add('--repository', repository);
    add('--workflow', workflow);
    add('--environment', text(claims.environment));
  } else if (platform === 'google') {
    const email = text(claims.email);
    if (!email) return null;
    args.push('--provider', 'google');
    add('--email', email);
    add('--sub', text(claims.sub));
  } else if (platform === 'circleci') {
    const org = text(claims['oidc.circleci.com/org-id']);
    const project = text(claims['oidc.circleci.com/project-id']);
    if (!org || !project) return null;
    args.push('--provider', 'circleci');
    add('--organization-id', org);
    add('--project-id', project);
    add('--vcs-origin', text(claims['oidc.circleci.com/vcs-origin']));
  } else if (platform === 'bitbucket') {
    const workspace = text(claims.workspaceUuid);
    const repository = text(claims.repositoryUuid);
    if (!workspace || !repository) return null;
    args.push('--provider', 'bitbucket');
    add('--workspace-uuid', workspace);
    add('--repository-uuid', repository);
    add('--deployment-environment-uuid', text(claims.deploymentEnvironmentUuid));
  } else return null;
  // CircleCI and Bitbucket have no built-in issuer: each organisation or workspace is its own.
  if (issuer && BUILT_IN_ISSUERS[platform] !== issuer) add('--issuer', issuer);
  return args.join(' ');
}

/** The `pier issuer add` command that trusts this token's issuer, when its kind is known. */
export function issuerCommand(claims: Claims): string | null {
  const issuer = text(claims.iss);
  const platform = tokenPlatform(claims);
  if (!issuer || !['github', 'gitlab', 'circleci', 'bitbucket'].includes(platform)) return null;
  return `pier issuer add --kind ${platform} --url ${shellQuote(issuer)}`;
}

/** True when the job runs a reusable workflow (its job_workflow_ref differs from workflow_ref). */
export function isReusableWorkflow(claims: Claims): boolean {
  const caller = text(claims.workflow_ref);
  const callee = text(claims.job_workflow_ref);
  return caller !== undefined && callee !== undefined && caller !== callee;
}
