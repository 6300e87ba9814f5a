// Which files to publish: the paths given (files or directories; `dist/` by default). A directory
// contributes its distributions (and skips their `<dist>.<type>.attestation` files); a folder named like a distribution holding that file (what
// actions/download-artifact makes of `dist/foo.whl`) counts as the file. Anything else is an
// error that names it, except hidden files (build tools leave `dist/.gitignore`).
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { attestationFileOf } from './attestation-files.js';
import { PublishError } from './errors.js';

export type DistributionKind = 'wheel' | 'sdist';

export interface Distribution {
  /** The file to read. */
  path: string;
  /** Its name, as uploaded. */
  filename: string;
  kind: DistributionKind;
  size: number;
}

/** The kind of distribution a filename names, or why it is none. */
export function distributionKind(filename: string): DistributionKind | { problem: string } {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.whl')) return 'wheel';
  if (lower.endsWith('.tar.gz')) return 'sdist';
  if (lower.endsWith('.zip'))
    return {
      problem:
        'a .zip source distribution, which indexes no longer accept (PEP 625): build a .tar.gz sdist',
    };
  if (/\.(egg|exe|msi|rpm|tar\.bz2|tar\.xz|tgz)$/.test(lower))
    return {
      problem: 'a distribution format indexes no longer accept: upload wheels and .tar.gz sdists',
    };
  return { problem: 'not a distribution (.whl or .tar.gz)' };
}

const HIDDEN = /^\./;

async function fileOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

function notDistribution(path: string, problem: string): PublishError {
  return new PublishError('invalid-distribution', `${path}: ${problem}`, {
    hints: [
      'Publish only wheels and sdists: point the client at a directory that holds just them (python -m build writes them to dist/), or name the files.',
    ],
  });
}

/** `dist/foo.whl/` holding `foo.whl`: the file an artifact download nests in a folder. */
async function nestedDistribution(dir: string, name: string): Promise<string | null> {
  const inner = join(dir, name);
  const info = await fileOrNull(inner);
  return info?.isFile() ? inner : null;
}

async function fromDirectory(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    if (HIDDEN.test(entry.name)) continue;
    // `<dist>.<type>.attestation`: sent with its distribution (attestation-files.ts).
    if (attestationFileOf(entry.name) && entry.isFile()) continue;
    const path = join(dir, entry.name);
    const info = await stat(path);
    const kind = distributionKind(entry.name);
    if (info.isDirectory()) {
      const nested = typeof kind === 'string' ? await nestedDistribution(path, entry.name) : null;
      if (nested) found.push(nested);
      else
        throw notDistribution(
          path,
          typeof kind === 'string'
            ? `a directory named like a distribution, but it does not hold ${entry.name}`
            : 'a directory inside the distributions directory',
        );
      continue;
    }
    if (typeof kind !== 'string') throw notDistribution(path, kind.problem);
    found.push(path);
  }
  return found;
}

/**
 * The distributions at `paths` (default `dist`), wheels first (so that an index that reads a
 * release's metadata from its first file gets the wheel's), each name once.
 */
export async function discoverDistributions(paths: readonly string[]): Promise<Distribution[]> {
  const inputs = paths.length > 0 ? paths : ['dist'];
  const files: string[] = [];
  for (const input of inputs) {
    const info = await fileOrNull(input);
    if (!info)
      throw new PublishError('invalid-distribution', `${input}: no such file or directory`, {
        hints: [
          'Check the path: build the distributions first (python -m build, uv build), or download the build job’s artifact there.',
        ],
      });
    if (info.isDirectory()) {
      const kind = distributionKind(basename(input));
      const nested =
        typeof kind === 'string' ? await nestedDistribution(input, basename(input)) : null;
      files.push(...(nested ? [nested] : await fromDirectory(input)));
    } else {
      const kind = distributionKind(basename(input));
      if (typeof kind !== 'string') throw notDistribution(input, kind.problem);
      files.push(input);
    }
  }
  const byName = new Map<string, Distribution>();
  for (const path of files) {
    const filename = basename(path);
    const earlier = byName.get(filename);
    if (earlier)
      throw new PublishError(
        'invalid-distribution',
        `${filename} is given twice: ${earlier.path} and ${path}`,
        { hints: ['Each filename can be uploaded once: remove one of them.'] },
      );
    const kind = distributionKind(filename) as DistributionKind;
    byName.set(filename, { path, filename, kind, size: (await stat(path)).size });
  }
  if (byName.size === 0)
    throw new PublishError(
      'invalid-distribution',
      `No distributions found in ${inputs.join(', ')}`,
      {
        hints: [
          'Build them first (python -m build, uv build) or download the build job’s artifact into this directory.',
        ],
      },
    );
  const all = [...byName.values()];
  return [...all.filter((d) => d.kind === 'wheel'), ...all.filter((d) => d.kind === 'sdist')];
}
