// Content codings of answers (RFC 9110 §8.4, §12.5.3): which coding a request's Accept-Encoding
// selects, the ETag of each coding's representation, and the compressed bodies, made once per
// body and kept. Simple pages, the JSON API and `.metadata` files are answered through it.
//
// Offered: brotli (`br`) and gzip, and the body as it is (`identity`). zstd is not offered:
// node:zlib has no zstd before Node 22.15 / 23.8, and pier runs on Node 20.
import { brotliCompress, constants, gzip } from 'node:zlib';
import { promisify } from 'node:util';

export type ContentCoding = 'br' | 'gzip' | 'identity';

/** The compressed codings, in pier's order of preference when a client ranks them equally. */
const COMPRESSED = ['br', 'gzip'] as const;

/** Every answer that has coded variants names Accept-Encoding in Vary, 304s and identity too. */
export const VARY_ENCODING = 'Accept-Encoding';

/** RFC 9110 §8.4.1.3: `x-gzip` is `gzip`. */
const ALIASES: Record<string, string> = { 'x-gzip': 'gzip' };

const Q_VALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

/**
 * The q-value of each coding named in an Accept-Encoding header (lowercased, aliases resolved),
 * or null for a header that does not parse (it is then ignored, as if absent).
 */
export function parseAcceptEncoding(header: string): Map<string, number> | null {
  const qs = new Map<string, number>();
  for (const part of header.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const [codingRaw, ...params] = trimmed.split(';');
    const raw = codingRaw!.trim().toLowerCase();
    if (!/^(\*|[a-z0-9!#$%&'+.^_`|~-]+)$/.test(raw)) return null;
    const coding = ALIASES[raw] ?? raw;
    let q = 1;
    for (const param of params) {
      const [k, v] = param.split('=').map((s) => s.trim());
      if (k?.toLowerCase() !== 'q') continue;
      if (v === undefined || !Q_VALUE.test(v)) return null;
      q = Number(v);
    }
    // A coding named twice keeps its highest q (the header is a set; be generous).
    qs.set(coding, Math.max(q, qs.get(coding) ?? 0));
  }
  return qs;
}

/**
 * The coding to answer with, or null when none is acceptable (the answer is then 406).
 * - No header: the body as it is (RFC 9110 allows any coding; clients that decode ask).
 * - A compressed coding is acceptable with its own q, else the q of `*`, else not at all.
 * - The highest q wins; equal q keeps pier's order (br, then gzip).
 * - identity is acceptable unless `identity;q=0`, or `*;q=0` without an `identity` entry; it is
 *   chosen only when no compressed coding is acceptable, or when its q is higher than theirs.
 */
export function negotiateEncoding(header: string | undefined): ContentCoding | null {
  if (header === undefined) return 'identity';
  const qs = parseAcceptEncoding(header);
  if (qs === null) return 'identity';
  const star = qs.get('*');
  let best: ContentCoding | null = null;
  let bestQ = 0;
  for (const coding of COMPRESSED) {
    const q = qs.get(coding) ?? star ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  const identityQ = qs.get('identity') ?? (star === 0 ? 0 : undefined);
  if (identityQ === 0) return best;
  if (best === null || (identityQ !== undefined && identityQ > bestQ)) return 'identity';
  return best;
}

// Clients send a handful of distinct headers (pip's, uv's, browsers'): remember the answers.
const remembered = new Map<string, ContentCoding | null>();

/** negotiateEncoding, memoized per header value. */
export function selectEncoding(header: string | undefined): ContentCoding | null {
  if (header === undefined) return 'identity';
  let coding = remembered.get(header);
  if (coding === undefined) {
    coding = negotiateEncoding(header);
    if (remembered.size >= 1000) remembered.clear();
    remembered.set(header, coding);
  }
  return coding;
}

/** The ETag of a coding's representation: the body's ETag, suffixed for a compressed one. */
export function codedEtag(etag: string, coding: ContentCoding): string {
  if (coding === 'identity') return etag;
  const weak = etag.startsWith('W/');
  const opaque = weak ? etag.slice(2) : etag;
  return `${weak ? 'W/' : ''}${opaque.slice(0, -1)}-${coding}"`;
}

/** The one-line reason of a 406 for an Accept-Encoding that excludes every coding. */
export const NO_ACCEPTABLE_CODING =
  'Not Acceptable: Accept-Encoding excludes br, gzip and identity';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

function compress(body: Buffer, coding: 'br' | 'gzip'): Promise<Buffer> {
  if (coding === 'gzip') return gzipAsync(body, { level: 9 });
  // Quality 5: as small as 9 for these pages at a fifth of the time; 11 takes a second for
  // 150 kB, too long even once per page version.
  return brotliAsync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 5,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
}

/**
 * Compressed bodies, least recently used first out, bounded by their total size. The key is the
 * body's ETag (a digest of the bytes), its length and the coding: the same bytes are compressed
 * once, whichever request or page they came from, and a changed page has a new ETag, so a
 * variant of an older version is never served for it. Compression runs on libuv's thread pool;
 * requests that arrive while it runs wait for the same result.
 */
export class CompressedBodies {
  private readonly bodies = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();
  private bytes = 0;
  /** How many bodies were compressed (for tests and metrics). */
  compressions = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.bodies.size;
  }

  /** The body in `coding`: at once when it was compressed before, else a promise. */
  get(etag: string, body: Buffer, coding: ContentCoding): Buffer | Promise<Buffer> {
    if (coding === 'identity') return body;
    const key = `${etag}\n${body.length}\n${coding}`;
    const kept = this.bodies.get(key);
    if (kept) {
      this.bodies.delete(key);
      this.bodies.set(key, kept);
      return kept;
    }
    let pending = this.pending.get(key);
    if (!pending) {
      this.compressions++;
      pending = compress(body, coding)
        .then((compressed) => {
          this.keep(key, compressed);
          return compressed;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  private keep(key: string, compressed: Buffer): void {
    if (compressed.length > this.maxBytes) return;
    while (this.bytes + compressed.length > this.maxBytes) {
      const oldest = this.bodies.keys().next().value;
      if (oldest === undefined) break;
      this.bytes -= this.bodies.get(oldest)!.length;
      this.bodies.delete(oldest);
    }
    this.bodies.set(key, compressed);
    this.bytes += compressed.length;
  }
}

/** The process's compressed bodies: 32 MiB, about a hundred large project pages in two codings. */
export const compressedBodies = new CompressedBodies(32 * 1024 * 1024);

/** A body answered in the coding a request selected: status, headers to add, and bytes. */
export interface CodedAnswer {
  status: 200 | 304 | 406;
  /** etag and vary; on a 200 also content-length and content-encoding (when compressed). */
  headers: Record<string, string>;
  body: Buffer | null;
}

/**
 * The answer for one body with its ETag, as the request's Accept-Encoding and If-None-Match
 * select it. `vary` is the answer's whole Vary value (it must name Accept-Encoding).
 */
export function codedAnswer(
  body: Buffer,
  etag: string,
  request: { acceptEncoding: string | undefined; ifNoneMatch: string | undefined },
  vary: string,
  matches: (ifNoneMatch: string | undefined, etag: string) => boolean,
): CodedAnswer | Promise<CodedAnswer> {
  const coding = selectEncoding(request.acceptEncoding);
  if (coding === null)
    return {
      status: 406,
      headers: { vary, 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from(`${NO_ACCEPTABLE_CODING}\n`),
    };
  const tag = codedEtag(etag, coding);
  const headers: Record<string, string> = { vary, etag: tag };
  if (matches(request.ifNoneMatch, tag)) return { status: 304, headers, body: null };
  const coded = compressedBodies.get(etag, body, coding);
  const done = (bytes: Buffer): CodedAnswer => {
    if (coding !== 'identity') headers['content-encoding'] = coding;
    headers['content-length'] = String(bytes.length);
    return { status: 200, headers, body: bytes };
  };
  return coded instanceof Promise ? coded.then(done) : done(coded);
}
