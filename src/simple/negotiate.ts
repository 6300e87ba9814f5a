// PEP 691 content negotiation, as Warehouse does it (reference §1.2): the server offers
// text/html, v1+html and v1+json in that order; each offer takes the q of the most specific
// Accept range that matches it; the highest q wins, ties keep the server's order; nothing
// acceptable falls back to text/html (never 406). In addition, `latest` means v1, and a
// `?format=` query parameter takes precedence over Accept.

export const HTML = 'text/html';
export const V1_HTML = 'application/vnd.pypi.simple.v1+html';
export const V1_JSON = 'application/vnd.pypi.simple.v1+json';
export type SimpleMediaType = typeof HTML | typeof V1_HTML | typeof V1_JSON;

const OFFERS: SimpleMediaType[] = [HTML, V1_HTML, V1_JSON];

interface AcceptRange {
  type: string;
  subtype: string;
  q: number;
}

const ALIASES: Record<string, string> = {
  'application/vnd.pypi.simple.latest+json': V1_JSON,
  'application/vnd.pypi.simple.latest+html': V1_HTML,
};

function parseAccept(header: string): AcceptRange[] | null {
  const ranges: AcceptRange[] = [];
  for (const part of header.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const [mediaRaw, ...params] = trimmed.split(';');
    let media = mediaRaw!.trim().toLowerCase();
    media = ALIASES[media] ?? media;
    const m = /^([a-z0-9!#$&^_.+*-]+)\/([a-z0-9!#$&^_.+*-]+)$/.exec(media);
    if (!m) return null;
    let q = 1;
    for (const param of params) {
      const [k, v] = param.split('=').map((s) => s.trim());
      if (k?.toLowerCase() === 'q') {
        if (v === undefined || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v)) return null;
        q = Number(v);
      }
    }
    if (m[1] === '*' && m[2] !== '*') return null;
    ranges.push({ type: m[1]!, subtype: m[2]!, q });
  }
  return ranges;
}

function specificity(r: AcceptRange, offer: string): number {
  const [type, subtype] = offer.split('/') as [string, string];
  if (r.type === type && r.subtype === subtype) return 3;
  if (r.type === type && r.subtype === '*') return 2;
  if (r.type === '*' && r.subtype === '*') return 1;
  return 0;
}

// Clients send a handful of distinct Accept headers (pip's, uv's, a browser's): remember the
// answers rather than parse the same header on every request. Without `?format=` the header is
// the key itself (no key to build); a header never holds a newline, so keys cannot collide.
const remembered = new Map<string, SimpleMediaType>();

export function selectContentType(accept: string | undefined, format?: string): SimpleMediaType {
  const key = format === undefined ? (accept ?? '') : `${format}\n${accept ?? ''}`;
  let type = remembered.get(key);
  if (type === undefined) {
    type = negotiate(accept, format);
    if (remembered.size >= 1000) remembered.clear();
    remembered.set(key, type);
  }
  return type;
}

function negotiate(accept: string | undefined, format?: string): SimpleMediaType {
  if (format !== undefined) {
    // A literal '+' in a query string arrives as a space; media types never contain spaces.
    const asked = format.toLowerCase().replace(/ /g, '+');
    const wanted = ALIASES[asked] ?? asked;
    const offer = OFFERS.find((o) => o === wanted);
    if (offer) return offer;
  }
  if (accept === undefined || accept.trim() === '') return HTML;
  const ranges = parseAccept(accept);
  if (ranges === null) return HTML;
  let best: SimpleMediaType | null = null;
  let bestQ = 0;
  for (const offer of OFFERS) {
    let q = -1;
    let spec = 0;
    for (const r of ranges) {
      const s = specificity(r, offer);
      if (s > spec) {
        spec = s;
        q = r.q;
      }
    }
    if (spec > 0 && q > bestQ) {
      best = offer;
      bestQ = q;
    }
  }
  return best ?? HTML;
}
