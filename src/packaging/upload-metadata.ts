/**
 * The metadata of a legacy upload (`POST /legacy/`, reference §2.2 and §2.3 step 3), read from
 * the form and validated as Warehouse does (`warehouse/forklift/metadata.py`):
 *
 * 1. form parsing (`parse_form_metadata`): a single-use field sent more than once, or a
 *    Project-URL label given twice, is `'<form field>' has invalid data`;
 * 2. the core metadata rules of each field (packaging's `Metadata.from_raw`, in
 *    `core-metadata.ts`);
 * 3. only when those pass, Warehouse's own rules (`_validate_metadata`): local versions, Summary
 *    length, e-mail addresses, URLs, direct references, Dynamic, License with License-Expression.
 *
 * Within a stage the reported error is the first one of the first field in the order
 * metadata-version, name, version, then the field names sorted alphabetically.
 *
 * Deliberately not checked: classifiers against the trove-classifiers list (PyPI policy; a
 * private index accepts its own classifiers), and the description's rendering.
 */
import {
  hasDuplicateUrlLabels,
  listValue,
  type MetadataProblem,
  MULTIPLE_USE_FIELDS,
  type RawMetadata,
  singleValue,
  validateCoreMetadata,
} from './core-metadata.js';
import { PackagingError, pythonRepr } from './errors.js';
import { canonicalizeLicenseExpression } from './license-expression.js';
import { normalizeProjectName } from './names.js';
import { formatRequirement, parseRequirement, type Requirement } from './requirements.js';
import { normalizeSpecifierSet, parseVersion } from './versions.js';

/** The upload form's fields: name -> values, empty strings and "UNKNOWN" already removed. */
export type UploadForm = Map<string, string[]>;

/**
 * Form field -> core metadata field (Warehouse `_FORM_TO_RAW_MAPPING`: the raw names, with the
 * singular `platform`, `supported_platform`, `license_file`, `import_name`, `import_namespace`).
 * `provides_extras` is what twine 4 sent for Provides-Extra.
 */
const FORM_FIELDS: Readonly<Record<string, string>> = {
  metadata_version: 'metadata-version',
  name: 'name',
  version: 'version',
  platform: 'platform',
  supported_platform: 'supported-platform',
  summary: 'summary',
  description: 'description',
  description_content_type: 'description-content-type',
  keywords: 'keywords',
  home_page: 'home-page',
  download_url: 'download-url',
  author: 'author',
  author_email: 'author-email',
  maintainer: 'maintainer',
  maintainer_email: 'maintainer-email',
  license: 'license',
  license_expression: 'license-expression',
  license_file: 'license-file',
  classifiers: 'classifier',
  requires_dist: 'requires-dist',
  provides_dist: 'provides-dist',
  obsoletes_dist: 'obsoletes-dist',
  requires_python: 'requires-python',
  requires_external: 'requires-external',
  project_urls: 'project-url',
  provides_extra: 'provides-extra',
  provides_extras: 'provides-extra',
  dynamic: 'dynamic',
  requires: 'requires',
  provides: 'provides',
  obsoletes: 'obsoletes',
  import_name: 'import-name',
  import_namespace: 'import-namespace',
};

/** Core metadata field -> its form field name, which Warehouse's form errors name. */
const FORM_FIELD_OF: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(FORM_FIELDS)
    .filter(([form]) => form !== 'provides_extras')
    .map(([form, field]) => [field, form]),
);

/**
 * The upload form a client would send for a distribution's own metadata (the inverse of
 * `metadataFromUploadForm`): how an import presents a file to the upload pipeline.
 */
export function uploadFormFromMetadata(raw: RawMetadata): [string, string][] {
  const fields: [string, string][] = [];
  for (const [field, value] of Object.entries(raw)) {
    const form = Object.hasOwn(FORM_FIELD_OF, field) ? FORM_FIELD_OF[field] : undefined;
    if (form === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) fields.push([form, v]);
  }
  return fields;
}

/**
 * Maps the form to core metadata fields (`RawMetadata`). Unknown form fields are ignored, as
 * Warehouse ignores them. Multiple-use fields collect every value. A single-use field sent once
 * becomes a string; **sent more than once it stays a `string[]`** (all its values), and
 * `validateUploadMetadata` reports that as `'<form field>' has invalid data`.
 */
