// Whether two trusted publishers of one provider could both match the same CI job: the rule
// that keeps pending publishers of different users from competing for one job (the later
// registration is refused). Pure functions over stored configurations, one per provider. They
// are conservative: "disjoint" only when a field both publishers constrain exactly differs (or
// their ref patterns provably match no common ref); anything else may overlap.
//
// Both publishers are assumed to share the issuer and the lookup key (the repository, project
// path, email or organization/project), which the caller compares.
import { foldCase, optionalField } from './providers/core.js';
import { refMatches } from './providers/ref-glob.js';
import type {
  ActiveStateConfig,
  GitHubConfig,
  GitLabConfig,
  GoogleConfig,
  ProviderKind,
} from './providers/types.js';

/** Two optional exact fields ('' = any) can both pass for one claim value. */
function optionalOverlap(a: string, b: string, fold: (s: string) => string = (s) => s): boolean {
  return a === '' || b === '' || fold(a) === fold(b);
}

function literalPrefix(pattern: string): string {
  const star = pattern.indexOf('*');
  return star < 0 ? pattern : pattern.slice(0, star);
}

function literalSuffix(pattern: string): string {
  const star = pattern.lastIndexOf('*');
  return star < 0 ? pattern : pattern.slice(star + 1);
}

/**
 * Whether some git ref matches both ref patterns ('' = any ref). Exact when either pattern has
 * no wildcard; otherwise disjoint only when their fixed beginnings or ends contradict each other.
 */
export function refPatternsOverlap(a: string, b: string): boolean {
  if (a === '' || b === '') return true;
  if (!a.includes('*')) return refMatches(b, a);
  if (!b.includes('*')) return refMatches(a, b);
  const [pa, pb] = [literalPrefix(a), literalPrefix(b)];
  if (!pa.startsWith(pb) && !pb.startsWith(pa)) return false;
  const [sa, sb] = [literalSuffix(a), literalSuffix(b)];
  if (!sa.endsWith(sb) && !sb.endsWith(sa)) return false;
  return true;
}

// GitHub: the owner id and the workflow file are compared exactly, the environment in any case.
function githubOverlap(a: GitHubConfig, b: GitHubConfig): boolean {
  return (
    a.ownerId === b.ownerId &&
    a.workflow === b.workflow &&
    optionalOverlap(optionalField(a.environment), optionalField(b.environment), foldCase) &&
    refPatternsOverlap(optionalField(a.ref), optionalField(b.ref))
  );
}

// GitLab: the pipeline file and the environment are compared exactly.
function gitlabOverlap(a: GitLabConfig, b: GitLabConfig): boolean {
  return (
    a.workflowPath === b.workflowPath &&
    optionalOverlap(optionalField(a.environment), optionalField(b.environment)) &&
    refPatternsOverlap(optionalField(a.ref), optionalField(b.ref))
  );
}

// Google: the email is the lookup key; the subject, when given, is exact.
function googleOverlap(a: GoogleConfig, b: GoogleConfig): boolean {
  return optionalOverlap(optionalField(a.sub), optionalField(b.sub));
}

// ActiveState: the actor id is exact.
function activestateOverlap(a: ActiveStateConfig, b: ActiveStateConfig): boolean {
  return a.actorId === b.actorId;
}

const OVERLAP: { [K in ProviderKind]: (a: never, b: never) => boolean } = {
  github: githubOverlap,
  gitlab: gitlabOverlap,
  google: googleOverlap,
  activestate: activestateOverlap,
};

/** Whether a job could satisfy both publishers' rules (same issuer and lookup key assumed). */
export function publishersMayOverlap(kind: ProviderKind, a: unknown, b: unknown): boolean {
  return (OVERLAP[kind] as (a: unknown, b: unknown) => boolean)(a, b);
}
