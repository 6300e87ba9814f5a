// A proxied project's Simple page: the upstream's files as pier's own page model, with every URL
// on pier's origin, rendered by the same renderers as a hosted project's page.
import { compareVersions } from '../packaging/versions.js';
import type { SimpleFile, SimpleProjectPage } from '../simple/model.js';
import { renderPage, type RenderedPage } from '../simple/service.js';
import type { ProxiedPage } from './service.js';

/** Where pier serves a proxied file (its `.metadata` is the same URL plus `.metadata`). */
export function proxiedFilePath(name: string, sha256: string, filename: string): string {
  return `/proxy/${name}/${sha256}/${encodeURIComponent(filename)}`;
}

export function proxiedPageModel(page: ProxiedPage, publicUrl: string): SimpleProjectPage {
  const files: SimpleFile[] = page.files.map((f) => ({
    filename: f.filename,
    url: publicUrl + proxiedFilePath(page.name, f.sha256, f.filename),
    sha256: f.sha256,
    requiresPython: f.requiresPython,
    metadataSha256: f.metadataSha256,
    yanked: f.yanked,
    size: f.size,
    uploadTime: f.uploadTime,
    version: f.version,
    provenance: null,
  }));
  files.sort(
    (a, b) =>
      compareVersions(a.version, b.version) ||
      (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0),
  );
  return {
    name: page.name,
    status: 'active',
    serial: 0,
    versions: [...new Set(files.map((f) => f.version))],
    files,
    // A name in a reserved namespace (PEP 752) is never taken from upstream, so none is shown.
    namespaces: null,
  };
}

/**
 * Rendered proxied pages, reused while the stored answer is the same and its offered files have
 * not changed (bounded in count). Shared by the Fastify route, which renders, and the fast path,
 * which only reuses (src/proxy/fast-page.ts).
 */
export class ProxiedPages {
  private readonly pages = new Map<
    string,
    { stamp: string; changesAt: number; page: RenderedPage }
  >();
  constructor(private readonly max = 2000) {}

  rendered(page: ProxiedPage, publicUrl: string): RenderedPage {
    const key = page.name;
    const hit = this.current(key, page.stamp, Date.now());
    if (hit) return hit;
    const rendered = renderPage(proxiedPageModel(page, publicUrl));
    this.pages.delete(key);
    if (this.pages.size >= this.max) {
      const oldest = this.pages.keys().next().value;
      if (oldest !== undefined) this.pages.delete(oldest);
    }
    this.pages.set(key, { stamp: page.stamp, changesAt: page.changesAt, page: rendered });
    return rendered;
  }

  /** The page rendered from the stored answer `stamp`, if it is in memory and still true at `now`. */
  current(name: string, stamp: string, now: number): RenderedPage | undefined {
    const hit = this.pages.get(name);
    return hit && hit.stamp === stamp && now < hit.changesAt ? hit.page : undefined;
  }
}
