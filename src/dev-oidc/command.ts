// `pier dev-oidc`: starts the development issuer, prints the environment a CI job would have as
// `export` lines (for `eval` in a shell, or for a test to read) and the commands that make a pier
// index trust it, then serves until SIGINT or SIGTERM.
import { Command, Option } from 'commander';
import {
  DEFAULT_LIFETIME_SECONDS,
  DEV_OIDC_KINDS,
  MAX_LIFETIME_SECONDS,
  type DevOidcKind,
  type DevOidcOptions,
} from './options.js';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { shellQuote } from './claims.js';
import { devShape } from './kinds.js';
import { startDevOidc, type DevOidcServer } from './server.js';
import type { JobSettings } from './shape.js';

export { shellQuote } from './claims.js';
import { wholeNumber } from '../client/numeric-option.js';

export interface DevOidcCommandIo {
  /** Where the `export` lines go (default: process.stdout). */
  stdout?: (text: string) => void;
  /** Where the request log and errors go (default: process.stderr). */
  stderr?: (text: string) => void;
  /** Stop serving when this aborts (as well as on SIGINT and SIGTERM). */
  signal?: AbortSignal;
}

/** The job's settings are flags of the same names (`--owner-id` → ownerId). */
interface DevOidcFlags extends JobSettings {
  kind: DevOidcKind;
  host: string;
  port: number;
  issuer?: string;
  tlsCert?: string;
  tlsKey?: string;
  keyFile?: string;
  lifetime: number;
  claims?: string;
  project?: string;
  indexUrl?: string;
  owner: string;
}

/** What the printed commands are for: the project and the index the laptop publishes to. */
export interface LaptopSetup {
  /** The project to publish (from ./pyproject.toml); `<PROJECT>` when unknown. */
  project?: string;
  /** The index's URL, for `pier publish` (default: defaultIndexUrl()). */
  indexUrl?: string;
  /** Who owns the project its first publish creates (default admin, made by a new index). */
  owner?: string;
}

/** The index a laptop runs: PIER_PUBLIC_URL, else `pier serve`'s default address and PIER_PORT. */
export function defaultIndexUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIER_PUBLIC_URL) return env.PIER_PUBLIC_URL;
  return `http://127.0.0.1:${env.PIER_PORT || '8080'}`;
}

