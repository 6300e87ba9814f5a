// @backends: runs on the embedded default and on PostgreSQL with S3.
// pier's client makes PEP 740 attestations, end to end: `pier publish --attestations` and the
// action's `attestations: true` take the job's OIDC token (audience `sigstore`) from
// `pier dev-oidc`, sign each file through @sigstore/sign at a Fulcio and a Rekor served over
// HTTPS (test/support/sigstore-services.ts: @sigstore/mock's CA and log), write
// `<dist>.publish.attestation` and upload it; pier (trusting the mock's root) verifies it and serves it at the Integrity API; and @sigstore/verify, called here directly on
// the mock's trust root (not through pier's code), accepts what was served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { X509Certificate } from '@sigstore/core';
import {
  RELEASE_JOB,
  RELEASE_JOB_FIELDS,
  startDevOidcProcess,
  type DevOidcProcess,
} from '../support/dev-oidc.js';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { testCertificates } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { makeWheel } from '../support/dists.js';
import { sha256 } from '../support/upload.js';
import { githubIdentity, startMockSigstore, type MockSigstore } from '../support/sigstore.js';
import { serveMockSigstore, type SigstoreServices } from '../support/sigstore-services.js';
import { ACTION_BUNDLE, cleanEnv, runNode, runPublish } from '../client/processes.js';

const certs = testCertificates();
const PUBLISH_V1 = 'https://docs.pypi.org/attestations/publish/v1';
let pier: TestServer;
let dev: DevOidcProcess;
let mock: MockSigstore;
let services: SigstoreServices;

/** A JSON document of pier's, with its status. */
async function getJson(url: string, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { headers });
  const body = await res.text();
  assert.equal(res.status, 200, `${url}: ${res.status} ${body}`);
  return JSON.parse(body);
}

/** Whether pier has a release (its JSON API answers). */
async function hasRelease(version: string): Promise<boolean> {
  const res = await fetch(`${pier.url}/pypi/pier-sample/${version}/json`);
  await res.arrayBuffer();
  return res.status === 200;
}

/** A dist/ directory holding a pier-sample wheel of `version`. */
async function distWith(version: string) {
  const dir = join(tempDir('pier-attest-'), 'dist');
  mkdirSync(dir, { recursive: true });
  const w = await makeWheel({ name: 'pier-sample', version });
  const path = join(dir, w.filename);
  writeFileSync(path, w.content);
  return { dir, path, filename: w.filename, sha256: sha256(w.content) };
}

const provenanceUrl = (version: string, filename: string) =>
  `${pier.url}/integrity/pier-sample/${version}/${filename}/provenance`;

/** The statement's bytes must be pypi-attestations', exactly. */
function expectedStatement(filename: string, digest: string): string {
  return JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: filename, digest: { sha256: digest } }],
    predicateType: PUBLISH_V1,
    predicate: null,
  });
}

/**
 * A third party's verification: the PEP 740 object as a Sigstore bundle v0.3 (as
 * pypi-attestations' `to_bundle`), verified by @sigstore/verify on the mock's trust root.
 */
function verifyIndependently(att: any) {
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: att.verification_material.certificate },
      tlogEntries: att.verification_material.transparency_entries,
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: {
      payload: att.envelope.statement,
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: att.envelope.signature, keyid: '' }],
    },
  });
  const trust = toTrustMaterial(TrustedRoot.fromJSON(mock.trustedRoot));
  return new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1 }).verify(
    toSignedEntity(bundle),
    { subjectAlternativeName: `${dev.url}/${jobWorkflowRef()}`, extensions: { issuer: dev.url } },
  );
}

const jobWorkflowRef = () => 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main';