export function metadataFromUploadForm(form: UploadForm): RawMetadata {
  const raw: RawMetadata = {};
  for (const [name, values] of form) {
    const field = Object.hasOwn(FORM_FIELDS, name) ? FORM_FIELDS[name] : undefined;
    if (field === undefined || values.length === 0) continue;
    if (MULTIPLE_USE_FIELDS.has(field)) {
      raw[field] = [...(listValue(raw, field) ?? []), ...values];
    } else {
      raw[field] = values.length === 1 ? (values[0] ?? '') : [...values];
    }
  }
  return raw;
}

export interface UploadMetadata {
  metadataVersion: string;
  /** The Name as uploaded (the project's display name). */
  name: string;
  /** `str(Version)`: normalized, trailing zeros kept. */
  version: string;
  /** `canonicalize_version`: the release's identity (`1.0.0` -> `1`). */
  canonicalVersion: string;
  summary: string | null;
  description: string | null;
  descriptionContentType: string | null;
  /** `str(SpecifierSet)` (`<4,>=3.8`), as Warehouse stores it; null when empty. */
  requiresPython: string | null;
  /** The comma-separated keywords, each stripped, joined by `, ` (as Warehouse stores them). */
  keywords: string | null;
  license: string | null;
  /** Canonical SPDX expression. */
  licenseExpression: string | null;
  licenseFiles: string[];
  classifiers: string[];
  /** Each `str(Requirement)`. */
  requiresDist: string[];
  /** Normalized extra names (PEP 685). */
  providesExtra: string[];
  /** Label -> URL, in upload order. */
  projectUrls: Record<string, string>;
  author: string | null;
  authorEmail: string | null;
  maintainer: string | null;
  maintainerEmail: string | null;
  homePage: string | null;
  downloadUrl: string | null;
  platforms: string[];
  /** Field names in title case (`Requires-Dist`), as Warehouse stores them. */
  dynamic: string[];
  supportedPlatforms: string[];
  providesDist: string[];
  obsoletesDist: string[];
  requiresExternal: string[];
  /** Metadata 1.1's deprecated Requires / Provides / Obsoletes. */
  requires: string[];
  provides: string[];
  obsoletes: string[];
  importNames: string[];
  importNamespaces: string[];
}

export type MetadataResult =
  { ok: true; metadata: UploadMetadata } | { ok: false; field: string; message: string };

const CORE_METADATA_HELP = 'https://packaging.python.org/specifications/core-metadata';
const LOCAL_VERSION_HELP =
  'https://packaging.python.org/en/latest/specifications/version-specifiers/#local-version-identifiers';
const PRIORITY = ['metadata-version', 'name', 'version'];

/** A problem, and the page its message points to when not the core metadata specification. */
interface Problem extends MetadataProblem {
  help?: string;
}

/** Warehouse's choice among errors: the priority fields, else the alphabetically first field. */
function pickProblem(problems: Problem[]): Problem | undefined {
  for (const field of PRIORITY) {
    const problem = problems.find((p) => p.field === field);
    if (problem) return problem;
  }
  const [first] = [...new Set(problems.map((p) => p.field))].sort();
  return problems.find((p) => p.field === first);
}

function failure({ field, message, help = CORE_METADATA_HELP }: Problem): MetadataResult {
  const sentence = message.endsWith('.') ? message : `${message}.`;
  return { ok: false, field, message: `${sentence} See ${help} for more information.` };
}

// --- Stage 1: form parsing

function formProblems(raw: RawMetadata): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  for (const [field, value] of Object.entries(raw)) {
    const repeatedScalar =
      Array.isArray(value) && value.length > 1 && !MULTIPLE_USE_FIELDS.has(field);
    const duplicateLabels =
      field === 'project-url' && hasDuplicateUrlLabels(listValue(raw, field) ?? []);
    if (repeatedScalar || duplicateLabels) {
      const formField = (Object.hasOwn(FORM_FIELD_OF, field) && FORM_FIELD_OF[field]) || field;
      problems.push({ field: formField, message: `${pythonRepr(formField)} has invalid data` });
    }
  }
  return problems;
}

/**
 * Known fields of a metadata file that could not be read as one value (`ParsedMetadata.unparsed`:
 * a single-use field given twice, bytes that are not UTF-8, duplicate Project-URL labels, a
 * Description both as a header and as the body): `'<field>' has invalid data`, as packaging's
 * `Metadata.from_email` says. Which value an installer would use is anyone's guess.
 */
