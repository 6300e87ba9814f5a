// What a minted token records about who published, and what each file uploaded with it shows.
// A token covers the projects of every publisher whose rules the job passed, so it records
// them all (`publishers`, each with the projects it granted); `publisher` is the first of them.
// A file records the publisher that trusts the file's own project, never another one.

export interface ProvenancePublisher {
  id: number;
  kind: string;
  issuer: string;
  description: string;
  url: string | null;
}

export interface Provenance {
  publisher: ProvenancePublisher;
  claims: Record<string, string | null>;
  /** Every publisher of the mint, with the normalized names of the projects it granted. */
  publishers?: (ProvenancePublisher & { projects: string[] })[];
}

/**
 * What a file published by approving a staged release (src/registry/staged.ts) adds to its
 * provenance, beside the publisher and claims of the upload (if any): who approved, when, and
 * the staged release (its id, and who staged it).
 */
export interface StagedApproval {
  by: string;
  user: string | null;
  at: string;
  staged_release: string;
  staged_by: string;
}

/**
 * A minted token's provenance (its `claims_json`) as recorded on a file of `normalizedName`: the
 * publisher that granted that project and the run's claims. Tokens minted for one publisher
 * (and before tokens could have several) are returned unchanged.
 */
export function provenanceForProject(
  claimsJson: string | null,
  normalizedName: string,
): string | null {
  if (claimsJson === null) return null;
  const p = JSON.parse(claimsJson) as Provenance;
  if (!Array.isArray(p.publishers)) return claimsJson;
  const granting = p.publishers.find((g) => g.projects.includes(normalizedName));
  if (!granting) return claimsJson;
  const { projects: _projects, ...publisher } = granting;
  return JSON.stringify({ publisher, claims: p.claims });
}