/** `[project] name` of a pyproject.toml's text, or undefined when it has none (a pure rule). */
export function projectNameFromPyproject(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch {
    return undefined;
  }
  const project = (doc as { project?: unknown }).project;
  const name =
    project && typeof project === 'object' ? (project as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
}

/** What `pier dev-oidc` prints once it listens. */
export function startupText(server: DevOidcServer, setup: LaptopSetup = {}): string {
  const url = shellQuote(server.url);
  const insecure = new URL(server.url).protocol === 'http:' ? ' --insecure' : '';
  const project = setup.project ? shellQuote(setup.project) : '<PROJECT>';
  const owner = shellQuote(setup.owner ?? 'admin');
  const upload = shellQuote(`${(setup.indexUrl ?? defaultIndexUrl()).replace(/\/+$/, '')}/legacy/`);
  const lines = Object.entries(server.env()).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  const shape = devShape(server.kind);
  lines.push(
    `# pier dev-oidc: a development ${shape?.platform ?? server.kind} OIDC issuer at ${server.url}`,
    ...(shape?.notes ?? []),
  );
  const flags = [`--provider ${server.kind}`, ...(shape?.publisherFlags(server.claims) ?? [])];
  lines.push(
    `# Trust it at a pier index (development only), and let this job create and publish ${project}:`,
    `#   pier issuer add --kind ${server.kind} --url ${url}${insecure}`,
    `#   pier publisher add ${project} ${flags.join(' ')} --issuer ${url} --pending --owner ${owner}`,
    `# (--pending --owner ${owner}: its first publish creates ${project}, owned by ${owner}; leave them`,
    '#  out when the project exists.) Then, with dist/ built (python3 -m build), in a shell with',
    '#  the variables above exported:',
    `#   pier publish --repository-url ${upload} dist/`,
    '# Serving until interrupted (Ctrl-C).',
  );
  return lines.join('\n') + '\n';
}

function untilStopped(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const stop = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    const onAbort = () => stop('abort');
    if (signal?.aborted) return stop('abort');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The project of the folder `pier dev-oidc` runs in, from its pyproject.toml if any. */
function projectInFolder(): string | undefined {
  try {
    return projectNameFromPyproject(readFileSync('pyproject.toml', 'utf8'));
  } catch {
    return undefined;
  }
}

export function optionsFromFlags(flags: DevOidcFlags): DevOidcOptions {
  return {
    kind: flags.kind,
    host: flags.host,
    port: flags.port,
    issuer: flags.issuer,
    tlsCert: flags.tlsCert,
    tlsKey: flags.tlsKey,
    keyFile: flags.keyFile,
    lifetime: flags.lifetime,
    repository: flags.repository,
    ownerId: flags.ownerId,
    workflow: flags.workflow,
    environment: flags.environment,
    ref: flags.ref,
    sha: flags.sha,
    event: flags.event,
    jobWorkflowRef: flags.jobWorkflowRef,
    claimsFile: flags.claims,
  };
}

/** The text after the options: the token endpoint, then each kind's claims (from the registry). */
function helpText(): string {
  const kinds = DEV_OIDC_KINDS.map((kind) => {
    const shape = devShape(kind);
    return `  --kind ${kind} (${shape?.platform ?? kind}): ${shape?.flags ?? ''}.`;
  });
  return `
The token endpoint behaves like GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL, whatever the kind:
  GET /token?api-version=2.0&audience=AUD  with  Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN
  -> {"value": "<JWT>"}   (RS256; without audience, GitHub's default https://github.com/OWNER)
Kinds whose jobs ask otherwise also answer that request, and export its variables instead of
GITHUB_ACTIONS and ACTIONS_ID_TOKEN_REQUEST_*, so that pier publish asks as on the platform:
  --kind google: GCE_METADATA_HOST, Google's metadata server (GET
    /computeMetadata/v1/instance/service-accounts/default/identity?audience=AUD&format=full
    with Metadata-Flavor: Google -> the JWT; no secret, so loopback addresses and plain HTTP only)
  --kind azure: SYSTEM_OIDCREQUESTURI and SYSTEM_ACCESSTOKEN (POST ?api-version=7.1 with
    Authorization: Bearer $SYSTEM_ACCESSTOKEN -> {"oidcToken": "<JWT>"}, audience always
    api://AzureADTokenExchange; the issuer ends in the organization id, plain HTTP only)
Discovery is at /.well-known/openid-configuration, keys at /.well-known/jwks.

Claims: flags set their claim and the claims derived from it. A --claims file is a JSON object
merged over the defaults and the derived claims (a claim set to null is removed); flags win over
the file.
${kinds.join('\n')}

Examples:
  pier dev-oidc --environment release --key-file .dev-oidc.pem > job.env &
  . ./job.env    # once it has printed: this shell now looks like a GitHub job
  pier dev-oidc --kind gitlab --repository my-group/my-project --ref refs/tags/v1.0
  pier dev-oidc --kind forgejo --repository forgejo/release-app --workflow release.yml
  pier dev-oidc --kind google --claims sa.json   # {"email": "SA@PROJECT.iam.gserviceaccount.com"}
  pier dev-oidc --kind azure --repository contoso/libraries --workflow release --ref refs/tags/v1.0
  pier dev-oidc --claims claims.json     # e.g. {"repository_visibility": "private", "run_id": null}
`;
}

/** Add `dev-oidc` to a commander program. `io` lets a test capture output and stop it. */
export function registerDevOidcCommand(program: Command, io: DevOidcCommandIo = {}): void {
  const stdout = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
  program
    .command('dev-oidc')
    .description(
      "run a development OIDC issuer: a local stand-in for a CI platform's token service (GitHub Actions'; --kind for the others), printing the env vars a CI job would have",
    )
    .addOption(
      new Option('--kind <kind>', 'whose tokens to imitate')
        .choices(DEV_OIDC_KINDS)
        .default('github'),
    )
    .option('--host <address>', 'listen address', '127.0.0.1')
    .option('--port <n>', 'listen port (0: any free port)', wholeNumber({ max: 65535 }), 0)
    .option('--issuer <url>', 'the issuer URL tokens carry (default: this server’s own URL)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--key-file <file>',
      'PEM PKCS#8 RSA signing key, created when missing (restarts keep the key and its kid)',
    )
    .option(
      '--lifetime <seconds>',
      'token lifetime',
      wholeNumber({ min: 1, max: MAX_LIFETIME_SECONDS }),
      DEFAULT_LIFETIME_SECONDS,
    )
    .option(
      '--repository <owner/repo>',
      "GitHub OWNER/REPO, GitLab NAMESPACE/PROJECT, Buildkite ORG/PIPELINE, ActiveState or Azure DevOps ORG/PROJECT (default octo-org/octo-repo; the others: their kind's example)",
    )
    .option(
      '--owner-id <id>',
      'repository_owner_id (GitLab: namespace_id), digits (default 65); Buildkite: organization_id, Azure: the organization id, a UUID',
    )
    .option(
      '--workflow <file>',
      'GitHub workflow file (default release.yml); GitLab CI config path (default .gitlab-ci.yml); Buildkite step key (default publish); Azure pipeline name (default release)',
    )
    .option('--environment <env>', 'deployment environment (default: none)')
    .option('--ref <ref>', 'full git ref (default refs/heads/main)')
    .option('--sha <sha>', 'commit, 40 hexadecimal digits')
    .option('--event <name>', 'event_name (GitLab: pipeline_source) (default push)')
    .option(
      '--job-workflow-ref <ref>',
      'GitHub reusable workflow defining the job: OWNER/REPO/.github/workflows/FILE.yml@REF',
    )
    .option('--claims <file>', 'JSON object of claims merged over the defaults (null removes one)')
    .option(
      '--project <name>',
      'the project the printed commands publish (default: the name in ./pyproject.toml)',
    )
    .option(
      '--index-url <url>',
      'the pier index the printed publish command uploads to (default: PIER_PUBLIC_URL, else http://127.0.0.1:PIER_PORT or 8080)',
    )
    .option('--owner <user>', 'who owns the project its first publish creates', 'admin')
    .addHelpText('after', helpText())
    .action(async (flags: DevOidcFlags) => {
      const server = await startDevOidc({
        ...optionsFromFlags(flags),
        log: (line) => stderr(`dev-oidc: ${line}\n`),
      });
      try {
        stdout(
          startupText(server, {
            project: flags.project ?? projectInFolder(),
            indexUrl: flags.indexUrl,
            owner: flags.owner,
          }),
        );
        const why = await untilStopped(io.signal);
        stderr(`dev-oidc: stopping (${why})\n`);
      } finally {
        await server.close();
      }
    });
}
