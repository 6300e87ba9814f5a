// Filling the cache ahead of time (`pier upstream prefetch -r requirements.txt`), for networks
// that will later be cut off from the upstream: for each requirement, the files of the highest
// version that satisfies it (all of that version's wheels and its sdist). Dependencies are not
// resolved: give a fully pinned file (pip freeze, pip-compile, uv pip compile).
import pep440 from '@renovatebot/pep440';
import { parseRequirement, type Requirement } from '../packaging/requirements.js';
import { compareVersions } from '../packaging/versions.js';
import { normalizeProjectName } from '../packaging/names.js';
import type { UpstreamFile } from './model.js';
import type { ProxyService } from './service.js';

/** The requirements of a requirements file: comments, blank lines and option lines are skipped. */
export function parseRequirementsFile(text: string): Requirement[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const out: Requirement[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line || line.startsWith('-')) continue;
    // Per-requirement options (--hash=...) follow the requirement.
    out.push(parseRequirement(line.replace(/\s--\S+.*$/, '').trim()));
  }
  return out;
}

/** The files of the highest non-yanked version that satisfies `specifier` ('' for any). */
export function filesToPrefetch(files: readonly UpstreamFile[], specifier: string): UpstreamFile[] {
  const versions = [...new Set(files.filter((f) => f.yanked === false).map((f) => f.version))]
    .filter((v) => specifier === '' || pep440.satisfies(v, specifier))
    .filter((v) => specifier !== '' || pep440.parse(v)?.is_prerelease !== true)
    .sort(compareVersions);
  const best = versions.at(-1);
  return best === undefined ? [] : files.filter((f) => f.version === best && f.yanked === false);
}

export type PrefetchEvent =
  | { kind: 'file'; name: string; filename: string; state: string }
  | { kind: 'missing'; name: string; reason: string };

/** Fetches each requirement's files into the cache; returns how many could not be found. */
export async function prefetch(
  proxy: ProxyService,
  requirements: readonly Requirement[],
  report: (event: PrefetchEvent) => void,
): Promise<number> {
  let missing = 0;
  for (const req of requirements) {
    const name = normalizeProjectName(req.name);
    const page = await proxy.page(name);
    const files = page ? filesToPrefetch(page.files, req.specifier) : [];
    if (files.length === 0) {
      missing++;
      report({
        kind: 'missing',
        name,
        reason: page ? `no files satisfy '${req.specifier}'` : 'not on the upstream (or excluded)',
      });
      continue;
    }
    for (const f of files) {
      for (const metadata of f.metadataSha256 ? [false, true] : [false]) {
        const got = await proxy.file(name, f.sha256, f.filename, metadata);
        got.body.resume();
        await new Promise<void>((resolve, reject) => {
          got.body.once('end', resolve);
          got.body.once('error', reject);
        });
        await got.settled;
        if (!metadata) report({ kind: 'file', name, filename: f.filename, state: got.state });
      }
    }
  }
  return missing;
}
