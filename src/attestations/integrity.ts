// PEP 740's Integrity API as PyPI serves it (`warehouse/api/integrity.py`): where a file's
// provenance lives, and the answer's content negotiation.

/** The media types the Integrity API offers, in PyPI's order of preference. */
export const INTEGRITY_MEDIA_TYPES = [
  'application/vnd.pypi.integrity.v1+json',
  'application/json',
] as const;

/** `/integrity/<project>/<version>/<filename>/provenance`: the normalized name, the release's version. */
export function provenancePath(normalizedName: string, version: string, filename: string): string {
  return `/integrity/${encodeURIComponent(normalizedName)}/${encodeURIComponent(version)}/${encodeURIComponent(filename)}/provenance`;
}

/** The absolute provenance URL the Simple API names (PEP 740 `provenance`, `data-provenance`). */
export function provenanceUrl(
  publicUrl: string,
  normalizedName: string,
  version: string,
  filename: string,
): string {
  return publicUrl.replace(/\/+$/, '') + provenancePath(normalizedName, version, filename);
}

/**
 * The media type to answer with (WebOb's `acceptable_offers`, as Warehouse asks it): the offer
 * with the highest q among the Accept ranges that match it, ties in the order above; the first
 * offer when there is no Accept header; null when the header accepts neither (406).
 */
export function integrityMediaType(accept: string | undefined): string | null {
  if (accept === undefined || accept.trim() === '') return INTEGRITY_MEDIA_TYPES[0];
  let best: string | null = null;
  let bestQ = 0;
  for (const offer of INTEGRITY_MEDIA_TYPES) {
    const [type] = offer.split('/');
    let q = -1;
    let specificity = 0;
    for (const part of accept.split(',')) {
      const [media = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      const s = media === offer ? 3 : media === `${type}/*` ? 2 : media === '*/*' ? 1 : 0;
      if (s <= specificity) continue;
      specificity = s;
      const qParam = params.find((p) => p.startsWith('q='));
      q = qParam === undefined ? 1 : Number(qParam.slice(2));
      if (Number.isNaN(q)) q = 0;
    }
    if (specificity > 0 && q > bestQ) {
      best = offer;
      bestQ = q;
    }
  }
  return best;
}
