// A private Sigstore for tests: @sigstore/mock's Fulcio (CA and CT log) and Rekor, a
// trusted_root.json that trusts them, and a signer that makes PEP 740 attestations the way
// pypi-attestations does (a DSSE envelope over an in-toto statement, logged as a Rekor v1 `dsse`
// entry), with every input a forgery test needs to change.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initializeCA, initializeCTLog, initializeTLog } from '@sigstore/mock';
import { REPO_ROOT } from './server.js';
import { FULCIO_OIDS } from '../../src/attestations/sigstore.js';

const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const PUBLISH_V1 = 'https://docs.pypi.org/attestations/publish/v1';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';

/** Fulcio's OIDs (1.3.6.1.4.1.57264.1.N) a signing certificate may carry: pier's own table. */
export const OID = FULCIO_OIDS;

export interface SigningIdentity {
  san: string;
  extensions: Partial<Record<keyof typeof OID, string>>;
}

/** A GitHub Actions job's certificate identity, as Fulcio's GitHub template fills it. */
export function githubIdentity(
  opts: {
    issuer?: string;
    /** The web host repositories live on (GitHub Enterprise, a test issuer's origin). */
    web?: string;
    repository?: string;
    workflow?: string;
    caller?: string;
    ref?: string;
    sha?: string;
    ownerId?: string;
  } = {},
): SigningIdentity {
  const repository = opts.repository ?? 'octo-org/octo-repo';
  const ref = opts.ref ?? 'refs/tags/v1.0';
  const sha = opts.sha ?? 'a'.repeat(40);
  const web = opts.web ?? 'https://github.com';
  const job = `${web}/${repository}/.github/workflows/${opts.workflow ?? 'release.yml'}@${ref}`;
  const caller = `${web}/${repository}/.github/workflows/${opts.caller ?? opts.workflow ?? 'release.yml'}@${ref}`;
  return {
    san: job,
    extensions: {
      issuer: opts.issuer ?? 'https://token.actions.githubusercontent.com',
      buildSignerUri: job,
      sourceRepositoryUri: `${web}/${repository}`,
      sourceRepositoryDigest: sha,
      sourceRepositoryRef: ref,
      sourceRepositoryOwnerId: opts.ownerId ?? '65',
      buildConfigUri: caller,
    },
  };
}

export interface AttestOptions {
  filename: string;
  sha256: string;
  identity: SigningIdentity;
  predicateType?: string;
  /** The statement's subjects (default: the one file). */
  subjects?: unknown[];
  /** Sign with the log whose clock is an hour ahead: the certificate has expired by then. */
  lateLog?: boolean;
}

/** Rekor v1's answer to a new entry (the mock's `LogEntry`). */
interface RekorEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: {
      logIndex: number;
      treeSize: number;
      rootHash: string;
      hashes: string[];
      checkpoint: string;
    };
  };
}

export interface MockSigstore {
  /** The trusted_root.json (JSON) that trusts this mock's CA, CT log and Rekor. */
  trustedRoot: Record<string, unknown>;
  /** A PEP 740 attestation object. */
  attest(opts: AttestOptions): Promise<Record<string, any>>;
  /** The mock's certificate authority and Rekor log, for serving them over HTTP(S). */
  ca: Awaited<ReturnType<typeof initializeCA>>;
  tlog: Awaited<ReturnType<typeof initializeTLog>>;
}

