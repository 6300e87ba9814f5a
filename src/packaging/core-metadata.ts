/**
 * Core metadata (packaging.python.org `core-metadata.rst`; versions 1.0, 1.1, 1.2, 2.1-2.6) as
 * found in METADATA and PKG-INFO: RFC 822 style headers read the way Python's `email.parser`
 * (policy `compat32`) reads them, mapped to fields as `packaging.metadata.parse_email` does, and
 * each field's own rules as `packaging.metadata.Metadata.from_raw(validate=True)` checks them.
 *
 * Not reproduced from `email.parser`: MIME multipart bodies, `Content-Transfer-Encoding` decoding
 * of the body and RFC 2047 encoded words (metadata files use none of them).
 */
import { PackagingError, pythonRepr } from './errors.js';
import { canonicalizeLicenseExpression } from './license-expression.js';
import { isValidProjectName } from './names.js';
import { parseRequirement } from './requirements.js';
import { isValidSpecifierSet, parseVersion } from './versions.js';

/**
 * Field name (lowercase, as in the file: `requires-dist`) -> value. Multiple-use fields are
 * `string[]` (Project-URL keeps its raw `Label, URL` strings), single-use fields a `string`
 * (Keywords stays one comma-separated string).
 */
export type RawMetadata = Record<string, string | string[]>;

export interface ParsedMetadata {
  raw: RawMetadata;
  /** Unknown fields, repeated single-use fields, undecodable values, duplicate URL labels. */
  unparsed: Record<string, string[]>;
}

/**
 * Metadata-Version 2.0 (the PEP 426 draft) was never a real version, but bdist_wheel wrote it for
 * years and PyPI still hosts those wheels: an import of files from before today's rules (`legacy`)
 * reads it with the fields of 2.1, which standardized what the draft's writers used.
 */
const LEGACY_METADATA_VERSIONS: Readonly<Record<string, string>> = { '2.0': '2.1' };

/** The place of a declared version in `METADATA_VERSIONS`, -1 when it is not accepted. */
export function metadataVersionAge(declared: string | undefined, legacy: boolean): number {
  if (declared === undefined) return -1;
  const read =
    legacy && Object.hasOwn(LEGACY_METADATA_VERSIONS, declared)
      ? LEGACY_METADATA_VERSIONS[declared]!
      : declared;
  return METADATA_VERSIONS.indexOf(read);
}

/** The metadata versions this index accepts, oldest first (2.0 was never a real version). */
export const METADATA_VERSIONS: readonly string[] = [
  '1.0',
  '1.1',
  '1.2',
  '2.1',
  '2.2',
  '2.3',
  '2.4',
  '2.5',
  '2.6',
];

/** Every known field and the metadata version that introduced it (PEPs 241, 314, 345, ...). */
export const FIELD_INTRODUCED_IN: Readonly<Record<string, string>> = {
  'metadata-version': '1.0',
  name: '1.0',
  version: '1.0',
  platform: '1.0',
  summary: '1.0',
  description: '1.0',
  keywords: '1.0',
  'home-page': '1.0',
  author: '1.0',
  'author-email': '1.0',
  license: '1.0',
  // 1.1, PEP 314
  'supported-platform': '1.1',
  'download-url': '1.1',
  classifier: '1.1',
  requires: '1.1',
  provides: '1.1',
  obsoletes: '1.1',
  // 1.2, PEP 345
  maintainer: '1.2',
  'maintainer-email': '1.2',
  'requires-dist': '1.2',
  'provides-dist': '1.2',
  'obsoletes-dist': '1.2',
  'requires-python': '1.2',
  'requires-external': '1.2',
  'project-url': '1.2',
  // 2.1, PEP 566
  'description-content-type': '2.1',
  'provides-extra': '2.1',
  // 2.2, PEP 643
  dynamic: '2.2',
  // 2.4, PEP 639
  'license-expression': '2.4',
  'license-file': '2.4',
  // 2.5, PEP 794
  'import-name': '2.5',
  'import-namespace': '2.5',
};

export const MULTIPLE_USE_FIELDS: ReadonlySet<string> = new Set([
  'platform',
  'supported-platform',
  'classifier',
  'requires',
  'provides',
  'obsoletes',
  'requires-dist',
  'provides-dist',
  'obsoletes-dist',
  'requires-external',
  'project-url',
  'provides-extra',
  'dynamic',
  'license-file',
  'import-name',
  'import-namespace',
]);

export function isKnownField(field: string): boolean {
  return Object.hasOwn(FIELD_INTRODUCED_IN, field);
}

// --- Reading the RFC 822 message (email.feedparser with policy compat32)

