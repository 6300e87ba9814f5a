/**
 * Wheel filenames (PEP 427, PEP 491; packaging.python.org `binary-distribution-format.rst` and
 * `platform-compatibility-tags.rst`):
 * `{distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl`.
 *
 * Semantics and messages of `packaging.utils.parse_wheel_filename` and `packaging.tags.parse_tag`
 * as of packaging 26.3 (empty tag components and non-identifier interpreters are refused).
 */
import { PackagingError, pythonRepr } from './errors.js';
import { normalizeProjectName } from './names.js';
import { parseVersion } from './versions.js';

export interface WheelFilename {
  /** The name field as written (escaped: `foo_bar`). */
  rawName: string;
  /** The normalized project name (`foo-bar`). */
  name: string;
  /** The version field as written. */
  rawVersion: string;
  /** `str(Version)` of the version field. */
  version: string;
  /** The optional build tag: its leading digits as a number, and the rest. */
  build: { number: number; tag: string } | null;
  /** The compressed tag sets, each split on `.` and lowercased, in filename order. */
  pythonTags: string[];
  abiTags: string[];
  platformTags: string[];
}

/**
 * PEP 427 escaping of the name field: word characters, `.` and `_`, at least one. Python's `\w`
 * is Unicode-aware (letters and numbers), hence `\p{L}\p{N}`.
 */
const WHEEL_NAME = /^[\p{L}\p{N}_.]+$/u;
/** PEP 427: the build tag starts with a digit. */
const BUILD_TAG = /^([0-9]+)(.*)$/s;
/** `str.isidentifier()`, which every interpreter tag must satisfy (`py3`, `cp311`). */
const IDENTIFIER = /^[\p{ID_Start}_][\p{ID_Continue}]*$/u;

export function parseWheelFilename(filename: string): WheelFilename {
  if (!filename.endsWith('.whl')) {
    throw new PackagingError(
      `Invalid wheel filename (extension must be '.whl'): ${pythonRepr(filename)}`,
    );
  }
  const stem = filename.slice(0, -'.whl'.length);
  const fields = stem.split('-');
  const dashes = fields.length - 1;
  if (dashes !== 4 && dashes !== 5) {
    throw new PackagingError(`Invalid wheel filename (wrong number of parts): ${pythonRepr(stem)}`);
  }
  const [rawName = '', rawVersion = ''] = fields;
  if (rawName.includes('__') || !WHEEL_NAME.test(rawName)) {
    throw new PackagingError(`Invalid project name: ${pythonRepr(stem)}`);
  }
  const version = parseVersion(rawVersion);
  if (!version) {
    throw new PackagingError(`Invalid wheel filename (invalid version): ${pythonRepr(stem)}`);
  }
  let build: WheelFilename['build'] = null;
  if (dashes === 5) {
    const buildPart = fields[2] ?? '';
    const match = BUILD_TAG.exec(buildPart);
    if (!match)
      throw new PackagingError(`Invalid build number: ${buildPart} in ${pythonRepr(stem)}`);
    build = { number: Number(match[1]), tag: match[2] ?? '' };
  }
  const [pythonTags, abiTags, platformTags] = fields.slice(-3).map((set) => set.split('.'));
  const tagSets = [pythonTags ?? [], abiTags ?? [], platformTags ?? []];
  if (
    tagSets.some((set) => set.includes('')) ||
    !tagSets[0]?.every((interpreter) => IDENTIFIER.test(interpreter))
  ) {
    throw new PackagingError(`Invalid wheel filename (invalid tag component): ${pythonRepr(stem)}`);
  }
  const [python = [], abi = [], platform = []] = tagSets.map((set) =>
    set.map((tag) => tag.toLowerCase()),
  );
  return {
    rawName,
    name: normalizeProjectName(rawName),
    rawVersion,
    version: version.normalized,
    build,
    pythonTags: python,
    abiTags: abi,
    platformTags: platform,
  };
}
