// Fetching an issuer's discovery document and key set: the only requests pier makes on behalf of
// whoever posts a token, so they are bounded. HTTPS (plain HTTP only for a loopback issuer
// registered with --insecure), certificates verified; a redirect is followed only within the same
// origin (never to another host, port or scheme, so never from HTTPS to plain HTTP), at most
// three times; the answer must be 200, at most 1 MiB, and JSON; all of it within 5 seconds.
// Failures are KeyFetchError, whose message is for the operator's log, never for the caller.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isLoopbackLiteral } from './issuers.js';

/** The largest discovery document or key set pier reads. Real ones are a few KiB. */
export const MAX_KEY_DOCUMENT_BYTES = 1024 * 1024;
export const MAX_KEY_REDIRECTS = 3;
export const KEY_FETCH_TIMEOUT_MS = 5_000;

export class KeyFetchError extends Error {}

export interface KeyFetchOptions {
  /** Extra certificate authorities to trust (PEM), besides Node's and NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer;
  timeoutMs?: number;
  maxBytes?: number;
}

/** Why `url` may not serve an issuer's keys or discovery document, or null. */
export function keyUrlProblem(url: URL, insecureIssuer: boolean): string | null {
  if (url.username || url.password) return `${url.origin} carries credentials`;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && insecureIssuer && isLoopbackLiteral(url.hostname)) return null;
  return `${url.origin} is not HTTPS`;
}

/** Why a redirect from `from` to `location` is not followed, or null (same origin only). */
export function redirectProblem(from: URL, location: string | undefined): string | null {
  if (!location) return `${from.href} redirected without a Location`;
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    return `${from.href} redirected to an invalid URL`;
  }
  if (to.origin !== from.origin)
    return `${from.href} redirected to another origin (${to.protocol}//${to.host}); only redirects within ${from.origin} are followed`;
  return null;
}

/** A value quoted for a log line, cut short: fetched text can be anything and very long. */
export function logQuote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** A problem cut to a log line's size: it can carry a URL taken from a fetched document. */
export function logLine(problem: string): string {
  return problem.length > 500 ? `${problem.slice(0, 500)}…` : problem;
}

function get(url: URL, options: KeyFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const init = { method: 'GET', headers: { accept: 'application/json' }, signal };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, options.ca ? { ...init, ca: options.ca } : init, resolve)
        : httpRequest(url, init, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readBounded(res: IncomingMessage, url: URL, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw new KeyFetchError(`${url.href} sent ${declared} bytes, more than ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      res.destroy();
      throw new KeyFetchError(`${url.href} sent more than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** GET `href` as JSON under the rules above. */
export async function fetchKeyDocument(
  href: string,
  insecureIssuer: boolean,
  options: KeyFetchOptions = {},
): Promise<unknown> {
  const maxBytes = options.maxBytes ?? MAX_KEY_DOCUMENT_BYTES;
  const signal = AbortSignal.timeout(options.timeoutMs ?? KEY_FETCH_TIMEOUT_MS);
  let url = new URL(href);
  try {
    for (let redirects = 0; ; redirects++) {
      const problem = keyUrlProblem(url, insecureIssuer);
      if (problem) throw new KeyFetchError(problem);
      const res = await get(url, options, signal);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        const location = res.headers.location;
        const refused = redirectProblem(url, location);
        if (refused) throw new KeyFetchError(refused);
        if (redirects >= MAX_KEY_REDIRECTS)
          throw new KeyFetchError(`${href} redirected more than ${MAX_KEY_REDIRECTS} times`);
        url = new URL(location!, url);
        continue;
      }
      if (status !== 200) {
        res.resume();
        throw new KeyFetchError(`${url.href} answered ${status}`);
      }
      const body = await readBounded(res, url, maxBytes);
      try {
        return JSON.parse(body.toString('utf8')) as unknown;
      } catch {
        throw new KeyFetchError(`${url.href} did not answer JSON`);
      }
    }
  } catch (err) {
    if (err instanceof KeyFetchError) throw err;
    if (signal.aborted)
      throw new KeyFetchError(
        `${url.href} did not answer within ${options.timeoutMs ?? KEY_FETCH_TIMEOUT_MS} ms`,
      );
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeyFetchError(`${url.href} could not be fetched: ${code ?? (err as Error).message}`);
  }
}
