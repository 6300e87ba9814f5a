// Everything a client can read of an index, by path: the Simple pages in both formats, the JSON
// API, each file's sha256 (checked against the page), each wheel's .metadata and each file's
// PEP 740 provenance (the Integrity API). Two indexes
// with equal views serve the same thing to pip; the index's own URL is written as <index>, so
// that two servers on different addresses compare equal.
import assert from 'node:assert/strict';
import { sha256 } from './upload.js';

export const JSON_ACCEPT = { accept: 'application/vnd.pypi.simple.v1+json' };

export async function clientView(
  server: { url: string; listenUrl: string },
  options: { token?: string; projects: string[]; paths?: string[] },
): Promise<Map<string, string>> {
  const origin = server.url.replace(/\/$/, '');
  const out = new Map<string, string>();
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.listenUrl}${path}`, {
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...headers,
      },
    });
    assert.equal(res.status, 200, path);
    return Buffer.from(await res.arrayBuffer());
  };
  const text = async (path: string, headers: Record<string, string> = {}) =>
    (await get(path, headers)).toString().replaceAll(origin, '<index>');
  out.set('/simple/ html', await text('/simple/'));
  out.set('/simple/ json', await text('/simple/', JSON_ACCEPT));
  for (const path of options.paths ?? []) out.set(path, await text(path));
  for (const name of options.projects) {
    out.set(`/simple/${name}/ html`, await text(`/simple/${name}/`));
    const page = (await get(`/simple/${name}/`, JSON_ACCEPT)).toString();
    out.set(`/simple/${name}/ json`, page.replaceAll(origin, '<index>'));
    out.set(`/pypi/${name}/json`, await text(`/pypi/${name}/json`));
    for (const file of (
      JSON.parse(page) as {
        files: { url: string; hashes: { sha256: string }; provenance?: string | null }[];
      }
    ).files) {
      const path = file.url.slice(origin.length);
      const bytes = await get(path);
      assert.equal(sha256(bytes), file.hashes.sha256, path);
      out.set(path, sha256(bytes));
      if (path.endsWith('.whl')) out.set(`${path}.metadata`, await text(`${path}.metadata`));
      if (typeof file.provenance === 'string') {
        const integrity = file.provenance.slice(origin.length);
        out.set(integrity, await text(integrity));
      }
    }
  }
  return out;
}
