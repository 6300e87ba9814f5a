// What `pier dev-oidc` can be told, and the checks that turn a typo into a clear error before
// anything listens: the same rules for the command line and for tests starting it in-process.
import { readFileSync } from 'node:fs';
import type { ProviderKind } from '../oidc/providers/types.js';
import { devKinds, devShape } from './kinds.js';
import type { JobSettings, ServerSettings } from './shape.js';

export type { JobSettings } from './shape.js';

/** A provider kind whose module declares a development token shape. */
export type DevOidcKind = ProviderKind;
/** The kinds `--kind` takes, in the registry's order. */
export const DEV_OIDC_KINDS: readonly DevOidcKind[] = devKinds();

/** A setting that cannot work, said the way the user wrote it (`--sha`, not `sha`). */
export class DevOidcError extends Error {
  override name = 'DevOidcError';
}

export interface DevOidcOptions extends JobSettings {
  /** Which CI platform's claims the tokens carry (default `github`). */
  kind?: DevOidcKind;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port (default 0: any free port). */
  port?: number;
  /** The `iss` of the tokens and of discovery (default: the server's own base URL). */
  issuer?: string;
  /** PEM certificate and key files: serve HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  /** PEM PKCS#8 RSA private key; created when missing, so restarts keep the key. */
  keyFile?: string;
  /** Seconds from `iat` to `exp` (default 300, like GitHub). */
  lifetime?: number;
  /** A JSON file holding an object of claims merged over the defaults (null removes a claim). */
  claimsFile?: string;
  /** Claims merged over the defaults and over `claimsFile` (in-process use). */
  claims?: Record<string, unknown>;
  /** The ACTIONS_ID_TOKEN_REQUEST_TOKEN to accept (default: a fresh random one). */
  requestToken?: string;
  /** Where to write one line per request served (default: nowhere). Never given a token. */
  log?: (line: string) => void;
}

export interface ResolvedOptions {
  kind: DevOidcKind;
  host: string;
  port: number;
  issuer: string | undefined;
  tls: { cert: Buffer; key: Buffer } | undefined;
  keyFile: string | undefined;
  lifetime: number;
  job: JobSettings;
  fileClaims: Record<string, unknown>;
  requestToken: string | undefined;
  log: (line: string) => void;
}

export const DEFAULT_LIFETIME_SECONDS = 300;
export const MAX_LIFETIME_SECONDS = 24 * 3600;

const fail = (message: string): never => {
  throw new DevOidcError(message);
};

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const EVENT = /^[a-z][a-z_]*$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The checks every platform shares, then the platform's own (its shape's `checkJob`). */
function checkJob(kind: DevOidcKind, job: JobSettings, server: ServerSettings): JobSettings {
  const { repository, ownerId, workflow, environment, ref, sha, event, jobWorkflowRef } = job;
  const settings = { repository, ownerId, workflow, environment, ref, sha, event, jobWorkflowRef };
  if (
    environment !== undefined &&
    (environment === '' || environment.length > 255 || CONTROL.test(environment))
  )
    fail(
      `--environment must be a non-empty name of at most 255 characters, got ${JSON.stringify(environment)}`,
    );
  if (sha !== undefined && !SHA.test(sha))
    fail(`--sha must be a commit id of 40 lower-case hexadecimal digits, got '${sha}'`);
  if (event !== undefined && !EVENT.test(event))
    fail(`--event must be an event name such as push or workflow_dispatch, got '${event}'`);
  const problem = devShape(kind)?.checkJob(settings, server);
  if (problem) fail(problem);
  return settings;
}

function checkIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return fail(`--issuer must be an absolute http(s) URL, got '${issuer}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    fail(`--issuer must be an http or https URL, got '${issuer}'`);
  if (url.username || url.password || url.search || url.hash || issuer.endsWith('/'))
    fail(`--issuer must have no credentials, query, fragment or trailing slash, got '${issuer}'`);
  return issuer;
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** The `--claims` file: a JSON object of claims. */
export function readClaimsFile(path: string): Record<string, unknown> {
  const text = readFile(path, 'the --claims file').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`the --claims file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    fail(
      `the --claims file ${path} must hold a JSON object of claims, e.g. {"environment": "release"}`,
    );
  return parsed as Record<string, unknown>;
}

export function resolveOptions(options: DevOidcOptions): ResolvedOptions {
  const kind = options.kind ?? 'github';
  if (!DEV_OIDC_KINDS.includes(kind))
    fail(`--kind must be one of ${DEV_OIDC_KINDS.join(', ')}, got '${String(kind)}'`);
  const host = options.host ?? '127.0.0.1';
  if (host === '' || /[\s/]/.test(host))
    fail(`--host must be an address to listen on, got '${host}'`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be a number from 0 to 65535, got '${port}'`);
  const lifetime = options.lifetime ?? DEFAULT_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME_SECONDS)
    fail(
      `--lifetime must be a whole number of seconds from 1 to ${MAX_LIFETIME_SECONDS}, got '${lifetime}'`,
    );
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined))
    fail('--tls-cert and --tls-key go together: give both to serve HTTPS');
  const tls =
    options.tlsCert !== undefined && options.tlsKey !== undefined
      ? {
          cert: readFile(options.tlsCert, '--tls-cert'),
          key: readFile(options.tlsKey, '--tls-key'),
        }
      : undefined;
  if (options.requestToken !== undefined && !/^\S{16,}$/.test(options.requestToken))
    fail('the request token must be at least 16 characters with no spaces');
  if (
    options.claims !== undefined &&
    (typeof options.claims !== 'object' || options.claims === null || Array.isArray(options.claims))
  )
    fail('claims must be an object of claims');
  const issuer = options.issuer === undefined ? undefined : checkIssuer(options.issuer);
  return {
    kind,
    host,
    port,
    issuer,
    tls,
    keyFile: options.keyFile,
    lifetime,
    job: checkJob(kind, options, { issuer, host, tls: tls !== undefined }),
    fileClaims: {
      ...(options.claimsFile === undefined ? {} : readClaimsFile(options.claimsFile)),
      ...options.claims,
    },
    requestToken: options.requestToken,
    log: options.log ?? (() => {}),
  };
}
