// Where an index's trusted-publishing endpoints are. PEP 807 (Draft): GET
// `<scheme>://<authority>/.well-known/pytp?discover=<upload path, percent-encoded>` names the
// audience and mint endpoints for that upload URL, so several indexes under one host each have
// their own. An index without it (404, or an answer that is not PEP 807's at all) gets PyPI's
// endpoints at the root of the upload host. The URLs an index names must be on the upload URL's
// host and HTTPS (or loopback); anything else is refused, never followed.
import { PublishError } from './errors.js';
import { describeResponse, type HttpResponse } from './http.js';
import { send, type RetryNotice } from './requests.js';
import type { RetryPolicy } from './retry.js';
import { isLoopbackHost } from './urls.js';

export const PYTP_ACCEPT = 'application/vnd.pypi.pytp.v1+json';

export interface TrustedPublishingEndpoints {
  audience: URL;
  mint: URL;
  /** pier's burn endpoint next to the mint endpoint; null when the index names no such place. */
  burn: URL | null;
  /** How they were found: PEP 807 discovery, or PyPI's fixed paths. */
  via: 'pep807' | 'pypi';
  /** The Accept header the exchange sends to them. */
  accept: string;
}

/** PEP 807's discovery URL for an upload URL: the path, slashes included, as the query value. */
export function discoveryUrl(uploadUrl: URL): URL {
  const url = new URL('/.well-known/pytp', `${uploadUrl.protocol}//${uploadUrl.host}`);
  url.search = `?discover=${encodeURIComponent(uploadUrl.pathname)}`;
  return url;
}

/** PyPI's endpoints, at the root of the upload host. */
export function pypiEndpoints(uploadUrl: URL): TrustedPublishingEndpoints {
  const root = `${uploadUrl.protocol}//${uploadUrl.host}`;
  return {
    audience: new URL('/_/oidc/audience', root),
    mint: new URL('/_/oidc/mint-token', root),
    burn: new URL('/_/oidc/burn-token', root),
    via: 'pypi',
    accept: 'application/json',
  };
}

/** A URL from a discovery document, checked against PEP 807's constraints. */
export function discoveredUrl(value: unknown, field: string, uploadUrl: URL): URL {
  const where = `The index's trusted-publishing discovery (${discoveryUrl(uploadUrl).href})`;
  if (typeof value !== 'string' || value === '')
    throw new PublishError('not-supported', `${where} gives no ${field}`, {
      hints: ['Tell the index’s administrator: PEP 807 requires it.'],
    });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PublishError('not-supported', `${where} gives a ${field} that is not a URL`);
  }
  if (url.hostname !== uploadUrl.hostname)
    throw new PublishError(
      'not-supported',
      `${where} names ${field} ${url.href}, on another host than the upload URL's ${uploadUrl.hostname}: refused`,
      { hints: ['PEP 807 allows only the upload URL’s host; tell the index’s administrator.'] },
    );
  const trustworthy =
    url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!trustworthy)
    throw new PublishError(
      'not-supported',
      `${where} names ${field} ${url.href}, which is not HTTPS: refused`,
      { hints: ['Tokens are sent only over HTTPS (or to a loopback address).'] },
    );
  if (url.username || url.password)
    throw new PublishError('not-supported', `${where} names a ${field} with credentials: refused`);
  return url;
}

function jsonObject(res: HttpResponse): Record<string, unknown> | null {
  try {
    const doc: unknown = JSON.parse(res.body.toString('utf8'));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function mediaType(res: HttpResponse): string {
  const value = res.headers['content-type'];
  return (typeof value === 'string' ? value : '').split(';')[0]!.trim().toLowerCase();
}

/** The burn endpoint next to a pier-style mint endpoint (`…/_/oidc/mint-token`), else null. */
function burnNextTo(mint: URL): URL | null {
  if (!mint.pathname.endsWith('/_/oidc/mint-token')) return null;
  const url = new URL(mint.href);
  url.pathname = url.pathname.replace(/mint-token$/, 'burn-token');
  url.search = '';
  return url;
}

/**
 * The endpoints for `uploadUrl`: PEP 807's when the index answers discovery, PyPI's when it
 * answers 404 or with something that is not a discovery document. A PEP 807 error (a problem
 * document other than 404) or a discovery document breaking the PEP's constraints is an error.
 */
export async function discoverEndpoints(
  uploadUrl: URL,
  policy: RetryPolicy,
  onRetry: (n: RetryNotice) => void,
  debug: (line: string) => void = () => {},
): Promise<TrustedPublishingEndpoints> {
  const url = discoveryUrl(uploadUrl);
  const res = await send(
    url,
    { headers: { accept: PYTP_ACCEPT } },
    policy,
    onRetry,
    'trusted-publishing discovery',
  );
  const doc = jsonObject(res);
  const type = mediaType(res);
  if (res.status === 200 && doc && 'audience-endpoint' in doc) {
    const mint = discoveredUrl(doc['token-mint-endpoint'], 'token-mint-endpoint', uploadUrl);
    return {
      audience: discoveredUrl(doc['audience-endpoint'], 'audience-endpoint', uploadUrl),
      mint,
      burn: burnNextTo(mint),
      via: 'pep807',
      accept: PYTP_ACCEPT,
    };
  }
  if (res.status !== 404 && type === 'application/problem+json' && doc) {
    const detail =
      typeof doc.detail === 'string'
        ? doc.detail
        : typeof doc.title === 'string'
          ? doc.title
          : describeResponse(res);
    throw new PublishError(
      'not-supported',
      `The index at ${uploadUrl.host} answered trusted-publishing discovery (GET ${url.href}) with ${res.status}: ${detail}`,
      {
        hints: [
          'Wait a few minutes and try again; if it persists, tell the index’s administrator.',
        ],
      },
    );
  }
  debug(
    `No PEP 807 discovery at ${url.href} (${describeResponse(res)}): using PyPI's endpoints at the root of ${uploadUrl.host}`,
  );
  return pypiEndpoints(uploadUrl);
}
