// A release's row, made from the metadata of the upload that creates it: written by an upload
// (src/registry/upload/pipeline.ts) and by a staged release's approval (src/registry/staged.ts),
// so both make the same row from the same metadata.
import type { Insertable } from 'kysely';
import type { ReleasesTable } from '../db/schema.js';
import type { UploadMetadata } from '../packaging/upload-metadata.js';
import { parseVersion } from '../packaging/versions.js';

export function releaseRow(
  projectId: number,
  metadata: UploadMetadata,
  opts: { createdAt: number; yanked?: { reason: string | null } | null },
): Insertable<ReleasesTable> {
  return {
    project_id: projectId,
    version: metadata.version,
    canonical_version: metadata.canonicalVersion,
    is_prerelease: parseVersion(metadata.version)?.isPrerelease ? 1 : 0,
    requires_python: metadata.requiresPython,
    summary: metadata.summary,
    metadata_json: JSON.stringify(metadata),
    yanked: opts.yanked ? 1 : 0,
    yanked_reason: opts.yanked?.reason ?? null,
    created_at: opts.createdAt,
  };
}