function unreadableProblems(fields: readonly string[]): MetadataProblem[] {
  return fields.map((field) => ({ field, message: `${pythonRepr(field)} has invalid data` }));
}

// --- Stage 3: Warehouse's own rules

/** rfc3986's reading of an authority: userinfo, host (reg-name, IPv4 or IP literal), port. */
const SUBAUTHORITY =
  /^(?:(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})+@)?(?:(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9\-._~!$&'()*+,;=])*|\[[0-9A-Za-z:.%_~-]*\]):?([0-9]{1,5})?$/;

/**
 * Warehouse's `http.is_valid_uri(url, require_authority=False)`, which validates the rfc3986
 * normalization of the URL: the scheme must be `http` or `https` (any case), and a port, if the
 * authority parses, at most 65535. Everything else passes, as on PyPI: rfc3986 percent-encodes
 * the path and query before checking them, and an authority it cannot parse has no host to check.
 */
function isValidUrl(url: string): boolean {
  const match = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?:\/\/([^/?#]*))?/.exec(url);
  const scheme = match?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return false;
  const port = SUBAUTHORITY.exec(match?.[2] ?? '')?.[1];
  return port === undefined || Number(port) <= 65535;
}

/** Splits an address list at top-level commas, outside quotes, comments and angle brackets. */
function splitAddressList(text: string): string[] {
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (quoted && ch === '\\') {
      current += ch + (text[++i] ?? '');
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '<' || ch === '(')) depth++;
    else if (!quoted && (ch === '>' || ch === ')')) depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && ch === ',') {
      entries.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  entries.push(current);
  return entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
}

/** The address of `Name <addr>` or of a bare `addr` (comments removed). */
function addressOf(entry: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(entry);
  return (angle ? (angle[1] ?? '') : entry.replace(/\([^()]*\)/g, '')).trim();
}

/** RFC 5322 atext plus `.`, with RFC 6531's international characters. */
const LOCAL_PART_CHAR = /^[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~.\u0080-\u{10ffff}]$/u;
/** RFC 952 host characters plus `.`, with international characters. */
const DOMAIN_CHAR = /^[a-zA-Z0-9\-.\u0080-\u{10ffff}]$/u;

/** email-validator's `safe_character_display`: printable characters quoted, others named. */
function displayCharacter(ch: string): string {
  if (ch === '\\') return '"\\"';
  if (/[\p{L}\p{N}\p{P}\p{S}]/u.test(ch)) return pythonRepr(ch);
  if (ch === ' ') return 'SPACE';
  if (ch === '\u00a0') return 'NO-BREAK SPACE';
  const code = ch.codePointAt(0) ?? 0;
  return `U+${code
    .toString(16)
    .toUpperCase()
    .padStart(code < 0xffff ? 4 : 8, '0')}`;
}

function invalidCharacters(text: string, allowed: RegExp): string | null {
  const bad = [...new Set([...text].filter((ch) => !allowed.test(ch)).map(displayCharacter))];
  return bad.length === 0 ? null : bad.sort().join(', ');
}

/**
 * A light syntactic check of one address, in place of the `email-validator` package PyPI uses,
 * with its messages and in its order: an `@`; a non-empty dot-atom (or quoted) local part; a
 * domain of letters, digits, hyphens and at least one period, no empty label, no label starting
 * or ending with a hyphen. No DNS, IDNA or special-use-domain check.
 */
function emailProblem(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at === -1) return 'An email address must have an @-sign.';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local === '') return 'There must be something before the @-sign.';
  if (domain === '') return 'There must be something after the @-sign.';
  if (!/^"(?:[^"\\]|\\.)*"$/.test(local)) {
    const bad = invalidCharacters(local, LOCAL_PART_CHAR);
    if (bad) return `The email address contains invalid characters before the @-sign: ${bad}.`;
    if (local.endsWith('.')) {
      return 'An email address cannot have a period immediately before the @-sign.';
    }
    if (local.startsWith('.')) return 'An email address cannot start with a period.';
    if (local.includes('..')) return 'An email address cannot have two periods in a row.';
  }
  const bad = invalidCharacters(domain, DOMAIN_CHAR);
  if (bad) return `The part after the @-sign contains invalid characters: ${bad}.`;
  if (domain.endsWith('.')) return 'An email address cannot end with a period.';
  if (domain.startsWith('.')) {
    return 'An email address cannot have a period immediately after the @-sign.';
  }
  if (domain.includes('..')) return 'An email address cannot have two periods in a row.';
  if (domain.endsWith('-')) return 'An email address cannot end with a hyphen.';
  if (domain.startsWith('-')) {
    return 'An email address cannot have a hyphen immediately after the @-sign.';
  }
  if (domain.includes('.-') || domain.includes('-.')) {
    return 'An email address cannot have a period and a hyphen next to each other.';
  }
  if (!domain.includes('.'))
    return 'The part after the @-sign is not valid. It should have a period.';
  return null;
}

