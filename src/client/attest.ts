// PEP 740 publish attestations, made as pypi-attestations makes them (reference attestations.md
// §2): an in-toto v1 statement naming the distribution and its SHA-256, with the PyPI publish
// predicate, signed as a DSSE envelope by a short-lived Fulcio certificate issued for the job's
// OIDC token (audience `sigstore`), logged in Rekor (v1, a `dsse` entry), and converted from the
// Sigstore bundle into the PEP 740 attestation object. The signing itself is @sigstore/sign's.
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness } from '@sigstore/sign';
import { PublishError } from './errors.js';

export const PUBLISH_PREDICATE_TYPE = 'https://docs.pypi.org/attestations/publish/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The audience of the OIDC token Fulcio accepts (Sigstore's public good and most private ones). */
export const SIGSTORE_AUDIENCE = 'sigstore';
export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';
/** The suffix of the file written next to each distribution, as the pypa action names it. */
export const PUBLISH_ATTESTATION_SUFFIX = '.publish.attestation';

/** The PEP 740 attestation object (version 1). */
export interface Pep740Attestation {
  version: 1;
  verification_material: { certificate: string; transparency_entries: unknown[] };
  envelope: { statement: string; signature: string };
}

/**
 * The statement's exact bytes: signed and sent as they are (verifiers never re-serialise them).
 * Key order and `predicate: null` as pypi-attestations writes them.
 */
export function publishStatement(filename: string, sha256: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: filename, digest: { sha256 } }],
      predicateType: PUBLISH_PREDICATE_TYPE,
      predicate: null,
    }),
    'utf8',
  );
}

/** A Sigstore bundle (v0.3, one certificate, a DSSE envelope) as the PEP 740 object. */
export function bundleToAttestation(bundle: unknown): Pep740Attestation {
  const json = bundle as {
    verificationMaterial?: {
      certificate?: { rawBytes?: string };
      tlogEntries?: unknown[];
    };
    dsseEnvelope?: { payload?: string; signatures?: { sig?: string }[] };
  };
  const certificate = json.verificationMaterial?.certificate?.rawBytes;
  const entries = json.verificationMaterial?.tlogEntries ?? [];
  const statement = json.dsseEnvelope?.payload;
  const signature = json.dsseEnvelope?.signatures?.[0]?.sig;
  if (!certificate || entries.length === 0 || !statement || !signature)
    throw new Error(
      'the signed bundle lacks a certificate, a transparency-log entry or a DSSE signature',
    );
  return {
    version: 1,
    verification_material: { certificate, transparency_entries: entries },
    envelope: { statement, signature },
  };
}

export interface SigstoreServices {
  fulcioUrl: string;
  rekorUrl: string;
}

/** Signs distributions with one Fulcio certificate request per file (as pypi-attestations). */
export interface DistributionSigner {
  attest(filename: string, sha256: string): Promise<Pep740Attestation>;
}

/** What failed, in a sentence that names the service: a signing failure stops the publish. */
function signingFailure(filename: string, services: SigstoreServices, err: unknown): PublishError {
  const e = err as { message?: string; code?: string; cause?: { message?: string } };
  const detail = [e.message, e.cause?.message].filter(Boolean).join(': ');
  const which = /fulcio|certificate/i.test(detail)
    ? `Fulcio (${services.fulcioUrl})`
    : /rekor|tlog|transparency/i.test(detail)
      ? `Rekor (${services.rekorUrl})`
      : `Sigstore (Fulcio ${services.fulcioUrl}, Rekor ${services.rekorUrl})`;
  return new PublishError(
    'attestation-failed',
    `${filename}: signing its attestation with ${which} failed: ${detail || String(err)}`,
    {
      hints: [
        'Nothing was uploaded. Check that the job’s OIDC token is one this Fulcio accepts (audience `sigstore`) and that --fulcio-url and --rekor-url (PIER_FULCIO_URL, PIER_REKOR_URL) name reachable services; or publish without --attestations.',
      ],
      cause: err,
    },
  );
}

export function sigstoreSigner(oidcToken: string, services: SigstoreServices): DistributionSigner {
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({
      fulcioBaseURL: services.fulcioUrl,
      identityProvider: { getToken: () => Promise.resolve(oidcToken) },
      timeout: 30_000,
      retry: 2,
    }),
    witnesses: [
      new RekorWitness({
        rekorBaseURL: services.rekorUrl,
        entryType: 'dsse',
        majorApiVersion: 1,
        fetchOnConflict: true,
        timeout: 30_000,
        retry: 2,
      }),
    ],
  });
  return {
    async attest(filename, sha256) {
      let bundle;
      try {
        bundle = await builder.create({
          data: publishStatement(filename, sha256),
          type: IN_TOTO_PAYLOAD_TYPE,
        });
      } catch (err) {
        throw signingFailure(filename, services, err);
      }
      return bundleToAttestation(bundleToJSON(bundle));
    },
  };
}
