// The proxy's rules, as pure functions over plain data: which names may ever come from the
// upstream, and which upstream files are offered.
import { normalizeProjectName } from '../packaging/names.js';
import type { UpstreamFile } from './model.js';

/** A name glob (`*` any run of characters, `?` one), matched against the PEP 503 normalized name. */
export function globMatches(pattern: string, name: string): boolean {
  const p = normalizeGlob(pattern);
  const re = new RegExp(
    '^' +
      p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  return re.test(normalizeProjectName(name));
}

/** A glob as stored and compared: lowercase, runs of '-', '_' and '.' as one '-' (PEP 503). */
export function normalizeGlob(pattern: string): string {
  return pattern
    .trim()
    .toLowerCase()
    .replace(/[-_.]+/g, '-');
}

export function isValidGlob(pattern: string): boolean {
  return /^[A-Za-z0-9*?][A-Za-z0-9*?._-]*$/.test(pattern.trim()) && pattern.length <= 200;
}

export interface UpstreamNamePolicy {
  /** Globs never taken from the upstream (configuration and the run-time list together). */
  exclude: readonly string[];
  /** Allow-list mode when non-empty: only names matching one of these are taken. */
  allow: readonly string[];
}

/**
 * The guard's name rule: true when `name` must never be fetched from the upstream. Besides the
 * exclude and allow globs, `reserved` is another rule's say (for example a namespace reserved on
 * this index: names in it are this index's alone); it is consulted last.
 */
export function isNeverFromUpstream(
  name: string,
  policy: UpstreamNamePolicy,
  reserved: (normalizedName: string) => boolean = () => false,
): boolean {
  if (policy.exclude.some((g) => globMatches(g, name))) return true;
  if (policy.allow.length > 0 && !policy.allow.some((g) => globMatches(g, name))) return true;
  return reserved(normalizeProjectName(name));
}

/**
 * The files offered from an upstream page: with a minimum age, only files whose upload time the
 * upstream states and which are at least `minAgeSeconds` old (a file of unknown age is not
 * offered, since it could be minutes old).
 */
export function offeredFiles(
  files: readonly UpstreamFile[],
  minAgeSeconds: number,
  now: number,
): UpstreamFile[] {
  if (minAgeSeconds <= 0) return [...files];
  const cutoff = now - minAgeSeconds * 1000;
  return files.filter((f) => {
    if (!f.uploadTime) return false;
    const t = Date.parse(f.uploadTime);
    return Number.isFinite(t) && t <= cutoff;
  });
}

/**
 * When the files `offeredFiles` gives change next (a file reaching the minimum age), or Infinity
 * when they never will: an answer built from them at `now` stays true until then.
 */
export function offeredFilesChangeAt(
  files: readonly UpstreamFile[],
  minAgeSeconds: number,
  now: number,
): number {
  if (minAgeSeconds <= 0) return Infinity;
  let next = Infinity;
  for (const f of files) {
    const t = f.uploadTime ? Date.parse(f.uploadTime) : NaN;
    if (!Number.isFinite(t)) continue;
    const offeredFrom = t + minAgeSeconds * 1000;
    if (offeredFrom > now && offeredFrom < next) next = offeredFrom;
  }
  return next;
}

/**
 * Whether a stored answer may be served as it is, without asking the upstream: while it is
 * fresh, or always when the index is offline (it never asks).
 */
export function isServableAsStored(
  found: boolean,
  checkedAt: number,
  now: number,
  offline: boolean,
): boolean {
  return offline || isFresh(found, checkedAt, now);
}

/** How long an upstream answer is used before it is revalidated (documented in docs/proxy.md). */
export const PAGE_FRESH_MS = 10 * 60 * 1000;
/** How long "the upstream has no such project" is believed. */
export const MISSING_FRESH_MS = 60 * 1000;

export function isFresh(found: boolean, checkedAt: number, now: number): boolean {
  return now - checkedAt < (found ? PAGE_FRESH_MS : MISSING_FRESH_MS);
}
