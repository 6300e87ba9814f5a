// The claims of a CI job's token, shaped like GitHub Actions' (reference §7.1) or GitLab CI's
// `id_tokens` (§7.2): ids are strings (GitLab's runner_id excepted), `sub` in each platform's
// default format. Pure functions of the settings, the --claims file and the issuer.
//
// Precedence, lowest first: defaults; claims derived from the settings (sub, workflow_ref, ...);
// the claims file; the claims the flags set directly. A setting's value comes from its flag,
// else from the file's claim of the same meaning (when a string), else the default — so
// derived claims follow the flags and the file, unless the file sets the derived claim itself.
// A claim whose final value is null is removed.
import type { DevOidcKind, JobSettings } from './options.js';

export type Claims = Record<string, unknown>;

export const DEFAULTS = {
  repository: 'octo-org/octo-repo',
  ownerId: '65',
  repositoryId: '74',
  githubWorkflow: 'release.yml',
  gitlabWorkflow: '.gitlab-ci.yml',
  ref: 'refs/heads/main',
  sha: '1c4a7a3f0b8e2d9c6f5e4d3c2b1a09f8e7d6c5b4',
  githubEvent: 'push',
  gitlabEvent: 'push',
  actor: 'octocat',
  actorId: '12',
  runId: '1234567890',
  runNumber: '1',
  runAttempt: '1',
  jobId: '1234567891',
  namespaceId: '72',
} as const;

/** The claims a token carries besides iss, aud, iat, nbf, exp and jti. */
export function jobClaims(
  kind: DevOidcKind,
  job: JobSettings,
  file: Claims,
  issuer: string,
): Claims {
  if (kind === 'gitlab') return gitlabClaims(job, file, issuer);
  return kind === 'forgejo' ? forgejoClaims(job, file) : githubClaims(job, file);
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Drop the undefined entries (a flag not given). */
function given(claims: Record<string, string | undefined>): Claims {
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
}

/** Later objects win; a null value removes the claim. */
export function mergeClaims(...layers: Claims[]): Claims {
  const out: Claims = {};
  for (const layer of layers) Object.assign(out, layer);
  for (const [k, v] of Object.entries(out)) if (v === null) delete out[k];
  return out;
}

function environmentOf(job: JobSettings, file: Claims): string | undefined {
  if (job.environment !== undefined) return job.environment;
  return text(file.environment) || undefined;
}

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);

/** GitHub's default subject: environment, else pull request, else ref. */
export function githubSubject(
  repository: string,
  environment: string | undefined,
  event: string,
  ref: string,
): string {
  if (environment) return `repo:${repository}:environment:${environment}`;
  if (PULL_REQUEST_EVENTS.has(event)) return `repo:${repository}:pull_request`;
  return `repo:${repository}:ref:${ref}`;
}

/**
 * Forgejo Actions' tokens are GitHub's shape (https://forgejo.org/docs/next/user/actions/security-openid-connect),
 * with the workflow under .forgejo/workflows, a self-hosted runner and no ref_protected.
 */
function forgejoClaims(job: JobSettings, file: Claims): Claims {
  return githubClaims(job, file, '.forgejo/workflows', {
    runner_environment: 'self-hosted',
    ref_protected: null,
  });
}

function githubClaims(
  job: JobSettings,
  file: Claims,
  directory = '.github/workflows',
  platform: Claims = {},
): Claims {
  const repository = job.repository ?? text(file.repository) ?? DEFAULTS.repository;
  const ownerId = job.ownerId ?? text(file.repository_owner_id) ?? DEFAULTS.ownerId;
  const ref = job.ref ?? text(file.ref) ?? DEFAULTS.ref;
  const sha = job.sha ?? text(file.sha) ?? DEFAULTS.sha;
  const event = job.event ?? text(file.event_name) ?? DEFAULTS.githubEvent;
  const environment = environmentOf(job, file);
  const workflowFile = job.workflow ?? DEFAULTS.githubWorkflow;
  const workflowRef =
    text(file.workflow_ref) ?? `${repository}/${directory}/${workflowFile}@${ref}`;
  const jobWorkflowRef = job.jobWorkflowRef ?? workflowRef;
  // A reusable workflow pinned to a commit runs that commit; otherwise the caller's.
  const pinned = /@([0-9a-f]{40})$/.exec(jobWorkflowRef)?.[1];
  const pullRequest = PULL_REQUEST_EVENTS.has(event);

  const derived: Claims = {
    sub: githubSubject(repository, environment, event, ref),
    ref,
    sha,
    repository,
    repository_owner: repository.split('/')[0] ?? repository,
    repository_owner_id: ownerId,
    repository_id: DEFAULTS.repositoryId,
    repository_visibility: 'public',
    run_id: DEFAULTS.runId,
    run_number: DEFAULTS.runNumber,
    run_attempt: DEFAULTS.runAttempt,
    actor: DEFAULTS.actor,
    actor_id: DEFAULTS.actorId,
    workflow: `${directory}/${workflowFile}`,
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: job.jobWorkflowRef !== undefined && pinned ? pinned : sha,
    head_ref: pullRequest ? 'feature' : '',
    base_ref: pullRequest ? 'main' : '',
    event_name: event,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ref_protected: 'false',
    ...(environment ? { environment } : {}),
    runner_environment: 'github-hosted',
  };
  const flagged = given({
    repository: job.repository,
    repository_owner_id: job.ownerId,
    environment: job.environment,
    ref: job.ref,
    sha: job.sha,
    event_name: job.event,
    job_workflow_ref: job.jobWorkflowRef,
  });
  return mergeClaims({ ...derived, ...platform }, file, flagged);
}

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

function gitlabClaims(job: JobSettings, file: Claims, issuer: string): Claims {
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

  const derived: Claims = {
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
