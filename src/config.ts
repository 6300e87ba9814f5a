// pier's configuration: command-line flags, then environment variables, then an optional
// pier.toml (looked up at --config / PIER_CONFIG, else ./pier.toml). Every setting has one
// name in each source: flag `--max-upload-size`, env `PIER_MAX_UPLOAD_SIZE`, toml `max_upload_size`.
import { existsSync, readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { isIP } from 'node:net';
import { parse as parseToml } from 'smol-toml';
import { tokenTtlProblem } from './oidc/pytp.js';
import { parseSsoProviders, SsoConfigError, type SsoProviderConfig } from './sso/config.js';

export type ReadAccess = 'public' | 'authenticated';

export interface Config {
  dataDir: string;
  host: string;
  port: number;
  /** The configured public URL, or null to derive it from the listen address. */
  publicUrl: string | null;
  tlsCert: string | null;
  tlsKey: string | null;
  databaseUrl: string;
  storageUrl: string;
  /** Explicit OIDC audience, or null for the public URL's host and path (src/oidc/audience.ts). */
  oidcAudience: string | null;
  readAccess: ReadAccess;
  maxUploadSize: number;
  tokenTtl: number;
  /** How long a staged release waits for approval before it expires, in seconds. */
  stagedTtl: number;
  trustedProxies: string[];
  /** Client addresses (or CIDRs) that may read /metrics without credentials. */
  metricsAllow: string[];
  /** Whether every user may create projects by uploading (otherwise admins and flagged users). */
  anyUserMayCreateProjects: boolean;
  /** Pending publishers one user may have registered at once (administrators excepted). */
  maxPendingPublishers: number;
  /** Trusted-publisher registrations a user, and an address, may attempt in a day. */
  publisherRegistrationsPerDay: number;
  /** Whether administrators must enrol a TOTP second factor before they can use the web UI. */
  requireTwoFactorForAdmins: boolean;
  /**
   * Whether users with a second factor may read (Simple API, JSON API, downloads) with their
   * password over HTTP Basic; the REST API and uploads take only tokens from them.
   */
  basicPasswordReads: boolean;
  /** The GitHub Action (`owner/repo@ref`) the ready-to-copy workflows use; null for pypa's. */
  actionRef: string | null;
  /** The help page error messages link to; null for pier's own `/help/`. */
  helpUrl: string | null;
  logLevel: string;
  /** A `trusted_root.json` for a private Sigstore, or null for Sigstore's public-good root. */
  sigstoreTrustedRoot: string | null;
  /** The upstream index's Simple root (credentials stripped out), or null: no proxy. */
  upstreamUrl: string | null;
  /** Credentials for the upstream (from the URL's userinfo or the username/password settings). */
  upstreamUsername: string | null;
  upstreamPassword: string | null;
  /** A PEM file of the certificate authorities the upstream's TLS certificate is verified against. */
  upstreamCa: string | null;
  /** Name globs never taken from the upstream. */
  upstreamExclude: string[];
  /** When non-empty, only names matching one of these globs are taken from the upstream. */
  upstreamAllow: string[];
  /** Files uploaded upstream less than this many seconds ago are not offered (0: no minimum). */
  upstreamMinAge: number;
  /** Serve only what is cached, never asking the upstream. */
  upstreamOffline: boolean;
  /** Longest wait for an upstream page, and for each stretch of a file download, in seconds. */
  upstreamTimeout: number;
  /** Largest upstream project page accepted, in bytes. */
  upstreamMaxPageSize: number;
  /** Server processes `pier serve` runs on one port; null: chosen (src/cluster/worker-count.ts). */
  workers: number | null;
  /** Whether passwords sign in at all (web and HTTP Basic); API tokens work either way. */
  passwordSignIn: boolean;
  /** Company sign-in providers (OpenID Connect), from pier.toml's `[sso.NAME]` tables. */
  ssoProviders: SsoProviderConfig[];
}

export class ConfigError extends Error {}

interface Setting {
  key: keyof Config;
  env: string;
  toml: string;
  parse: (value: unknown, source: string) => unknown;
}

const MiB = 1024 * 1024;

export function parseSize(value: unknown, source = 'size'): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(
    String(value),
  );
  if (!m)
    throw new ConfigError(
      `${source}: expected a size such as 100MiB, got ${JSON.stringify(value)}`,
    );
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor: Record<string, number> = {
    b: 1,
    k: 1024,
    kb: 1000,
    kib: 1024,
    m: MiB,
    mb: 1000 ** 2,
    mib: MiB,
    g: 1024 ** 3,
    gb: 1000 ** 3,
    gib: 1024 ** 3,
    t: 1024 ** 4,
    tb: 1000 ** 4,
    tib: 1024 ** 4,
  };
  const bytes = Math.floor(Number(m[1]) * (factor[unit] ?? 1));
  if (bytes <= 0) throw new ConfigError(`${source}: size must be positive`);
  return bytes;
}

