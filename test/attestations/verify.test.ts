// The verification of one attestation (src/attestations: sigstore.ts, identity.ts, statement.ts),
// against real attestations that real projects published (GitHub, GitLab, Google; verified
// offline against Sigstore's public-good root) and against ones signed here by @sigstore/mock's
// Fulcio and Rekor under a private trust root, with every forgery refused.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parseAttestations, type Attestation } from '../../src/attestations/shape.js';
import { signerIdentityOf, verifySignature } from '../../src/attestations/sigstore.js';
import { checkStatement } from '../../src/attestations/statement.js';
import { checkIdentity, type PublisherIdentity } from '../../src/attestations/identity.js';
import { X509Certificate } from '@sigstore/core';
import {
  loadTrustRoot,
  TrustRootError,
  publicGoodTrustRoot,
  trustRootFromJson,
  type TrustRoot,
} from '../../src/attestations/trust-root.js';
import { trustMaterialOf } from '../../src/attestations/trust-material.js';
import { PROVIDERS } from '../../src/oidc/providers/index.js';
import {
  githubIdentity,
  realAttestations,
  startMockSigstore,
  type AttestOptions,
  type MockSigstore,
} from '../support/sigstore.js';

const one = (raw: unknown): Attestation => parseAttestations(JSON.stringify([raw]))[0]!;

function publisher(
  kind: 'github' | 'gitlab' | 'google',
  issuer: string,
  fields: Record<string, string>,
): PublisherIdentity {
  const result = PROVIDERS[kind].validateConfig(fields);
  assert.ok(result.ok, JSON.stringify(result));
  return { kind, issuerUrl: issuer, config: result.config };
}

