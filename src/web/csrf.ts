// Cross-site request forgery: every POST of the web interface carries `_csrf`, which must equal
// the CSRF token of the browser that sends it, or the request is refused with 403 before its
// handler runs (so nothing changes). A signed-in browser's token belongs to its session (stored
// with it); before sign-in, the token is a random value in a cookie of its own (the
// double-submit pattern: another site can neither read nor set it), which protects the sign-in
// form against login CSRF. Cookies are SameSite=Lax besides.
//
// On plain HTTP a cookie has no `__Host-` prefix, so a sibling host (evil.example.com next to
// pypi.example.com) can plant a `pier_csrf` cookie for the parent domain whose value it knows,
// and post a form carrying it: the double submit would pass. SameSite does not help (siblings are
// the same site). So a POST must also come from the index's own origin: a browser tells where a
// form was submitted from (`Sec-Fetch-Site`, and `Origin`), and a form of a sibling host is
// refused whatever cookie it brought. Requests that carry neither header come from no browser.
import { timingSafeEqual } from 'node:crypto';

export const CSRF_FIELD = '_csrf';

export const CSRF_FAILURE =
  'The form could not be accepted: its security token is missing or out of date (CSRF check). Reload the page and try again.';

/** Whether `given` is exactly `expected`, compared in constant time. */
export function csrfMatches(expected: string | null | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || expected.length < 32) return false;
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface PostOrigin {
  /** The `Sec-Fetch-Site` header: same-origin, same-site, cross-site or none. */
  secFetchSite: string | undefined;
  /** The `Origin` header. */
  origin: string | undefined;
}

/** Whether a POST was submitted from `indexOrigin` (the public URL's origin) itself. */
export function postFromIndexOrigin(headers: PostOrigin, indexOrigin: string): boolean {
  const site = headers.secFetchSite?.trim().toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  if (headers.origin === undefined) return true;
  return headers.origin.trim().toLowerCase() === indexOrigin.toLowerCase();
}

/** The token a form body carries, or undefined. */
export function csrfOfBody(body: unknown): unknown {
  if (body === null || typeof body !== 'object') return undefined;
  return (body as Record<string, unknown>)[CSRF_FIELD];
}
