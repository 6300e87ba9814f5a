/**
 * Project names: validity (core metadata `Name`, PEP 508) and normalization (PEP 503).
 *
 * Spec: packaging.python.org `name-normalization.rst`; reference implementation
 * `packaging.utils.canonicalize_name`. PyPI's "ultranormalized" similarity form comes from
 * Warehouse's `ultranormalize_name` SQL function.
 */

/**
 * `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z`, ignore-case, ASCII only.
 * In a JavaScript regular expression without the `m` flag `$` is `\Z` (no trailing newline), and
 * the non-Unicode `i` flag never folds a non-ASCII character (`ſ`, the Kelvin sign) onto ASCII.
 */
const VALID_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function isValidProjectName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** PEP 503: lowercase, then every run of `-`, `_` and `.` becomes one `-`. Does not validate. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * PyPI's anti-typosquatting form (Warehouse `ultranormalize_name`): remove `.`, `_` and `-`,
 * map `l`, `L`, `i`, `I` to `1` and `o`, `O` to `0`, lowercase.
 */
export function ultranormalizeProjectName(name: string): string {
  return name
    .replace(/[._-]/g, '')
    .replace(/[lLiI]/g, '1')
    .replace(/[oO]/g, '0')
    .toLowerCase();
}

/** The name as it appears in wheel and sdist filenames (PEP 427, PEP 625): `friendly_bard`. */
export function filenameProjectName(name: string): string {
  return normalizeProjectName(name).replace(/-/g, '_');
}
