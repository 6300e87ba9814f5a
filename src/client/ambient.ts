// The ambient OIDC credential of the CI job the client runs in, found the way the `id` library
// (which the pypa action and twine use) finds it, in its order: GitHub Actions, Google Cloud,
// Buildkite, GitLab CI, CircleCI; then Bitbucket Pipelines and Azure Pipelines, which `id` does not cover. A platform
// that is detected but gives no token is an error that says what to change; no platform at all
// is `null`.
import { readFile } from 'node:fs/promises';
import { decodeJwtPayload } from './claims.js';
import { PublishError } from './errors.js';
import { request, TransportError, type HttpResponse } from './http.js';

export type AmbientPlatform =
  'github' | 'google' | 'buildkite' | 'gitlab' | 'circleci' | 'bitbucket' | 'azure';

export interface AmbientToken {
  platform: AmbientPlatform;
  /** The OIDC token (a JWT). */
  token: string;
  /** Where it came from, for messages (`ACTIONS_ID_TOKEN_REQUEST_URL`, `PYPI_ID_TOKEN`, …). */
  source: string;
  /** The audience the platform wrote instead of the index's, when a job cannot choose it. */
  audience?: string;
}

/** What the detectors touch, so that tests can stand in for a CI platform. */
export interface AmbientContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Runs a program (no shell); `null` when it is not installed. */
  run(
    command: string,
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string } | null>;
  get(url: string, headers: Record<string, string>): Promise<HttpResponse>;
  /** A POST without a body (Azure DevOps' token request). */
  post(url: string, headers: Record<string, string>): Promise<HttpResponse>;
  /** A file's text, or null when it cannot be read. */
  readText(path: string): Promise<string | null>;
}