/** Every check of an upload's attestation, in order; the failure's text, or null. */
function verify(
  raw: unknown,
  root: TrustRoot,
  who: PublisherIdentity,
  dist: { filename: string; sha256: string },
): string | null {
  try {
    const signature = verifySignature(one(raw), root);
    const identity = checkIdentity(who, signature.identity);
    if (identity !== null) return identity;
    checkStatement(signature.payload, dist);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const publicGood = publicGoodTrustRoot();
const real = realAttestations();

for (const [name, r] of Object.entries(real)) {
  test(`a real ${name} attestation verifies offline against the public-good root and its publisher`, () => {
    const who = publisher(r.kind, r.issuer, r.fields);
    assert.equal(verify(r.attestation, publicGood, who, r), null);
    const signature = verifySignature(one(r.attestation), publicGood);
    assert.equal(signature.logUrl, 'https://rekor.sigstore.dev');
    assert.match(signature.logIndex ?? '', /^\d+$/);
  });

  test(`a real ${name} attestation is refused for another file`, () => {
    const who = publisher(r.kind, r.issuer, r.fields);
    assert.match(
      verify(r.attestation, publicGood, who, { ...r, sha256: 'f'.repeat(64) })!,
      /subject does not match distribution digest: expected sha256 'f{64}', got '[0-9a-f]{64}'/,
    );
    assert.match(
      verify(r.attestation, publicGood, who, { ...r, filename: 'other-1.0.tar.gz' })!,
      /subject does not match distribution name: expected 'other-1.0.tar.gz'/,
    );
  });
}

test('the real GitHub attestation is refused for another repository, workflow, owner or issuer', () => {
  const r = real.github;
  const refuse = (fields: Record<string, string>, issuer = r.issuer) =>
    verify(r.attestation, publicGood, publisher('github', issuer, { ...r.fields, ...fields }), r);
  assert.match(
    refuse({ repository: 'other' })!,
    /Source Repository URI: expected 'https:\/\/github.com\/pypa\/other' \(in any case\), got 'https:\/\/github.com\/pypa\/sampleproject'/,
  );
  assert.match(
    refuse({ workflow: 'publish.yml' })!,
    /Build Config URI: expected one of 'https:\/\/github.com\/pypa\/sampleproject\/.github\/workflows\/publish.yml@refs\/heads\/main', .*, got 'https:\/\/github.com\/pypa\/sampleproject\/.github\/workflows\/release.yml@refs\/heads\/main'/,
  );
  assert.match(refuse({ ownerId: '1' })!, /Source Repository Owner ID: expected '1', got '647025'/);
  assert.match(
    refuse({}, 'https://ghe.example.com/_services/token')!,
    /Issuer: expected 'https:\/\/ghe.example.com\/_services\/token', got 'https:\/\/token.actions.githubusercontent.com'/,
  );
  // Repository names compare in any case, as trusted publishing's do.
  assert.equal(refuse({ owner: 'PyPA', repository: 'SampleProject' }), null);
});

test('the real GitLab and Google attestations are refused for another project or account', () => {
  const gl = real.gitlab;
  assert.match(
    verify(
      gl.attestation,
      publicGood,
      publisher('gitlab', gl.issuer, { ...gl.fields, workflowPath: 'ci/release.yml' }),
      gl,
    )!,
    /Build Config URI: expected one of .*ci\/release.yml@refs\/heads\/main/,
  );
  assert.match(
    verify(
      gl.attestation,
      publicGood,
      publisher('gitlab', gl.issuer, { ...gl.fields, project: 'other' }),
      gl,
    )!,
    /Source Repository URI: expected 'https:\/\/gitlab.com\/pep740-example\/other'/,
  );
  const g = real.google;
  assert.match(
    verify(
      g.attestation,
      publicGood,
      publisher('google', g.issuer, { email: 'release@example.iam.gserviceaccount.com' }),
      g,
    )!,
    /Subject Alternative Name: expected 'release@example.iam.gserviceaccount.com', got '919436158236-compute@developer.gserviceaccount.com'/,
  );
});

test('a real attestation does not verify against a private trust root, and the message says why', async () => {
  const mock = await startMockSigstore();
  const root = trustRootFromJson(mock.trustedRoot, 'a private root');
  const r = real.github;
  const failure = verify(r.attestation, root, publisher('github', r.issuer, r.fields), r)!;
  assert.match(
    failure,
    /^Could not verify the uploaded artifact using the included attestation: Verification failed: /,
  );
  assert.match(failure, /may be stale .* or the attestation comes from another Sigstore instance/);
});

// --- Signed here, under a private trust root ---------------------------------------------------

let mock: MockSigstore;
let root: TrustRoot;
const DIST = { filename: 'octo_lib-1.0-py3-none-any.whl', sha256: 'c'.repeat(64) };
const OCTO = () =>
  publisher('github', 'https://token.actions.githubusercontent.com', {
    owner: 'octo-org',
    repository: 'octo-repo',
    workflow: 'release.yml',
    ownerId: '65',
  });
const attest = (over: Partial<AttestOptions> = {}) =>
  mock.attest({ ...DIST, identity: githubIdentity(), ...over });

before(async () => {
  mock = await startMockSigstore();
  root = trustRootFromJson(mock.trustedRoot, 'the test Sigstore');
});

test('an attestation signed by the private Sigstore verifies, and its identity is read', async () => {
  const raw = await attest();
  assert.equal(verify(raw, root, OCTO(), DIST), null);
  const signature = verifySignature(one(raw), root);
  assert.equal(
    signature.identity.fields.sourceRepositoryUri,
    'https://github.com/octo-org/octo-repo',
  );
  assert.equal(signature.logUrl, 'https://rekor.pier.test');
  // …and it means nothing under Sigstore's public-good root.
  assert.match(verify(raw, publicGood, OCTO(), DIST)!, /Verification failed/);
});

test('wheel tags compare as sets: py3.py2 names the same wheel as py2.py3', async () => {
  const raw = await attest({ filename: 'octo_lib-1.0-py3.py2-none-any.whl' });
  assert.equal(
    verify(raw, root, OCTO(), { ...DIST, filename: 'octo_lib-1.0-py2.py3-none-any.whl' }),
    null,
  );
  assert.equal(
    verify(raw, root, OCTO(), { ...DIST, filename: 'Octo.Lib-1.0-py2.py3-none-any.whl' }),
    null,
  );
});

test('forgeries are refused: file digest, subject, signature, inclusion proof, log body', async () => {
  const good = await attest();
  const copy = () => JSON.parse(JSON.stringify(good));
  // A tampered file: the digest pier computed is not the statement's.
  assert.match(
    verify(good, root, OCTO(), { ...DIST, sha256: 'd'.repeat(64) })!,
    /subject does not match distribution digest/,
  );

  // A statement rewritten to name another digest (the signature no longer covers it).
  const statement = JSON.parse(Buffer.from(good.envelope.statement, 'base64').toString());
  statement.subject[0].digest.sha256 = 'd'.repeat(64);
  const forgedStatement = copy();
  forgedStatement.envelope.statement = Buffer.from(JSON.stringify(statement)).toString('base64');
  assert.match(
    verify(forgedStatement, root, OCTO(), { ...DIST, sha256: 'd'.repeat(64) })!,
    /TLOG_BODY_ERROR: DSSE payload hash mismatch/,
  );

  // A flipped byte of the DSSE signature.
  const sig = Buffer.from(good.envelope.signature, 'base64');
  sig[sig.length - 1]! ^= 1;
  const forgedSignature = copy();
  forgedSignature.envelope.signature = sig.toString('base64');
  assert.match(
    verify(forgedSignature, root, OCTO(), DIST)!,
    /TLOG_BODY_ERROR: tlog entry signature mismatch/,
  );

  // An inclusion proof whose checkpoint is not signed by the log.
  const forgedProof = copy();
  const proof = forgedProof.verification_material.transparency_entries[0].inclusionProof;
  proof.checkpoint.envelope = proof.checkpoint.envelope.replace(
    /\n\n— (\S+) (\S+)\n$/,
    (_: string, host: string, s: string) => {
      const bytes = Buffer.from(s, 'base64');
      bytes[bytes.length - 1]! ^= 1;
      return `\n\n— ${host} ${bytes.toString('base64')}\n`;
    },
  );
  assert.match(verify(forgedProof, root, OCTO(), DIST)!, /TLOG_INCLUSION_PROOF_ERROR/);

  // No inclusion proof at all.
  const noProof = copy();
  delete noProof.verification_material.transparency_entries[0].inclusionProof;
  assert.match(verify(noProof, root, OCTO(), DIST)!, /Verification failed/);

  // A signed entry timestamp that is not the log's.
  const forgedPromise = copy();
  const set = forgedPromise.verification_material.transparency_entries[0].inclusionPromise;
  const setBytes = Buffer.from(set.signedEntryTimestamp, 'base64');
  setBytes[setBytes.length - 1]! ^= 1;
  set.signedEntryTimestamp = setBytes.toString('base64');
  assert.match(verify(forgedPromise, root, OCTO(), DIST)!, /TLOG_INCLUSION_PROMISE_ERROR/);
});

test('a certificate used outside its validity (logged after it expired) is refused', async () => {
  const late = await attest({ lateLog: true });
  assert.match(verify(late, root, OCTO(), DIST)!, /CERTIFICATE_ERROR/);
});

test('a statement with two subjects, or another _type, is refused', async () => {
  const two = await attest({
    subjects: [
      { name: DIST.filename, digest: { sha256: DIST.sha256 } },
      { name: 'octo_lib-1.0.tar.gz', digest: { sha256: DIST.sha256 } },
    ],
  });
  assert.match(verify(two, root, OCTO(), DIST)!, /exactly one subject, got 2/);
  const notAFile = await attest({
    subjects: [{ name: 'octo-lib', digest: { sha256: DIST.sha256 } }],
  });
  assert.match(
    verify(notAFile, root, OCTO(), DIST)!,
    /the subject's name is not a wheel or sdist filename: 'octo-lib'/,
  );
});

test('the wrong repository or workflow is refused; a reusable workflow of the repository verifies', async () => {
  const other = await attest({ identity: githubIdentity({ repository: 'evil-org/octo-repo' }) });
  assert.match(
    verify(other, root, OCTO(), DIST)!,
    /Source Repository URI: expected 'https:\/\/github.com\/octo-org\/octo-repo' \(in any case\), got 'https:\/\/github.com\/evil-org\/octo-repo'/,
  );
  const wrongWorkflow = await attest({ identity: githubIdentity({ workflow: 'ci.yml' }) });
  assert.match(
    verify(wrongWorkflow, root, OCTO(), DIST)!,
    /Build Config URI: expected one of 'https:\/\/github.com\/octo-org\/octo-repo\/.github\/workflows\/release.yml@refs\/tags\/v1.0', 'https:\/\/github.com\/octo-org\/octo-repo\/.github\/workflows\/release.yml@a{40}', got '.*ci.yml@refs\/tags\/v1.0' \(Build Signer URI/,
  );
  // release.yml calls the repository's reusable publish.yml: a publisher naming either verifies
  // (the caller as on PyPI, the job's own file as trusted publishing matches it).
  const reusable = await attest({
    identity: githubIdentity({ workflow: 'publish.yml', caller: 'release.yml' }),
  });
  assert.equal(verify(reusable, root, OCTO(), DIST), null);
  const named = publisher('github', 'https://token.actions.githubusercontent.com', {
    owner: 'octo-org',
    repository: 'octo-repo',
    workflow: 'publish.yml',
    ownerId: '65',
  });
  assert.equal(verify(reusable, root, named, DIST), null);
  // A workflow at another ref than the certificate's is not the run's.
  const otherRef = await attest({
    identity: (() => {
      const id = githubIdentity();
      id.extensions.buildConfigUri = id.extensions.buildConfigUri!.replace(
        '@refs/tags/v1.0',
        '@refs/heads/evil',
      );
      id.extensions.buildSignerUri = id.extensions.buildConfigUri;
      return id;
    })(),
  });
  assert.match(verify(otherRef, root, OCTO(), DIST)!, /Build Config URI: expected one of/);
});

test('PIER_SIGSTORE_TRUSTED_ROOT: a file that is missing, not JSON or not a root is refused', () => {
  assert.throws(
    () => loadTrustRoot('/nonexistent/trusted_root.json'),
    (err: unknown) => {
      assert.ok(err instanceof TrustRootError);
      assert.match(err.message, /^\/nonexistent\/trusted_root.json: cannot read the trusted root/);
      return true;
    },
  );
  assert.throws(
    () => trustRootFromJson({ mediaType: 'x', tlogs: [] }, 'root.json'),
    /root.json: a trusted root needs at least one certificate authority and one transparency log/,
  );
  const good = publicGoodTrustRoot();
  assert.equal(good.newestKey?.toISOString().slice(0, 10), '2025-09-23');
});

test('a root whose keys do not parse passes the cheap check at start, and is refused with its reason when first used', () => {
  const broken = trustRootFromJson(
    {
      ...mock.trustedRoot,
      tlogs: [{ baseUrl: 'https://rekor.example', hashAlgorithm: 'SHA2_256', publicKey: 7 }],
    },
    'broken.json',
  );
  assert.throws(
    () => trustMaterialOf(broken),
    (err: unknown) => {
      assert.ok(err instanceof TrustRootError);
      assert.match(err.message, /^broken\.json: not a usable trusted root: /);
      return true;
    },
  );
  // Parsed once per root.
  const root = trustRootFromJson(mock.trustedRoot, 'the test Sigstore');
  assert.equal(trustMaterialOf(root), trustMaterialOf(root));
});

test('an ActiveState publisher has no signing identity: its attestations are not supported', () => {
  const cert = X509Certificate.parse(
    Buffer.from(real.github.attestation.verification_material.certificate, 'base64'),
  );
  assert.equal(
    checkIdentity(
      {
        kind: 'activestate',
        issuerUrl: 'https://platform.activestate.com/api/v1/oauth/oidc',
        config: {},
      },
      signerIdentityOf(cert),
    ),
    'Attestations are not currently supported with ActiveState publishers',
  );
});
