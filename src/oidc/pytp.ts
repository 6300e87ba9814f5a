// PEP 807 (Draft) trusted-publishing discovery: `GET /.well-known/pytp?discover=<upload path>`
// names, for one upload path, where the audience and the mint endpoint of that index are. pier
// answers for its own upload paths only (`<public URL path>/legacy/`, with or without the slash),
// so several pier indexes under one host each keep their own audience. Every URL is absolute and
// comes from the public URL, never from the request. Errors are RFC 9457 problem documents that
// also carry PyPI's `message` and `errors`, so a client reading either shape understands them.
// These are pure functions over plain data; src/http/routes/oidc.ts renders them.

export const PYTP_MEDIA_TYPE = 'application/vnd.pypi.pytp.v1+json';
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The PEP's bounds on a minted credential's lifetime, in seconds (15 minutes to 6 hours). */
export const PEP807_MIN_TOKEN_TTL = 15 * 60;
export const PEP807_MAX_TOKEN_TTL = 6 * 60 * 60;

/** Why a token lifetime is outside the PEP's range, or null when it is inside. */
export function tokenTtlProblem(seconds: number): string | null {
  if (seconds < PEP807_MIN_TOKEN_TTL || seconds > PEP807_MAX_TOKEN_TTL)
    return `must be between ${PEP807_MIN_TOKEN_TTL} seconds (15m) and ${PEP807_MAX_TOKEN_TTL} seconds (6h), as PEP 807 requires of minted upload tokens, got ${seconds}`;
  return null;
}

export interface ProblemDocument {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  /** PyPI's members, kept as extension members (RFC 9457 §3.2). */
  message: string;
  errors: { code: string; description: string }[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: string, detail: string): ProblemDocument {
  const title = TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
  return {
    type: 'about:blank',
    title,
    status,
    detail,
    message: title,
    errors: [{ code, description: detail }],
  };
}

/**
 * A PyPI-shaped error body (`{message, errors?, reason?}`) as a problem document with the same
 * members, for a client that asked for problem documents.
 */
export function problemFromPypiBody(status: number, body: unknown): ProblemDocument {
  const doc = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const errors = Array.isArray(doc.errors)
    ? doc.errors.map((e: unknown) => {
        const o = (e ?? {}) as Record<string, unknown>;
        return {
          code: typeof o.code === 'string' ? o.code : `http-${status}`,
          description: typeof o.description === 'string' ? o.description : '',
        };
      })
    : [];
  const message = typeof doc.message === 'string' ? doc.message : (TITLES[status] ?? 'Error');
  const reason = typeof doc.reason === 'string' ? doc.reason : null;
  const detail =
    reason ?? (errors.length > 0 ? errors.map((e) => e.description).join('; ') : message);
  const p = problem(status, errors[0]?.code ?? `http-${status}`, detail);
  return {
    ...p,
    message,
    errors: errors.length > 0 ? errors : p.errors,
    ...(reason && { reason }),
  };
}

interface MediaRange {
  type: string;
  q: number;
}

function mediaRanges(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((r) => r.type !== '' && !(r.q <= 0) && !Number.isNaN(r.q));
}

/** The media types a PEP 807 answer may be sent as: the PEP's own, and plain JSON. */
const ANSWER_TYPES = [PYTP_MEDIA_TYPE, 'application/json', PROBLEM_MEDIA_TYPE];

/**
 * Whether a PEP 807 endpoint may answer a request with this Accept header: no header means the
 * PEP's media type (the PEP says so); otherwise some listed range must cover a JSON answer.
 */
export function acceptsPytp(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return mediaRanges(accept).some(
    (r) => r.type === '*/*' || r.type === 'application/*' || ANSWER_TYPES.includes(r.type),
  );
}

/**
 * Whether a client of PyPI's endpoints asked for problem documents: it lists
 * `application/problem+json` or the PEP 807 media type. Clients that send `application/json` or
 * nothing (every PyPI client) keep PyPI's error shape.
 */
export function wantsProblemDocument(accept: string | undefined): boolean {
  if (!accept) return false;
  return mediaRanges(accept).some(
    (r) => r.type === PROBLEM_MEDIA_TYPE || r.type === PYTP_MEDIA_TYPE,
  );
}

export interface DiscoveryDocument {
  'audience-endpoint': string;
  'token-mint-endpoint': string;
  features: string[];
  'default-features': string[];
}

export type DiscoveryAnswer =
  { status: 200; body: DiscoveryDocument } | { status: 400 | 404; body: ProblemDocument };

/** The index's own path under its public URL, without a trailing slash ('' at the root). */
function basePath(publicUrl: string): string {
  return new URL(publicUrl).pathname.replace(/\/+$/, '');
}

/** The upload paths an index at `publicUrl` answers discovery for. */
export function ownUploadPaths(publicUrl: string): string[] {
  const base = basePath(publicUrl);
  return [`${base}/legacy/`, `${base}/legacy`];
}

/** An endpoint of this index, absolute, from the public URL. */
function endpoint(publicUrl: string, path: string): string {
  const url = new URL(publicUrl);
  url.pathname = `${basePath(publicUrl)}${path}`;
  url.search = '';
  url.hash = '';
  return url.href;
}

/**
 * The answer to `GET /.well-known/pytp?discover=<key>`. `discover` is the query value as
 * decoded (the upload URL's path); `disabledReason` is why trusted publishing is off, if it is.
 */
export function discoveryAnswer(input: {
  publicUrl: string;
  discover: unknown;
  disabledReason: string | null;
}): DiscoveryAnswer {
  const { publicUrl, discover, disabledReason } = input;
  if (typeof discover !== 'string')
    return {
      status: 400,
      body: problem(
        400,
        'invalid-discovery-key',
        Array.isArray(discover)
          ? 'give the discover parameter once'
          : 'the discover parameter is required: the upload URL’s path, percent-encoded (/legacy/ is %2Flegacy%2F)',
      ),
    };
  if (!ownUploadPaths(publicUrl).includes(discover))
    return {
      status: 404,
      body: problem(
        404,
        'unknown-upload-path',
        `no index here accepts uploads at ${JSON.stringify(discover)}; this one uploads to ${ownUploadPaths(publicUrl)[0]}`,
      ),
    };
  if (disabledReason !== null)
    return {
      status: 404,
      body: problem(404, 'not-enabled', `trusted publishing is not enabled: ${disabledReason}`),
    };
  return {
    status: 200,
    body: {
      'audience-endpoint': endpoint(publicUrl, '/_/oidc/audience'),
      'token-mint-endpoint': endpoint(publicUrl, '/_/oidc/mint-token'),
      // pier's minted tokens upload any number of files until they expire or are burned.
      features: ['multi-use-token'],
      'default-features': ['multi-use-token'],
    },
  };
}