/** What every served attestation must be: the written file, in PEP 740's shape, verifiable. */
async function checkPublished(
  dist: { path: string; filename: string; sha256: string },
  version: string,
) {
  const file = `${dist.path}.publish.attestation`;
  assert.ok(existsSync(file), `${file} was written`);
  const written = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(Object.keys(written).sort(), ['envelope', 'verification_material', 'version']);
  assert.equal(written.version, 1);
  assert.deepEqual(Object.keys(written.verification_material).sort(), [
    'certificate',
    'transparency_entries',
  ]);
  assert.deepEqual(Object.keys(written.envelope).sort(), ['signature', 'statement']);
  assert.equal(
    Buffer.from(written.envelope.statement, 'base64').toString('utf8'),
    expectedStatement(dist.filename, dist.sha256),
  );
  const [entry] = written.verification_material.transparency_entries;
  assert.deepEqual(entry.kindVersion, { kind: 'dsse', version: '0.0.1' });
  assert.equal(typeof entry.logIndex, 'string');
  assert.equal(typeof entry.integratedTime, 'string');
  assert.ok(entry.inclusionPromise.signedEntryTimestamp);
  assert.ok(entry.inclusionProof.checkpoint.envelope);
  assert.ok(entry.canonicalizedBody);
  // The certificate is the leaf alone (DER), issued for the job.
  const cert = X509Certificate.parse(
    Buffer.from(written.verification_material.certificate, 'base64'),
  );
  assert.equal(cert.subjectAltName, `${dev.url}/${jobWorkflowRef()}`);

  const provenance = await getJson(provenanceUrl(version, dist.filename));
  const [bundle] = provenance.attestation_bundles;
  assert.deepEqual(bundle.publisher, {
    kind: 'GitHub',
    repository: 'octo-org/octo-repo',
    workflow: 'release.yml',
    environment: 'release',
  });
  assert.deepEqual(bundle.attestations, [written], 'pier serves the attestation as written');
  const verified = verifyIndependently(bundle.attestations[0]);
  assert.equal(verified.identity?.subjectAlternativeName, `${dev.url}/${jobWorkflowRef()}`);
  const simple = await getJson(`${pier.url}/simple/pier-sample/`, {
    accept: 'application/vnd.pypi.simple.v1+json',
  });
  const listed = simple.files.find((f: any) => f.filename === dist.filename);
  assert.equal(listed.provenance, provenanceUrl(version, dist.filename));
}

before(async () => {
  mock = await startMockSigstore();
  services = await serveMockSigstore(mock, certs);
  const root = join(tempDir('pier-attest-root-'), 'trusted_root.json');
  writeFileSync(root, JSON.stringify(mock.trustedRoot));
  // pier in this process (its URL is loopback HTTP, which the client accepts); the client, the
  // action and dev-oidc as processes.
  [pier, dev] = await Promise.all([
    startServer({ sigstoreTrustedRoot: root }),
    startDevOidcProcess(RELEASE_JOB),
  ]);
  const s = pier.services;
  await s.issuers.add(OPERATOR, { kind: 'github', url: dev.url, insecure: true });
  await s.auth.addUser(OPERATOR, { username: 'maintainer', password: 'pw-123456' });
  await s.projects.create(OPERATOR, 'pier-sample', 'maintainer');
  await s.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'github',
    issuerUrl: dev.url,
    fields: { ...RELEASE_JOB_FIELDS, environment: 'release' },
  });
});

after(async () => {
  await dev?.stop();
  await pier?.close();
  await services?.close();
});

const jobEnv = () => ({ ...dev.env, NODE_EXTRA_CA_CERTS: certs.caCert });

test('pier publish --attestations signs, writes <dist>.publish.attestation, uploads; pier verifies and serves it', async () => {
  const dist = await distWith('1.0.0');
  const r = await runPublish(
    [
      '--repository-url',
      `${pier.url}/legacy/`,
      '--attestations',
      '--fulcio-url',
      services.fulcioUrl,
      '--rekor-url',
      services.rekorUrl,
      '--json',
      dist.dir,
    ],
    jobEnv(),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `Signed ${dist.filename.replace(/\./g, '\\.')}: .*\\.publish\\.attestation \\(Rekor log index \\d+\\)`,
    ),
  );
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.files[0].attestations, [`${dist.path}.publish.attestation`]);
  await checkPublished(dist, '1.0.0');
});

