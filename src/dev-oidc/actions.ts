// The token shape of an Actions platform: GitHub Actions' (reference §7.1) and, with its workflow
// folder, runner and issuer, Forgejo Actions' (https://forgejo.org/docs/next/user/actions/security-openid-connect),
// whose tokens are GitHub's shape. The GitHub and Forgejo provider modules declare their `dev`
// shape with `actionsShape`; the claim precedence is ./claims.ts's.
import {
  DEFAULTS,
  environmentOf,
  given,
  mergeClaims,
  stringOf,
  text,
  shellQuote,
  type DevClaimsIn,
} from './claims.js';
import type { DevClaims, DevTokenShape, JobSettings } from './shape.js';

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9._-]+$/;
const WORKFLOW_FILE = /^[^/\\\s]+\.(?:yml|yaml)$/;
const JOB_WORKFLOW_REF = /^[^/\s]+\/[^/\s]+\/\.github\/workflows\/[^/\\\s@]+\.(?:yml|yaml)@\S+$/;
const NUMERIC_ID = /^[1-9][0-9]*$/;

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

/** The settings an Actions platform cannot have; `reusable`: it has reusable workflows (GitHub). */
export function checkActionsJob(
  job: Readonly<JobSettings>,
  folder: string,
  reusable: boolean,
): string | null {
  const { repository, ownerId, workflow, ref, jobWorkflowRef } = job;
  if (repository !== undefined && !REPOSITORY.test(repository))
    return `--repository must be OWNER/REPO (e.g. octo-org/octo-repo), got '${repository}'`;
  if (ownerId !== undefined && !NUMERIC_ID.test(ownerId))
    return `--owner-id must be the owner's numeric id (digits only, e.g. 65), got '${ownerId}'`;
  if (workflow !== undefined && !WORKFLOW_FILE.test(workflow))
    return `--workflow must be a file name in ${folder} ending in .yml or .yaml (e.g. release.yml), got '${workflow}'`;
  if (ref !== undefined && !/^refs\/(?:heads|tags|pull)\/\S+$/.test(ref))
    return `--ref must be a full ref such as refs/heads/main or refs/tags/v1.0, got '${ref}'`;
  if (jobWorkflowRef !== undefined) {
    if (!reusable) return '--job-workflow-ref is only for --kind github (reusable workflows)';
    if (!JOB_WORKFLOW_REF.test(jobWorkflowRef))
      return `--job-workflow-ref must be OWNER/REPO/.github/workflows/FILE.yml@REF, got '${jobWorkflowRef}'`;
  }
  return null;
}

