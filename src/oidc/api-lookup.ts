// One GET of a CI platform's REST API at registration, for the immutable ids a publisher pins
// (GitHub's owner id: ./owner-lookup.ts; Forgejo's repository and owner ids: ./forgejo-lookup.ts),
// with the same limits and the same messages for every platform. The answer comes from a server
// pier does not control: the whole exchange (headers and body) has 5 seconds, the body at most
// 1 MiB, and anything else than a JSON document is an unexpected answer. Every failure ends with
// what to do instead (`hint`: give the ids yourself), and changes nothing.

/** Headers and body, together. */
export const API_LOOKUP_TIMEOUT_MS = 5000;
/** A lookup answer is a few kilobytes; a larger one is not read further. */
export const API_LOOKUP_MAX_BYTES = 1024 * 1024;

export interface ApiLookupRequest {
  /** The API root, for messages: `https://api.github.com`. */
  base: string;
  /** The resource under it: `/users/octo-org`. */
  path: string;
  /** What is looked up, for messages: `'octo-org'`. */
  subject: string;
  /** What to do instead, the end of every message: `give the owner's numeric id`. */
  hint: string;
  /** The whole message when the API answers 404. */
  notFound: string;
  headers?: Record<string, string>;
}

export type ApiLookupAnswer = { ok: true; body: unknown } | { ok: false; message: string };

/** Reads at most `max` bytes of a body; null when it is larger. */
async function boundedText(res: Response, max: number): Promise<string | null> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** GETs `base + path` and parses its JSON, or says why not (and what to do instead). */
export async function apiLookup(
  request: ApiLookupRequest,
  fetchImpl: typeof fetch = fetch,
): Promise<ApiLookupAnswer> {
  const { base, subject, hint } = request;
  const unexpected = {
    ok: false as const,
    message: `${base} gave an unexpected answer for ${subject}; ${hint}`,
  };
  const signal = AbortSignal.timeout(API_LOOKUP_TIMEOUT_MS);
  let res: Response;
  let text: string | null;
  try {
    res = await fetchImpl(`${base}${request.path}`, {
      headers: { 'user-agent': 'pier', ...request.headers },
      signal,
    });
    if (res.status === 404) return { ok: false, message: request.notFound };
    if (res.status === 403 || res.status === 429)
      return {
        ok: false,
        message: `${base} rate-limited the lookup of ${subject}; try again later or ${hint}`,
      };
    if (!res.ok)
      return { ok: false, message: `${base} answered ${res.status} for ${subject}; ${hint}` };
    text = await boundedText(res, API_LOOKUP_MAX_BYTES);
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError' || signal.aborted;
    return {
      ok: false,
      message: timedOut
        ? `Timed out looking up ${subject} at ${base}; ${hint}`
        : `Could not reach ${base} to look up ${subject}; ${hint}`,
    };
  }
  if (text === null) return unexpected;
  try {
    return { ok: true, body: JSON.parse(text) as unknown };
  } catch {
    return unexpected;
  }
}

/** Whether an API answer's id is a positive integer (JSON number, or its decimal string). */
export function apiId(value: unknown, allowString: boolean): string | null {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value > 0 ? String(value) : null;
  if (allowString && typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value)) return value;
  return null;
}
