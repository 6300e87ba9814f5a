// Company sign-in providers (OpenID Connect), as an administrator configures them in pier.toml:
//
//   [sso.corp]                         # the provider's name: /login/sso/corp/callback
//   issuer = "https://idp.example.com" # exact string, compared with the discovery document
//   client_id = "pier"
//   # client_secret from PIER_SSO_CORP_CLIENT_SECRET, client_secret_file, or client_secret
//
// A pure function over the parsed table (and the environment, for secrets): a mistake in it is a
// ConfigError naming the field, found when pier starts rather than at the first sign-in.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { inspect } from 'node:util';

export class SsoConfigError extends Error {}

/** A client secret: never printed (inspect, JSON and string conversion show a placeholder). */
export class ClientSecret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[client secret]';
  }
  toJSON(): string {
    return '[client secret]';
  }
  [inspect.custom](): string {
    return '[client secret]';
  }
}

export interface SsoProviderConfig {
  /** Stable identifier, in URLs: lowercase letters, digits and '-'. */
  name: string;
  /** What the sign-in button says. */
  displayName: string;
  /** The issuer identifier, exactly as the provider's discovery document states it. */
  issuer: string;
  clientId: string;
  /** Null for a public client (PKCE alone). */
  clientSecret: ClientSecret | null;
  scopes: string[];
  /** The ID token claim that names the pier user created on first sign-in. */
  usernameClaim: string;
  /** The ID token claim that carries the user's groups (a list of strings). */
  groupsClaim: string;
  /** When non-empty, a user must be in one of these groups to sign in. */
  allowedGroups: string[];
  /** Whether a first sign-in creates the pier user (otherwise an administrator links it). */
  createUsers: boolean;
  /** How long a web session started through this provider lasts, in seconds. */
  sessionMaxAge: number;
  /** Plain HTTP to a literal loopback issuer (development and tests only). */
  insecure: boolean;
}

export const SSO_NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const DEFAULT_SCOPES = ['openid', 'profile', 'email'];
/** An hour: a user removed at the provider keeps a pier session at most this long. */
export const DEFAULT_SSO_SESSION_MAX_AGE = 3600;

const FIELDS = new Set([
  'display_name',
  'issuer',
  'client_id',
  'client_secret',
  'client_secret_file',
  'scopes',
  'username_claim',
  'groups_claim',
  'allowed_groups',
  'create_users',
  'session_max_age',
  'insecure',
]);

/** The environment variable that holds a provider's client secret. */
export function secretEnvName(name: string): string {
  return `PIER_SSO_${name.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.trim() === '')
    throw new SsoConfigError(`${where}: expected a non-empty string`);
  return v.trim();
}

function strings(v: unknown, where: string): string[] {
  const items = typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v;
  if (!Array.isArray(items) || !items.every((s) => typeof s === 'string' && s.trim() !== ''))
    throw new SsoConfigError(`${where}: expected a list of strings`);
  return items.map((s: string) => s.trim());
}

function boolean(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new SsoConfigError(`${where}: expected true or false`);
  return v;
}

function seconds(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+)\s*(s|m|h|d)?\s*$/i.exec(v) : null;
  const n = m
    ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's').toLowerCase() as 's']
    : 0;
  if (!(n > 0))
    throw new SsoConfigError(
      `${where}: expected a duration such as 3600, 30m or 8h, got ${JSON.stringify(v)}`,
    );
  return n;
}

/** An issuer URL: HTTPS, or plain HTTP to a literal loopback address with `insecure`. */
export function issuerProblem(issuer: string, insecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return `not a URL: ${issuer}`;
  }
  if (url.search || url.hash) return 'the issuer cannot have a query or fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return `expected an https URL, got ${url.protocol}`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (!loopback) return 'plain HTTP is only allowed for a literal loopback address';
  if (!insecure) return 'plain HTTP needs insecure = true (development and tests only)';
  return null;
}

function provider(
  name: string,
  table: unknown,
  env: NodeJS.ProcessEnv,
  where: string,
): SsoProviderConfig {
  const at = `${where}[sso.${name}]`;
  if (!SSO_NAME_RE.test(name))
    throw new SsoConfigError(
      `${at}: a provider name is 1 to 32 lowercase letters, digits or '-' (it appears in URLs)`,
    );
  if (typeof table !== 'object' || table === null || Array.isArray(table))
    throw new SsoConfigError(`${at}: expected a table`);
  const t = table as Record<string, unknown>;
  for (const key of Object.keys(t))
    if (!FIELDS.has(key)) throw new SsoConfigError(`${at}: unknown setting '${key}'`);
  const insecure = t.insecure === undefined ? false : boolean(t.insecure, `${at} insecure`);
  const issuer = text(t.issuer, `${at} issuer`);
  const problem = issuerProblem(issuer, insecure);
  if (problem) throw new SsoConfigError(`${at} issuer: ${problem}`);
  const fromEnv = env[secretEnvName(name)];
  let secret: string | null = null;
  const given = [fromEnv ? 'env' : null, t.client_secret, t.client_secret_file].filter(
    (v) => v !== undefined && v !== null,
  );
  if (given.length > 1)
    throw new SsoConfigError(
      `${at}: give the client secret once (${secretEnvName(name)}, client_secret or client_secret_file)`,
    );
  if (fromEnv) secret = fromEnv;
  else if (t.client_secret !== undefined) secret = text(t.client_secret, `${at} client_secret`);
  else if (t.client_secret_file !== undefined) {
    const file = text(t.client_secret_file, `${at} client_secret_file`);
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new SsoConfigError(
        `${at} client_secret_file: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file}`,
      );
    }
    if (!secret) throw new SsoConfigError(`${at} client_secret_file: the file is empty`);
  }
  const scopes = t.scopes === undefined ? DEFAULT_SCOPES : strings(t.scopes, `${at} scopes`);
  if (!scopes.includes('openid'))
    throw new SsoConfigError(`${at} scopes: must include 'openid', got ${scopes.join(' ')}`);
  return {
    name,
    displayName: t.display_name === undefined ? name : text(t.display_name, `${at} display_name`),
    issuer,
    clientId: text(t.client_id, `${at} client_id`),
    clientSecret: secret === null ? null : new ClientSecret(secret),
    scopes,
    usernameClaim:
      t.username_claim === undefined
        ? 'preferred_username'
        : text(t.username_claim, `${at} username_claim`),
    groupsClaim:
      t.groups_claim === undefined ? 'groups' : text(t.groups_claim, `${at} groups_claim`),
    allowedGroups:
      t.allowed_groups === undefined ? [] : strings(t.allowed_groups, `${at} allowed_groups`),
    createUsers:
      t.create_users === undefined ? true : boolean(t.create_users, `${at} create_users`),
    sessionMaxAge:
      t.session_max_age === undefined
        ? DEFAULT_SSO_SESSION_MAX_AGE
        : seconds(t.session_max_age, `${at} session_max_age`),
    insecure,
  };
}

/** The providers of pier.toml's `[sso.*]` tables, in the file's order. */
export function parseSsoProviders(
  value: unknown,
  env: NodeJS.ProcessEnv,
  where = '',
): SsoProviderConfig[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SsoConfigError(`${where}sso: expected tables such as [sso.corp]`);
  return Object.entries(value as Record<string, unknown>).map(([name, table]) =>
    provider(name, table, env, where),
  );
}
