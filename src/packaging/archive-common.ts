/**
 * Shared pieces of the archive inspectors: the byte-source contract, the limits, the error type
 * and the member-name rules.
 *
 * Spec: reference §2.3 step 19 (Warehouse `_is_valid_dist_file` messages), §3.5 (extracting
 * metadata), PUG `source-distribution-format.rst` (unpacking safety).
 */
import { PackagingError } from './errors.js';

/**
 * Random access to stored bytes (the filesystem and S3 blob stores implement this).
 *
 * `read` returns exactly `length` bytes or rejects. `stream` returns a Node.js `Readable`
 * (it must support `destroy()`, the inspectors stop reading early) of the bytes from `start`
 * to `end` inclusive, like `fs.createReadStream`.
 */
export interface ByteSource {
  readonly size: number;
  /** All the bytes, when the source holds them in memory (members are then inflated at once). */
  readonly bytes?: Buffer;
  read(offset: number, length: number): Promise<Buffer>;
  stream(start?: number, end?: number): NodeJS.ReadableStream;
}

export interface ArchiveLimits {
  /** Largest METADATA, WHEEL or PKG-INFO read into memory, counted in inflated bytes. */
  maxMetadataBytes: number;
  /** Warehouse `COMPRESSION_RATIO_THRESHOLD`: uncompressed / compressed file size. */
  maxCompressionRatio: number;
  /** Warehouse `COMPRESSION_RATIO_MIN_SIZE`: the ratio rule applies only above this many bytes. */
  ratioThresholdBytes: number;
  /** Most members (zip central-directory entries, tar entries) an archive may have. */
  maxMembers: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxMetadataBytes: 16 * MiB,
  maxCompressionRatio: 50,
  ratioThresholdBytes: 64 * MiB,
  maxMembers: 100_000,
});

/** Longest member name accepted, in UTF-16 code units (Linux `PATH_MAX` is 4096 bytes). */
export const MAX_MEMBER_NAME_LENGTH = 4096;
/** Total length of all member names kept in memory (bounds `members` for any input). */
export const MAX_TOTAL_NAME_LENGTH = 32 * MiB;

export function resolveLimits(limits?: Partial<ArchiveLimits>): ArchiveLimits {
  const merged = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  for (const [key, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !(value > 0)) {
      throw new RangeError(`archive limit ${key} must be a positive number, got ${String(value)}`);
    }
  }
  return merged;
}

/**
 * The stored distribution is not acceptable.
 *
 * By default `message` is the text that follows `Invalid distribution file. ` in the 400 response
 * (Warehouse §2.3 step 19 and pier's own archive-safety rules, worded in the same style).
 * When `distributionFilePrefix` is false, `message` is a complete Warehouse message sent as it is
 * (only the missing METADATA of step 21.9). `responseMessage` gives the full text either way.
 */
export class InvalidArchiveError extends PackagingError {
  readonly distributionFilePrefix: boolean;

  constructor(
    message: string,
    options: { distributionFilePrefix?: boolean; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'InvalidArchiveError';
    this.distributionFilePrefix = options.distributionFilePrefix ?? true;
    if (options.cause !== undefined) this.cause = options.cause;
  }

  /** The complete text for the 400 response. */
  get responseMessage(): string {
    return this.distributionFilePrefix
      ? `Invalid distribution file. ${this.message}`
      : this.message;
  }
}

/** Warehouse texts of §2.3 step 19, plus the wording of pier's own archive rules. */
export const Messages = {
  bothZipAndTar: 'File is both a zip and a tar file',
  notZip: 'File is not a zipfile',
  notTar: 'File is not a tarfile',
  ratio: (ratio: number) => `File exceeds compression ratio of ${ratio}`,
  compressionType: 'File does not use a supported compression type',
  topLevel: 'Incorrect number of top-level directories in sdist',
  pkgInfoNotFound: (top: string) => `PKG-INFO not found at ${top}/PKG-INFO`,
  wheelNotFound: (path: string) => `WHEEL not found at ${path}`,
  metadataNotFound: (filename: string, path: string) =>
    `Wheel '${filename}' does not contain the required METADATA file: ${path}`,
  sparse: 'tar archive not accepted: Sparse members are not allowed.',
  zip: (reason: string) => `ZIP archive not accepted: ${reason}.`,
  tar: (reason: string) => `tar archive not accepted: ${reason}.`,
} as const;

const sourceErrors = new WeakSet<object>();

/** Marks an error as coming from the byte source (storage), not from the archive's contents. */
export function markSourceError(err: unknown): unknown {
  if (typeof err === 'object' && err !== null) sourceErrors.add(err);
  return err;
}

export function isSourceError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && sourceErrors.has(err);
}

