// The provenance line of a file published through trusted publishing: the publisher, and from
// the claims the repository, workflow, environment, commit and a link to the CI run. Links are
// built only from claims that have the expected shape (numbers for run ids, hexadecimal for
// commits, path-safe names), on the web host of the publisher's issuer, and only as http(s).
import { githubWebBase } from '../../oidc/providers/github.js';
import { isCommitSha } from '../../oidc/providers/core.js';
import { html, linkOrText, safeHttpUrl, type SafeHtml } from '../html.js';

/** As the JSON API shows it (src/simple/json-api.ts, from src/oidc/exchange.ts). */
export interface Provenance {
  publisher: {
    id: number;
    kind: string;
    issuer: string;
    description: string;
    url: string | null;
  };
  claims: Record<string, string | null>;
}

export function isProvenance(value: unknown): value is Provenance {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const p = v.publisher as Record<string, unknown> | undefined;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.kind === 'string' &&
    typeof p.issuer === 'string' &&
    typeof v.claims === 'object' &&
    v.claims !== null
  );
}

export interface ProvenanceFacts {
  repository: string | null;
  workflow: string | null;
  ref: string | null;
  environment: string | null;
  commit: string | null;
  commitUrl: string | null;
  runLabel: string | null;
  runUrl: string | null;
  publisher: string;
  publisherUrl: string | null;
}

const PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
const DIGITS = /^[0-9]{1,20}$/;

function claim(claims: Record<string, unknown>, name: string): string | null {
  const v = claims[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The workflow file and ref of `OWNER/REPO/.github/workflows/FILE@REF`. */
function githubWorkflow(jobWorkflowRef: string | null): { file: string; ref: string } | null {
  if (!jobWorkflowRef) return null;
  const m = /^[^/]+\/[^/]+\/\.github\/workflows\/([^@]+)@(.+)$/.exec(jobWorkflowRef);
  return m ? { file: m[1]!, ref: m[2]! } : null;
}

/** The pipeline file and ref of `HOST/NAMESPACE/PROJECT//PATH@REF`. */
function gitlabPipeline(ciConfigRefUri: string | null): { file: string; ref: string } | null {
  if (!ciConfigRefUri) return null;
  const m = /\/\/([^@]+)@(.+)$/.exec(ciConfigRefUri);
  return m ? { file: m[1]!, ref: m[2]! } : null;
}

export function provenanceFacts(p: Provenance): ProvenanceFacts {
  const c = p.claims as Record<string, unknown>;
  const facts: ProvenanceFacts = {
    repository: null,
    workflow: null,
    ref: null,
    environment: claim(c, 'environment'),
    commit: null,
    commitUrl: null,
    runLabel: null,
    runUrl: null,
    publisher: p.publisher.description,
    publisherUrl: safeHttpUrl(p.publisher.url),
  };
  const sha = claim(c, 'sha');
  if (sha !== null && isCommitSha(sha)) facts.commit = sha;
  if (p.publisher.kind === 'github') {
    const repository = claim(c, 'repository');
    const workflow = githubWorkflow(claim(c, 'job_workflow_ref'));
    facts.repository = repository;
    facts.workflow = workflow?.file ?? null;
    facts.ref = claim(c, 'ref') ?? workflow?.ref ?? null;
    const base = githubWebBase(p.publisher.issuer);
    if (base !== null && repository !== null && PATH.test(repository)) {
      const repoUrl = `${base}/${repository}`;
      if (facts.commit) facts.commitUrl = safeHttpUrl(`${repoUrl}/commit/${facts.commit}`);
      const runId = claim(c, 'run_id');
      const attempt = claim(c, 'run_attempt');
      if (runId !== null && DIGITS.test(runId)) {
        const withAttempt = attempt !== null && DIGITS.test(attempt);
        facts.runLabel = `run ${runId}${withAttempt ? `, attempt ${attempt}` : ''}`;
        facts.runUrl = safeHttpUrl(
          `${repoUrl}/actions/runs/${runId}${withAttempt ? `/attempts/${attempt}` : ''}`,
        );
      }
    }
  } else if (p.publisher.kind === 'gitlab') {
    const path = claim(c, 'project_path');
    const pipeline = gitlabPipeline(claim(c, 'ci_config_ref_uri'));
    facts.repository = path;
    facts.workflow = pipeline?.file ?? null;
    facts.ref = claim(c, 'ref_path') ?? pipeline?.ref ?? null;
    const base = safeHttpUrl(p.publisher.issuer)?.replace(/\/+$/, '') ?? null;
    if (base !== null && path !== null && PATH.test(path)) {
      const projectUrl = `${base}/${path}`;
      if (facts.commit) facts.commitUrl = safeHttpUrl(`${projectUrl}/-/commit/${facts.commit}`);
      const jobId = claim(c, 'job_id');
      const pipelineId = claim(c, 'pipeline_id');
      if (pipelineId !== null && DIGITS.test(pipelineId)) {
        facts.runLabel = `pipeline ${pipelineId}`;
        facts.runUrl = safeHttpUrl(`${projectUrl}/-/pipelines/${pipelineId}`);
      } else if (jobId !== null && DIGITS.test(jobId)) {
        facts.runLabel = `job ${jobId}`;
        facts.runUrl = safeHttpUrl(`${projectUrl}/-/jobs/${jobId}`);
      }
    }
  } else if (p.publisher.kind === 'google') {
    facts.repository = claim(c, 'email');
  } else if (p.publisher.kind === 'activestate') {
    const org = claim(c, 'organization');
    const project = claim(c, 'project');
    facts.repository = org && project ? `${org}/${project}` : null;
  }
  return facts;
}

/** One line (a list of labelled parts) under a file. */
export function renderProvenance(p: Provenance): SafeHtml {
  const f = provenanceFacts(p);
  const part = (label: string, value: SafeHtml | string | null) =>
    value === null || value === ''
      ? ''
      : html`<span class="prov-part"><span class="prov-label">${label}</span> ${value}</span>`;
  const commit =
    f.commit === null
      ? null
      : f.commitUrl
        ? html`<a href="${f.commitUrl}" rel="nofollow noopener noreferrer"
            ><code>${f.commit.slice(0, 12)}</code></a
          >`
        : html`<code>${f.commit.slice(0, 12)}</code>`;
  const run =
    f.runLabel === null ? null : f.runUrl ? linkOrText(f.runUrl, f.runLabel) : html`${f.runLabel}`;
  return html`<div class="provenance" data-publisher-kind="${p.publisher.kind}">
    <span class="badge badge-tp" title="Uploaded with a token minted by trusted publishing"
      >Trusted publishing</span
    >
    ${part('repository', f.repository)} ${part('workflow', f.workflow)} ${part('ref', f.ref)}
    ${part('environment', f.environment)} ${part('commit', commit)} ${part('CI run', run)}
    <span class="prov-part prov-publisher"
      ><span class="prov-label">publisher</span>
      ${f.publisherUrl ? linkOrText(f.publisherUrl, f.publisher) : f.publisher}</span
    >
  </div>`;
}
