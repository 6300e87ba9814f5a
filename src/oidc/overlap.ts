// Whether two trusted publishers of one provider could both match the same CI job: the rule
// that keeps pending publishers of different users from competing for one job (the later
// registration is refused). Each provider's `overlaps` (src/oidc/providers/<kind>) is a pure
// function over stored configurations. They are conservative: "disjoint" only when a field both
// publishers constrain exactly differs (or their ref patterns provably match no common ref);
// anything else may overlap.
//
// Both publishers are assumed to share the issuer and the lookup key (the repository, project
// path, email or organization/project), which the caller compares.
import { PROVIDERS } from './providers/index.js';
import type { ProviderKind } from './providers/types.js';

export { refPatternsOverlap } from './providers/ref-glob.js';

/** Whether a job could satisfy both publishers' rules (same issuer and lookup key assumed). */
export function publishersMayOverlap(kind: ProviderKind, a: unknown, b: unknown): boolean {
  return PROVIDERS[kind].overlaps(a, b);
}
