// A release's provenance status, as PyPI computes it (`warehouse/attestations/models.py`,
// reference attestations.md §6): from which sources (a publisher: its kind and identity) attested
// each of the release's files, compared with the previous release's sources; and a project's,
// from its releases' (pier's addition). Pure functions.

export type ProvenanceStatus =
  /** No file is attested, and the previous release had none either. */
  | 'none'
  /** Every file is attested, all by the same source, the previous release's (or the first). */
  | 'full'
  /** Some files are attested, by one source, some not. */
  | 'partial'
  /** The files are attested by more than one source. */
  | 'inconsistent'
  /** No file is attested, where the previous release had attestations. */
  | 'lost'
  /** Attested by a source other than the previous release's. */
  | 'changed';

/** Statuses that say the provenance got worse: owners are told (an audit event). */
export const DEGRADED: readonly ProvenanceStatus[] = ['partial', 'inconsistent', 'lost', 'changed'];

/** One file of a release: the sources (canonical strings) that attested it; [] for none. */
export interface FileSources {
  filename: string;
  sources: string[];
}

export function provenanceStatus(
  files: readonly FileSources[],
  previous: readonly string[] | null,
): ProvenanceStatus {
  const sources = new Set(files.flatMap((f) => f.sources));
  const previousSources = new Set(previous ?? []);
  if (sources.size === 0) return previousSources.size > 0 ? 'lost' : 'none';
  if (sources.size > 1) return 'inconsistent';
  if (previousSources.size > 0 && [...sources].some((s) => !previousSources.has(s)))
    return 'changed';
  if (files.some((f) => f.sources.length === 0)) return 'partial';
  return 'full';
}

/** Words for each status, for pages and audit events. */
export const STATUS_TEXT: Record<ProvenanceStatus, string> = {
  none: 'no attestations',
  full: 'every file attested by the same publisher',
  partial: 'some files have no attestation',
  inconsistent: 'files attested by different publishers',
  lost: 'no attestations, where the previous release had them',
  changed: "attested by another publisher than the previous release's",
};

/** A project's provenance: from its releases' statuses (pier's addition to PyPI's). */
export interface ProjectProvenance {
  /**
   * none: no release was ever attested; full: the latest release is attested by the same
   * publisher as before; degraded: the latest release, or the one that lost the attestations
   * the releases after it still lack, made the provenance worse.
   */
  status: 'none' | 'full' | 'degraded';
  /** The release that degraded it (degraded only). */
  version: string | null;
  /** That release's status (degraded only). */
  release: ProvenanceStatus | null;
}

/** `releases` oldest first, each with its status (provenanceStatus against the one before). */
export function projectProvenance(
  releases: readonly { version: string; status: ProvenanceStatus }[],
): ProjectProvenance {
  const latest = releases.at(-1);
  const none: ProjectProvenance = { status: 'none', version: null, release: null };
  if (latest === undefined) return none;
  if (DEGRADED.includes(latest.status))
    return { status: 'degraded', version: latest.version, release: latest.status };
  if (latest.status === 'full') return { status: 'full', version: null, release: null };
  // Unattested, as the release before it: degraded still if an earlier release lost them.
  const lost = releases.findLast((r) => r.status !== 'none');
  if (lost === undefined || lost.status === 'full') return none;
  return { status: 'degraded', version: lost.version, release: lost.status };
}

/** A release as the previous-release rule sees it. */
export interface ReleaseOrder {
  id: number;
  createdAt: number;
}

/**
 * Each release's previous release, the one its status is compared with: the other release of the
 * project created last at or before it (of two created at the same instant, the larger id); null
 * for the first. One pass over the releases sorted by (created at, id).
 */
export function previousReleases(releases: readonly ReleaseOrder[]): Map<number, number | null> {
  const sorted = [...releases].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  const previous = new Map<number, number | null>();
  for (let start = 0; start < sorted.length;) {
    let end = start;
    while (end + 1 < sorted.length && sorted[end + 1]!.createdAt === sorted[start]!.createdAt)
      end++;
    const before = start > 0 ? sorted[start - 1]!.id : null;
    for (let i = start; i <= end; i++) {
      // Another release of the same instant comes first: the largest id among the others.
      const other = i === end ? (end > start ? sorted[end - 1]!.id : null) : sorted[end]!.id;
      previous.set(sorted[i]!.id, other ?? before);
    }
    start = end + 1;
  }
  return previous;
}
