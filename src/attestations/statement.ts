// The in-toto statement an attestation signs (in-toto Statement v1; pypi-attestations'
// `Attestation.verify`): decoded from the envelope's exact bytes, it must name exactly one
// subject, that subject must be the uploaded file — its name parsed as a wheel or sdist filename
// equal, component by component, to the uploaded filename, and its sha256 the digest pier
// computed while the file streamed in — and its predicate type must be one of PyPI's.
import { parseSdistFilename } from '../packaging/sdist-filename.js';
import { parseWheelFilename } from '../packaging/wheel-filename.js';
import { AttestationError, PREDICATE_TYPES, verificationFailed as failed } from './shape.js';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** The uploaded file as pier knows it: its name and the sha256 of its bytes. */
export interface Distribution {
  filename: string;
  sha256: string;
}

export interface Statement {
  predicateType: string;
}

/**
 * A filename's parsed components (normalized name, version, build tag, tag sets), as a string
 * that two filenames share exactly when pypi-attestations (0.0.27 and later) counts them equal.
 * Wheel tag sets are compared as sets: `py2.py3` and `py3.py2` name the same wheel.
 */
export function filenameIdentity(filename: string): string | null {
  try {
    if (filename.endsWith('.whl')) {
      const w = parseWheelFilename(filename);
      const set = (tags: string[]) => [...new Set(tags)].sort().join('.');
      return JSON.stringify([
        'wheel',
        w.name,
        w.version,
        w.build ? [w.build.number, w.build.tag] : null,
        set(w.pythonTags),
        set(w.abiTags),
        set(w.platformTags),
      ]);
    }
    const s = parseSdistFilename(filename);
    return JSON.stringify(['sdist', s.name, s.version, s.extension]);
  } catch {
    return null;
  }
}

/**
 * The statement's checks against the uploaded file. `payload` is the envelope's statement bytes
 * (already covered by the verified signature). Throws AttestationError.
 */
export function checkStatement(payload: Buffer, dist: Distribution): Statement {
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    throw failed('the statement is not JSON');
  }
  if (typeof statement !== 'object' || statement === null || Array.isArray(statement))
    throw failed('the statement is not a JSON object');
  const s = statement as Record<string, unknown>;
  if (s._type !== IN_TOTO_STATEMENT_V1)
    throw failed(
      `the statement's _type: expected '${IN_TOTO_STATEMENT_V1}', got ${JSON.stringify(s._type) ?? 'nothing'}`,
    );
  const subjects = s.subject;
  if (!Array.isArray(subjects) || subjects.length !== 1)
    throw failed(
      `the statement must have exactly one subject, got ${Array.isArray(subjects) ? subjects.length : 'none'}`,
    );
  const subject = subjects[0] as Record<string, unknown> | null;
  const name = typeof subject?.name === 'string' ? subject.name : '';
  if (name === '') throw failed('the subject has no name');
  const subjectIdentity = filenameIdentity(name);
  if (subjectIdentity === null)
    throw failed(`the subject's name is not a wheel or sdist filename: '${name}'`);
  if (subjectIdentity !== filenameIdentity(dist.filename))
    throw failed(
      `subject does not match distribution name: expected '${dist.filename}', got '${name}'`,
    );
  const digest = subject?.digest as Record<string, unknown> | undefined;
  const sha256 = typeof digest?.sha256 === 'string' ? digest.sha256.toLowerCase() : '';
  if (sha256 !== dist.sha256.toLowerCase())
    throw failed(
      `subject does not match distribution digest: expected sha256 '${dist.sha256}', got '${sha256 === '' ? 'none' : sha256}'`,
    );
  const predicateType = typeof s.predicateType === 'string' ? s.predicateType : '';
  return { predicateType };
}

/** Warehouse's check after a verification: the predicate type is one of PREDICATE_TYPES. */
export function checkPredicateType(predicateType: string): void {
  if (!(PREDICATE_TYPES as readonly string[]).includes(predicateType))
    throw new AttestationError(`Attestation with unsupported predicate type: ${predicateType}`);
}
