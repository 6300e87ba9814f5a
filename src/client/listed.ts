// Where each published file can be downloaded: the URL its project's Simple page lists for it
// (PEP 691 JSON `url`, or the `href` of a PEP 503 HTML link), absolute and without the hash
// fragment. Read once per project after the uploads, for `--json`.
import { normalizeProjectName } from '../packaging/names.js';
import { PublishError } from './errors.js';
import type { HttpResponse } from './http.js';
import { SIMPLE_ACCEPT } from './existing.js';
import { send, type RetryNotice } from './requests.js';
import type { RetryPolicy } from './retry.js';
import { projectPageUrl } from './urls.js';

/** filename -> absolute download URL, from a Simple page fetched at `pageUrl`. */
export function listedFileUrls(res: HttpResponse, pageUrl: string): Map<string, string> {
  const urls = new Map<string, string>();
  const absolute = (href: string) => {
    const u = new URL(href, pageUrl);
    u.hash = '';
    return u.href;
  };
  const text = res.body.toString('utf8');
  if (/json/i.test(String(res.headers['content-type'] ?? ''))) {
    const doc = JSON.parse(text) as { files?: { filename?: unknown; url?: unknown }[] };
    for (const f of doc.files ?? [])
      if (typeof f.filename === 'string' && typeof f.url === 'string')
        urls.set(f.filename, absolute(f.url));
    return urls;
  }
  for (const m of text.matchAll(/<a\s[^>]*href="([^"]*)"[^>]*>([^<]*)<\/a>/gi)) {
    const name = (m[2] ?? '').trim();
    if (name && m[1]) urls.set(name, absolute(m[1].replace(/&amp;/g, '&')));
  }
  return urls;
}

/** The download URLs of `projects`' files; a page that cannot be read gives none. */
export async function fetchListedUrls(
  indexUrl: string,
  projects: readonly string[],
  headers: Record<string, string>,
  policy: RetryPolicy,
  onRetry: (n: RetryNotice) => void,
): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const project of new Set(projects.map(normalizeProjectName))) {
    const url = projectPageUrl(indexUrl, project);
    try {
      const res = await send(
        new URL(url),
        { headers: { accept: SIMPLE_ACCEPT, 'cache-control': 'no-cache', ...headers } },
        policy,
        onRetry,
        'file URLs',
      );
      if (res.status !== 200) continue;
      for (const [filename, href] of listedFileUrls(res, url)) all.set(filename, href);
    } catch (err) {
      if (err instanceof PublishError || err instanceof SyntaxError) continue;
      throw err;
    }
  }
  return all;
}
