/**
 * PEP 440 versions and version specifiers (packaging.python.org `version-specifiers.rst`),
 * with the semantics of pypa/packaging's `Version`, `canonicalize_version` and `SpecifierSet`.
 *
 * Parsing wraps `@renovatebot/pep440`: its grammar (`VERSION_PATTERN`, the same regular expression
 * as packaging's) decides validity and its `explain()` spells the pre-release letters (`alpha` ->
 * `a`, `c`/`pre`/`preview` -> `rc`). This wrapper fixes three differences from packaging:
 *
 * - integers are kept exact (BigInt); the library turns `99999999999999999999` into a lossy float;
 * - local segments are normalized per PEP 440; the library reads `1e5` and `0x10` as numbers
 *   (`1.0+0x10` -> `1.0+16`) and its `clean()` joins local segments with commas;
 * - ordering compares those exact values (the library's `compare` has the same two defects),
 *   so `compareVersions` builds packaging's `_cmpkey` here.
 *
 * Specifier sets follow packaging's `Specifier._specifier_regex_str`, ported below, because the
 * library's `RANGE_PATTERN` differs from it: it accepts `==1.0a1.*`, rejects empty items
 * (`>=1,,<2`, accepted by `SpecifierSet`) and rejects a bare `===`.
 */
import pep440 from '@renovatebot/pep440';
import pep440Version from '@renovatebot/pep440/lib/version.js';
import { PackagingError, pythonRepr } from './errors.js';

export interface Pep440Version {
  /** `str(Version(text))`: the normalized form, trailing zeros kept (`1.0.0` stays `1.0.0`). */
  normalized: string;
  /** `canonicalize_version(text)`: normalized with all trailing `.0` stripped (`1.0.0` -> `1`). */
  canonical: string;
  /** A pre-release or development release (`1.0a1`, `1.0.dev0`, `1.0.post1.dev0`). */
  isPrerelease: boolean;
  /** Has a `+local` label. */
  isLocal: boolean;
  /** The normalized form without its local label. */
  public: string;
}

type LocalSegment = bigint | string;

interface VersionParts {
  epoch: bigint;
  release: bigint[];
  pre: [string, bigint] | null;
  post: bigint | null;
  dev: bigint | null;
  local: LocalSegment[] | null;
}