/** Warehouse's list of fields that may be Dynamic (PEP 643, PEP 794). */
const DYNAMIC_FIELDS = new Set(
  [
    'Platform',
    'Supported-Platform',
    'Summary',
    'Description',
    'Description-Content-Type',
    'Keywords',
    'Home-Page',
    'Download-Url',
    'Author',
    'Author-Email',
    'Maintainer',
    'Maintainer-Email',
    'License',
    'License-Expression',
    'License-File',
    'Classifier',
    'Requires-Dist',
    'Requires-Python',
    'Requires-External',
    'Project-Url',
    'Provides-Extra',
    'Provides-Dist',
    'Obsoletes-Dist',
    'Requires',
    'Provides',
    'Obsoletes',
    'Import-Name',
    'Import-Namespace',
  ].map((field) => field.toLowerCase()),
);

const SUMMARY_LIMIT = 512;
const PROJECT_URL_LABEL_LIMIT = 32;

function parseOrNull(text: string): Requirement | null {
  try {
    return parseRequirement(text);
  } catch (error) {
    if (error instanceof PackagingError) return null;
    throw error;
  }
}

function urlPairs(raw: RawMetadata): [string, string][] {
  return (listValue(raw, 'project-url') ?? []).map((pair) => {
    const comma = pair.indexOf(',');
    return comma === -1
      ? [pair.trim(), '']
      : [pair.slice(0, comma).trim(), pair.slice(comma + 1).trim()];
  });
}

function warehouseProblems(raw: RawMetadata, allowLocalVersions: boolean): Problem[] {
  const problems: Problem[] = [];
  const add = (field: string, message: string, help?: string) => {
    problems.push(help === undefined ? { field, message } : { field, message, help });
  };

  const version = parseVersion(singleValue(raw, 'version') ?? '');
  if (!allowLocalVersions && version?.isLocal) {
    const message = `The use of local versions in '${version.normalized}' is not allowed.`;
    add('version', message, LOCAL_VERSION_HELP);
  }

  const summary = singleValue(raw, 'summary');
  if (summary !== undefined && [...summary].length > SUMMARY_LIMIT) {
    add('summary', `'summary' field must be ${SUMMARY_LIMIT} characters or less.`);
  }

  for (const field of ['author-email', 'maintainer-email']) {
    for (const entry of splitAddressList(singleValue(raw, field) ?? '')) {
      const address = addressOf(entry);
      const problem = address === '' ? null : emailProblem(address);
      if (problem) add(field, `${pythonRepr(address)} is not a valid email address: ${problem}`);
    }
  }

  for (const field of ['home-page', 'download-url']) {
    const url = singleValue(raw, field);
    if (url !== undefined && !isValidUrl(url)) add(field, `${pythonRepr(url)} is not a valid url.`);
  }

  for (const [label, url] of urlPairs(raw)) {
    if (!label) add('project-url', 'Must have a label');
    else if ([...label].length > PROJECT_URL_LABEL_LIMIT) {
      add(
        'project-url',
        `${pythonRepr(label)} must be ${PROJECT_URL_LABEL_LIMIT} characters or less.`,
      );
    } else if (!url) add('project-url', 'Must have a URL');
    else if (!isValidUrl(url)) add('project-url', `${pythonRepr(url)} is not a valid url`);
  }

  for (const field of ['provides-dist', 'obsoletes-dist']) {
    for (const text of listValue(raw, field) ?? []) {
      try {
        if (parseRequirement(text).url !== null) {
          add(field, `Can't have direct dependency: ${pythonRepr(text)}`);
        }
      } catch (error) {
        if (!(error instanceof PackagingError)) throw error;
        add(field, `${pythonRepr(text)} is invalid: ${error.message}`);
      }
    }
  }

  for (const text of listValue(raw, 'requires-dist') ?? []) {
    const requirement = parseOrNull(text);
    if (requirement?.url) {
      add('requires-dist', `Can't have direct dependency: ${formatRequirement(requirement)}`);
    }
  }

  for (const entry of listValue(raw, 'dynamic') ?? []) {
    const lower = entry.toLowerCase();
    if (!DYNAMIC_FIELDS.has(lower)) {
      add('dynamic', `Dynamic field ${pythonRepr(lower)} is not a valid dynamic field.`);
    }
  }

  if (singleValue(raw, 'license') && singleValue(raw, 'license-expression')) {
    add(
      'license',
      'License is deprecated when License-Expression is present. Only License-Expression should be present.',
    );
  }
  return problems;
}