/** The bytes of a typed-array view (never the whole ArrayBuffer behind it). */
const view = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const b64 = (data: Uint8Array | Buffer) => Buffer.from(data).toString('base64');
const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `,
      'utf8',
    ),
    payload,
  ]);
}

function pem(der: Buffer): string {
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

export async function startMockSigstore(): Promise<MockSigstore> {
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(keyPair);
  const ca = await initializeCA(keyPair, ctlog);
  const rekorUrl = 'https://rekor.pier.test';
  const tlog = await initializeTLog(rekorUrl, keyPair);
  const lateTlog = await initializeTLog(rekorUrl, keyPair, new Date(Date.now() + 3_600_000));
  const start = new Date(Date.now() - 3_600_000).toISOString();
  const spki = keyPair.publicKey.export({ format: 'der', type: 'spki' });
  const key = (raw: Buffer) => ({
    rawBytes: b64(raw),
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    validFor: { start },
  });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: rekorUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: key(spki),
        logId: { keyId: b64(createHash('sha256').update(spki).digest()) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: 'https://fulcio.pier.test',
        certChain: { certificates: [{ rawBytes: b64(view(ca.rootCertificate)) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ctfe.pier.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: key(ctlog.publicKey),
        logId: { keyId: b64(view(ctlog.logID)) },
      },
    ],
    timestampAuthorities: [],
  };

  async function attest(opts: AttestOptions) {
    const signer: { publicKey: KeyObject; privateKey: KeyObject } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
    });
    const certificate = view(
      await ca.issueCertificate({
        publicKey: signer.publicKey.export({ format: 'der', type: 'spki' }),
        subjectAltName: opts.identity.san,
        extensions: Object.entries(opts.identity.extensions).map(([name, value]) => ({
          oid: OID[name as keyof typeof OID],
          value: value!,
        })),
      }),
    );
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: opts.subjects ?? [{ name: opts.filename, digest: { sha256: opts.sha256 } }],
        predicateType: opts.predicateType ?? PUBLISH_V1,
        predicate: null,
      }),
    );
    const signature = sign('sha256', pae(PAYLOAD_TYPE, statement), signer.privateKey);
    const envelope = {
      payload: b64(statement),
      payloadType: PAYLOAD_TYPE,
      signatures: [{ sig: b64(signature), keyid: '' }],
    };
    const body = {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256Hex(JSON.stringify(envelope)) },
        payloadHash: { algorithm: 'sha256', value: sha256Hex(statement) },
        signatures: [{ signature: b64(signature), verifier: b64(Buffer.from(pem(certificate))) }],
      },
    };
    const logged = await (opts.lateLog ? lateTlog : tlog).log(body);
    const entry = Object.values(logged as Record<string, RekorEntry>)[0]!;
    const proof = entry.verification.inclusionProof;
    return {
      version: 1,
      verification_material: {
        certificate: b64(certificate),
        transparency_entries: [
          {
            logIndex: String(entry.logIndex),
            logId: { keyId: b64(Buffer.from(entry.logID, 'hex')) },
            kindVersion: { kind: 'dsse', version: '0.0.1' },
            integratedTime: String(entry.integratedTime),
            inclusionPromise: { signedEntryTimestamp: entry.verification.signedEntryTimestamp },
            inclusionProof: {
              logIndex: String(proof.logIndex),
              rootHash: b64(Buffer.from(proof.rootHash, 'hex')),
              treeSize: String(proof.treeSize),
              hashes: proof.hashes.map((h) => b64(Buffer.from(h, 'hex'))),
              checkpoint: { envelope: proof.checkpoint },
            },
            canonicalizedBody: entry.body,
          },
        ],
      },
      envelope: { statement: b64(statement), signature: b64(signature) },
    };
  }

  return { trustedRoot, attest, ca, tlog };
}

// --- Real attestations (test/fixtures/attestations, see its README) ------------------------------

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'attestations');

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

export interface RealAttestation {
  filename: string;
  sha256: string;
  attestation: Record<string, any>;
  /** The publisher that signed it, as registration fields. */
  kind: 'github' | 'gitlab' | 'google';
  issuer: string;
  fields: Record<string, string>;
}

function fromProvenance(file: string): Record<string, any> {
  const doc = JSON.parse(fixture(file).toString('utf8'));
  return doc.attestation_bundles[0].attestations[0];
}

function statementDigest(attestation: Record<string, any>): string {
  const statement = JSON.parse(Buffer.from(attestation.envelope.statement, 'base64').toString());
  return statement.subject[0].digest.sha256;
}

/** The three real attestations: GitHub, GitLab and Google, with the files they attest. */
export function realAttestations(): Record<'github' | 'gitlab' | 'google', RealAttestation> {
  const github = fromProvenance('sampleproject-4.0.0.tar.gz.provenance');
  const gitlab = fromProvenance('pep740-sampleproject-1.0.0.tar.gz.provenance');
  const google = JSON.parse(
    fixture('sampleproject-3.0.0.tar.gz.publish.attestation').toString('utf8'),
  );
  return {
    github: {
      filename: 'sampleproject-4.0.0.tar.gz',
      sha256: statementDigest(github),
      attestation: github,
      kind: 'github',
      issuer: 'https://token.actions.githubusercontent.com',
      fields: {
        owner: 'pypa',
        repository: 'sampleproject',
        workflow: 'release.yml',
        ownerId: '647025',
      },
    },
    gitlab: {
      filename: 'pep740_sampleproject-1.0.0.tar.gz',
      sha256: statementDigest(gitlab),
      attestation: gitlab,
      kind: 'gitlab',
      issuer: 'https://gitlab.com',
      fields: {
        namespace: 'pep740-example',
        project: 'sampleproject',
        workflowPath: '.gitlab-ci.yml',
      },
    },
    google: {
      filename: 'sampleproject-3.0.0.tar.gz',
      sha256: createHash('sha256').update(fixture('sampleproject-3.0.0.tar.gz')).digest('hex'),
      attestation: google,
      kind: 'google',
      issuer: 'https://accounts.google.com',
      fields: { email: '919436158236-compute@developer.gserviceaccount.com' },
    },
  };
}