/** A header line, a continuation line, or a Unix "From " line; anything else ends the headers. */
const HEADER_LINE = /^(?:From |[\x21-\x39\x3b-\x7e]*:|[\t ])/;
const LINE_END = /\r\n|\r|\n/g;

function splitLinesKeepEnds(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (const match of text.matchAll(LINE_END)) {
    const end = (match.index ?? 0) + match[0].length;
    lines.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** Splits the message into headers (name, value) and body, as `FeedParser._parsegen` does. */
function readMessage(text: string): { headers: [string, string][]; body: string } {
  const lines = splitLinesKeepEnds(text);
  let index = 0;
  const headerLines: string[] = [];
  for (; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (!HEADER_LINE.test(line)) {
      // The blank separator line is dropped; any other line already belongs to the body.
      if (/^(?:\r\n|\r|\n)/.test(line)) index++;
      break;
    }
    headerLines.push(line);
  }
  const bodyLines = lines.slice(index);

  const headers: [string, string][] = [];
  let current: string[] = [];
  const flush = () => {
    const [first, ...rest] = current;
    if (first === undefined) return;
    const colon = first.indexOf(':');
    // compat32 `header_source_parse`: the value keeps its folding line breaks.
    const value = (first.slice(colon + 1).replace(/^[ \t]+/, '') + rest.join('')).replace(
      /[\r\n]+$/,
      '',
    );
    headers.push([first.slice(0, colon), value]);
    current = [];
  };
  headerLines.forEach((line, lineNumber) => {
    if (line[0] === ' ' || line[0] === '\t') {
      // A continuation before any header is a defect and is ignored.
      if (current.length > 0) current.push(line);
      return;
    }
    flush();
    if (line.startsWith('From ')) {
      // A Unix "From " line: ignored first or in the middle; last, it starts the body.
      if (lineNumber === headerLines.length - 1 && lineNumber > 0) bodyLines.unshift(line);
      return;
    }
    // A line starting with ':' has no header name; it is ignored.
    if (line.indexOf(':') > 0) current = [line];
  });
  flush();
  return { headers, body: bodyLines.join('') };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes bytes carried as a latin1 string; `null` when they are not valid UTF-8. */
function decodeUtf8(binary: string): string | null {
  try {
    return UTF8.decode(Buffer.from(binary, 'latin1'));
  } catch {
    return null;
  }
}

/** Project-URL labels must be unique (`packaging.metadata._parse_project_urls`). */
export function hasDuplicateUrlLabels(values: readonly string[]): boolean {
  const labels = values.map((pair) => pair.split(',', 1)[0]?.trim() ?? '');
  return new Set(labels).size !== labels.length;
}

/**
 * Parses METADATA / PKG-INFO. Bytes are decoded as UTF-8 field by field: a field (or the body)
 * that is not valid UTF-8 goes to `unparsed`, decoded as latin1. The description is the message
 * body (metadata 2.1+) or a `Description` header; given both ways, both go to `unparsed`.
 */
export function parseCoreMetadata(data: Uint8Array | string): ParsedMetadata {
  const binary = typeof data !== 'string';
  const text = binary
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1')
    : data;
  const { headers, body } = readMessage(text);

  const fields = new Map<string, { values: string[]; valid: boolean }>();
  for (const [name, rawValue] of headers) {
    const key = name.toLowerCase();
    const field = fields.get(key) ?? { values: [], valid: true };
    fields.set(key, field);
    const decoded = binary ? decodeUtf8(rawValue) : rawValue;
    if (decoded === null) field.valid = false;
    field.values.push(decoded ?? rawValue);
  }

  // Maps, so that a header named `__proto__` stays an ordinary key.
  const raw = new Map<string, string | string[]>();
  const unparsed = new Map<string, string[]>();
  for (const [name, { values, valid }] of fields) {
    if (!valid || !isKnownField(name)) unparsed.set(name, values);
    else if (!MULTIPLE_USE_FIELDS.has(name)) {
      if (values.length === 1) raw.set(name, values[0] ?? '');
      else unparsed.set(name, values);
    } else if (name === 'import-name' && values.length === 1 && values[0] === '') {
      // An empty Import-Name declares that the distribution has no import names.
      raw.set(name, []);
    } else if (name === 'project-url' && hasDuplicateUrlLabels(values)) unparsed.set(name, values);
    else raw.set(name, values);
  }

  const payload = binary ? decodeUtf8(body) : body;
  const unparsedDescription = (...values: string[]) =>
    unparsed.set('description', [...(unparsed.get('description') ?? []), ...values]);
  if (payload === null) unparsedDescription(body);
  else if (payload !== '') {
    const header = raw.get('description');
    if (typeof header === 'string') {
      raw.delete('description');
      unparsedDescription(header, payload);
    } else if (unparsed.has('description')) unparsedDescription(payload);
    else raw.set('description', payload);
  }
  return { raw: Object.fromEntries(raw), unparsed: Object.fromEntries(unparsed) };
}

// --- Each field's own rules (packaging `Metadata.from_raw(validate=True)`)

export interface MetadataProblem {
  /** The field in error, as an email-style name (`requires-dist`). */
  field: string;
  message: string;
}

/** A single-use field's value (the first, if the caller left several). */
export function singleValue(raw: RawMetadata, field: string): string | undefined {
  const value = raw[field];
  return Array.isArray(value) ? value[0] : value;
}

/** A multiple-use field's values (a lone string counts as one value). */
export function listValue(raw: RawMetadata, field: string): string[] | undefined {
  const value = raw[field];
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

const DESCRIPTION_CONTENT_TYPES = ['text/plain', 'text/x-rst', 'text/markdown'];
const MARKDOWN_VARIANTS = ['CommonMark', 'GFM'];

/**
 * A Content-Type value as `email.message.EmailMessage` reads it: the type is what precedes the
 * first `;`, lowercased (`text/plain` when it is not `type/subtype`); parameter names are
 * lowercased, values unquoted; the first of a repeated parameter wins.
 */
function parseContentType(value: string): { type: string; params: Map<string, string> } {
  const [head = '', ...rest] = value.split(';');
  let type = head.trim().toLowerCase();
  if (type.split('/').length !== 2) type = 'text/plain';
  const params = new Map<string, string>();
  for (const param of rest) {
    const eq = param.indexOf('=');
    const name = (eq === -1 ? param : param.slice(0, eq)).trim().toLowerCase();
    let paramValue = eq === -1 ? '' : param.slice(eq + 1).trim();
    const quoted = /^"((?:[^"\\]|\\.)*)"$/s.exec(paramValue);
    if (quoted) paramValue = (quoted[1] ?? '').replace(/\\(.)/gs, '$1');
    if (name !== '' && !params.has(name)) params.set(name, paramValue);
  }
  return { type, params };
}

function checkDescriptionContentType(value: string): string | null {
  const { type, params } = parseContentType(value);
  if (!DESCRIPTION_CONTENT_TYPES.includes(type) || !value.toLowerCase().includes(type)) {
    return `'description-content-type' must be one of [${DESCRIPTION_CONTENT_TYPES.map((t) => pythonRepr(t)).join(', ')}], not ${pythonRepr(value)}`;
  }
  const charset = params.get('charset') ?? 'UTF-8';
  if (charset !== 'UTF-8') {
    return `'description-content-type' can only specify the UTF-8 charset, not ${pythonRepr(charset)}`;
  }
  const variant = params.get('variant') ?? 'GFM';
  if (type === 'text/markdown' && !MARKDOWN_VARIANTS.includes(variant)) {
    return `valid Markdown variants for 'description-content-type' are [${MARKDOWN_VARIANTS.map((v) => pythonRepr(v)).join(', ')}], not ${pythonRepr(variant)}`;
  }
  return null;
}

/** `PureWindowsPath(path).as_posix()` for a path that is not absolute. */
function windowsAsPosix(path: string): string {
  const slashed = path.replace(/\\/g, '/');
  const drive = /^[A-Za-z]:/.exec(slashed)?.[0] ?? '';
  const rest = slashed.slice(drive.length);
  const root = rest.startsWith('/') ? '/' : '';
  const parts = rest.split('/').filter((part) => part !== '' && part !== '.');
  return drive + root + parts.join('/') || '.';
}

/** PEP 639 License-File: a relative, resolved path with `/` separators inside the distribution. */
function checkLicenseFile(path: string): string | null {
  const invalid = `${pythonRepr(path)} is invalid for 'license-file'`;
  if (path.includes('..')) return `${invalid}, parent directory indicators are not allowed`;
  if (path.includes('*')) return `${invalid}, paths must be resolved`;
  const windowsAbsolute = /^[A-Za-z]:[\\/]/.test(path) || /^[\\/]{2}/.test(path);
  if (path.startsWith('/') || windowsAbsolute) return `${invalid}, paths must be relative`;
  if (windowsAsPosix(path) !== path) return `${invalid}, paths must use '/' delimiter`;
  return null;
}

/** Python's reserved words (`keyword.kwlist`), which are not valid import names. */
const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except ' +
    'finally for from global if import in is lambda nonlocal not or pass raise return try ' +
    'while with yield'
  ).split(' '),
);
/** `str.isidentifier()`. */
const IDENTIFIER = /^[\p{ID_Start}_][\p{ID_Continue}]*$/u;

