// PyPI's JSON API (/pypi/<name>/json, /pypi/<name>/<version>/json) for a proxied project, as far
// as the upstream's Simple page tells: releases and their files (hashes, sizes, upload times,
// requires-python, yanks), with URLs on pier's origin. Descriptive metadata (summary, classifiers)
// is not on a Simple page and is left null, as PyPI leaves fields a project did not give.
import pep440 from '@renovatebot/pep440';
import { compareVersions, parseVersion } from '../packaging/versions.js';
import type { UpstreamFile } from './model.js';
import { proxiedFilePath } from './page.js';
import type { ProxiedPage } from './service.js';

function packagetype(filename: string): string {
  return filename.endsWith('.whl') ? 'bdist_wheel' : 'sdist';
}

function pythonVersion(filename: string): string {
  if (!filename.endsWith('.whl')) return 'source';
  const parts = filename.slice(0, -4).split('-');
  return parts[parts.length - 3] ?? 'py3';
}

function fileObject(page: ProxiedPage, f: UpstreamFile, publicUrl: string) {
  const time = f.uploadTime ? new Date(f.uploadTime) : null;
  const valid = time !== null && Number.isFinite(time.getTime());
  return {
    filename: f.filename,
    packagetype: packagetype(f.filename),
    python_version: pythonVersion(f.filename),
    comment_text: '',
    size: f.size,
    url: publicUrl + proxiedFilePath(page.name, f.sha256, f.filename),
    digests: { sha256: f.sha256 },
    'core-metadata': f.metadataSha256 ? { sha256: f.metadataSha256 } : false,
    has_sig: false,
    downloads: -1,
    upload_time: valid ? time.toISOString().slice(0, 19) : null,
    upload_time_iso_8601: valid ? time.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') : null,
    requires_python: f.requiresPython,
    yanked: f.yanked !== false,
    yanked_reason: f.yanked === false || f.yanked === '' ? null : f.yanked,
    provenance: null,
  };
}

/** The document, or null when the version is unknown. */
export function proxiedJsonDocument(
  page: ProxiedPage,
  publicUrl: string,
  version?: string,
): object | null {
  const versions = [...new Set(page.files.map((f) => f.version))];
  const filesOf = (v: string) =>
    page.files
      .filter((f) => f.version === v)
      .sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  const yanked = (v: string) => filesOf(v).every((f) => f.yanked !== false);
  let chosen: string | undefined;
  if (version !== undefined) {
    const canonical = parseVersion(version)?.canonical;
    chosen = versions.find((v) => parseVersion(v)?.canonical === canonical);
    if (!chosen) return null;
  } else {
    // Non-yanked first, then final releases, then the highest version (PyPI's choice).
    chosen = [...versions].sort(
      (a, b) =>
        Number(yanked(a)) - Number(yanked(b)) ||
        Number(pep440.parse(a)?.is_prerelease ?? false) -
          Number(pep440.parse(b)?.is_prerelease ?? false) ||
        compareVersions(b, a),
    )[0];
  }
  const chosenFiles = chosen ? filesOf(chosen) : [];
  const doc: Record<string, unknown> = {
    info: chosen
      ? {
          name: page.name,
          version: chosen,
          summary: null,
          requires_python: chosenFiles.find((f) => f.requiresPython)?.requiresPython ?? null,
          yanked: yanked(chosen),
          yanked_reason: null,
        }
      : { name: page.name, version: null },
    last_serial: 0,
    urls: chosenFiles.map((f) => fileObject(page, f, publicUrl)),
    vulnerabilities: [],
  };
  if (version === undefined)
    doc.releases = Object.fromEntries(
      [...versions]
        .sort((a, b) => compareVersions(b, a))
        .map((v) => [v, filesOf(v).map((f) => fileObject(page, f, publicUrl))]),
    );
  return doc;
}
