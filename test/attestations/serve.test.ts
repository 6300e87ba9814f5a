// @backends: runs on the embedded default and on PostgreSQL with S3.
// Serving attestations (PEP 740): the Integrity API in PyPI's shape and negotiation, the
// `provenance` key of Simple JSON and `data-provenance` of Simple HTML, and a private project's
// provenance readable only by its readers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OPERATOR } from '../support/server.js';
import { postUpload } from '../support/upload.js';
import { startAttestingServer, type AttestingServer } from '../support/attesting-server.js';

let index: AttestingServer;
let attestation: unknown;
let provenanceUrl: string;

before(async () => {
  index = await startAttestingServer();
  const w = await index.wheel('1.0');
  attestation = await index.mock.attest({
    filename: w.filename,
    sha256: w.sha256,
    identity: index.identity(),
  });
  const up = await postUpload(
    index.server.url,
    await index.mintToken(),
    await index.parts(w, '1.0', JSON.stringify([attestation])),
  );
  assert.equal(up.status, 200, up.body);
  const plain = await index.upload('1.1', { attest: false });
  assert.equal(plain.status, 200, plain.body);
  provenanceUrl = `${index.server.url}/integrity/octo-lib/1.0/${w.filename}/provenance`;
});

after(async () => {
  await index?.close();
});

test('the Integrity API answers the provenance in PyPI’s shape', async () => {
  const res = await fetch(provenanceUrl);
  assert.equal(res.status, 200);
  assert.match(
    res.headers.get('content-type') ?? '',
    /^application\/vnd\.pypi\.integrity\.v1\+json;/,
  );
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('vary') ?? '', /Accept/);
  assert.equal(res.headers.get('cache-control'), 'max-age=600, public');
  assert.deepEqual(await res.json(), {
    version: 1,
    attestation_bundles: [
      {
        publisher: {
          kind: 'GitHub',
          repository: 'octo-org/octo-repo',
          workflow: 'release.yml',
          environment: null,
        },
        attestations: [attestation],
      },
    ],
  });
});

test('the Integrity API negotiates as PyPI: JSON accepted, anything else 406', async () => {
  const json = await fetch(provenanceUrl, { headers: { accept: 'application/json' } });
  assert.equal(json.status, 200);
  assert.match(json.headers.get('content-type') ?? '', /^application\/json;/);
  const html = await fetch(provenanceUrl, { headers: { accept: 'text/html' } });
  assert.equal(html.status, 406);
  assert.deepEqual(await html.json(), { message: 'Request not acceptable' });
  const any = await fetch(provenanceUrl, { headers: { accept: 'text/html, */*;q=0.1' } });
  assert.match(
    any.headers.get('content-type') ?? '',
    /^application\/vnd\.pypi\.integrity\.v1\+json;/,
  );
});

test('a file without attestations, or a file that is not there, is 404', async () => {
  const w = await index.wheel('1.1');
  const none = await fetch(`${index.server.url}/integrity/octo-lib/1.1/${w.filename}/provenance`);
  assert.equal(none.status, 404);
  assert.deepEqual(await none.json(), { message: `No provenance available for ${w.filename}` });
  // The version must be the file's release.
  const wrongVersion = provenanceUrl.replace('/1.0/', '/1.1/');
  assert.equal((await fetch(wrongVersion)).status, 404);
  assert.equal((await fetch(provenanceUrl.replace('octo-lib', 'nothing-here'))).status, 404);
  // The project's name in any spelling names the same project.
  assert.equal((await fetch(provenanceUrl.replace('octo-lib', 'Octo_Lib'))).status, 200);
});

