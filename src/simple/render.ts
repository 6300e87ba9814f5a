// Serializations of the Simple API: HTML (PEP 503, frozen by PEP 833) and JSON (PEP 691,
// with PEP 700, 714, 740, 752 and 792 fields), field for field as the reference describes PyPI's.
import { API_VERSION, JSON_API_VERSION, type SimpleProjectPage } from './model.js';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

export function renderProjectHtml(page: SimpleProjectPage): string {
  const lines = page.files.map((f) => {
    let attrs = `href="${escapeHtml(`${f.url}#sha256=${f.sha256}`)}"`;
    if (f.requiresPython) attrs += ` data-requires-python="${escapeHtml(f.requiresPython)}"`;
    // Always a value: pip reads a bare data-yanked as "not yanked".
    if (f.yanked !== false) attrs += ` data-yanked="${escapeHtml(f.yanked)}"`;
    if (f.metadataSha256)
      attrs += ` data-dist-info-metadata="sha256=${f.metadataSha256}" data-core-metadata="sha256=${f.metadataSha256}"`;
    // PEP 740: only when the file has provenance.
    if (f.provenance !== null) attrs += ` data-provenance="${escapeHtml(f.provenance)}"`;
    return `    <a ${attrs}>${escapeHtml(f.filename)}</a><br />`;
  });
  const name = escapeHtml(page.name);
  return (
    `<!DOCTYPE html>\n<html lang="en">\n  <head>\n` +
    `    <meta name="pypi:repository-version" content="${API_VERSION}">\n` +
    `    <meta name="pypi:project-status" content="${escapeHtml(page.status)}">\n` +
    `    <title>Links for ${name}</title>\n  </head>\n  <body>\n    <h1>Links for ${name}</h1>\n` +
    lines.join('\n') +
    (lines.length ? '\n' : '') +
    `  </body>\n</html>\n<!--SERIAL ${page.serial}-->\n`
  );
}

export function renderProjectJson(page: SimpleProjectPage): string {
  return (
    JSON.stringify({
      meta: { 'api-version': JSON_API_VERSION, '_last-serial': page.serial },
      name: page.name,
      'project-status': { status: page.status },
      namespaces: page.namespaces,
      versions: page.versions,
      files: page.files.map((f) => {
        const metadata = f.metadataSha256 ? { sha256: f.metadataSha256 } : false;
        return {
          filename: f.filename,
          url: f.url,
          hashes: { sha256: f.sha256 },
          'requires-python': f.requiresPython,
          'core-metadata': metadata,
          'data-dist-info-metadata': metadata,
          yanked: f.yanked === false ? false : f.yanked === '' ? true : f.yanked,
          ...(f.size === null ? {} : { size: f.size }),
          ...(f.uploadTime === null ? {} : { 'upload-time': f.uploadTime }),
          provenance: f.provenance,
        };
      }),
    }) + '\n'
  );
}

export interface IndexEntry {
  name: string;
  normalized: string;
  serial: number;
}

export function renderIndexHtml(entries: IndexEntry[], publicUrl: string): string {
  const lines = entries.map(
    (e) =>
      `    <a href="${escapeHtml(`${publicUrl}/simple/${e.normalized}/`)}">${escapeHtml(e.name)}</a><br />`,
  );
  return (
    `<!DOCTYPE html>\n<html lang="en">\n  <head>\n` +
    `    <meta name="pypi:repository-version" content="${API_VERSION}">\n` +
    `    <title>Simple index</title>\n  </head>\n  <body>\n` +
    lines.join('\n') +
    (lines.length ? '\n' : '') +
    `  </body>\n</html>\n`
  );
}

export function renderIndexJson(entries: IndexEntry[], serial: number): string {
  return (
    JSON.stringify({
      meta: { 'api-version': JSON_API_VERSION, '_last-serial': serial },
      projects: entries.map((e) => ({ name: e.name, '_last-serial': e.serial })),
    }) + '\n'
  );
}