/** Durations: a number of seconds, or a number followed by s, m, h or d. Returns seconds. */
export function parseDuration(value: unknown, source = 'duration'): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.floor(value);
  const m = /^\s*(\d+)\s*(s|m|h|d)?\s*$/i.exec(String(value));
  if (!m)
    throw new ConfigError(
      `${source}: expected a duration such as 900, 15m or 30d, got ${JSON.stringify(value)}`,
    );
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const seconds = n * ({ s: 1, m: 60, h: 3600, d: 86400 }[unit] ?? 1);
  if (seconds <= 0) throw new ConfigError(`${source}: duration must be positive`);
  return seconds;
}

function str(value: unknown, source: string): string {
  if (typeof value !== 'string' && typeof value !== 'number')
    throw new ConfigError(`${source}: expected a string`);
  return String(value);
}

function positiveInt(value: unknown, source: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(
      `${source}: expected a whole number of at least 1, got ${JSON.stringify(value)}`,
    );
  return n;
}

/** Server processes: 1 to MAX_WORKERS (more processes than that only compete for cores). */
export const MAX_WORKERS = 64;

function workers(value: unknown, source: string): number {
  const n = positiveInt(value, source);
  if (n > MAX_WORKERS)
    throw new ConfigError(`${source}: at most ${MAX_WORKERS} server processes, got ${n}`);
  return n;
}

function port(value: unknown, source: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(
      `${source}: expected a port number 0-65535, got ${JSON.stringify(value)}`,
    );
  return n;
}

function bool(value: unknown, source: string): boolean {
  if (typeof value === 'boolean') return value;
  const s = String(value).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(`${source}: expected true or false, got ${JSON.stringify(value)}`);
}