test('the action with attestations: true, Fulcio and Rekor from its inputs', async () => {
  const dist = await distWith('1.1.0');
  const checkout = join(tempDir('pier-attest-action-'), 'index.cjs');
  copyFileSync(ACTION_BUNDLE, checkout);
  const r = await runNode(
    [checkout],
    cleanEnv({
      ...jobEnv(),
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: join(dist.dir, '..'),
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
      RUNNER_TEMP: tempDir('pier-attest-runner-'),
      'INPUT_REPOSITORY-URL': `${pier.url}/legacy/`,
      'INPUT_PACKAGES-DIR': dist.dir,
      INPUT_ATTESTATIONS: 'true',
      'INPUT_FULCIO-URL': services.fulcioUrl,
      'INPUT_REKOR-URL': services.rekorUrl,
    }),
    join(dist.dir, '..'),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Signed pier_sample-1\.1\.0-py3-none-any\.whl/);
  await checkPublished(dist, '1.1.0');
});

test('attestation files already next to a distribution (attest-action) are uploaded without --attestations', async () => {
  const dist = await distWith('1.2.0');
  // As attest-action writes it: signed elsewhere, for the same job identity.
  const attestation = await mock.attest({
    filename: dist.filename,
    sha256: dist.sha256,
    identity: githubIdentity({
      issuer: dev.url,
      web: dev.url,
      ref: 'refs/heads/main',
      sha: '1c4a7a3f0b8e2d9c6f5e4d3c2b1a09f8e7d6c5b4',
    }),
  });
  writeFileSync(`${dist.path}.publish.attestation`, JSON.stringify(attestation));
  const requests = services.requests.length;
  const r = await runPublish(['--repository-url', `${pier.url}/legacy/`, dist.dir], jobEnv());
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(services.requests.length, requests, 'nothing was signed');
  const provenance = await getJson(provenanceUrl('1.2.0', dist.filename));
  assert.deepEqual(provenance.attestation_bundles[0].attestations, [attestation]);
});

test('an attestation file that is not JSON: a clear error, nothing uploaded', async () => {
  const dist = await distWith('1.3.0');
  writeFileSync(`${dist.path}.publish.attestation`, '{not json');
  const r = await runPublish(['--repository-url', `${pier.url}/legacy/`, dist.dir], jobEnv());
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\.publish\.attestation: not a JSON attestation/);
  assert.equal(await hasRelease('1.3.0'), false, 'no release 1.3.0');
});

for (const [service, path] of [
  ['Fulcio', '/api/v2/signingCert'],
  ['Rekor', '/api/v1/log/entries'],
] as const) {
  test(`${service} refusing: a clear error naming it, nothing uploaded, no attestation written`, async () => {
    const version = service === 'Fulcio' ? '2.0.0' : '2.1.0';
    const dist = await distWith(version);
    services.fail(path, 400);
    try {
      const r = await runPublish(
        [
          '--repository-url',
          `${pier.url}/legacy/`,
          '--attestations',
          '--fulcio-url',
          services.fulcioUrl,
          '--rekor-url',
          services.rekorUrl,
          dist.dir,
        ],
        jobEnv(),
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `error: ${dist.filename.replace(/\./g, '\\.')}: signing its attestation with ${service} \\(https://127\\.0\\.0\\.1:\\d+/${service.toLowerCase()}\\) failed: .*refused by the test`,
        ),
      );
      assert.match(r.stderr, /hint: Nothing was uploaded/);
      assert.ok(!existsSync(`${dist.path}.publish.attestation`));
      assert.equal(await hasRelease(version), false, 'nothing was uploaded');
    } finally {
      services.fail(null);
    }
  });
}

test('--attestations outside a CI job: no OIDC token for Sigstore, nothing uploaded', async () => {
  const dist = await distWith('3.0.0');
  const r = await runPublish(
    [
      '--repository-url',
      `${pier.url}/legacy/`,
      '--attestations',
      '--token',
      'pypi-unused',
      dist.dir,
    ],
    { NODE_EXTRA_CA_CERTS: certs.caCert },
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /signing attestations needs the job’s OIDC token of audience 'sigstore'/);
});

test('a plain-HTTP Fulcio URL is refused before anything is signed', async () => {
  const dist = await distWith('3.1.0');
  const r = await runPublish(
    ['--repository-url', `${pier.url}/legacy/`, '--attestations', dist.dir],
    { ...jobEnv(), PIER_FULCIO_URL: 'http://fulcio.example.com' },
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /The Fulcio URL http:\/\/fulcio\.example\.com\/ is plain HTTP/);
});
