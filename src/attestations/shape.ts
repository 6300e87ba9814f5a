// The `attestations` form field of an upload (PEP 740; the PyPA specification
// `index-hosted-attestations`, pypi-attestations' `Attestation` model): its JSON decoded once
// into typed attestation objects, then Warehouse's checks of the list, in its order and words
// (`warehouse/attestations/services.py` `_extract_attestations_from_request`). Nothing here
// verifies a signature: that is ./sigstore.ts.

/** Warehouse's two predicate types; one attestation of each at most per file. */
export const PREDICATE_TYPES = [
  'https://docs.pypi.org/attestations/publish/v1',
  'https://slsa.dev/provenance/v1',
] as const;

/** Warehouse: "A maximum of {len(SUPPORTED_ATTESTATION_TYPES)} attestations per file". */
export const MAX_ATTESTATIONS = PREDICATE_TYPES.length;

/**
 * The field's largest size. A real attestation is 5–10 KiB (a certificate, one transparency-log
 * entry and the statement); the form as a whole is bounded too (FORM_LIMITS in
 * src/registry/upload/form.ts), this bounds the JSON parse and what is stored per file.
 */
export const MAX_ATTESTATIONS_BYTES = 256 * 1024;

/** One attestation object as uploaded. `raw` is the object itself, stored and served unchanged. */
export interface Attestation {
  certificate: string;
  /** Rekor transparency-log entries (camelCase `TransparencyLogEntry` JSON), at least one. */
  transparencyEntries: Record<string, unknown>[];
  /** RFC 3161 timestamps (base64), not yet in the specification (Rekor v2); may be empty. */
  timestamps: string[];
  statement: string;
  signature: string;
  raw: Record<string, unknown>;
}

/** A refusal of the upload's attestations: the whole sentence after Warehouse's prefix. */
export class AttestationError extends Error {}

/** Warehouse's words for an attestation that does not verify (pypi-attestations' VerificationError). */
export function verificationFailed(message: string): AttestationError {
  return new AttestationError(
    `Could not verify the uploaded artifact using the included attestation: Verification failed: ${message}`,
  );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(where: string, problem: string): AttestationError {
  return new AttestationError(`Malformed attestations: ${where}: ${problem}`);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function base64Field(parent: Record<string, unknown>, key: string, where: string): string {
  const value = parent[key];
  if (value === undefined) throw malformed(`${where}.${key}`, 'field required');
  if (typeof value !== 'string')
    throw malformed(`${where}.${key}`, `expected a base64 string, got ${typeName(value)}`);
  if (value === '' || value.length % 4 !== 0 || !BASE64.test(value))
    throw malformed(`${where}.${key}`, 'expected a base64 string');
  return value;
}

function objectField(parent: Record<string, unknown>, key: string, where: string) {
  const value = parent[key];
  if (value === undefined) throw malformed(`${where}.${key}`, 'field required');
  if (!isObject(value))
    throw malformed(`${where}.${key}`, `expected an object, got ${typeName(value)}`);
  return value;
}

/** One element of the list, typed; unknown keys are kept (the specification may add some). */
function parseAttestation(value: unknown, index: number): Attestation {
  const where = `[${index}]`;
  if (!isObject(value)) throw malformed(where, `expected an object, got ${typeName(value)}`);
  if (value.version !== 1)
    throw malformed(
      `${where}.version`,
      `expected 1, got ${JSON.stringify(value.version) ?? 'nothing'}`,
    );
  const material = objectField(value, 'verification_material', where);
  const materialWhere = `${where}.verification_material`;
  const certificate = base64Field(material, 'certificate', materialWhere);
  const entries = material.transparency_entries;
  if (entries === undefined)
    throw malformed(`${materialWhere}.transparency_entries`, 'field required');
  if (!Array.isArray(entries) || entries.length === 0 || !entries.every(isObject))
    throw malformed(
      `${materialWhere}.transparency_entries`,
      'expected a non-empty array of transparency-log entries',
    );
  let timestamps: string[] = [];
  if (material.timestamps !== undefined && material.timestamps !== null) {
    const list = material.timestamps;
    if (!Array.isArray(list)) throw malformed(`${materialWhere}.timestamps`, 'expected an array');
    timestamps = list.map((_, i) =>
      base64Field({ [i]: list[i] as unknown }, String(i), `${materialWhere}.timestamps`),
    );
  }
  const envelope = objectField(value, 'envelope', where);
  const statement = base64Field(envelope, 'statement', `${where}.envelope`);
  const signature = base64Field(envelope, 'signature', `${where}.envelope`);
  return {
    certificate,
    transparencyEntries: entries as Record<string, unknown>[],
    timestamps,
    statement,
    signature,
    raw: value,
  };
}

/**
 * The field's text → the attestations, with Warehouse's checks in its order: malformed, empty,
 * more than MAX_ATTESTATIONS. Throws AttestationError.
 */
export function parseAttestations(text: string): Attestation[] {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_ATTESTATIONS_BYTES)
    throw new AttestationError(
      `Malformed attestations: the field holds ${bytes} bytes, at most ${MAX_ATTESTATIONS_BYTES} are accepted`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AttestationError(`Malformed attestations: invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value))
    throw new AttestationError(
      `Malformed attestations: expected a JSON array of attestation objects, got ${typeName(value)}`,
    );
  const attestations = value.map(parseAttestation);
  // Empty attestation sets are not permitted: a client omits the field to upload without any.
  if (attestations.length === 0)
    throw new AttestationError('Malformed attestations: an empty attestation set is not permitted');
  if (attestations.length > MAX_ATTESTATIONS)
    throw new AttestationError(
      `A maximum of ${MAX_ATTESTATIONS} attestations per file are supported`,
    );
  return attestations;
}