/** A member name as it can safely appear in a one-line message: quoted, escaped, shortened. */
export function quoteName(name: string): string {
  const shown = name.length > 200 ? `${name.slice(0, 200)}…` : name;

  const escaped = shown.replace(/[\u0000-\u001f\u007f'\\]/g, (c) =>
    c === "'" || c === '\\' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return `'${escaped}'`;
}

/**
 * Why a member name may not be stored, or null if it is fine. Refused: empty names, NUL, names
 * longer than `MAX_MEMBER_NAME_LENGTH`, absolute paths (`/x`, and `C:` drive paths when
 * `windowsAbsolute`), `..` components (path traversal) and, when `backslash`, any backslash
 * (a Windows separator that `..\\` traversal hides behind).
 */
export function memberNameProblem(
  name: string,
  rules: { backslash: boolean; windowsAbsolute: boolean },
): string | null {
  if (name.length === 0) return 'Member with an empty name';
  if (name.length > MAX_MEMBER_NAME_LENGTH) {
    return `Member name ${quoteName(name)} is longer than ${MAX_MEMBER_NAME_LENGTH} characters`;
  }
  if (name.includes('\0')) return `Member name ${quoteName(name)} contains a NUL character`;
  if (rules.backslash && name.includes('\\')) {
    return `Member name ${quoteName(name)} contains a backslash`;
  }
  if (name.startsWith('/') || (rules.windowsAbsolute && /^[A-Za-z]:/.test(name))) {
    return `Member name ${quoteName(name)} is an absolute path`;
  }
  if (name.split('/').includes('..')) {
    return `Member name ${quoteName(name)} contains '..' (path traversal)`;
  }
  return null;
}

/** Keeps the running total of member-name lengths under `MAX_TOTAL_NAME_LENGTH`. */
export class NameBudget {
  private used = 0;
  constructor(private readonly fail: (reason: string) => Error) {}
  take(name: string): void {
    this.used += name.length;
    if (this.used > MAX_TOTAL_NAME_LENGTH) {
      throw this.fail(`Member names exceed ${MAX_TOTAL_NAME_LENGTH} characters in total`);
    }
  }
}

/**
 * True if `block` is a tar header Python's `tarfile` would accept as the first member: not all
 * zeros, and its checksum field (octal, or base-256) matches the unsigned or signed sum of the
 * block with the checksum field counted as spaces.
 */
export function looksLikeTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  let allZero = true;
  for (let i = 0; i < 512; i++) {
    if (block[i] !== 0) {
      allZero = false;
      break;
    }
  }
  if (allZero) return false;
  const field = block.subarray(148, 156);
  let stored: number;
  if (field[0] === 0o200 || field[0] === 0o377) {
    // base-256 (tarfile.nti): big-endian, the first byte only marks the encoding
    let n = 0;
    for (let i = 1; i < 8; i++) n = n * 256 + (field[i] ?? 0);
    stored = field[0] === 0o377 ? n - 256 ** 7 : n;
  } else {
    const nul = field.indexOf(0);
    const text = field
      .subarray(0, nul === -1 ? 8 : nul)
      .toString('latin1')
      .trim();
    if (!/^[0-7]*$/.test(text)) return false;
    stored = text === '' ? 0 : parseInt(text, 8);
  }
  let unsigned = 8 * 32;
  let signed = 8 * 32;
  for (let i = 0; i < 512; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i] ?? 0;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}