// --- The validated result

/** Python's `str.title()`: `requires-dist` -> `Requires-Dist`. */
function titleCase(text: string): string {
  return text
    .toLowerCase()
    .replace(/(^|[^\p{L}])(\p{L})/gu, (_, before: string, letter: string) => {
      return before + letter.toUpperCase();
    });
}

function buildMetadata(
  raw: RawMetadata,
  version: NonNullable<ReturnType<typeof parseVersion>>,
): UploadMetadata {
  const text = (field: string) => singleValue(raw, field) ?? null;
  const list = (field: string) => listValue(raw, field) ?? [];
  const requiresPython = text('requires-python');
  const keywords = text('keywords');
  const licenseExpression = text('license-expression');
  return {
    metadataVersion: text('metadata-version') ?? '',
    name: text('name') ?? '',
    version: version.normalized,
    canonicalVersion: version.canonical,
    summary: text('summary'),
    description: text('description'),
    descriptionContentType: text('description-content-type'),
    requiresPython: requiresPython === null ? null : normalizeSpecifierSet(requiresPython) || null,
    keywords:
      keywords === null
        ? null
        : keywords
            .split(',')
            .map((keyword) => keyword.trim())
            .join(', '),
    license: text('license'),
    licenseExpression:
      licenseExpression === null ? null : canonicalizeLicenseExpression(licenseExpression),
    licenseFiles: list('license-file'),
    classifiers: list('classifier'),
    requiresDist: list('requires-dist').map((req) => formatRequirement(parseRequirement(req))),
    providesExtra: list('provides-extra').map(normalizeProjectName),
    projectUrls: Object.fromEntries(urlPairs(raw)),
    author: text('author'),
    authorEmail: text('author-email'),
    maintainer: text('maintainer'),
    maintainerEmail: text('maintainer-email'),
    homePage: text('home-page'),
    downloadUrl: text('download-url'),
    platforms: list('platform'),
    dynamic: list('dynamic').map(titleCase),
    supportedPlatforms: list('supported-platform'),
    providesDist: list('provides-dist'),
    obsoletesDist: list('obsoletes-dist'),
    requiresExternal: list('requires-external'),
    requires: list('requires'),
    provides: list('provides'),
    obsoletes: list('obsoletes'),
    importNames: list('import-name'),
    importNamespaces: list('import-namespace'),
  };
}

/**
 * Validates upload metadata (normally from `metadataFromUploadForm`) as Warehouse does and
 * returns either the validated, normalized metadata or the one error to report: `field` is the
 * field in error (a core metadata name like `requires-dist`, or the form field name for
 * `'<form field>' has invalid data`), `message` the complete text, help link included.
 *
 * `allowLocalVersions` (default true, a private index's choice) set to false refuses
 * `1.0+local` with PyPI's message. `legacy` (an import of files from before today's rules) also
 * accepts Metadata-Version 2.0 (`metadataVersionAge`). `unreadable` names the fields of a metadata file that could
 * not be parsed (`validateFileMetadata`); each is refused in the first stage.
 */
export function validateUploadMetadata(
  raw: RawMetadata,
  options: { allowLocalVersions?: boolean; unreadable?: readonly string[]; legacy?: boolean } = {},
): MetadataResult {
  const stages = [
    () => [...formProblems(raw), ...unreadableProblems(options.unreadable ?? [])],
    () => validateCoreMetadata(raw, { legacy: options.legacy ?? false }),
    () => warehouseProblems(raw, options.allowLocalVersions ?? true),
  ];
  for (const stage of stages) {
    const problem = pickProblem(stage());
    if (problem) return failure(problem);
  }
  const version = parseVersion(singleValue(raw, 'version') ?? '');
  if (!version) throw new Error('unreachable: the version was validated');
  return { ok: true, metadata: buildMetadata(raw, version) };
}
