// PyPI's JSON API: /pypi/<name>/json and /pypi/<name>/<version>/json (reference §4), with the
// fields tools use. Each file also carries pier's `provenance`: the trusted publisher and the
// claims of the CI run that uploaded it, when it came through trusted publishing.
import type { Kysely } from 'kysely';
import type { Database, Project, Release } from '../db/schema.js';
import { compareVersions, parseVersion } from '../packaging/versions.js';
import type { UploadMetadata } from '../packaging/upload-metadata.js';
import { filePath } from './model.js';
import { byCodePoint } from '../registry/projects.js';
import { projectOffersFiles } from '../auth/permissions.js';

function pyTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type FileRowLite = {
  filename: string;
  packagetype: string;
  python_version: string;
  comment: string | null;
  size: number;
  md5: string;
  sha256: string;
  blake2_256: string;
  metadata_sha256: string | null;
  uploaded_at: number;
  requires_python: string | null;
  provenance_json: string | null;
  release_id: number;
};

export class JsonApi {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly publicUrl: () => string,
  ) {}

  private fileObject(f: FileRowLite, release: Release) {
    return {
      filename: f.filename,
      packagetype: f.packagetype,
      python_version: f.python_version,
      comment_text: f.comment ?? '',
      size: f.size,
      url: this.publicUrl() + filePath(f.blake2_256, f.filename),
      md5_digest: f.md5,
      digests: { md5: f.md5, sha256: f.sha256, blake2b_256: f.blake2_256 },
      'core-metadata': f.metadata_sha256 ? { sha256: f.metadata_sha256 } : false,
      has_sig: false,
      downloads: -1,
      upload_time: pyTime(f.uploaded_at),
      upload_time_iso_8601: isoTime(f.uploaded_at),
      requires_python: f.requires_python,
      yanked: release.yanked === 1,
      yanked_reason: release.yanked === 1 ? release.yanked_reason : null,
      provenance: f.provenance_json ? (JSON.parse(f.provenance_json) as unknown) : null,
    };
  }

  private info(project: Project, release: Release) {
    const m = JSON.parse(release.metadata_json) as Partial<UploadMetadata>;
    const base = this.publicUrl();
    const list = (v: string[] | undefined) => (v && v.length ? v : null);
    return {
      name: project.name,
      version: release.version,
      summary: m.summary ?? null,
      description: m.description ?? '',
      description_content_type: m.descriptionContentType ?? null,
      keywords: m.keywords ?? null,
      license: m.license ?? null,
      license_expression: m.licenseExpression ?? null,
      license_files: list(m.licenseFiles),
      classifiers: m.classifiers ?? [],
      author: m.author ?? null,
      author_email: m.authorEmail ?? null,
      maintainer: m.maintainer ?? null,
      maintainer_email: m.maintainerEmail ?? null,
      requires_python: m.requiresPython ?? null,
      requires_dist: list(m.requiresDist),
      provides_extra: list(m.providesExtra),
      dynamic: list(m.dynamic),
      platform: m.platforms?.join(', ') || null,
      home_page: m.homePage ?? null,
      download_url: m.downloadUrl ?? null,
      project_urls: m.projectUrls && Object.keys(m.projectUrls).length ? m.projectUrls : null,
      package_url: `${base}/project/${project.normalized_name}/`,
      project_url: `${base}/project/${project.normalized_name}/`,
      release_url: `${base}/project/${project.normalized_name}/${release.version}/`,
      docs_url: null,
      bugtrack_url: null,
      downloads: { last_day: -1, last_week: -1, last_month: -1 },
      yanked: release.yanked === 1,
      yanked_reason: release.yanked === 1 ? release.yanked_reason : null,
    };
  }

  /** The project document, or the release document when `version` is given; null if unknown. */
  async document(project: Project, version?: string): Promise<object | null> {
    const releases = await this.db
      .selectFrom('releases')
      .selectAll()
      .where('project_id', '=', project.id)
      .execute();
    if (releases.length === 0 && version !== undefined) return null;
    let chosen: Release | undefined;
    if (version !== undefined) {
      const canonical = parseVersion(version)?.canonical;
      chosen = releases.find((r) => r.canonical_version === canonical);
      if (!chosen) return null;
    } else {
      // Non-yanked first, then final releases, then the highest version (PyPI's choice).
      chosen = [...releases].sort(
        (a, b) =>
          a.yanked - b.yanked ||
          a.is_prerelease - b.is_prerelease ||
          compareVersions(b.version, a.version),
      )[0];
    }
    const files = !projectOffersFiles(project)
      ? []
      : await this.db
          .selectFrom('files')
          .select([
            'filename',
            'packagetype',
            'python_version',
            'comment',
            'size',
            'md5',
            'sha256',
            'blake2_256',
            'metadata_sha256',
            'uploaded_at',
            'requires_python',
            'provenance_json',
            'release_id',
          ])
          .where('project_id', '=', project.id)
          .execute();
    files.sort((a, b) => byCodePoint(a.filename, b.filename));
    const roles = await this.db
      .selectFrom('project_roles')
      .innerJoin('users', 'users.id', 'project_roles.user_id')
      .select(['users.username', 'project_roles.role'])
      .where('project_roles.project_id', '=', project.id)
      .execute();
    // PyPI's `ownership.organization`: the name of the organisation that owns the project.
    const organization =
      project.organization_id === null
        ? null
        : ((
            await this.db
              .selectFrom('organizations')
              .select('name')
              .where('id', '=', project.organization_id)
              .executeTakeFirst()
          )?.name ?? null);
    const byRelease = new Map<number, FileRowLite[]>();
    for (const f of files) byRelease.set(f.release_id, [...(byRelease.get(f.release_id) ?? []), f]);
    const doc: Record<string, unknown> = {
      info: chosen ? this.info(project, chosen) : { name: project.name, version: null },
      last_serial: project.last_serial,
      urls: chosen ? (byRelease.get(chosen.id) ?? []).map((f) => this.fileObject(f, chosen)) : [],
      vulnerabilities: [],
      ownership: {
        roles: roles.map((r) => ({
          role: r.role === 'owner' ? 'Owner' : 'Maintainer',
          user: r.username,
        })),
        organization,
      },
    };
    if (version === undefined) {
      const sorted = [...releases].sort((a, b) => compareVersions(b.version, a.version));
      doc.releases = Object.fromEntries(
        sorted.map((r) => [
          r.version,
          (byRelease.get(r.id) ?? []).map((f) => this.fileObject(f, r)),
        ]),
      );
    }
    return doc;
  }
}