/** An Actions job's claims, its workflow under `folder`, `platform` claims over the defaults. */
export function actionsClaims(
  job: Readonly<JobSettings>,
  file: DevClaimsIn,
  folder = '.github/workflows',
  platform: DevClaims = {},
): DevClaims {
  const repository = job.repository ?? text(file.repository) ?? DEFAULTS.repository;
  const ownerId = job.ownerId ?? text(file.repository_owner_id) ?? DEFAULTS.ownerId;
  const ref = job.ref ?? text(file.ref) ?? DEFAULTS.ref;
  const sha = job.sha ?? text(file.sha) ?? DEFAULTS.sha;
  const event = job.event ?? text(file.event_name) ?? DEFAULTS.githubEvent;
  const environment = environmentOf(job, file);
  const workflowFile = job.workflow ?? DEFAULTS.githubWorkflow;
  const workflowRef = text(file.workflow_ref) ?? `${repository}/${folder}/${workflowFile}@${ref}`;
  const jobWorkflowRef = job.jobWorkflowRef ?? workflowRef;
  // A reusable workflow pinned to a commit runs that commit; otherwise the caller's.
  const pinned = /@([0-9a-f]{40})$/.exec(jobWorkflowRef)?.[1];
  const pullRequest = PULL_REQUEST_EVENTS.has(event);

  const derived: DevClaims = {
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
    workflow: `${folder}/${workflowFile}`,
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

/** The variables an Actions job has that `pier publish` reads. */
export function actionsEnvironment(
  claims: DevClaimsIn,
  serverUrl: string,
): Record<string, string | undefined> {
  return {
    GITHUB_REPOSITORY: stringOf(claims.repository),
    GITHUB_WORKFLOW_REF: stringOf(claims.workflow_ref),
    GITHUB_REF: stringOf(claims.ref),
    GITHUB_SHA: stringOf(claims.sha),
    GITHUB_EVENT_NAME: stringOf(claims.event_name),
    GITHUB_SERVER_URL: serverUrl,
    GITHUB_RUN_ID: stringOf(claims.run_id),
    GITHUB_RUN_ATTEMPT: stringOf(claims.run_attempt),
  };
}

/** GitHub Actions' tokens. */
export const githubDevShape: DevTokenShape = {
  platform: 'GitHub Actions',
  defaultAudience(claims) {
    const owner = text(claims.repository_owner);
    return owner ? `https://github.com/${owner}` : undefined;
  },
  checkJob: (job) => checkActionsJob(job, '.github/workflows', true),
  claims: (job, file) => actionsClaims(job, file),
  environment: (claims) => actionsEnvironment(claims, 'https://github.com'),
  publisherFlags(c) {
    // The file a publisher names is the one defining the job (a reusable workflow's, if any).
    const ref = text(c.job_workflow_ref) ?? text(c.workflow_ref) ?? '';
    const workflow = /([^/]+\.(?:yml|yaml))(?=@)/.exec(ref)?.[1];
    return [
      `--repository ${shellQuote(text(c.repository) ?? '<OWNER/REPO>')}`,
      `--workflow ${shellQuote(workflow ?? '<FILE.yml>')}`,
      ...(text(c.repository_owner_id)
        ? [`--owner-id ${shellQuote(String(c.repository_owner_id))}`]
        : []),
      ...(text(c.environment) ? [`--environment ${shellQuote(String(c.environment))}`] : []),
    ];
  },
  flags:
    '--repository OWNER/REPO, --owner-id, --workflow FILE, --ref, --event and --job-workflow-ref set their claims and derive sub, workflow_ref, job_workflow_ref, repository_owner and ref_type',
};

/** Forgejo Actions' tokens: GitHub's shape, the workflow under .forgejo/workflows, a self-hosted
 * runner, no ref_protected, and the issuer at the instance's /api/actions. */
export const forgejoDevShape: DevTokenShape = {
  platform: 'Forgejo Actions',
  issuer: (baseUrl) => `${baseUrl}/api/actions`,
  checkJob: (job) => checkActionsJob(job, '.forgejo/workflows', false),
  claims: (job, file) =>
    actionsClaims(job, file, '.forgejo/workflows', {
      runner_environment: 'self-hosted',
      ref_protected: null,
    }),
  environment: (claims, issuer) =>
    actionsEnvironment(claims, issuer.replace(/\/api\/actions$/, '')),
  publisherFlags(c) {
    // The workflow by its path in the repository; both immutable ids pinned.
    const ref = text(c.job_workflow_ref) ?? '';
    const workflow = /^[^/]+\/[^/]+\/(\.forgejo\/workflows\/[^@]+)@/.exec(ref)?.[1];
    return [
      `--repository ${shellQuote(text(c.repository) ?? '<OWNER/REPO>')}`,
      `--repository-id ${shellQuote(text(c.repository_id) ?? '<ID>')}`,
      `--owner-id ${shellQuote(text(c.repository_owner_id) ?? '<ID>')}`,
      `--workflow ${shellQuote(workflow ?? '<.forgejo/workflows/FILE.yml>')}`,
      ...(text(c.environment) ? [`--environment ${shellQuote(String(c.environment))}`] : []),
    ];
  },
  flags:
    "GitHub's, with the workflow under .forgejo/workflows and the issuer at /api/actions as a Forgejo instance's",
};
