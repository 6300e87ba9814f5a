// The answer to a Simple API page request, as data: status, headers and body. Both the Fastify
// route and the fast path for anonymous reads (src/http/fast-simple.ts) send exactly this.
import { HTML, V1_JSON, selectContentType, type SimpleMediaType } from './negotiate.js';
import {
  NO_ACCEPTABLE_CODING,
  codedEtag,
  compressedBodies,
  selectEncoding,
  type ContentCoding,
} from '../http/encoding.js';

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
  status: 200 | 304 | 406;
  headers: Readonly<Record<string, string>>;
  body: Buffer | null;
  /** The status text, when it says more than the code's own. */
  reason?: string;
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
  etag: string;
  notModified: Readonly<Record<string, string>>;
  /** Set once the coding's body is at hand (at once for identity, after compressing else). */
  ok: Readonly<Record<string, string>> | null;
  body: Buffer | null;
}

/** Simple pages vary on the format asked for, the coding, and credentials. */
const VARY = 'Accept, Accept-Encoding, Authorization';

const NOT_ACCEPTABLE: SimpleAnswer = Object.freeze({
  status: 406,
  headers: Object.freeze({
    ...CORS_HEADERS,
    vary: VARY,
    'content-type': 'text/plain; charset=utf-8',
  }),
  body: Buffer.from(`${NO_ACCEPTABLE_CODING}\n`),
  reason: NO_ACCEPTABLE_CODING,
});

// A page's headers depend only on the page, the format, the coding and whether it may be shared:
// built once per page and reused (a page is replaced, not changed, when its project changes).
// Per page and format, a slot per coding and sharedness, so that a lookup builds no key.
const headerSets = new WeakMap<PageBodies, Map<SimpleMediaType, (HeaderSets | undefined)[]>>();
const CODING_SLOT: Record<ContentCoding, number> = { identity: 0, gzip: 2, br: 4 };

function headersFor(
  bodies: PageBodies,
  type: SimpleMediaType,
  shared: boolean,
  coding: ContentCoding,
): HeaderSets {
  let perPage = headerSets.get(bodies);
  if (!perPage) {
    perPage = new Map();
    headerSets.set(bodies, perPage);
  }
  let slots = perPage.get(type);
  if (!slots) {
    slots = [];
    perPage.set(type, slots);
  }
  const slot = CODING_SLOT[coding] + (shared ? 0 : 1);
  let sets = slots[slot];
  if (!sets) {
    const isJson = type === V1_JSON;
    const etag = codedEtag(isJson ? bodies.jsonEtag : bodies.htmlEtag, coding);
    const notModified = Object.freeze({
      ...CORS_HEADERS,
      vary: VARY,
      'cache-control': simpleCacheControl(shared),
      'x-pypi-last-serial': String(bodies.serial),
      etag,
      'content-type': type === HTML ? 'text/html; charset=utf-8' : type,
    });
    sets = { etag, notModified, ok: null, body: null };
    if (coding === 'identity') withBody(sets, isJson ? bodies.json : bodies.html, coding);
    slots[slot] = sets;
  }
  return sets;
}

function withBody(sets: HeaderSets, body: Buffer, coding: ContentCoding): SimpleAnswer {
  sets.body = body;
  sets.ok = Object.freeze({
    ...sets.notModified,
    ...(coding === 'identity' ? {} : { 'content-encoding': coding }),
    'content-length': String(body.length),
  });
  return { status: 200, headers: sets.ok, body };
}

/**
 * The answer; its headers are shared between requests and must not be changed. A promise only
 * the first time a page is asked for in a compressed coding (src/http/encoding.ts keeps it).
 */
export function simpleAnswer(
  bodies: PageBodies,
  request: {
    accept: string | undefined;
    format: string | undefined;
    ifNoneMatch: string | undefined;
    acceptEncoding: string | undefined;
  },
  pinned: SimpleMediaType | null,
  shared: boolean,
): SimpleAnswer | Promise<SimpleAnswer> {
  const type = pinned ?? selectContentType(request.accept, request.format);
  const coding = selectEncoding(request.acceptEncoding);
  if (coding === null) return NOT_ACCEPTABLE;
  const sets = headersFor(bodies, type, shared, coding);
  if (etagMatches(request.ifNoneMatch, sets.etag))
    return { status: 304, headers: sets.notModified, body: null };
  if (sets.ok) return { status: 200, headers: sets.ok, body: sets.body };
  const isJson = type === V1_JSON;
  const coded = compressedBodies.get(
    isJson ? bodies.jsonEtag : bodies.htmlEtag,
    isJson ? bodies.json : bodies.html,
    coding,
  );
  return coded instanceof Promise
    ? coded.then((body) => withBody(sets, body, coding))
    : withBody(sets, coded, coding);
}
