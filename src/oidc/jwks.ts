// Each issuer's signing keys: found through its discovery document (whose `issuer` must equal
// the registered URL exactly) and its `jwks_uri`, cached, and refreshed when a token names a key
// we do not have — at most once a minute per issuer, so a flood of bad tokens cannot make pier
// hammer the issuer. A failed refresh keeps the keys we had.
import { importJWK, type JWK } from 'jose';
import type { Issuer } from './issuers.js';

export const REFRESH_INTERVAL_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;

export class KeyNotFoundError extends Error {}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

interface IssuerKeys {
  jwks: Map<string, JWK>;
  imported: Map<string, VerifyKey>;
  lastAttempt: number;
  refreshing: Promise<void> | null;
  lastError: string | null;
}

export type FetchLike = (
  url: string,
  init?: { signal?: AbortSignal; headers?: Record<string, string> },
) => Promise<Response>;

export class JwksCache {
  private readonly issuers = new Map<string, IssuerKeys>();

  constructor(
    private readonly fetchImpl: FetchLike = (url, init) => fetch(url, init),
    private readonly now: () => number = Date.now,
  ) {}

  private entry(url: string): IssuerKeys {
    let e = this.issuers.get(url);
    if (!e) {
      e = {
        jwks: new Map(),
        imported: new Map(),
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
    if (!jwk)
      throw new KeyNotFoundError(
        `the issuer's key set has no key '${kid}'` +
          (e.lastError ? ` (fetching it failed: ${e.lastError})` : ''),
      );
    if (jwk.alg !== undefined && jwk.alg !== alg)
      throw new KeyNotFoundError(`key '${kid}' is for ${jwk.alg}, but the token says ${alg}`);
    const cacheKey = `${kid}\0${alg}`;
    let key = e.imported.get(cacheKey);
    if (!key) {
      key = await importJWK({ ...jwk, alg }, alg);
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
        }
        e.lastError = null;
      } catch (err) {
        e.lastError = (err as Error).message;
      } finally {
        e.refreshing = null;
      }
    })();
    return e.refreshing;
  }

  private async getJson(url: string): Promise<unknown> {
    const res = await this.fetchImpl(url, {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      headers: { accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return res.json();
  }

  private async fetchKeys(issuer: Issuer): Promise<Map<string, JWK>> {
    const discovery = (await this.getJson(`${issuer.url}/.well-known/openid-configuration`)) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    if (discovery.issuer !== issuer.url)
      throw new Error(
        `the discovery document names issuer ${JSON.stringify(discovery.issuer)}, not ${issuer.url}`,
      );
    if (typeof discovery.jwks_uri !== 'string')
      throw new Error('the discovery document has no jwks_uri');
    const jwksUrl = new URL(discovery.jwks_uri);
    if (jwksUrl.protocol !== 'https:' && !(issuer.insecure && jwksUrl.protocol === 'http:'))
      throw new Error(`the jwks_uri ${discovery.jwks_uri} is not HTTPS`);
    const doc = (await this.getJson(jwksUrl.href)) as { keys?: unknown };
    if (!Array.isArray(doc.keys)) throw new Error('the key set has no keys');
    const keys = new Map<string, JWK>();
    for (const k of doc.keys as JWK[])
      if (typeof k?.kid === 'string' && (k.use === undefined || k.use === 'sig'))
        keys.set(k.kid, k);
    return keys;
  }
}