/** PEP 794 Import-Name / Import-Namespace: a dotted identifier, optionally `; private`. */
function checkImportName(field: string, importName: string): string | null {
  const semicolon = importName.indexOf(';');
  const name = (semicolon === -1 ? importName : importName.slice(0, semicolon)).trimEnd();
  for (const identifier of name.split('.')) {
    if (!IDENTIFIER.test(identifier)) {
      return `${pythonRepr(name)} is invalid for '${field}'; ${pythonRepr(identifier)} is not a valid identifier`;
    }
    if (PYTHON_KEYWORDS.has(identifier)) {
      return `${pythonRepr(name)} is invalid for '${field}'; ${pythonRepr(identifier)} is a keyword`;
    }
  }
  if (semicolon !== -1 && importName.slice(semicolon + 1).trimStart() !== 'private') {
    return `${pythonRepr(importName)} is invalid for '${field}'; the only valid option is 'private'`;
  }
  return null;
}

function firstProblem<T>(values: readonly T[], check: (value: T) => string | null): string | null {
  for (const value of values) {
    const problem = check(value);
    if (problem !== null) return problem;
  }
  return null;
}

function throwsPackagingError(action: () => unknown): boolean {
  try {
    action();
    return false;
  } catch (error) {
    if (error instanceof PackagingError) return true;
    throw error;
  }
}