test('Simple JSON names each file’s provenance (or null); Simple HTML only when there is one', async () => {
  const json = (await (
    await fetch(`${index.server.url}/simple/octo-lib/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    })
  ).json()) as { files: { filename: string; provenance: string | null }[] };
  const byVersion = Object.fromEntries(
    json.files.map((f) => [f.filename.split('-')[1], f.provenance]),
  );
  assert.equal(byVersion['1.0'], provenanceUrl);
  assert.equal(byVersion['1.1'], null);
  const html = await (await fetch(`${index.server.url}/simple/octo-lib/`)).text();
  const provenances = [...html.matchAll(/data-provenance="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(provenances, [provenanceUrl]);
  // The URL it names answers.
  assert.equal((await fetch(provenanceUrl)).status, 200);
});

test('a private project’s provenance is readable only by its readers', async () => {
  const { server } = index;
  await server.services.projects.update(OPERATOR, 'octo-lib', { private: true });
  try {
    assert.equal((await fetch(provenanceUrl)).status, 404);
    const stranger = await server.userWithToken('stranger', { scope: 'read' });
    const auth = (token: string) => ({
      authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`,
    });
    assert.equal((await fetch(provenanceUrl, { headers: auth(stranger) })).status, 404);
    const reader = await server.userWithToken('owner', { scope: 'read' });
    const res = await fetch(provenanceUrl, { headers: auth(reader) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'max-age=600, private');
  } finally {
    await server.services.projects.update(OPERATOR, 'octo-lib', { private: false });
  }
});

test('the project page shows each file’s attestation, its identity and log entry, and the release’s status', async () => {
  const { server } = index;
  const page = await (await fetch(`${server.url}/project/octo-lib/1.0/`)).text();
  assert.match(page, /data-predicate-type="https:\/\/docs.pypi.org\/attestations\/publish\/v1"/);
  assert.match(page, /Publish attestation/);
  assert.match(
    page,
    /verified identity<\/span> <code>http:\/\/127\.0\.0\.1:\d+\/octo-org\/octo-repo\/.github\/workflows\/release.yml@refs\/tags\/v1.0.0<\/code>/,
  );
  assert.match(page, /href="https:\/\/rekor.pier.test\/api\/v1\/log\/entries\?logIndex=\d+"/);
  assert.match(page, /data-status="full"/);
  // 1.1 was uploaded without attestations after 1.0 had them: its provenance is lost.
  const later = await (await fetch(`${server.url}/project/octo-lib/1.1/`)).text();
  assert.doesNotMatch(later, /class="attestation"/);
  assert.match(later, /data-status="lost"/);
  // The project: degraded by 1.1, on every release's page.
  for (const p of [page, later])
    assert.match(
      p,
      /data-project-status="degraded" role="alert">\s*<span class="prov-label">Project provenance degraded<\/span> by release 1\.1:\s*no attestations, where the previous release had them\./,
    );
});

test('a release whose provenance degrades is recorded in the audit log', async () => {
  const { server } = index;
  const events = await server.services.db.kysely
    .selectFrom('audit_events')
    .select('details_json')
    .where('action', '=', 'provenance-degraded')
    .execute();
  const details = events.map((e) => JSON.parse(e.details_json));
  assert.ok(
    details.some((d) => d.version === '1.1' && d.status === 'lost' && d.previous_status === null),
    JSON.stringify(details),
  );
  // The project's owners read it in the project's audit log.
  const admin = await server.userWithToken('owner', { scope: 'admin' });
  const audit = await fetch(`${server.url}/api/audit?project=octo-lib&action=provenance-degraded`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  assert.equal(audit.status, 200);
  const listed = ((await audit.json()) as { events: { details: { status: string } }[] }).events;
  assert.ok(
    listed.some((e) => e.details.status === 'lost'),
    JSON.stringify(listed),
  );
  // A next release attested again by the same publisher is full: no new event.
  const before = details.length;
  const attestedAgain = await index.upload('1.0.post1');
  assert.equal(attestedAgain.status, 200, attestedAgain.body);
  const after = await server.services.db.kysely
    .selectFrom('audit_events')
    .select('id')
    .where('action', '=', 'provenance-degraded')
    .execute();
  assert.equal(after.length, before);
});
