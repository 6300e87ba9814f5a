// The answer to a Simple API page request, as data: status, headers and body. Both the Fastify
// route and the fast path for anonymous reads (src/http/fast-simple.ts) send exactly this.
import { HTML, V1_JSON, selectContentType, type SimpleMediaType } from './negotiate.js';

export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers':
    'Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since',
  'access-control-allow-methods': 'GET',
  'access-control-max-age': '86400',
  'access-control-expose-headers': 'X-PyPI-Last-Serial',
};

export interface PageBodies {
  html: Buffer;
  json: Buffer;
  htmlEtag: string;
  jsonEtag: string;
  serial: number;
}

export interface SimpleAnswer {
  status: 200 | 304;
  headers: Readonly<Record<string, string>>;
  body: Buffer | null;
}

export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header === etag) return true;
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag || v === `W/${etag}`;
  });
}

/** Shared caches may keep public pages; anything behind credentials is private. */
export function simpleCacheControl(shared: boolean): string {
  return shared ? 'max-age=600, public' : 'max-age=0, private';
}

interface HeaderSets {
  ok: Readonly<Record<string, string>>;
  notModified: Readonly<Record<string, string>>;
}

// A page's headers depend only on the page, the format and whether it may be shared: built once
// per page and reused (a page is replaced, not changed, when its project changes).
const headerSets = new WeakMap<PageBodies, Map<string, HeaderSets>>();

function headersFor(bodies: PageBodies, type: SimpleMediaType, shared: boolean): HeaderSets {
  let perPage = headerSets.get(bodies);
  if (!perPage) {
    perPage = new Map();
    headerSets.set(bodies, perPage);
  }
  const key = shared ? type : `${type} private`;
  let sets = perPage.get(key);
  if (!sets) {
    const isJson = type === V1_JSON;
    const notModified = Object.freeze({
      ...CORS_HEADERS,
      vary: 'Accept, Authorization',
      'cache-control': simpleCacheControl(shared),
      'x-pypi-last-serial': String(bodies.serial),
      etag: isJson ? bodies.jsonEtag : bodies.htmlEtag,
      'content-type': type === HTML ? 'text/html; charset=utf-8' : type,
    });
    const length = (isJson ? bodies.json : bodies.html).length;
    sets = { notModified, ok: Object.freeze({ ...notModified, 'content-length': String(length) }) };
    perPage.set(key, sets);
  }
  return sets;
}

/** The answer; its headers are shared between requests and must not be changed. */
export function simpleAnswer(
  bodies: PageBodies,
  request: {
    accept: string | undefined;
    format: string | undefined;
    ifNoneMatch: string | undefined;
  },
  pinned: SimpleMediaType | null,
  shared: boolean,
): SimpleAnswer {
  const type = pinned ?? selectContentType(request.accept, request.format);
  const isJson = type === V1_JSON;
  const sets = headersFor(bodies, type, shared);
  if (etagMatches(request.ifNoneMatch, isJson ? bodies.jsonEtag : bodies.htmlEtag))
    return { status: 304, headers: sets.notModified, body: null };
  return { status: 200, headers: sets.ok, body: isJson ? bodies.json : bodies.html };
}
