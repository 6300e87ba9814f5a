// Looking up a GitHub-style owner's numeric id at registration (reference §6): the id is part
// of the trust rule, so a deleted and re-created account of the same name cannot take over.
// github.com uses api.github.com; GitHub Enterprise Server (`https://HOST/_services/token`)
// uses https://HOST/api/v3; other issuers say where their API is (`pier issuer add --api-url`).
// The request, its limits and its messages are ./api-lookup.ts's, shared with Forgejo's lookup.
import { apiId, apiLookup } from './api-lookup.js';
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
  const hint = "give the owner's numeric id";
  if (!base) return { ok: false, message: `pier does not know the API of ${issuer.url}; ${hint}` };
  const answer = await apiLookup(
    {
      base,
      path: `/users/${encodeURIComponent(owner)}`,
      subject: `'${owner}'`,
      hint,
      notFound: `Unknown user or organization '${owner}' at ${base}.`,
      headers: { accept: 'application/vnd.github.v3+json' },
    },
    fetchImpl,
  );
  if (!answer.ok) return answer;
  const body = answer.body as { id?: unknown; login?: unknown } | null;
  const id = body && typeof body === 'object' ? apiId(body.id, true) : null;
  if (id === null || typeof body?.login !== 'string')
    return { ok: false, message: `${base} gave an unexpected answer for '${owner}'; ${hint}` };
  return { ok: true, login: body.login, id };
}
