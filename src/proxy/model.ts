// What pier knows of an upstream project page, independent of the format it came in.
import { parseSdistFilename } from '../packaging/sdist-filename.js';
import { parseWheelFilename } from '../packaging/wheel-filename.js';

export interface UpstreamFile {
  filename: string;
  /** Absolute URL of the file at the upstream (resolved against the page's URL). */
  url: string;
  /** Lowercase hex: a file the upstream lists without one is not offered (it cannot be checked). */
  sha256: string;
  requiresPython: string | null;
  /** false, or the yank reason ('' when none was given). */
  yanked: false | string;
  size: number | null;
  /** ISO 8601, or null when the upstream does not say. */
  uploadTime: string | null;
  /** sha256 of the PEP 658 metadata file, or null when the upstream offers none (or no hash). */
  metadataSha256: string | null;
  /** `str(Version)` of the filename's version. */
  version: string;
}

export type UpstreamErrorCode =
  | 'unreachable'
  | 'timeout'
  | 'status'
  | 'garbage'
  | 'too-large'
  | 'redirect'
  | 'hash-mismatch'
  | 'offline';

/** Something wrong with the upstream: callers branch on `code`; the message is one line. */
export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The version a wheel or sdist filename carries, or null for other kinds (eggs, installers). */
export function versionOfFilename(filename: string): string | null {
  try {
    if (filename.endsWith('.whl')) return parseWheelFilename(filename).version;
    return parseSdistFilename(filename).version;
  } catch {
    return null;
  }
}

export const SHA256_RE = /^[0-9a-f]{64}$/;