/** Python's whitespace (`str.isspace()`, `\s` in `re`), which differs from JavaScript's `\s`. */
const SPACE_CHARS = String.raw`\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const SPACE = `[${SPACE_CHARS}]`;
const SURROUNDING_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, 'g');

/** Python's `str.strip()`. */
function strip(text: string): string {
  return text.replace(SURROUNDING_SPACE, '');
}

/** packaging's `Version._regex`: the pattern, surrounding whitespace allowed, ignore-case. */
const VERSION_RE = new RegExp(`^${SPACE}*${pep440Version.VERSION_PATTERN}${SPACE}*$`, 'i');

function parseParts(text: string): VersionParts | null {
  const groups = VERSION_RE.exec(text)?.groups;
  if (!groups) return null;
  const explained = pep440.explain(strip(text));
  if (!explained || groups.release === undefined) return null;
  const preLetter = explained.pre?.[0];
  return {
    epoch: BigInt(groups.epoch ?? '0'),
    release: groups.release.split('.').map((n) => BigInt(n)),
    pre: typeof preLetter === 'string' ? [preLetter, BigInt(groups.pre_n ?? '0')] : null,
    post: explained.is_postrelease ? BigInt(groups.post_n1 ?? groups.post_n2 ?? '0') : null,
    dev: explained.is_devrelease ? BigInt(groups.dev_n ?? '0') : null,
    local:
      groups.local === undefined
        ? null
        : groups.local
            .split(/[-_.]/)
            .map((segment) => (/^[0-9]+$/.test(segment) ? BigInt(segment) : segment.toLowerCase())),
  };
}

/** `str(Version)`; with `trimRelease`, `str(_TrimmedRelease)` as used by `canonicalize_version`. */
function format(parts: VersionParts, { trimRelease = false, withLocal = true } = {}): string {
  let release = parts.release;
  if (trimRelease) {
    let end = release.length;
    while (end > 1 && release[end - 1] === 0n) end--;
    release = release.slice(0, end);
  }
  let text = parts.epoch !== 0n ? `${parts.epoch}!` : '';
  text += release.join('.');
  if (parts.pre) text += `${parts.pre[0]}${parts.pre[1]}`;
  if (parts.post !== null) text += `.post${parts.post}`;
  if (parts.dev !== null) text += `.dev${parts.dev}`;
  if (withLocal && parts.local) text += `+${parts.local.join('.')}`;
  return text;
}

/** Parses a PEP 440 version as `packaging.version.Version` does; `null` when invalid. */
export function parseVersion(text: string): Pep440Version | null {
  const parts = parseParts(text);
  if (!parts) return null;
  return {
    normalized: format(parts),
    canonical: format(parts, { trimRelease: true }),
    isPrerelease: parts.pre !== null || parts.dev !== null,
    isLocal: parts.local !== null,
    public: format(parts, { withLocal: false }),
  };
}

// --- Ordering (PEP 440 "Summary of permitted suffixes and relative ordering"; packaging _cmpkey)

const NEGATIVE_INFINITY = Symbol('-inf');
const INFINITY = Symbol('+inf');
type KeyItem = bigint | string | typeof NEGATIVE_INFINITY | typeof INFINITY | KeyItem[];

function sortKey(parts: VersionParts): KeyItem[] {
  // Trailing zeros never matter: 1.0 == 1.0.0.
  const release = [...parts.release];
  while (release.length > 0 && release[release.length - 1] === 0n) release.pop();
  // 1.0.dev0 sorts before 1.0a0; a final release sorts after its pre-releases.
  let pre: KeyItem;
  if (parts.pre === null && parts.post === null && parts.dev !== null) pre = NEGATIVE_INFINITY;
  else if (parts.pre === null) pre = INFINITY;
  else pre = [parts.pre[0], parts.pre[1]];
  const post: KeyItem = parts.post ?? NEGATIVE_INFINITY;
  const dev: KeyItem = parts.dev ?? INFINITY;
  // A local version sorts after its public version; numeric segments beat alphanumeric ones.
  const local: KeyItem =
    parts.local === null
      ? NEGATIVE_INFINITY
      : parts.local.map((s) => (typeof s === 'bigint' ? [s, ''] : [NEGATIVE_INFINITY, s]));
  return [parts.epoch, release, pre, post, dev, local];
}

function compareKeys(a: KeyItem, b: KeyItem): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const order = compareKeys(a[i] as KeyItem, b[i] as KeyItem);
      if (order !== 0) return order;
    }
    return Math.sign(a.length - b.length);
  }
  if (a === b) return 0;
  if (a === NEGATIVE_INFINITY || b === INFINITY) return -1;
  if (a === INFINITY || b === NEGATIVE_INFINITY) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function requireParts(text: string): VersionParts {
  const parts = parseParts(text);
  if (!parts) throw new PackagingError(`Invalid version: ${pythonRepr(text)}`);
  return parts;
}

/** PEP 440 sort order: negative, zero or positive. Throws `PackagingError` for an invalid version. */
export function compareVersions(a: string, b: string): number {
  return compareKeys(sortKey(requireParts(a)), sortKey(requireParts(b)));
}

/** PEP 440 `==` of two versions: `1.0 == 1.0.0`, `1.0 != 1.0+local`. False if either is invalid. */
export function versionsEqual(a: string, b: string): boolean {
  const left = parseParts(a);
  const right = parseParts(b);
  return left !== null && right !== null && compareKeys(sortKey(left), sortKey(right)) === 0;
}

// --- Version specifiers (packaging `Specifier._specifier_regex_str`, `SpecifierSet`)

const PRE = String.raw`(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?`;
const POST = String.raw`(?:(?:-[0-9]+)|(?:[-_.]?(?:post|rev|r)[-_.]?[0-9]*))?`;
const DEV = String.raw`(?:[-_.]?dev[-_.]?[0-9]*)?`;
const LOCAL = String.raw`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?`;
const RELEASE = String.raw`v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*`;

/**
 * One version specifier (`>=1.0`, `==1.0.*`, `~=2.2`, `===foo`), without surrounding whitespace;
 * compile it with the `i` flag. `===` takes any text but whitespace, `;` and `)`; `==`/`!=` allow a
 * `.*` suffix or a local label; `~=` needs two release segments; the others allow neither.
 */
export const SPECIFIER_PATTERN =
  `(?:(?:===${SPACE}*[^${SPACE_CHARS};)]*)` +
  `|(?:(?:==|!=)${SPACE}*${RELEASE}(?:\\.\\*|${PRE}${POST}${DEV}${LOCAL})?)` +
  `|(?:~=${SPACE}*v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)+${PRE}${POST}${DEV})` +
  `|(?:(?:<=|>=|<|>)${SPACE}*${RELEASE}${PRE}${POST}${DEV}))`;

const SPECIFIER_RE = new RegExp(`^${SPACE}*${SPECIFIER_PATTERN}${SPACE}*$`, 'i');

/** `SpecifierSet(text)` items: split on `,`, stripped, empty items dropped. */
function specifierItems(text: string): string[] {
  return text
    .split(',')
    .map(strip)
    .filter((item) => item !== '');
}

/** Whether `SpecifierSet(text)` accepts the text, e.g. `>=3.8, <4` (an empty set is valid). */
export function isValidSpecifierSet(text: string): boolean {
  return specifierItems(text).every((item) => SPECIFIER_RE.test(item));
}

/**
 * `str(SpecifierSet(text))`: each specifier as operator + version, duplicates removed and sorted
 * when there are several, joined by `,` (`>=3.8, <4` -> `<4,>=3.8`). This is the form Warehouse
 * stores for Requires-Python. Throws `PackagingError` for an invalid set.
 */
export function normalizeSpecifierSet(text: string): string {
  const specs = specifierItems(text).map((item) => {
    if (!SPECIFIER_RE.test(item))
      throw new PackagingError(`Invalid specifier: ${pythonRepr(item)}`);
    const opLength = item.startsWith('===') ? 3 : /^(~=|==|!=|<=|>=)/.test(item) ? 2 : 1;
    return item.slice(0, opLength) + strip(item.slice(opLength));
  });
  return specs.length <= 1 ? specs.join(',') : [...new Set(specs)].sort().join(',');
}