function list(value: unknown, source: string): string[] {
  if (Array.isArray(value)) return value.map((v) => str(v, source));
  return str(value, source)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Addresses and CIDRs (`10.0.0.0/8`, `::1`), each checked now rather than at the first request. */
function addressList(value: unknown, source: string): string[] {
  const entries = list(value, source);
  for (const entry of entries)
    if (!isAddressOrCidr(entry))
      throw new ConfigError(`${source}: expected addresses or CIDRs, got ${JSON.stringify(entry)}`);
  return entries;
}

function isAddressOrCidr(entry: string): boolean {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return false;
  if (slash === -1) return true;
  const bits = entry.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
}

function publicUrl(value: unknown, source: string): string {
  const text = str(value, source);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${source}: not a URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${source}: the public URL must be http or https`);
  if (url.search || url.hash)
    throw new ConfigError(`${source}: the public URL cannot have a query or fragment`);
  return url.href.replace(/\/+$/, '');
}

/** An absolute http(s) URL for the help page (anchors such as `#file-name-reuse` are added). */
function helpUrl(value: unknown, source: string): string {
  const text = str(value, source).trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${source}: not a URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${source}: the help URL must be http or https`);
  if (url.hash) throw new ConfigError(`${source}: the help URL cannot have a fragment`);
  return url.href;
}

/** A GitHub Action reference as `uses:` takes it: `owner/repo[/path]@ref`. */
function actionRef(value: unknown, source: string): string {
  const s = str(value, source).trim();
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_./-]+)?@[A-Za-z0-9_./-]+$/.test(s))
    throw new ConfigError(
      `${source}: expected a GitHub Action reference such as my-org/pier@v1, got ${JSON.stringify(s)}`,
    );
  return s;
}

function readAccess(value: unknown, source: string): ReadAccess {
  const s = str(value, source);
  if (s !== 'public' && s !== 'authenticated')
    throw new ConfigError(`${source}: expected public or authenticated, got ${JSON.stringify(s)}`);
  return s;
}

/** A minted token's lifetime: a duration inside PEP 807's range (15 minutes to 6 hours). */
function tokenTtl(value: unknown, source: string): number {
  const seconds = parseDuration(value, source);
  const problem = tokenTtlProblem(seconds);
  if (problem) throw new ConfigError(`${source}: the minted token lifetime ${problem}`);
  return seconds;
}

/** A staged release's time to approval: a duration of one minute to a year. */
function stagedTtl(value: unknown, source: string): number {
  const seconds = parseDuration(value, source);
  if (seconds < 60 || seconds > 366 * 86400)
    throw new ConfigError(
      `${source}: a staged release's lifetime must be between 1 minute and 366 days, got ${seconds} seconds`,
    );
  return seconds;
}

function audience(value: unknown, source: string): string {
  const s = str(value, source).trim();
  if (!s) throw new ConfigError(`${source}: the OIDC audience cannot be empty`);
  if (s === 'pypi' || s === 'testpypi')
    throw new ConfigError(
      `${source}: the OIDC audience cannot be '${s}': tokens minted for PyPI must never be accepted here`,
    );
  return s;
}

/** The upstream's Simple root: http(s), no query or fragment, always ending in '/'. */
export function upstreamUrl(value: unknown, source: string): string {
  const text = str(value, source);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${source}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${source}: the upstream URL must be http or https`);
  if (url.search || url.hash)
    throw new ConfigError(`${source}: the upstream URL cannot have a query or fragment`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

function nonNegativeDays(value: unknown, source: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new ConfigError(
      `${source}: expected a number of days (0 or more), got ${JSON.stringify(value)}`,
    );
  return Math.round(n * 86400);
}

const SETTINGS: Setting[] = [
  { key: 'dataDir', env: 'PIER_DATA_DIR', toml: 'data_dir', parse: str },
  { key: 'host', env: 'PIER_HOST', toml: 'host', parse: str },
  { key: 'port', env: 'PIER_PORT', toml: 'port', parse: port },
  { key: 'publicUrl', env: 'PIER_PUBLIC_URL', toml: 'public_url', parse: publicUrl },
  { key: 'tlsCert', env: 'PIER_TLS_CERT', toml: 'tls_cert', parse: str },
  { key: 'tlsKey', env: 'PIER_TLS_KEY', toml: 'tls_key', parse: str },
  { key: 'databaseUrl', env: 'PIER_DATABASE_URL', toml: 'database_url', parse: str },
  { key: 'storageUrl', env: 'PIER_STORAGE_URL', toml: 'storage_url', parse: str },
  { key: 'oidcAudience', env: 'PIER_OIDC_AUDIENCE', toml: 'oidc_audience', parse: audience },
  { key: 'readAccess', env: 'PIER_READ_ACCESS', toml: 'read_access', parse: readAccess },
  { key: 'maxUploadSize', env: 'PIER_MAX_UPLOAD_SIZE', toml: 'max_upload_size', parse: parseSize },
  { key: 'tokenTtl', env: 'PIER_TOKEN_TTL', toml: 'token_ttl', parse: tokenTtl },
  { key: 'stagedTtl', env: 'PIER_STAGED_TTL', toml: 'staged_ttl', parse: stagedTtl },
  { key: 'trustedProxies', env: 'PIER_TRUSTED_PROXIES', toml: 'trusted_proxies', parse: list },
  { key: 'metricsAllow', env: 'PIER_METRICS_ALLOW', toml: 'metrics_allow', parse: addressList },
  {
    key: 'anyUserMayCreateProjects',
    env: 'PIER_ANY_USER_MAY_CREATE_PROJECTS',
    toml: 'any_user_may_create_projects',
    parse: bool,
  },
  {
    key: 'maxPendingPublishers',
    env: 'PIER_MAX_PENDING_PUBLISHERS',
    toml: 'max_pending_publishers',
    parse: positiveInt,
  },
  {
    key: 'publisherRegistrationsPerDay',
    env: 'PIER_PUBLISHER_REGISTRATIONS_PER_DAY',
    toml: 'publisher_registrations_per_day',
    parse: positiveInt,
  },
  {
    key: 'requireTwoFactorForAdmins',
    env: 'PIER_REQUIRE_2FA_FOR_ADMINS',
    toml: 'require_2fa_for_admins',
    parse: bool,
  },
  {
    key: 'basicPasswordReads',
    env: 'PIER_BASIC_PASSWORD_READS',
    toml: 'basic_password_reads',
    parse: bool,
  },
  { key: 'actionRef', env: 'PIER_ACTION_REF', toml: 'action_ref', parse: actionRef },
  { key: 'helpUrl', env: 'PIER_HELP_URL', toml: 'help_url', parse: helpUrl },
  { key: 'logLevel', env: 'PIER_LOG_LEVEL', toml: 'log_level', parse: str },
  {
    key: 'sigstoreTrustedRoot',
    env: 'PIER_SIGSTORE_TRUSTED_ROOT',
    toml: 'sigstore_trusted_root',
    parse: str,
  },
  { key: 'upstreamUrl', env: 'PIER_UPSTREAM_URL', toml: 'upstream_url', parse: upstreamUrl },
  {
    key: 'upstreamUsername',
    env: 'PIER_UPSTREAM_USERNAME',
    toml: 'upstream_username',
    parse: str,
  },
  {
    key: 'upstreamPassword',
    env: 'PIER_UPSTREAM_PASSWORD',
    toml: 'upstream_password',
    parse: str,
  },
  { key: 'upstreamCa', env: 'PIER_UPSTREAM_CA', toml: 'upstream_ca', parse: str },
  { key: 'upstreamExclude', env: 'PIER_UPSTREAM_EXCLUDE', toml: 'upstream_exclude', parse: list },
  { key: 'upstreamAllow', env: 'PIER_UPSTREAM_ALLOW', toml: 'upstream_allow', parse: list },
  {
    key: 'upstreamMinAge',
    env: 'PIER_UPSTREAM_MIN_AGE',
    toml: 'upstream_min_age',
    parse: nonNegativeDays,
  },
  { key: 'upstreamOffline', env: 'PIER_UPSTREAM_OFFLINE', toml: 'upstream_offline', parse: bool },
  {
    key: 'upstreamTimeout',
    env: 'PIER_UPSTREAM_TIMEOUT',
    toml: 'upstream_timeout',
    parse: parseDuration,
  },
  {
    key: 'upstreamMaxPageSize',
    env: 'PIER_UPSTREAM_MAX_PAGE_SIZE',
    toml: 'upstream_max_page_size',
    parse: parseSize,
  },
  { key: 'workers', env: 'PIER_WORKERS', toml: 'workers', parse: workers },
  { key: 'passwordSignIn', env: 'PIER_PASSWORD_SIGN_IN', toml: 'password_sign_in', parse: bool },
];

/** pier.toml tables read apart from SETTINGS (their contents are checked by their own parser). */
const TABLES = ['sso'];

/** The option names a command line may set, mapped to config keys (commander camelCases them). */
export const FLAG_NAMES: Partial<Record<keyof Config, string>> = {
  dataDir: '--data-dir <dir>',
  host: '--host <host>',
  port: '--port <port>',
  publicUrl: '--public-url <url>',
  databaseUrl: '--database-url <url>',
  storageUrl: '--storage-url <url>',
  readAccess: '--read-access <public|authenticated>',
  maxUploadSize: '--max-upload-size <size>',
  upstreamUrl: '--upstream-url <url>',
  workers: '--workers <n>',
};

export interface LoadOptions {
  flags?: Partial<Record<keyof Config, unknown>> & { config?: string };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const tomlPath = flags.config ?? env.PIER_CONFIG ?? join(cwd, 'pier.toml');
  let toml: Record<string, unknown> = {};
  if (flags.config !== undefined || env.PIER_CONFIG !== undefined || existsSync(tomlPath)) {
    try {
      toml = parseToml(readFileSync(tomlPath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`${tomlPath}: ${(err as Error).message}`);
    }
    const known = new Set([...SETTINGS.map((s) => s.toml), ...TABLES]);
    for (const key of Object.keys(toml))
      if (!known.has(key)) throw new ConfigError(`${tomlPath}: unknown setting '${key}'`);
  }
  const values: Partial<Record<keyof Config, unknown>> = {};
  for (const s of SETTINGS) {
    const flag = flags[s.key];
    if (flag !== undefined && flag !== null) values[s.key] = s.parse(flag, `--${kebab(s.key)}`);
    else if (env[s.env] !== undefined && env[s.env] !== '')
      values[s.key] = s.parse(env[s.env], s.env);
    else if (toml[s.toml] !== undefined)
      values[s.key] = s.parse(toml[s.toml], `${tomlPath}: ${s.toml}`);
  }
  const dataDir = resolve(cwd, (values.dataDir as string | undefined) ?? './pier-data');
  const config: Config = {
    dataDir,
    host: (values.host as string | undefined) ?? '127.0.0.1',
    port: (values.port as number | undefined) ?? 8080,
    publicUrl: (values.publicUrl as string | undefined) ?? null,
    tlsCert: (values.tlsCert as string | undefined) ?? null,
    tlsKey: (values.tlsKey as string | undefined) ?? null,
    databaseUrl:
      (values.databaseUrl as string | undefined) ?? `sqlite://${join(dataDir, 'pier.sqlite3')}`,
    storageUrl: (values.storageUrl as string | undefined) ?? `file://${join(dataDir, 'files')}`,
    oidcAudience: (values.oidcAudience as string | undefined) ?? null,
    readAccess: (values.readAccess as ReadAccess | undefined) ?? 'public',
    maxUploadSize: (values.maxUploadSize as number | undefined) ?? 100 * MiB,
    tokenTtl: (values.tokenTtl as number | undefined) ?? 900,
    stagedTtl: (values.stagedTtl as number | undefined) ?? 7 * 86400,
    trustedProxies: (values.trustedProxies as string[] | undefined) ?? [],
    metricsAllow: (values.metricsAllow as string[] | undefined) ?? [],
    anyUserMayCreateProjects: (values.anyUserMayCreateProjects as boolean | undefined) ?? false,
    maxPendingPublishers: (values.maxPendingPublishers as number | undefined) ?? 3,
    publisherRegistrationsPerDay:
      (values.publisherRegistrationsPerDay as number | undefined) ?? 100,
    requireTwoFactorForAdmins: (values.requireTwoFactorForAdmins as boolean | undefined) ?? false,
    basicPasswordReads: (values.basicPasswordReads as boolean | undefined) ?? false,
    actionRef: (values.actionRef as string | undefined) ?? null,
    helpUrl: (values.helpUrl as string | undefined) ?? null,
    logLevel: (values.logLevel as string | undefined) ?? 'info',
    upstreamUrl: null,
    upstreamUsername: (values.upstreamUsername as string | undefined) ?? null,
    upstreamPassword: (values.upstreamPassword as string | undefined) ?? null,
    upstreamCa: (values.upstreamCa as string | undefined) ?? null,
    sigstoreTrustedRoot: (values.sigstoreTrustedRoot as string | undefined) ?? null,
    upstreamExclude: (values.upstreamExclude as string[] | undefined) ?? [],
    upstreamAllow: (values.upstreamAllow as string[] | undefined) ?? [],
    upstreamMinAge: (values.upstreamMinAge as number | undefined) ?? 0,
    upstreamOffline: (values.upstreamOffline as boolean | undefined) ?? false,
    upstreamTimeout: (values.upstreamTimeout as number | undefined) ?? 10,
    upstreamMaxPageSize: (values.upstreamMaxPageSize as number | undefined) ?? 32 * MiB,
    workers: (values.workers as number | undefined) ?? null,
    passwordSignIn: (values.passwordSignIn as boolean | undefined) ?? true,
    ssoProviders: [],
  };
  try {
    config.ssoProviders = parseSsoProviders(toml.sso, env, `${tomlPath}: `);
  } catch (err) {
    if (err instanceof SsoConfigError) throw new ConfigError(err.message);
    throw err;
  }
  if (!config.passwordSignIn && config.ssoProviders.length === 0)
    throw new ConfigError(
      'password_sign_in = false needs at least one [sso.NAME] provider: nobody could sign in to the web interface',
    );
  // Credentials in the URL's userinfo are taken out of it, so the URL can be logged and shown.
  const upstream = values.upstreamUrl as string | undefined;
  if (upstream) {
    const url = new URL(upstream);
    if (url.username || url.password) {
      config.upstreamUsername ??= decodeURIComponent(url.username);
      config.upstreamPassword ??= decodeURIComponent(url.password);
      url.username = '';
      url.password = '';
    }
    config.upstreamUrl = url.href;
  }
  if (config.upstreamPassword !== null && config.upstreamUsername === null)
    throw new ConfigError('PIER_UPSTREAM_PASSWORD needs PIER_UPSTREAM_USERNAME');
  if ((config.tlsCert === null) !== (config.tlsKey === null))
    throw new ConfigError('PIER_TLS_CERT and PIER_TLS_KEY must be given together');
  return config;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The public URL: the configured one, else derived from the address the server listens on. */
export function effectivePublicUrl(
  config: Config,
  listening?: { host: string; port: number },
): string {
  if (config.publicUrl) return config.publicUrl;
  const scheme = config.tlsCert ? 'https' : 'http';
  let host = listening?.host ?? config.host;
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  if (host.includes(':')) host = `[${host}]`;
  return `${scheme}://${host}:${listening?.port ?? config.port}`;
}
