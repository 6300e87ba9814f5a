// Each issuer's signing keys: found through its discovery document (whose `issuer` must equal
// the registered URL exactly) and its `jwks_uri`, cached, and refreshed when a token names a key
// we do not have — at most once a minute per issuer, so a flood of bad tokens cannot make pier
// hammer the issuer. A failed refresh keeps the keys we had. The requests follow the rules of
// key-fetch.ts; why one failed goes to the operator's log, never to whoever posted the token.
import { importJWK, type JWK } from 'jose';
import type { Issuer } from './issuers.js';
import {
  KeyFetchError,
  fetchKeyDocument,
  keyUrlProblem,
  logLine,
  logQuote,
  type KeyFetchOptions,
} from './key-fetch.js';

export const REFRESH_INTERVAL_MS = 60_000;

/** A key the token names is not there (or not for its algorithm); the message is for the caller. */
export class KeyNotFoundError extends Error {}

/** The issuer's keys could not be had; the caller learns only that, the operator's log why. */
export class KeysUnavailableError extends Error {}

/** What the operator's log gets when an issuer's keys cannot be fetched or used. */
export interface KeyProblem {
  issuer: string;
  problem: string;
}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

interface IssuerKeys {
  jwks: Map<string, JWK>;
  imported: Map<string, VerifyKey>;
  /** Keys that failed to import, by kid and algorithm (logged once). */
  unusable: Set<string>;
  lastAttempt: number;
  refreshing: Promise<void> | null;
  lastError: string | null;
}

export interface JwksCacheOptions extends KeyFetchOptions {
  now?: () => number;
  /** Where the detail of a failed fetch goes (the server's log). */
  log?: (problem: KeyProblem) => void;
}

/** An RSA key shorter than 2048 bits (RFC 7518 §3.3), which no signature may be verified with. */
function weakKeyProblem(jwk: JWK): string | null {
  if (jwk.kty !== 'RSA') return null;
  const bits = Buffer.from(typeof jwk.n === 'string' ? jwk.n : '', 'base64url').length * 8;
  return bits < 2048 ? `an RSA modulus of ${bits} bits, less than 2048` : null;
}

export class JwksCache {
  private readonly issuers = new Map<string, IssuerKeys>();

  private readonly now: () => number;
  private log: (problem: KeyProblem) => void;

  constructor(private readonly options: JwksCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
  }

  /** Sends the detail of failed fetches to `log` (the HTTP server's logger, once it exists). */
  setLog(log: (problem: KeyProblem) => void): void {
    this.log = log;
  }

  private entry(url: string): IssuerKeys {
    let e = this.issuers.get(url);
    if (!e) {
      e = {
        jwks: new Map(),
        imported: new Map(),
        unusable: new Set(),
        lastAttempt: -Infinity,
        refreshing: null,
        lastError: null,
      };
      this.issuers.set(url, e);
    }
    return e;
  }

  /** The key `kid` of `issuer` for `alg`, fetching the issuer's keys if we don't have it. */
  async key(issuer: Issuer, kid: string, alg: string): Promise<VerifyKey> {
    const e = this.entry(issuer.url);
    if (!e.jwks.has(kid)) await this.refresh(issuer, e);
    const jwk = e.jwks.get(kid);
    if (!jwk) {
      if (e.lastError !== null)
        throw new KeysUnavailableError(
          "the issuer's signing keys could not be fetched (the index's log says why)",
        );
      throw new KeyNotFoundError(`the issuer's key set has no key '${kid}'`);
    }
    if (jwk.alg !== undefined && jwk.alg !== alg)
      throw new KeyNotFoundError(`the issuer's key '${kid}' is not for ${alg}`);
    const cacheKey = `${kid}\0${alg}`;
    let key = e.imported.get(cacheKey);
    if (!key) {
      if (e.unusable.has(cacheKey))
        throw new KeysUnavailableError(`the issuer's key '${kid}' is unusable`);
      try {
        const weak = weakKeyProblem(jwk);
        if (weak) throw new Error(weak);
        key = await importJWK({ ...jwk, alg }, alg);
      } catch (err) {
        e.unusable.add(cacheKey);
        this.log({
          issuer: issuer.url,
          problem: `key ${logQuote(kid)} cannot be used for ${alg}: ${(err as Error).message}`,
        });
        throw new KeysUnavailableError(`the issuer's key '${kid}' is unusable`);
      }
      e.imported.set(cacheKey, key);
    }
    return key;
  }

  private async refresh(issuer: Issuer, e: IssuerKeys): Promise<void> {
    if (e.refreshing) return e.refreshing;
    if (this.now() - e.lastAttempt < REFRESH_INTERVAL_MS) return;
    e.lastAttempt = this.now();
    e.refreshing = (async () => {
      try {
        const keys = await this.fetchKeys(issuer);
        if (keys.size > 0) {
          e.jwks = keys;
          e.imported.clear();
          e.unusable.clear();
        }
        e.lastError = null;
      } catch (err) {
        e.lastError = err instanceof KeyFetchError ? err.message : String(err);
        this.log({ issuer: issuer.url, problem: logLine(e.lastError) });
      } finally {
        e.refreshing = null;
      }
    })();
    return e.refreshing;
  }

  /**
   * Checks, once and without caching, that `issuer`'s discovery document and key set can be
   * read under the same rules as at verification: the one-line warning when they cannot (an
   * issuer may be unreachable from here at registration time, so this never refuses), or null.
   */
  async probe(issuer: Issuer): Promise<string | null> {
    let problem: string;
    try {
      const keys = await this.fetchKeys(issuer);
      if (keys.size > 0) return null;
      problem = 'its key set has no signing keys';
    } catch (err) {
      problem = logLine(err instanceof KeyFetchError ? err.message : String(err));
    }
    return `could not check ${issuer.url}'s discovery document (${problem}); its tokens cannot be verified until it can be`;
  }

  private getJson(url: string, issuer: Issuer): Promise<unknown> {
    return fetchKeyDocument(url, issuer.insecure, this.options);
  }

  private async fetchKeys(issuer: Issuer): Promise<Map<string, JWK>> {
    const discoveryUrl = `${issuer.url}/.well-known/openid-configuration`;
    const discovery = (await this.getJson(discoveryUrl, issuer)) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    } | null;
    if (typeof discovery !== 'object' || discovery === null || Array.isArray(discovery))
      throw new KeyFetchError(`${discoveryUrl} is not a JSON object`);
    if (discovery.issuer !== issuer.url)
      throw new KeyFetchError(
        `the discovery document names issuer ${logQuote(discovery.issuer)}, not ${issuer.url}`,
      );
    if (typeof discovery.jwks_uri !== 'string')
      throw new KeyFetchError('the discovery document has no jwks_uri');
    let jwksUrl: URL;
    try {
      jwksUrl = new URL(discovery.jwks_uri);
    } catch {
      throw new KeyFetchError(`the jwks_uri ${logQuote(discovery.jwks_uri)} is not a URL`);
    }
    const problem = keyUrlProblem(jwksUrl, issuer.insecure);
    if (problem) throw new KeyFetchError(`the jwks_uri is refused: ${problem}`);
    const doc = (await this.getJson(jwksUrl.href, issuer)) as { keys?: unknown } | null;
    if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.keys))
      throw new KeyFetchError(`${jwksUrl.href} has no keys`);
    const keys = new Map<string, JWK>();
    for (const k of doc.keys as JWK[])
      if (typeof k?.kid === 'string' && (k.use === undefined || k.use === 'sig'))
        keys.set(k.kid, k);
    return keys;
  }
}