export function defaultAmbientContext(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AmbientContext {
  return {
    env,
    // node:child_process is loaded only by the detectors that run a command (Buildkite,
    // CircleCI): loading it costs every other run a few milliseconds at start.
    run: async (command, args) => {
      const { spawn } = await import('node:child_process');
      return new Promise((resolve) => {
        const child = spawn(command, args, {
          env: env as NodeJS.ProcessEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (err: NodeJS.ErrnoException) =>
          err.code === 'ENOENT'
            ? resolve(null)
            : resolve({ code: null, stdout, stderr: stderr || err.message }),
        );
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    get: (url, headers) => request(url, { headers, idleTimeoutMs: 30_000 }),
    post: (url, headers) =>
      request(url, { method: 'POST', headers, body: Buffer.alloc(0), idleTimeoutMs: 30_000 }),
    readText: async (path) => {
      try {
        return await readFile(path, 'utf8');
      } catch {
        return null;
      }
    },
  };
}

/**
 * The variable a GitLab job declares under `id_tokens:` for `audience`, named as `id` names it:
 * upper case, every character outside `[A-Z0-9_]` becomes `_`, a leading character that is not
 * a letter or `_` becomes `_`, then `_ID_TOKEN` (`pypi` → `PYPI_ID_TOKEN`,
 * `pier.example.com` → `PIER_EXAMPLE_COM_ID_TOKEN`, `127.0.0.1:8443` → `_27_0_0_1_8443_ID_TOKEN`).
 */
export function gitlabTokenVariable(audience: string): string {
  return `${audience.toUpperCase().replace(/[^A-Z0-9_]|^[^A-Z_]/g, '_')}_ID_TOKEN`;
}

const set = (v: string | undefined): boolean => v !== undefined && v !== '';

async function readJson(ctx: AmbientContext, path: string | undefined): Promise<unknown> {
  if (!path) return null;
  const text = await ctx.readText(path);
  try {
    return text === null ? null : (JSON.parse(text) as unknown);
  } catch {
    return null;
  }
}

/** Whether the workflow runs for a pull request from a fork (GitHub gives those no OIDC token). */
async function isForkPullRequest(ctx: AmbientContext): Promise<boolean> {
  if (!/^pull_request/.test(ctx.env.GITHUB_EVENT_NAME ?? '')) return false;
  const event = (await readJson(ctx, ctx.env.GITHUB_EVENT_PATH)) as {
    pull_request?: { head?: { repo?: { fork?: boolean } } };
  } | null;
  return event?.pull_request?.head?.repo?.fork === true;
}

async function fetchText(
  ctx: AmbientContext,
  platform: string,
  url: string,
  headers: Record<string, string>,
): Promise<HttpResponse> {
  try {
    return await ctx.get(url, headers);
  } catch (err) {
    const reason = err instanceof TransportError ? err.message : String(err);
    throw new PublishError('no-id-token', `${platform}: the OIDC token request failed: ${reason}`, {
      cause: err,
    });
  }
}

async function detectGithub(audience: string, ctx: AmbientContext): Promise<AmbientToken | null> {
  if (!set(ctx.env.GITHUB_ACTIONS)) return null;
  const url = ctx.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = ctx.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!set(url) || !set(bearer)) {
    const missing = !set(url) ? 'ACTIONS_ID_TOKEN_REQUEST_URL' : 'ACTIONS_ID_TOKEN_REQUEST_TOKEN';
    if (await isForkPullRequest(ctx))
      throw new PublishError(
        'no-id-token',
        `GitHub Actions gave this job no OIDC token (${missing} is unset): the workflow runs for a pull request from a fork, and GitHub never gives those an OIDC token, even with \`id-token: write\``,
        {
          hints: [
            'Publish from an event that forks cannot trigger: a push of a tag, a release, or workflow_dispatch.',
          ],
        },
      );
    throw new PublishError(
      'no-id-token',
      `GitHub Actions gave this job no OIDC token (${missing} is unset): the job lacks the \`id-token: write\` permission`,
      {
        hints: [
          'Add `permissions: id-token: write` to the publishing job (at the job level, next to `environment:`), or pass an API token instead.',
        ],
      },
    );
  }
  const requestUrl = new URL(url as string);
  requestUrl.searchParams.set('audience', audience);
  const res = await fetchText(ctx, 'GitHub Actions', requestUrl.href, {
    authorization: `bearer ${bearer}`,
    accept: 'application/json',
  });
  if (res.status !== 200)
    throw new PublishError(
      'no-id-token',
      `GitHub Actions: the OIDC token request failed with ${res.status} ${res.statusText}`.trim(),
    );
  let value: unknown;
  try {
    value = (JSON.parse(res.body.toString('utf8')) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value === '')
    throw new PublishError('no-id-token', 'GitHub Actions: the OIDC token response had no token');
  return { platform: 'github', token: value, source: 'ACTIONS_ID_TOKEN_REQUEST_URL' };
}

/** The GCE metadata server (GCE_METADATA_HOST overrides it, as Google's client libraries allow). */
function metadataBase(ctx: AmbientContext): string {
  return `http://${ctx.env.GCE_METADATA_HOST || 'metadata.google.internal'}`;
}

async function detectGoogle(audience: string, ctx: AmbientContext): Promise<AmbientToken | null> {
  const product = (await ctx.readText('/sys/class/dmi/id/product_name'))?.trim();
  if (
    product !== 'Google' &&
    product !== 'Google Compute Engine' &&
    !set(ctx.env.GCE_METADATA_HOST)
  )
    return null;
  const url = new URL(
    `${metadataBase(ctx)}/computeMetadata/v1/instance/service-accounts/default/identity`,
  );
  url.searchParams.set('audience', audience);
  url.searchParams.set('format', 'full');
  const res = await fetchText(ctx, 'Google Cloud', url.href, { 'metadata-flavor': 'Google' });
  const token = res.body.toString('utf8').trim();
  if (res.status !== 200 || token === '')
    throw new PublishError(
      'no-id-token',
      `Google Cloud: the metadata server gave no identity token (${res.status} ${res.statusText})`.trim(),
      {
        hints: [
          'Run the job as a service account (the instance, Cloud Build or Cloud Run service account) and register that account as the publisher.',
        ],
      },
    );
  return { platform: 'google', token, source: 'the GCE metadata server' };
}

async function fromProgram(
  ctx: AmbientContext,
  platform: AmbientPlatform,
  name: string,
  command: string,
  args: string[],
  installHint: string,
): Promise<AmbientToken> {
  const result = await ctx.run(command, args);
  if (result === null)
    throw new PublishError('no-id-token', `${name}: \`${command}\` is not on the PATH`, {
      hints: [installHint],
    });
  const token = result.stdout.trim();
  if (result.code !== 0 || token === '')
    throw new PublishError(
      'no-id-token',
      `${name}: \`${command} ${args.slice(0, 3).join(' ')}\` failed${result.code === null ? '' : ` (exit ${result.code})`}: ${(result.stderr || result.stdout).trim() || 'no output'}`,
    );
  return { platform, token, source: `${command} ${args.slice(0, 3).join(' ')}` };
}

async function detectBuildkite(
  audience: string,
  ctx: AmbientContext,
): Promise<AmbientToken | null> {
  if (!set(ctx.env.BUILDKITE)) return null;
  return fromProgram(
    ctx,
    'buildkite',
    'Buildkite',
    'buildkite-agent',
    ['oidc', 'request-token', '--audience', audience],
    'Run the step on a Buildkite agent (buildkite-agent 3.48 or later), whose PATH includes buildkite-agent.',
  );
}

async function detectGitlab(audience: string, ctx: AmbientContext): Promise<AmbientToken | null> {
  if (!set(ctx.env.GITLAB_CI)) return null;
  const variable = gitlabTokenVariable(audience);
  const token = ctx.env[variable];
  if (!set(token))
    throw new PublishError(
      'no-id-token',
      `GitLab CI: the variable ${variable} is not set, so this job has no OIDC token for the audience '${audience}'`,
      {
        hints: [
          `Declare it in the publishing job of .gitlab-ci.yml: \`id_tokens: { ${variable}: { aud: ${audience} } }\`.`,
        ],
      },
    );
  return { platform: 'gitlab', token: (token as string).trim(), source: variable };
}

async function detectCircleci(audience: string, ctx: AmbientContext): Promise<AmbientToken | null> {
  if (!set(ctx.env.CIRCLECI)) return null;
  return fromProgram(
    ctx,
    'circleci',
    'CircleCI',
    'circleci',
    ['run', 'oidc', 'get', '--claims', JSON.stringify({ aud: audience })],
    'Run the job on CircleCI’s own runners, whose PATH includes the circleci agent.',
  );
}

/** What the publishing step of bitbucket-pipelines.yml declares to get a token for `audience`. */
export function bitbucketAudienceHint(audience: string): string {
  return `Declare the index's audience, alone, in the publishing step of bitbucket-pipelines.yml: \`oidc: { audiences: [${audience}] }\`.`;
}

/**
 * Bitbucket Pipelines (https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/):
 * a step with `oidc: true` or `oidc: { audiences: [...] }` has its token in
 * BITBUCKET_STEP_OIDC_TOKEN; every step has BITBUCKET_PIPELINE_UUID. The audience is fixed by the
 * step, not asked for: Bitbucket's default is `ari:cloud:bitbucket::workspace/UUID`, and a step
 * may list up to 10. The index takes a token for its own audience as the one string `aud` (a
 * token for several could be replayed at each), so a list is refused here, saying what to change.
 */
async function detectBitbucket(
  audience: string,
  ctx: AmbientContext,
): Promise<AmbientToken | null> {
  if (!set(ctx.env.BITBUCKET_PIPELINE_UUID)) return null;
  const token = ctx.env.BITBUCKET_STEP_OIDC_TOKEN?.trim();
  if (!set(token))
    throw new PublishError(
      'no-id-token',
      'Bitbucket Pipelines: BITBUCKET_STEP_OIDC_TOKEN is not set: the step does not ask for an OIDC token',
      { hints: [bitbucketAudienceHint(audience)] },
    );
  const aud = decodeJwtPayload(token as string)?.aud;
  if (Array.isArray(aud))
    throw new PublishError(
      'no-id-token',
      `Bitbucket Pipelines: the step's OIDC token is for several audiences (${JSON.stringify(aud)}); the index takes a token for '${audience}' alone`,
      { hints: [bitbucketAudienceHint(audience)] },
    );
  return { platform: 'bitbucket', token: token as string, source: 'BITBUCKET_STEP_OIDC_TOKEN' };
}

/** The audience of every Azure DevOps token (src/oidc/providers/azure.ts says why it is fixed). */
export const AZURE_DEVOPS_AUDIENCE = 'api://AzureADTokenExchange';

/** Where Azure DevOps' issuers live: a token of one carries the fixed audience. */
export const AZURE_DEVOPS_ISSUER_BASE = 'https://vstoken.dev.azure.com/';

/** The variable naming the service connection whose token to request, instead of the job's. */
export const AZURE_SERVICE_CONNECTION_VARIABLE = 'PIER_AZURE_SERVICE_CONNECTION_ID';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Azure Pipelines: a POST to `$SYSTEM_OIDCREQUESTURI?api-version=7.1` (with
 * `&serviceConnectionId=ID` for a service connection's token) authorized by the job's
 * System.AccessToken, answered with `{"oidcToken": "…"}`
 * (https://learn.microsoft.com/rest/api/azure/devops/distributedtask/oidctoken/create; the
 * request Azure's own `AzurePipelinesCredential` makes). The audience is always
 * api://AzureADTokenExchange: `audience` cannot be asked for.
 */
async function detectAzure(_audience: string, ctx: AmbientContext): Promise<AmbientToken | null> {
  const base = ctx.env.SYSTEM_OIDCREQUESTURI;
  if (!set(base)) return null;
  const accessToken = ctx.env.SYSTEM_ACCESSTOKEN;
  if (!set(accessToken))
    throw new PublishError(
      'no-id-token',
      'Azure Pipelines: SYSTEM_ACCESSTOKEN is not set, so this step cannot request its OIDC token from SYSTEM_OIDCREQUESTURI',
      {
        hints: [
          'Map it into the publishing step: `env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken) }` (pipelines never export it by themselves).',
        ],
      },
    );
  let url: URL;
  try {
    url = new URL(base as string);
  } catch {
    throw new PublishError('no-id-token', `Azure Pipelines: SYSTEM_OIDCREQUESTURI is not a URL`);
  }
  url.searchParams.set('api-version', '7.1');
  const connection = ctx.env[AZURE_SERVICE_CONNECTION_VARIABLE];
  if (set(connection)) {
    // Azure DevOps answers a connection name (not its id) with the job's own token, silently.
    if (!UUID.test(connection as string))
      throw new PublishError(
        'usage',
        `${AZURE_SERVICE_CONNECTION_VARIABLE} must be the service connection's id (a UUID), got '${connection}'`,
      );
    url.searchParams.set('serviceConnectionId', connection as string);
  }
  let res: HttpResponse;
  try {
    res = await ctx.post(url.href, {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json',
      // Asks Azure DevOps for a status instead of a redirect to its sign-in page.
      'x-tfs-fedauthredirect': 'Suppress',
    });
  } catch (err) {
    const reason = err instanceof TransportError ? err.message : String(err);
    throw new PublishError(
      'no-id-token',
      `Azure Pipelines: the OIDC token request failed: ${reason}`,
      {
        cause: err,
      },
    );
  }
  if (res.status !== 200)
    throw new PublishError(
      'no-id-token',
      `Azure Pipelines: the OIDC token request failed with ${res.status} ${res.statusText}`.trim(),
      {
        hints: set(connection)
          ? [
              'Azure DevOps gives a service connection’s token only to a job with a task input naming that connection, to pipelines it authorizes.',
            ]
          : [],
      },
    );
  let value: unknown;
  try {
    value = (JSON.parse(res.body.toString('utf8')) as { oidcToken?: unknown }).oidcToken;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value === '')
    throw new PublishError(
      'no-id-token',
      'Azure Pipelines: the OIDC token response had no oidcToken',
    );
  return {
    platform: 'azure',
    token: value,
    source: 'SYSTEM_OIDCREQUESTURI',
    audience: AZURE_DEVOPS_AUDIENCE,
  };
}

/** The detectors, in the order `id` tries them, then those `id` does not have. */
export const DETECTORS: readonly {
  platform: AmbientPlatform;
  detect(audience: string, ctx: AmbientContext): Promise<AmbientToken | null>;
}[] = [
  { platform: 'github', detect: detectGithub },
  { platform: 'google', detect: detectGoogle },
  { platform: 'buildkite', detect: detectBuildkite },
  { platform: 'gitlab', detect: detectGitlab },
  { platform: 'circleci', detect: detectCircleci },
  { platform: 'bitbucket', detect: detectBitbucket },
  { platform: 'azure', detect: detectAzure },
];

/**
 * The OIDC token of the CI job this runs in, for `audience`. Null when no supported CI is
 * detected; a PublishError when one is detected but gives no token.
 */
export async function detectAmbientToken(
  audience: string,
  ctx: AmbientContext = defaultAmbientContext(),
): Promise<AmbientToken | null> {
  for (const { detect } of DETECTORS) {
    const found = await detect(audience, ctx);
    if (found) return found;
  }
  return null;
}
