// @backends: runs on the embedded default and on PostgreSQL with S3.
// Attestations on POST /legacy/, as uv sends them (the `attestations` form field, a JSON array):
// with a trusted-publishing token (its publisher's policy), with an API token (one of the
// project's publishers), refused in Warehouse's order and words, and each refusal changing
// nothing. Signed here by @sigstore/mock under a private trust root (PIER_SIGSTORE_TRUSTED_ROOT),
// and a real published attestation under Sigstore's public-good root.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OPERATOR, startServer } from '../support/server.js';
import { postUpload, sha256, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { indexSnapshot } from '../support/snapshot.js';
import { fixture, githubIdentity, realAttestations, SLSA_V1 } from '../support/sigstore.js';
import { startAttestingServer, type AttestingServer } from '../support/attesting-server.js';

let index: AttestingServer;

const PREFIX = 'Invalid attestations supplied during upload: ';

before(async () => {
  index = await startAttestingServer();
});

after(async () => {
  await index?.close();
});

test('a trusted publisher uploads a file with its attestation: stored as uploaded', async () => {
  const { server, mock, identity } = index;
  const token = await index.mintToken();
  const w = await index.wheel('1.0');
  const attestation = await mock.attest({
    filename: w.filename,
    sha256: w.sha256,
    identity: identity(),
  });
  const up = await postUpload(
    server.url,
    token,
    await index.parts(w, '1.0', JSON.stringify([attestation])),
  );
  assert.equal(up.status, 200, up.body);
  const rows = await server.services.db.kysely
    .selectFrom('file_attestations')
    .selectAll()
    .execute();
  assert.equal(rows.length, 1);
  assert.deepEqual(JSON.parse(rows[0]!.attestation_json), attestation);
  assert.deepEqual(JSON.parse(rows[0]!.publisher_json), {
    kind: 'GitHub',
    repository: 'octo-org/octo-repo',
    workflow: 'release.yml',
    environment: null,
  });
  const audit = await server.services.db.kysely
    .selectFrom('audit_events')
    .select('details_json')
    .where('action', '=', 'upload')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  assert.deepEqual(JSON.parse(audit.details_json).attestations.predicate_types, [
    'https://docs.pypi.org/attestations/publish/v1',
  ]);
});

test('an API token may attach attestations that verify against one of the project’s publishers', async () => {
  const { server, mock, identity, apiToken } = index;
  const w = await index.wheel('1.1');
  const publish = await mock.attest({
    filename: w.filename,
    sha256: w.sha256,
    identity: identity(),
  });
  const slsa = await mock.attest({
    filename: w.filename,
    sha256: w.sha256,
    identity: identity(),
    predicateType: SLSA_V1,
  });
  const up = await postUpload(
    server.url,
    apiToken,
    await index.parts(w, '1.1', JSON.stringify([publish, slsa])),
  );
  assert.equal(up.status, 200, up.body);
});

test('refusals, in Warehouse’s order and words, change nothing', async () => {
  const { server, mock, identity, apiToken } = index;
  const w = await index.wheel('2.0');
  const good = await mock.attest({ filename: w.filename, sha256: w.sha256, identity: identity() });
  const other = await index.wheel('2.1');
  const cases: [string, string, RegExp][] = [
    ['api', 'not json', /^Malformed attestations: invalid JSON/],
    [
      'api',
      '{}',
      /^Malformed attestations: expected a JSON array of attestation objects, got an object/,
    ],
    [
      'api',
      '[{"version": 1}]',
      /^Malformed attestations: \[0\]\.verification_material: field required/,
    ],
    ['api', '[]', /^Malformed attestations: an empty attestation set is not permitted$/],
    [
      'api',
      JSON.stringify([good, good, good]),
      /^A maximum of 2 attestations per file are supported$/,
    ],
    [
      'api',
      JSON.stringify([good, good]),
      /^Multiple attestations for the same file with the same predicate type \(https:\/\/docs.pypi.org\/attestations\/publish\/v1\) are not supported$/,
    ],
    [
      'api',
      JSON.stringify([
        await mock.attest({
          filename: w.filename,
          sha256: w.sha256,
          identity: identity(),
          predicateType: 'https://example.com/other/v1',
        }),
      ]),
      /^Attestation with unsupported predicate type: https:\/\/example.com\/other\/v1$/,
    ],
    [
      'api',
      JSON.stringify([
        await mock.attest({ filename: other.filename, sha256: other.sha256, identity: identity() }),
      ]),
      /^Could not verify the uploaded artifact using the included attestation: Verification failed: subject does not match distribution name/,
    ],
    [
      'api',
      JSON.stringify([
        await mock.attest({ filename: w.filename, sha256: other.sha256, identity: identity() }),
      ]),
      /^Could not verify the uploaded artifact using the included attestation: Verification failed: subject does not match distribution digest/,
    ],
    [
      'api',
      JSON.stringify([
        await mock.attest({
          filename: w.filename,
          sha256: w.sha256,
          identity: identity({ workflow: 'ci.yml' }),
        }),
      ]),
      /^Could not verify the uploaded artifact using the included attestation: Verification failed: the certificate's Build Config URI: expected one of/,
    ],
    [
      'api',
      JSON.stringify([
        await mock.attest({ filename: w.filename, sha256: w.sha256, identity: githubIdentity() }),
      ]),
      /^Could not verify the uploaded artifact using the included attestation: Verification failed: the certificate's Issuer: expected 'http:\/\/127.0.0.1:\d+', got 'https:\/\/token.actions.githubusercontent.com'/,
    ],
    [
      'password',
      JSON.stringify([good]),
      /^Attestations are only supported when using Trusted Publishing, or an API token of a project with trusted publishers$/,
    ],
  ];
  for (const [who, field, expected] of cases) {
    const before = await indexSnapshot(server);
    const parts = await index.parts(w, '2.0', field);
    const up =
      who === 'password'
        ? await postUpload(server.url, null, parts, {
            authorization: `Basic ${Buffer.from('owner:owner-password').toString('base64')}`,
          })
        : await postUpload(server.url, apiToken, parts);
    assert.equal(up.status, 400, `${field.slice(0, 60)}: ${up.body}`);
    assert.ok(up.body.startsWith(PREFIX), up.body);
    assert.match(up.body.slice(PREFIX.length).trim(), expected);
    assert.equal(up.statusText.startsWith(PREFIX), true, up.statusText);
    assert.deepEqual(await indexSnapshot(server), before, `${expected}: a refusal changes nothing`);
  }
});

test('a new project’s upload with an API token cannot carry attestations (no publisher yet)', async () => {
  const { server, mock, identity, apiToken } = index;
  const w = await makeWheel({ name: 'brand-new', version: '1.0' });
  const attestation = await mock.attest({
    filename: w.filename,
    sha256: sha256(w.content),
    identity: identity(),
  });
  const parts = await uploadParts({ ...w, fields: { name: 'brand-new', version: '1.0' } });
  parts.splice(parts.length - 1, 0, ['attestations', JSON.stringify([attestation])]);
  const before = await indexSnapshot(server);
  const up = await postUpload(server.url, apiToken, parts);
  assert.equal(up.status, 400, up.body);
  assert.match(
    up.body,
    /verified against the project's trusted publishers, and 'brand-new' is a new project with none/,
  );
  assert.deepEqual(await indexSnapshot(server), before);
});

test('a real attestation, uploaded with an API token of a project with a Google publisher', async () => {
  // Sigstore's public-good root, shipped with pier: no PIER_SIGSTORE_TRUSTED_ROOT.
  const publicServer = await startServer();
  try {
    const real = realAttestations().google;
    await publicServer.services.auth.addUser(OPERATOR, {
      username: 'maintainer',
      password: 'maintainer-password',
      mayCreateProjects: true,
    });
    await publicServer.services.projects.create(OPERATOR, 'sampleproject', 'maintainer');
    const token = await publicServer.userWithToken('maintainer');
    const content = fixture('sampleproject-3.0.0.tar.gz');
    const parts = await uploadParts({
      filename: real.filename,
      content,
      fields: { name: 'sampleproject', version: '3.0.0', metadata_version: '2.1' },
    });
    parts.splice(parts.length - 1, 0, ['attestations', JSON.stringify([real.attestation])]);
    // No publisher yet: refused.
    const refused = await postUpload(publicServer.url, token, parts);
    assert.equal(refused.status, 400, refused.body);
    assert.match(refused.body, /'sampleproject' has none/);
    await publicServer.services.publishers.add(OPERATOR, 'sampleproject', {
      kind: 'google',
      fields: real.fields,
    });
    const up = await postUpload(publicServer.url, token, parts);
    assert.equal(up.status, 200, up.body);
    const rows = await publicServer.services.db.kysely
      .selectFrom('file_attestations')
      .selectAll()
      .execute();
    assert.equal(rows.length, 1);
    assert.deepEqual(JSON.parse(rows[0]!.publisher_json), {
      kind: 'Google',
      email: real.fields.email,
    });
    assert.equal(JSON.parse(rows[0]!.identity_json).san, real.fields.email);
  } finally {
    await publicServer.close();
  }
});

test('a project that requires attestations refuses uploads without one', async () => {
  const { server } = index;
  const admin = await server.userWithToken('owner', { scope: 'admin' });
  const patch = (value: boolean) =>
    fetch(`${server.url}/api/projects/octo-lib`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ require_attestations: value }),
    });
  const set = await patch(true);
  assert.equal(set.status, 200);
  assert.equal(
    ((await set.json()) as { require_attestations: boolean }).require_attestations,
    true,
  );
  try {
    const before = await indexSnapshot(server);
    const refused = await index.upload('3.0', { attest: false });
    assert.equal(refused.status, 400, refused.body);
    assert.match(
      refused.body,
      /^Project 'octo-lib' requires attestations: upload each file with a PEP 740 attestation signed by the CI job of one of its trusted publishers\./,
    );
    assert.deepEqual(await indexSnapshot(server), before);
    const attested = await index.upload('3.0', { token: await index.mintToken() });
    assert.equal(attested.status, 200, attested.body);
  } finally {
    assert.equal((await patch(false)).status, 200);
  }
  assert.equal((await index.upload('3.1', { attest: false })).status, 200);
});
