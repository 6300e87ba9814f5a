// The checks before anything is sent: the filename parses (wheel or PEP 625 sdist), the
// METADATA or PKG-INFO inside can be read (with the index's own bomb-safe limits) and names the
// same project and version as the filename, and — with verify-metadata — the metadata passes the
// index's validation (pier's `validateUploadMetadata`, Warehouse's rules and words).
import {
  byteSourceFromFile,
  inspectSdist,
  type ByteSource,
  inspectWheel,
  InvalidArchiveError,
} from '../packaging/archive.js';
import { parseCoreMetadata, singleValue, type RawMetadata } from '../packaging/core-metadata.js';
import { PackagingError } from '../packaging/errors.js';
import { normalizeProjectName } from '../packaging/names.js';
import { expectedSdistFilename, parseSdistFilename } from '../packaging/sdist-filename.js';
import { withoutPreStandardLicenseFiles } from '../packaging/recorded-metadata.js';
import { validateUploadMetadata } from '../packaging/upload-metadata.js';
import { parseVersion, versionsEqual } from '../packaging/versions.js';
import { parseWheelFilename } from '../packaging/wheel-filename.js';
import type { Distribution } from './discover.js';
import { PublishError } from './errors.js';

export interface CheckedDistribution extends Distribution {
  /** The project name as the metadata writes it. */
  name: string;
  /** PEP 503 normalized. */
  project: string;
  /** The version as the metadata writes it. */
  version: string;
  /** `bdist_wheel` or `sdist`. */
  filetype: 'bdist_wheel' | 'sdist';
  /** The wheel's python tag set as written (`py3`, `py2.py3`), `source` for an sdist. */
  pyversion: string;
  /** The core metadata fields, in the file's order. */
  metadata: RawMetadata;
}

function invalid(d: Distribution, message: string, hints: string[] = []): PublishError {
  return new PublishError('invalid-distribution', `${d.path}: ${message}`, { hints });
}

const REBUILD = 'Rebuild the distributions with a current build backend (python -m build).';

async function readMetadata(
  d: Distribution,
  rawName: string,
  rawVersion: string,
  given: ByteSource | undefined,
): Promise<Buffer> {
  try {
    const source = given ?? (await byteSourceFromFile(d.path));
    if (d.kind === 'wheel')
      return (await inspectWheel(source, d.filename, rawName, rawVersion)).metadata;
    return (await inspectSdist(source, d.filename)).pkgInfo;
  } catch (err) {
    if (err instanceof InvalidArchiveError)
      throw invalid(
        d,
        err.responseMessage,
        /not found at|does not contain the required METADATA/.test(err.message)
          ? [
              `The metadata is not where the filename says (${rawName}-${rawVersion}): was the file renamed? ${REBUILD}`,
            ]
          : [REBUILD],
      );
    throw err;
  }
}

/** Parses the filename, reads the metadata and checks the two agree (and validates, if asked). */
export async function checkDistribution(
  d: Distribution,
  options: {
    verifyMetadata: boolean;
    /** The file's bytes when they are already at hand (default: read from `d.path`). */
    source?: ByteSource;
  },
): Promise<CheckedDistribution> {
  let rawName: string;
  let rawVersion: string;
  let pyversion: string;
  try {
    if (d.kind === 'wheel') {
      const parsed = parseWheelFilename(d.filename);
      rawName = parsed.rawName;
      rawVersion = parsed.rawVersion;
      pyversion = d.filename.slice(0, -'.whl'.length).split('-').at(-3) ?? '';
    } else {
      const parsed = parseSdistFilename(d.filename);
      rawName = parsed.rawName;
      rawVersion = parsed.rawVersion;
      pyversion = 'source';
    }
  } catch (err) {
    if (err instanceof PackagingError) throw invalid(d, err.message, [REBUILD]);
    throw err;
  }

  const bytes = await readMetadata(d, rawName, rawVersion, options.source);
  // What the index reads of the file (License-File before Metadata-Version 2.4 left out).
  const raw = withoutPreStandardLicenseFiles(parseCoreMetadata(bytes).raw);
  const file = d.kind === 'wheel' ? 'METADATA' : 'PKG-INFO';
  const name = singleValue(raw, 'name');
  const version = singleValue(raw, 'version');
  if (!name || !version)
    throw invalid(d, `its ${file} has no ${!name ? 'Name' : 'Version'}`, [REBUILD]);
  if (normalizeProjectName(name) !== normalizeProjectName(rawName))
    throw invalid(
      d,
      `the filename names the project '${rawName}', but its ${file} says Name: ${name}`,
      ['The file was renamed or built wrongly: rebuild it rather than renaming it.'],
    );
  if (parseVersion(version) === null || !versionsEqual(version, rawVersion))
    throw invalid(
      d,
      `the filename says version ${rawVersion}, but its ${file} says Version: ${version}`,
      ['The file was renamed or built wrongly: rebuild it rather than renaming it.'],
    );

  if (options.verifyMetadata) {
    if (d.kind === 'sdist') {
      const expected = expectedSdistFilename(name, version);
      if (d.filename !== expected)
        throw invalid(
          d,
          `a source distribution of ${name} ${version} must be named ${expected} (PEP 625)`,
          [
            'Upgrade the build backend (setuptools 69.3 or later names sdists this way) and rebuild.',
          ],
        );
    }
    const result = validateUploadMetadata(raw);
    if (!result.ok)
      throw invalid(d, `invalid metadata in ${file}: ${result.message}`, [
        'Fix the project’s metadata (pyproject.toml) and rebuild; the index would refuse this file.',
      ]);
  }

  return {
    ...d,
    name,
    project: normalizeProjectName(name),
    version,
    filetype: d.kind === 'wheel' ? 'bdist_wheel' : 'sdist',
    pyversion,
    metadata: raw,
  };
}
