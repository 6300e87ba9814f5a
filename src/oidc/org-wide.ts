// Organisation-wide trusted publishers (docs/organizations.md "Organisation-wide publishers"):
// the one rule for which projects such a publisher covers, used by the exchange (which projects
// a minted token lists), by token validation (which of them it still covers) and by uploads.
import { badRequest } from '../errors.js';
import { normalizeProjectName } from '../packaging/names.js';

/** A pattern's characters: those of project names, and the glob's `*` (any run) and `?` (one). */
const PATTERN_RE = /^[A-Za-z0-9._*?-]+$/;

/**
 * The stored form of a project-name pattern: normalized as project names are (lowercase, runs of
 * `-`, `_`, `.` as one `-`), so `Acme_*` and `acme-*` are one pattern. Absent: `*`, every project.
 */
export function parseOrgWidePattern(pattern: string | undefined): string {
  if (pattern === undefined) return '*';
  const trimmed = pattern.trim();
  if (trimmed === '')
    throw badRequest(
      "The project pattern is empty: give a glob of project names such as 'acme-*', or leave it out for every project of the organisation",
    );
  if (!PATTERN_RE.test(trimmed))
    throw badRequest(
      `The project pattern '${pattern}' may only hold the characters of project names (letters, digits, '-', '_', '.') and the globs '*' and '?'`,
    );
  return normalizeProjectName(trimmed);
}

function patternRegExp(pattern: string): RegExp {
  // Only [a-z0-9*?-] reach here (parseOrgWidePattern): '-' is literal outside a class.
  const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c)).join('');
  return new RegExp(`^${body}$`);
}

/** Whether a normalized project name matches a stored pattern. */
export function matchesOrgWidePattern(pattern: string, normalizedName: string): boolean {
  return patternRegExp(pattern).test(normalizedName);
}

/**
 * Whether an organisation-wide publisher covers a project now: the project is owned by the
 * publisher's organisation and its normalized name matches the pattern. Never a project of
 * another owner, whatever the pattern.
 */
export function orgWideCovers(
  publisher: { organization_id: number | null; org_wide_pattern: string | null },
  project: { organization_id: number | null; normalized_name: string },
): boolean {
  if (publisher.org_wide_pattern === null || publisher.organization_id === null) return false;
  if (project.organization_id === null || project.organization_id !== publisher.organization_id)
    return false;
  return matchesOrgWidePattern(publisher.org_wide_pattern, project.normalized_name);
}
