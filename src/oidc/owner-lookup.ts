// Looking up a GitHub-style owner's numeric id at registration (reference §6): the id is part
// of the trust rule, so a deleted and re-created account of the same name cannot take over.
// github.com uses api.github.com; GitHub Enterprise Server (`https://HOST/_services/token`)
// uses https://HOST/api/v3; other issuers say where their API is (`pier issuer add --api-url`).
import type { Issuer } from './issuers.js';

export type OwnerLookup = { ok: true; login: string; id: string } | { ok: false; message: string };

export function ownerApiBase(issuer: Issuer): string | null {
  if (issuer.apiUrl) return issuer.apiUrl;
  const url = new URL(issuer.url);
  if (url.hostname === 'token.actions.githubusercontent.com') return 'https://api.github.com';
  if (url.pathname === '/_services/token') return `${url.origin}/api/v3`;
  return null;
}

export async function lookupOwner(
  issuer: Issuer,
  owner: string,
  fetchImpl: typeof fetch = fetch,
): Promise<OwnerLookup> {
  const base = ownerApiBase(issuer);
  if (!base)
    return {
      ok: false,
      message: `pier does not know the API of ${issuer.url}; give the owner's numeric id`,
    };
  let res: Response;
  try {
    res = await fetchImpl(`${base}/users/${encodeURIComponent(owner)}`, {
      headers: { accept: 'application/vnd.github.v3+json', 'user-agent': 'pier' },
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    return {
      ok: false,
      message: timedOut
        ? `Timed out looking up '${owner}' at ${base}; give the owner's numeric id`
        : `Could not reach ${base} to look up '${owner}'; give the owner's numeric id`,
    };
  }
  if (res.status === 404)
    return { ok: false, message: `Unknown user or organization '${owner}' at ${base}.` };
  if (res.status === 403 || res.status === 429)
    return {
      ok: false,
      message: `${base} rate-limited the lookup of '${owner}'; try again later or give the owner's numeric id`,
    };
  if (!res.ok)
    return {
      ok: false,
      message: `${base} answered ${res.status} for '${owner}'; give the owner's numeric id`,
    };
  const body = (await res.json().catch(() => null)) as { id?: unknown; login?: unknown } | null;
  if (
    !body ||
    (typeof body.id !== 'number' && typeof body.id !== 'string') ||
    typeof body.login !== 'string'
  )
    return {
      ok: false,
      message: `${base} gave an unexpected answer for '${owner}'; give the owner's numeric id`,
    };
  return { ok: true, login: body.login, id: String(body.id) };
}
