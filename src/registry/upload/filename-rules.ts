// The rules an uploaded file's name must follow (reference §2.3 steps 11, 20 and 21).
import { badRequest } from '../../errors.js';
import { PackagingError } from '../../packaging/errors.js';
import { filenameProjectName, normalizeProjectName } from '../../packaging/names.js';
import { parseVersion, versionsEqual } from '../../packaging/versions.js';
import { parseSdistFilename, expectedSdistFilename } from '../../packaging/sdist-filename.js';
import { parseWheelFilename, type WheelFilename } from '../../packaging/wheel-filename.js';

const EXTENSION_RE = /^.+?(\.(tar\.gz|zip|whl))$/is;
const EXTENSIONS_FOR: Record<string, string[]> = {
  sdist: ['.zip', '.tar.gz'],
  bdist_wheel: ['.whl'],
};

/** Step 11: characters and extension. */
export function checkFilenameBasics(filename: string, filetype: string): void {
  if (/[\x00-\x1f\x7f]/.test(filename))
    throw badRequest(
      'Cannot upload a file with non-printable characters (ordinals 0-31) or the DEL character (ordinal 127) in the name.',
    );
  if (filename.includes('/') || filename.includes('\\'))
    throw badRequest("Cannot upload a file with '/' or '\\' in the name.");
  const m = EXTENSION_RE.exec(filename);
  if (!m)
    throw badRequest(
      'Invalid file extension: Use .tar.gz, .whl or .zip extension. See https://www.python.org/dev/peps/pep-0527 and https://peps.python.org/pep-0715/ for more information',
    );
  const ext = m[1]!;
  if (!(EXTENSIONS_FOR[filetype] ?? []).includes(ext))
    throw badRequest(
      `Invalid file extension: Extension ${ext} is invalid for filetype ${filetype}. See https://www.python.org/dev/peps/pep-0527 for more information.`,
    );
}

/**
 * The naming rules of today that older files, which PyPI still hosts, predate: an import of such
 * files (`legacy`) accepts a name that is not in normal form (`Foo.Bar-1.0.tar.gz`,
 * `Foo.Bar-1.0-py3-none-any.whl`) as long as it names the project and version. A fresh upload
 * never does.
 */
export interface FilenameRules {
  legacy: boolean;
}

const TODAYS_RULES: FilenameRules = { legacy: false };

/** Step 20: an sdist is named exactly <normalized_name>-<version>.tar.gz (PEP 625). */
export function checkSdistFilename(
  filename: string,
  projectName: string,
  version: string,
  rules: FilenameRules = TODAYS_RULES,
): void {
  let parsed;
  try {
    parsed = parseSdistFilename(filename);
  } catch (err) {
    if (err instanceof PackagingError)
      throw badRequest(`Invalid source distribution filename: ${filename}`);
    throw err;
  }
  const normalized = normalizeProjectName(projectName);
  if (normalizeProjectName(parsed.name) !== normalized)
    throw badRequest(
      `Start filename for '${projectName}' with '${filenameProjectName(projectName)}'.`,
    );
  const expected = expectedSdistFilename(projectName, version);
  // A legacy .zip sdist stays refused: only a .tar.gz's PKG-INFO can be read and checked.
  if (rules.legacy && filename.endsWith('.tar.gz') && versionsEqual(parsed.version, version))
    return;
  if (filename !== expected)
    throw badRequest(`Filename '${filename}' is invalid, should be '${expected}'.`);
}

/** Step 21, the filename part: parses, names the project in normal form, carries the version. */
export function checkWheelFilename(
  filename: string,
  projectName: string,
  formName: string,
  version: string,
  rules: FilenameRules = TODAYS_RULES,
): WheelFilename {
  let wheel: WheelFilename;
  try {
    wheel = parseWheelFilename(filename);
  } catch (err) {
    if (err instanceof PackagingError) throw badRequest(err.message);
    throw err;
  }
  if (normalizeProjectName(formName) !== wheel.name)
    throw badRequest(
      `Start filename for '${projectName}' with '${filenameProjectName(formName)}'.`,
    );
  const expectedRaw = filenameProjectName(formName);
  if (!rules.legacy && wheel.rawName !== expectedRaw)
    throw badRequest(
      `Filename '${filename}' should contain the normalized project name '${expectedRaw}', not '${wheel.rawName}'.`,
    );
  if (!versionsEqual(wheel.version, version)) {
    const fileVersion = parseVersion(wheel.rawVersion)?.normalized ?? wheel.rawVersion;
    throw badRequest(`Version in filename should be '${version}' not '${fileVersion}'.`);
  }
  return wheel;
}

/** The project a distribution's filename names (normalized), or null when it does not parse. */
export function projectNamedByFilename(filename: string): string | null {
  try {
    const name = filename.endsWith('.whl')
      ? parseWheelFilename(filename).rawName
      : parseSdistFilename(filename).rawName;
    return normalizeProjectName(name);
  } catch (err) {
    if (err instanceof PackagingError) return null;
    throw err;
  }
}

/**
 * The name part of steps 20 and 21, checked before the filename registry is read (as Warehouse
 * does): a clash can then only be with the caller's own project, so a refusal never tells a
 * stranger which filenames another project, private or not, has used. A filename that does not
 * parse is refused by steps 20 and 21 themselves.
 */
export function checkFilenameNamesProject(
  filename: string,
  projectName: string,
  formName: string,
): void {
  const named = projectNamedByFilename(filename);
  if (named === null || named === normalizeProjectName(formName)) return;
  const prefix = filename.endsWith('.whl') ? formName : projectName;
  throw badRequest(`Start filename for '${projectName}' with '${filenameProjectName(prefix)}'.`);
}
