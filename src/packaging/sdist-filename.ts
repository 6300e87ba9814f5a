/**
 * Source distribution filenames (PEP 625; packaging.python.org `source-distribution-format.rst`).
 *
 * `parseSdistFilename` has the semantics and messages of `packaging.utils.parse_sdist_filename`
 * (packaging 26.3): `.tar.gz` and `.zip`, split on the last `-`. `expectedSdistFilename` is the
 * one exact name PEP 625 (and Warehouse) demands: `{name_with_underscores}-{str(Version)}.tar.gz`.
 */
import { PackagingError, pythonRepr } from './errors.js';
import { filenameProjectName, normalizeProjectName } from './names.js';
import { parseVersion } from './versions.js';

export interface SdistFilename {
  /** The name part as written. */
  rawName: string;
  /** The normalized project name. */
  name: string;
  /** The version part as written. */
  rawVersion: string;
  /** `str(Version)` of the version part. */
  version: string;
  extension: '.tar.gz' | '.zip';
}

export function parseSdistFilename(filename: string): SdistFilename {
  let extension: SdistFilename['extension'];
  if (filename.endsWith('.tar.gz')) extension = '.tar.gz';
  else if (filename.endsWith('.zip')) extension = '.zip';
  else {
    throw new PackagingError(
      `Invalid sdist filename (extension must be '.tar.gz' or '.zip'): ${pythonRepr(filename)}`,
    );
  }
  const stem = filename.slice(0, -extension.length);
  // A PEP 440 version has no '-', so the version is after the last one.
  const dash = stem.lastIndexOf('-');
  if (dash === -1) throw new PackagingError(`Invalid sdist filename: ${pythonRepr(filename)}`);
  const rawName = stem.slice(0, dash);
  const rawVersion = stem.slice(dash + 1);
  if (rawName === '') {
    throw new PackagingError(
      `Invalid sdist filename (empty project name): ${pythonRepr(filename)}`,
    );
  }
  const version = parseVersion(rawVersion);
  if (!version) {
    throw new PackagingError(`Invalid sdist filename (invalid version): ${pythonRepr(filename)}`);
  }
  return {
    rawName,
    name: normalizeProjectName(rawName),
    rawVersion,
    version: version.normalized,
    extension,
  };
}

/**
 * The PEP 625 filename of a project's sdist: `expectedSdistFilename('Foo.Bar', '1.0.0')` is
 * `foo_bar-1.0.0.tar.gz` (the version is normalized but keeps its trailing zeros).
 * Throws `PackagingError` for an invalid version.
 */
export function expectedSdistFilename(projectName: string, version: string): string {
  const parsed = parseVersion(version);
  if (!parsed) throw new PackagingError(`Invalid version: ${pythonRepr(version)}`);
  return `${filenameProjectName(projectName)}-${parsed.normalized}.tar.gz`;
}
