// What `pier import` reads from another index's storage: the files it holds, each with the time
// it was first uploaded, its release's yank and the digests the other index recorded. Two
// layouts are known: a folder of distributions, flat or nested (what pypiserver serves; its
// upload time is the file's mtime), and a devpi export (`devpi-server --export DIR`: a
// `dataindex.json` describing every index's projects, versions and files, the files under
// `user/index/…`).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

export type ImportFormat = 'pypiserver' | 'devpi' | 'folder';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['pypiserver', 'devpi', 'folder'];

export interface ImportEntry {
  /** The file on disk. */
  path: string;
  /** Where it was found, relative to the folder imported: how the report names it. */
  shown: string;
  filename: string;
  /** When it was first uploaded, in ms since the epoch. */
  uploadedAt: number;
  yanked: { reason: string | null } | null;
  /** Digests the other index recorded for the file, lowercase hex; checked against its bytes. */
  sha256: string | null;
  md5: string | null;
  /** Why the entry cannot be imported at all, before its bytes are read. */
  problem: string | null;
}

export class ImportSourceError extends Error {}

/** devpi's export, when the folder holds its index; otherwise a folder of distributions. */
export async function detectFormat(dir: string): Promise<ImportFormat> {
  const found = await stat(join(dir, 'dataindex.json')).catch(() => null);
  return found?.isFile() ? 'devpi' : 'folder';
}

export async function readImportSource(dir: string, format: ImportFormat): Promise<ImportEntry[]> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new ImportSourceError(`no folder at ${root}`);
  const entries = format === 'devpi' ? await readDevpiExport(root) : await readFolder(root);
  // Oldest first, as they were uploaded: a release is created by its first file.
  return entries.sort((a, b) => a.uploadedAt - b.uploadedAt || a.shown.localeCompare(b.shown));
}

/** Every file under the folder, hidden ones (and hidden folders) left out, as pypiserver does. */
async function readFolder(root: string): Promise<ImportEntry[]> {
  const out: ImportEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      const path = join(dir, d.name);
      if (d.isDirectory()) await walk(path);
      else if (d.isFile()) {
        const { mtimeMs } = await stat(path);
        out.push({
          path,
          shown: relative(root, path).split(sep).join('/'),
          filename: d.name,
          uploadedAt: Math.floor(mtimeMs),
          yanked: null,
          sha256: null,
          md5: null,
          problem: null,
        });
      }
    }
  };
  await walk(root);
  return out;
}

interface DevpiFile {
  type?: unknown;
  projectname?: unknown;
  version?: unknown;
  relpath?: unknown;
  entrymapping?: Record<string, unknown>;
  log?: unknown;
}

interface DevpiIndex {
  projects?: Record<string, Record<string, Record<string, unknown>>>;
  files?: DevpiFile[];
}

/** devpi's `when`: [year, month, day, hour, minute, second] in UTC. */
export function devpiTime(when: unknown): number | null {
  if (!Array.isArray(when) || when.length < 6 || !when.every((n) => typeof n === 'number'))
    return null;
  const [y, mo, d, h, mi, s] = when as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

/** The first upload in a file's log (devpi 2.1+), else its `last_modified` (an HTTP date). */
export function devpiUploadTime(file: DevpiFile): number | null {
  const logs = [file.log, file.entrymapping?.log].filter(Array.isArray) as unknown[][];
  for (const log of logs)
    for (const event of log) {
      const e = event as { what?: unknown; when?: unknown };
      if (e.what === 'upload' || e.what === 'push') {
        const t = devpiTime(e.when);
        if (t !== null) return t;
      }
    }
  const modified = file.entrymapping?.last_modified;
  if (typeof modified === 'string') {
    const t = Date.parse(modified);
    if (!Number.isNaN(t)) return t;
  }
  return null;
}

/** A version's yank (devpi 6+: `yanked` true, or the reason as a string). */
export function devpiYank(versiondata: Record<string, unknown> | undefined): ImportEntry['yanked'] {
  const y = versiondata?.yanked;
  if (y === true) return { reason: null };
  if (typeof y === 'string' && y !== '') return { reason: y };
  return null;
}

/** `hash_spec` (`sha256=…`, devpi 4+) and `md5` (older exports). */
function devpiDigests(mapping: Record<string, unknown> | undefined): {
  sha256: string | null;
  md5: string | null;
} {
  const spec = typeof mapping?.hash_spec === 'string' ? mapping.hash_spec : '';
  const [algorithm, value] = spec.split('=', 2);
  const md5 = typeof mapping?.md5 === 'string' ? mapping.md5.toLowerCase() : null;
  return {
    sha256: algorithm === 'sha256' && value ? value.toLowerCase() : null,
    md5: algorithm === 'md5' && value ? value.toLowerCase() : md5,
  };
}

async function readDevpiExport(root: string): Promise<ImportEntry[]> {
  let data: { indexes?: Record<string, DevpiIndex> };
  try {
    data = JSON.parse(await readFile(join(root, 'dataindex.json'), 'utf8')) as typeof data;
  } catch (err) {
    throw new ImportSourceError(
      `${join(root, 'dataindex.json')} is not a devpi export: ${(err as Error).message}`,
    );
  }
  if (typeof data !== 'object' || data === null || typeof data.indexes !== 'object')
    throw new ImportSourceError(`${join(root, 'dataindex.json')} has no "indexes"`);
  const out: ImportEntry[] = [];
  for (const [indexName, index] of Object.entries(data.indexes ?? {})) {
    for (const file of index.files ?? []) {
      const relpath = typeof file.relpath === 'string' ? file.relpath : '';
      const path = resolve(root, relpath);
      const filename = relpath.split('/').pop() ?? '';
      const shown = relpath || `${indexName}: (a file without relpath)`;
      const base = { path, shown, filename, yanked: null, sha256: null, md5: null };
      const outside = relpath === '' || relative(root, path).startsWith('..');
      const fileTime = await stat(path).then(
        (s) => (s.isFile() ? Math.floor(s.mtimeMs) : null),
        () => null,
      );
      if (outside || fileTime === null) {
        out.push({
          ...base,
          uploadedAt: 0,
          problem: outside ? 'its relpath is outside the export' : 'the file is missing',
        });
        continue;
      }
      if (file.type !== 'releasefile') {
        out.push({
          ...base,
          uploadedAt: fileTime,
          problem: `a devpi ${typeof file.type === 'string' ? file.type : 'attachment'}, not a distribution`,
        });
        continue;
      }
      const project = typeof file.projectname === 'string' ? file.projectname : '';
      const version =
        typeof file.version === 'string'
          ? file.version
          : typeof file.entrymapping?.version === 'string'
            ? file.entrymapping.version
            : '';
      out.push({
        ...base,
        ...devpiDigests(file.entrymapping),
        uploadedAt: devpiUploadTime(file) ?? fileTime,
        yanked: devpiYank(index.projects?.[project]?.[version]),
        problem: null,
      });
    }
  }
  return out;
}
