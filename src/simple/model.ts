// What a Simple API project page says, independent of its serialization.
import type { Kysely } from 'kysely';
import type { Database, Project } from '../db/schema.js';
import { compareVersions } from '../packaging/versions.js';
import type { ProjectNamespace } from '../namespaces/rules.js';
import { projectOffersFiles } from '../auth/permissions.js';
import { provenanceUrl } from '../attestations/integrity.js';

/** The HTML API's version: PEP 833 froze it at 1.4. */
export const API_VERSION = '1.4';
/** The JSON API's version: 1.5 with PEP 752's `namespaces` key and endpoints. */
export const JSON_API_VERSION = '1.5';

export interface SimpleFile {
  filename: string;
  url: string;
  sha256: string;
  requiresPython: string | null;
  /** sha256 of the PEP 658 metadata file, or null when there is none (sdists). */
  metadataSha256: string | null;
  /** false, or the yank reason ('' when none was given). */
  yanked: false | string;
  /** null only for a proxied file whose upstream does not state it (left out of the JSON). */
  size: number | null;
  /** null only for a proxied file whose upstream does not state it (left out of the JSON). */
  uploadTime: string | null;
  version: string;
  /** PEP 740: the file's provenance URL (the Integrity API), or null when it has none. */
  provenance: string | null;
}

export interface SimpleProjectPage {
  name: string;
  status: string;
  serial: number;
  versions: string[];
  files: SimpleFile[];
  /** PEP 752 (JSON only): the reserved namespaces the project matches, or null. */
  namespaces: ProjectNamespace[] | null;
}

/** The URL a file is served at: PyPI's layout, by the file's BLAKE2b-256. */
export function filePath(blake2: string, filename: string): string {
  return `/packages/${blake2.slice(0, 2)}/${blake2.slice(2, 4)}/${blake2.slice(4)}/${encodeURIComponent(filename)}`;
}

export async function loadProjectPage(
  db: Kysely<Database>,
  project: Pick<Project, 'id' | 'normalized_name' | 'status' | 'last_serial'>,
  publicUrl: string,
  namespaces: ProjectNamespace[] | null,
): Promise<SimpleProjectPage> {
  const rows = !projectOffersFiles(project)
    ? []
    : await db
        .selectFrom('files')
        .innerJoin('releases', 'releases.id', 'files.release_id')
        .select([
          'files.filename',
          'files.sha256',
          'files.blake2_256',
          'files.requires_python',
          'files.metadata_sha256',
          'files.size',
          'files.uploaded_at',
          'releases.version',
          'releases.yanked',
          'releases.yanked_reason',
          (eb) =>
            eb
              .exists(
                eb
                  .selectFrom('file_attestations')
                  .select('file_attestations.id')
                  .whereRef('file_attestations.file_id', '=', 'files.id'),
              )
              .as('attested'),
        ])
        .where('files.project_id', '=', project.id)
        .execute();
  const files: SimpleFile[] = rows.map((r) => ({
    filename: r.filename,
    url: publicUrl + filePath(r.blake2_256, r.filename),
    sha256: r.sha256,
    requiresPython: r.requires_python,
    metadataSha256: r.metadata_sha256,
    yanked: r.yanked === 1 ? (r.yanked_reason ?? '') : false,
    size: r.size,
    uploadTime: new Date(r.uploaded_at).toISOString().replace(/\.000Z$/, 'Z'),
    version: r.version,
    // SQLite answers EXISTS with 0 or 1, PostgreSQL with a boolean.
    provenance:
      Number(r.attested) === 1 || r.attested === true
        ? provenanceUrl(publicUrl, project.normalized_name, r.version, r.filename)
        : null,
  }));
  files.sort(
    (a, b) =>
      compareVersions(a.version, b.version) ||
      (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0),
  );
  const versions = [...new Set(files.map((f) => f.version))];
  return {
    name: project.normalized_name,
    status: project.status,
    serial: project.last_serial,
    versions,
    files,
    namespaces,
  };
}
