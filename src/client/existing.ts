// --skip-existing's first check: is the file on the index already? The project's Simple page
// (PEP 691 JSON, or PEP 503 HTML from an index without JSON) lists each file with its SHA-256;
// the answer is read once per project. And its second: the index's own answer to an upload of a
// file it has (409, or 400 "File already exists", as twine reads it).
import { normalizeProjectName } from '../packaging/names.js';
import { PublishError } from './errors.js';
import { describeResponse, type HttpResponse } from './http.js';
import { send, type RetryNotice } from './requests.js';
import type { RetryPolicy } from './retry.js';
import { projectPageUrl } from './urls.js';

export type IndexFiles = Map<string, string | null>;

export const SIMPLE_ACCEPT = 'application/vnd.pypi.simple.v1+json, text/html;q=0.2';

/** filename -> sha256 (null when the index gives none) from a Simple page, JSON or HTML. */
export function parseSimplePage(res: HttpResponse): IndexFiles {
  const files: IndexFiles = new Map();
  const type = String(res.headers['content-type'] ?? '');
  const text = res.body.toString('utf8');
  if (/json/i.test(type)) {
    const doc = JSON.parse(text) as {
      files?: { filename?: unknown; hashes?: { sha256?: unknown } }[];
    };
    for (const f of doc.files ?? [])
      if (typeof f.filename === 'string')
        files.set(f.filename, typeof f.hashes?.sha256 === 'string' ? f.hashes.sha256 : null);
    return files;
  }
  for (const m of text.matchAll(/<a\s[^>]*href="([^"]*)"[^>]*>([^<]*)<\/a>/gi)) {
    const sha = /#sha256=([0-9a-f]{64})/i.exec(m[1] ?? '')?.[1] ?? null;
    const name = (m[2] ?? '').trim();
    if (name) files.set(decodeEntities(name), sha ? sha.toLowerCase() : null);
  }
  return files;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export type ExistingFile =
  | { state: 'absent' }
  | { state: 'same' }
  | { state: 'different'; indexSha256: string | null }
  | { state: 'unknown'; reason: string };

/** Reads projects' Simple pages once each and answers whether a file is there. */
export class ExistingFiles {
  private readonly pages = new Map<string, Promise<IndexFiles | { error: string }>>();

  constructor(
    private readonly indexUrl: string,
    private readonly headers: () => Record<string, string>,
    private readonly policy: RetryPolicy,
    private readonly onRetry: (n: RetryNotice) => void,
  ) {}

  private page(name: string): Promise<IndexFiles | { error: string }> {
    const project = normalizeProjectName(name);
    let page = this.pages.get(project);
    if (!page) {
      page = this.load(project);
      this.pages.set(project, page);
    }
    return page;
  }

  private async load(project: string): Promise<IndexFiles | { error: string }> {
    const url = new URL(projectPageUrl(this.indexUrl, project));
    try {
      const res = await send(
        url,
        { headers: { accept: SIMPLE_ACCEPT, 'cache-control': 'no-cache', ...this.headers() } },
        this.policy,
        this.onRetry,
        'existing-files check',
      );
      if (res.status === 404) return new Map();
      if (res.status !== 200) return { error: `${url.href} answered ${describeResponse(res)}` };
      return parseSimplePage(res);
    } catch (err) {
      if (err instanceof PublishError) return { error: err.message };
      if (err instanceof SyntaxError) return { error: `${url.href} is not a Simple page` };
      throw err;
    }
  }

  async lookup(project: string, filename: string, sha256: string): Promise<ExistingFile> {
    const page = await this.page(project);
    if (!(page instanceof Map)) return { state: 'unknown', reason: page.error };
    if (!page.has(filename)) return { state: 'absent' };
    const indexSha256 = page.get(filename) ?? null;
    return indexSha256 === sha256 ? { state: 'same' } : { state: 'different', indexSha256 };
  }
}

/** An upload answer that means "this filename exists already" (twine's test). */
export function isAlreadyExists(res: HttpResponse): boolean {
  if (res.status === 409) return true;
  if (res.status !== 400) return false;
  return /already exist/i.test(res.statusText) || /already exist/i.test(res.body.toString('utf8'));
}
