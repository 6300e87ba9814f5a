// The Sigstore verification of one attestation, with sigstore-js (@sigstore/verify): the PEP 740
// object becomes a Sigstore bundle (v0.3, as pypi-attestations' `to_bundle` makes it), and the
// verifier checks the Fulcio certificate chain at the signing time (the log's integrated time,
// or an RFC 3161 timestamp), the certificate's SCT, the transparency-log entry (its inclusion
// proof against the signed checkpoint, its inclusion promise, and that its body is this
// signature and this statement), and the DSSE signature over the statement's exact bytes.
// What it returns is the signing certificate's identity, for the publisher policy
// (./identity.ts), and the statement's bytes, for ./statement.ts.
import { bundleFromJSON } from '@sigstore/bundle';
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import { Verifier, toSignedEntity } from '@sigstore/verify';
import { verificationFailed, type Attestation } from './shape.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';
import { staleRootHint, type TrustRoot } from './trust-root.js';
import { trustMaterialOf } from './trust-material.js';

/** Fulcio's certificate extensions (1.3.6.1.4.1.57264.1.N), each a DER UTF8String. */
export const FULCIO_OIDS = {
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryOwnerId: '1.3.6.1.4.1.57264.1.17',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
} as const;

/** The legacy issuer extension (1.3.6.1.4.1.57264.1.1): the raw string, not DER. */
const LEGACY_ISSUER_OID = '1.3.6.1.4.1.57264.1.1';

export type CertificateField = keyof typeof FULCIO_OIDS;

/** What a verified signing certificate says about who signed: plain data for the policies. */
export interface SignerIdentity {
  /** The certificate's subject alternative name (a URI or an e-mail address). */
  san: string;
  /** The Fulcio extensions present in the certificate, by name. */
  fields: Partial<Record<CertificateField, string>>;
}

/** One verified attestation: who signed, what was signed, where the log has it. */
export interface VerifiedSignature {
  identity: SignerIdentity;
  /** The in-toto statement's bytes, as signed. */
  payload: Buffer;
  logIndex: string | null;
  /** The transparency log's base URL, when the trust root names it. */
  logUrl: string | null;
  /** When the log integrated the entry (ms since the epoch), or null (Rekor v2). */
  integratedAt: number | null;
}

function extensionString(cert: X509Certificate, oid: string): string | undefined {
  const ext = cert.extension(oid);
  if (ext === undefined) return undefined;
  try {
    return ASN1Obj.parseBuffer(ext.value as Buffer<ArrayBuffer>).value.toString('utf8');
  } catch {
    return undefined;
  }
}

/** The identity fields of a Fulcio certificate. */
export function signerIdentityOf(cert: X509Certificate): SignerIdentity {
  const fields: SignerIdentity['fields'] = {};
  for (const [name, oid] of Object.entries(FULCIO_OIDS) as [CertificateField, string][]) {
    const value = extensionString(cert, oid);
    if (value !== undefined) fields[name] = value;
  }
  if (fields.issuer === undefined) {
    const legacy = cert.extension(LEGACY_ISSUER_OID);
    if (legacy !== undefined) fields.issuer = legacy.value.toString('utf8');
  }
  return { san: cert.subjectAltName ?? '', fields };
}

/** pypi-attestations' `to_bundle`: the attestation as a Sigstore bundle v0.3 (JSON form). */
function toBundleJson(att: Attestation) {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: att.certificate },
      tlogEntries: att.transparencyEntries,
      timestampVerificationData: {
        rfc3161Timestamps: att.timestamps.map((signedTimestamp) => ({ signedTimestamp })),
      },
    },
    dsseEnvelope: {
      payload: att.statement,
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: att.signature, keyid: '' }],
    },
  };
}

/** sigstore-js's error as one line: its code, its message and the causes under it. */
function describeFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause)
    if (!parts.includes(e.message)) parts.push(e.message);
  return `${typeof code === 'string' ? `${code}: ` : ''}${parts.join(': ')}`;
}

function logBaseUrl(root: TrustRoot, keyId: unknown): string | null {
  if (typeof keyId !== 'string') return null;
  const id = Buffer.from(keyId, 'base64');
  const log = trustMaterialOf(root).tlogs.find((t) => t.logID.equals(id));
  return log ? log.baseURL : null;
}

/**
 * Verifies one attestation's signature, certificate and log entry against the trust root.
 * Throws AttestationError with sigstore-js's code and reason.
 */
export function verifySignature(att: Attestation, root: TrustRoot): VerifiedSignature {
  let entity;
  try {
    entity = toSignedEntity(bundleFromJSON(toBundleJson(att)));
  } catch (err) {
    throw verificationFailed(`invalid Sigstore bundle: ${(err as Error).message}`);
  }
  try {
    // One log entry (or timestamp) and one SCT at least: sigstore-js's defaults, and PyPI's.
    new Verifier(trustMaterialOf(root), {
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    }).verify(entity);
  } catch (err) {
    const reason = describeFailure(err);
    const hint = staleRootHint(root, reason);
    throw verificationFailed(hint === null ? reason : `${reason} (${hint})`);
  }
  const cert = X509Certificate.parse(Buffer.from(att.certificate, 'base64'));
  const entry = att.transparencyEntries[0]!;
  const integrated = Number(entry.integratedTime);
  return {
    identity: signerIdentityOf(cert),
    payload: Buffer.from(att.statement, 'base64'),
    logIndex:
      typeof entry.logIndex === 'string' || typeof entry.logIndex === 'number'
        ? String(entry.logIndex)
        : null,
    logUrl: logBaseUrl(root, (entry.logId as { keyId?: unknown } | undefined)?.keyId),
    integratedAt: Number.isFinite(integrated) && integrated > 0 ? integrated * 1000 : null,
  };
}
