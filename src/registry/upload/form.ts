// The legacy upload form (reference §2.2–2.3): collecting and sanitizing fields as Warehouse's
// `sanitize` decorator does, then the form validation of its UploadForm, in its order and words.
import { badRequest, PierError } from '../../errors.js';
import { pythonRepr } from '../../packaging/errors.js';

const CORE_METADATA_URL = 'https://packaging.python.org/specifications/core-metadata';

const MiB = 1024 * 1024;

/**
 * Bounds on the non-file part of the form, as a whole: every field but the `content` file. The
 * largest field a real client sends is the description (a few MiB at most); the rest are short.
 * The multipart parser is configured from these (src/http/app.ts), and UploadFields counts.
 */
export const FORM_LIMITS = {
  /** Non-file fields, each value of a repeated field counting once. */
  fields: 1000,
  /** Bytes of all non-file field names and values together (UTF-8). */
  bytes: 8 * MiB,
  /** Bytes of one field name. */
  fieldNameBytes: 200,
} as const;

/** The form's fields exceed FORM_LIMITS.bytes together (or one of them alone does). */
export function formTooLarge(): PierError {
  return new PierError(
    413,
    `The upload form is too large: its fields other than the file may hold ${FORM_LIMITS.bytes / MiB} MiB in all.`,
  );
}

/** The form has more than FORM_LIMITS.fields non-file fields. */
export function tooManyFields(): PierError {
  return new PierError(
    413,
    `The upload form has too many fields: at most ${FORM_LIMITS.fields} besides the file.`,
  );
}

/**
 * Fields of the form, in arrival order, after sanitizing. The checks that need one field only —
 * the action and the protocol version — run as soon as that field arrives, so that a request
 * that cannot be an upload is refused before the rest of its body is read.
 */
export class UploadFields {
  private readonly values = new Map<string, string[]>();
  private bytes = 0;

  /** `queryAction`: the `:action` of the query string, which takes precedence over the form's. */
  constructor(private readonly queryAction?: string) {
    if (queryAction !== undefined) checkAction(queryAction);
  }

  /** Warehouse's sanitize: "UNKNOWN" values dropped, NUL made visible, empty strings ignored. */
  add(name: string, rawValue: string): void {
    this.bytes += Buffer.byteLength(name) + Buffer.byteLength(rawValue);
    if (this.bytes > FORM_LIMITS.bytes) throw formTooLarge();
    const value = rawValue.replace(/\0/g, '\\x00');
    if (value.trim() === 'UNKNOWN') return;
    if (value === '') return;
    const list = this.values.get(name);
    if (list) {
      list.push(value);
      return;
    }
    this.values.set(name, [value]);
    if (name === ':action' && this.queryAction === undefined) checkAction(value);
    if (name === 'protocol_version') checkProtocolVersion(this);
  }

  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The fields as the metadata mapper takes them. */
  asMap(): Map<string, string[]> {
    return new Map(this.values);
  }
}

/** A form field sent as a file part (only `content`, and the ignored gpg_signature, may be). */
export function fileFieldError(fieldName: string) {
  return badRequest(`${fieldName}: Should not be a tuple.`);
}

export const KNOWN_ACTIONS = {
  file_upload: null,
  submit: 'Project pre-registration is no longer required or supported, upload your files instead.',
  submit_pkg_info:
    'Project pre-registration is no longer required or supported, upload your files instead.',
  doc_upload:
    'Uploading documentation is no longer supported, we recommend using https://readthedocs.org/.',
} as const;

/** The `:action` parameter (form field or query string) must be file_upload. */
export function checkAction(action: string | undefined): void {
  if (action === undefined)
    throw badRequest("Missing ':action' parameter: expected 'file_upload'.");
  if (!(action in KNOWN_ACTIONS)) throw badRequest(`Unsupported ':action' ${pythonRepr(action)}.`);
  const gone = KNOWN_ACTIONS[action as keyof typeof KNOWN_ACTIONS];
  if (gone !== null) throw new PierError(410, gone);
}

/** Step 1: the protocol version. */
export function checkProtocolVersion(fields: UploadFields): void {
  const v = fields.get('protocol_version') ?? '1';
  if (v !== '1') throw badRequest('Unknown protocol version.');
}

const NAME_RE = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;
const DIGEST_RE = /^[A-F0-9]{64}$/i;
const FILETYPES = ['sdist', 'bdist_wheel'];

export interface ValidForm {
  name: string;
  filetype: 'sdist' | 'bdist_wheel';
  pyversion: string;
  md5Digest: string | null;
  sha256Digest: string | null;
  blake2Digest: string | null;
  comment: string | null;
}

function shortRepr(value: string | undefined): string {
  if (value === undefined) return 'None';
  const shown = value.length > 60 ? `${value.slice(0, 30)}...${value.slice(-30)}` : value;
  return pythonRepr(shown);
}

/** Step 2: Warehouse's UploadForm. Field errors first (name, then alphabetical), then the form's. */
export function validateForm(fields: UploadFields): ValidForm {
  const errors = new Map<string, string>();
  const name = fields.get('name');
  if (name === undefined) errors.set('name', 'This field is required.');
  else if (!NAME_RE.test(name) || name.endsWith('\n'))
    errors.set(
      'name',
      "Start and end with a letter or numeral containing only ASCII numeric and '.', '_' and '-'.",
    );

  const filetype = fields.get('filetype');
  if (filetype === undefined) errors.set('filetype', 'This field is required.');
  else if (!FILETYPES.includes(filetype)) errors.set('filetype', 'Use a known file type.');

  const sha256 = fields.get('sha256_digest');
  if (sha256 !== undefined && !DIGEST_RE.test(sha256))
    errors.set('sha256_digest', 'Use a valid, hex-encoded, SHA256 message digest.');
  const blake2 = fields.get('blake2_256_digest');
  if (blake2 !== undefined && !DIGEST_RE.test(blake2))
    errors.set('blake2_256_digest', 'Use a valid, hex-encoded, BLAKE2 message digest.');

  let pyversion = fields.get('pyversion');
  if (filetype !== undefined && FILETYPES.includes(filetype)) {
    if (filetype !== 'sdist' && pyversion === undefined)
      errors.set('pyversion', 'Python version is required for binary distribution uploads.');
    else if (filetype === 'sdist') {
      if (pyversion === undefined) pyversion = 'source';
      else if (pyversion !== 'source')
        errors.set('pyversion', "Use 'source' as Python version for an sdist.");
    }
  }

  if (errors.size > 0) {
    const nameError = errors.get('name');
    if (nameError !== undefined)
      throw badRequest(
        `${shortRepr(name)} is an invalid value for Name. Error: ${nameError} See ${CORE_METADATA_URL} for more information.`,
        { field: 'name' },
      );
    const field = [...errors.keys()].sort()[0]!;
    throw badRequest(`Invalid value for ${field}. Error: ${errors.get(field)}`, { field });
  }
  const md5 = fields.get('md5_digest');
  if (md5 === undefined && sha256 === undefined && blake2 === undefined)
    throw badRequest('Error: Include at least one message digest.');

  return {
    name: name!,
    filetype: filetype as ValidForm['filetype'],
    pyversion: pyversion!,
    md5Digest: md5 ?? null,
    sha256Digest: sha256 ?? null,
    blake2Digest: blake2 ?? null,
    comment: fields.get('comment') ?? null,
  };
}