/** One field's own rule; `null` when the value is fine. */
function checkField(field: string, raw: RawMetadata): string | null {
  const text = singleValue(raw, field);
  const list = listValue(raw, field) ?? [];
  const invalidFor = (value: string) => `${pythonRepr(value)} is invalid for '${field}'`;
  switch (field) {
    case 'name':
      if (!text) return `'name' is a required field`;
      return isValidProjectName(text) ? null : invalidFor(text);
    case 'version':
      if (!text) return `'version' is a required field`;
      return parseVersion(text) ? null : invalidFor(text);
    case 'summary':
      return text?.includes('\n') ? `'summary' must be a single line` : null;
    case 'description-content-type':
      return text === undefined ? null : checkDescriptionContentType(text);
    case 'dynamic':
      return firstProblem(list, (entry) => {
        const lower = entry.toLowerCase();
        if (['name', 'version', 'metadata-version'].includes(lower)) {
          return `${pythonRepr(lower)} is not allowed as a dynamic field`;
        }
        return isKnownField(lower) ? null : `${pythonRepr(lower)} is not a valid dynamic field`;
      });
    case 'provides-extra':
      return firstProblem(list, (extra) => (isValidProjectName(extra) ? null : invalidFor(extra)));
    case 'requires-python':
      return text === undefined || isValidSpecifierSet(text) ? null : invalidFor(text);
    case 'requires-dist':
      return firstProblem(list, (req) =>
        throwsPackagingError(() => parseRequirement(req)) ? invalidFor(req) : null,
      );
    case 'license-expression':
      return text === undefined || !throwsPackagingError(() => canonicalizeLicenseExpression(text))
        ? null
        : invalidFor(text);
    case 'license-file':
      return firstProblem(list, checkLicenseFile);
    case 'import-name':
    case 'import-namespace':
      return firstProblem(list, (name) => checkImportName(field, name));
    default:
      return null;
  }
}

/**
 * The core metadata rules of each field, as `Metadata.from_raw(validate=True)` applies them:
 * Metadata-Version must be one of `METADATA_VERSIONS`; Name and Version are required; a field
 * newer than the declared metadata version is an error; then each present field's own rule.
 * Returns at most one problem per field. Unknown field names are ignored.
 */
export function validateCoreMetadata(
  raw: RawMetadata,
  options: { legacy?: boolean } = {},
): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const declared = singleValue(raw, 'metadata-version');
  const age = metadataVersionAge(declared, options.legacy ?? false);
  if (age === -1) {
    const shown = declared === undefined ? 'None' : pythonRepr(declared);
    problems.push({
      field: 'metadata-version',
      message: `${shown} is not a valid metadata version`,
    });
  }
  const fields = new Set([...Object.keys(raw), 'name', 'version']);
  fields.delete('metadata-version');
  for (const field of fields) {
    if (!isKnownField(field)) continue;
    const introduced = FIELD_INTRODUCED_IN[field] ?? '1.0';
    if (age !== -1 && METADATA_VERSIONS.indexOf(introduced) > age) {
      problems.push({
        field,
        message: `${field} introduced in metadata version ${introduced}, not ${declared}`,
      });
      continue;
    }
    const message = checkField(field, raw);
    if (message !== null) problems.push({ field, message });
  }
  return problems;
}
