// @backends: runs on the embedded default and on PostgreSQL with S3.
// The exchange endpoints, answered as PyPI would, against tokens from an issuer the test writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { base64url } from 'jose';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { githubClaims, makeKey, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { RELEASE_JOB_FIELDS } from '../support/dev-oidc.js';
import { postMintToken } from '../support/mint.js';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;
let publisherId: number;

const mint = (token: unknown, path = '/_/oidc/mint-token', target: TestServer = server) =>
  postMintToken(target.url, token, path);

function expectError(r: { status: number; body: any }, code: string, description: RegExp) {
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.message, 'Token request failed');
  assert.equal(r.body.errors.length, 1);
  assert.equal(r.body.errors[0].code, code);
  assert.match(r.body.errors[0].description, description);
  assert.ok(!('token' in r.body));
}

const claims = (over: Record<string, unknown> = {}) => githubClaims(issuer.url, audience, over);

before(async () => {
  issuer = await startTestIssuer();
  server = await startServer();
  audience = new URL(server.url).host;
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  await server.services.auth.addUser(OPERATOR, {
    username: 'owner',
    password: 'owner-password',
    mayCreateProjects: true,
  });
  await server.services.projects.create(OPERATOR, 'octo-lib', 'owner');
  const view = await server.services.publishers.add(OPERATOR, 'octo-lib', {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: { ...RELEASE_JOB_FIELDS, environment: 'release' },
  });
  publisherId = view.id;
});

after(async () => {
  await server.close();
  await issuer.close();
});

test('GET /_/oidc/audience answers the public URL’s host and port', async () => {
  const res = await fetch(`${server.url}/_/oidc/audience`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { audience });
  assert.match(audience, /^127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`${server.url}/_/oidc/audience`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${server.url}/_/oidc/mint-token`)).headers.get('allow'), 'POST');
});

test('a good token is exchanged for an upload token of 15 minutes for the publisher’s projects', async () => {
  const before = Math.floor(Date.now() / 1000);
  const r = await mint(await issuer.sign(claims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  assert.match(r.body.token, /^pypi-pier_/);
  assert.ok(
    r.body.expires >= before + 900 && r.body.expires <= before + 902,
    `expires ${r.body.expires}`,
  );

  const w = await makeWheel({ name: 'octo-lib', version: '1.0' });
  const up = await postUpload(
    server.url,
    r.body.token,
    await uploadParts({ ...w, fields: { name: 'octo-lib', version: '1.0' } }),
  );
  assert.equal(up.status, 200, up.body);
  const doc = (await (await fetch(`${server.url}/pypi/octo-lib/json`)).json()) as any;
  const provenance = doc.urls[0].provenance;
  assert.equal(provenance.publisher.id, publisherId);
  assert.equal(provenance.publisher.issuer, issuer.url);
  assert.equal(provenance.claims.repository, 'octo-org/octo-repo');
  assert.equal(provenance.claims.environment, 'release');
  assert.equal(provenance.claims.sha, 'a'.repeat(40));
  assert.equal(provenance.claims.run_id, '4242');

  const other = await makeWheel({ name: 'not-trusted', version: '1.0' });
  const refused = await postUpload(
    server.url,
    r.body.token,
    await uploadParts({ ...other, fields: { name: 'not-trusted', version: '1.0' } }),
  );
  assert.equal(refused.status, 400);
  assert.match(refused.body, /Non-user identities cannot create new projects/);
  const api = await fetch(`${server.url}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${r.body.token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(api.status, 403, 'a minted token cannot create tokens');
});

test('the legacy /_/oidc/github/mint-token alias works the same', async () => {
  const r = await mint(await issuer.sign(claims()), '/_/oidc/github/mint-token');
  assert.equal(r.status, 200);
});

test('a replayed token is refused: invalid-reuse-token', async () => {
  const token = await issuer.sign(claims());
  assert.equal((await mint(token)).status, 200);
  expectError(await mint(token), 'invalid-reuse-token', /already used/);
});

test('a token without jti (Google issues none) is single-use by its hash', async () => {
  const google = await startTestIssuer();
  try {
    await server.services.issuers.add(OPERATOR, {
      kind: 'google',
      url: google.url,
      insecure: true,
    });
    await server.services.publishers.add(OPERATOR, 'octo-lib', {
      kind: 'google',
      issuerUrl: google.url,
      fields: { email: 'release@octo.iam.gserviceaccount.com' },
    });
    const now = Math.floor(Date.now() / 1000);
    const token = await google.sign({
      iss: google.url,
      aud: audience,
      iat: now,
      exp: now + 300,
      sub: '1234',
      email: 'release@octo.iam.gserviceaccount.com',
      email_verified: true,
    });
    const first = await mint(token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    expectError(await mint(token), 'invalid-reuse-token', /already used/);
  } finally {
    await google.close();
  }
});

test('a failed exchange consumes nothing', async () => {
  const token = await issuer.sign(claims({ environment: 'staging' }));
  expectError(await mint(token), 'invalid-publisher', /environment/);
  const view = await server.services.publishers.add(OPERATOR, 'octo-lib', {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: {
      owner: 'octo-org',
      repository: 'octo-repo',
      workflow: 'release.yml',
      environment: 'staging',
      ownerId: '65',
    },
  });
  try {
    assert.equal((await mint(token)).status, 200);
  } finally {
    await server.services.publishers.remove(OPERATOR, view.id);
  }
});

test('bad payloads: invalid-payload', async () => {
  expectError(await mint({}), 'invalid-payload', /'token' is required/);
  expectError(await mint({ token: 42 }), 'invalid-payload', /must be a string/);
  expectError(await mint('not a jwt'), 'invalid-payload', /^malformed JWT$/);
  const res = await fetch(`${server.url}/_/oidc/mint-token`, {
    method: 'POST',
    body: '{"token": ',
  });
  expectError({ status: res.status, body: await res.json() }, 'invalid-payload', /not JSON/);
  const noIss = await issuer.sign({ aud: audience, iat: 1, exp: 2 });
  expectError(await mint(noIss), 'invalid-payload', /^malformed JWT$/);
});

test('an unregistered issuer is refused without any network request', async () => {
  const stranger = await startTestIssuer();
  try {
    const token = await stranger.sign(githubClaims(stranger.url, audience));
    expectError(await mint(token), 'invalid-payload', /^unknown trusted publishing issuer$/);
    assert.deepEqual(stranger.requests, []);
  } finally {
    await stranger.close();
  }
});

test('audience rules: a list, a wrong one, PyPI’s', async () => {
  expectError(
    await mint(await issuer.sign(claims({ aud: [audience] }))),
    'invalid-token',
    /single string/,
  );
  expectError(
    await mint(await issuer.sign(claims({ aud: 'pypi' }))),
    'invalid-token',
    /audience must be/,
  );
  expectError(
    await mint(await issuer.sign(claims({ aud: 'other.example:443' }))),
    'invalid-token',
    /audience must be/,
  );
});

test('time rules: expired, not yet valid, issued in the future; 30 s of leeway', async () => {
  const now = Math.floor(Date.now() / 1000);
  expectError(
    await mint(await issuer.sign(claims({ iat: now - 400, exp: now - 60 }))),
    'invalid-token',
    /expired/,
  );
  expectError(
    await mint(await issuer.sign(claims({ nbf: now + 120 }))),
    'invalid-token',
    /not valid yet/,
  );
  expectError(
    await mint(await issuer.sign(claims({ iat: now + 120 }))),
    'invalid-token',
    /issued in the future/,
  );
  assert.equal(
    (await mint(await issuer.sign(claims({ iat: now - 300, exp: now - 10 })))).status,
    200,
    'within the leeway',
  );
  expectError(
    await mint(await issuer.sign(claims({ exp: undefined }))),
    'invalid-token',
    /missing required claim 'exp'/,
  );
  expectError(
    await mint(await issuer.sign(claims({ iat: undefined }))),
    'invalid-token',
    /missing required claim 'iat'/,
  );
});

test('alg none and HMAC signed with the public key are refused', async () => {
  const payload = base64url.encode(JSON.stringify(claims()));
  const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: issuer.keys[0]!.kid }))}.${payload}.`;
  expectError(await mint(none), 'invalid-token', /algorithm "none" is not accepted/);
  const header = base64url.encode(
    JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: issuer.keys[0]!.kid }),
  );
  const secret = JSON.stringify(issuer.keys[0]!.publicJwk);
  const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  expectError(
    await mint(`${header}.${payload}.${mac}`),
    'invalid-token',
    /algorithm "HS256" is not accepted/,
  );
});

test('key rules: missing kid, unknown kid, a key not in the JWKS, a forged signature', async () => {
  expectError(
    await mint(await issuer.sign(claims(), { omitKid: true })),
    'invalid-token',
    /no key id/,
  );
  const rogue = await makeKey('RS256');
  expectError(
    await mint(await issuer.sign(claims(), { key: rogue })),
    'invalid-token',
    /has no key/,
  );
  const impostor = await makeKey('RS256', issuer.keys[0]!.kid);
  expectError(
    await mint(await issuer.sign(claims(), { key: impostor })),
    'invalid-token',
    /signature does not verify/,
  );
});

test('a new key is fetched on an unknown kid, at most once a minute', async () => {
  const before = issuer.requests.filter((p) => p === '/keys').length;
  const rotated = await makeKey('ES256');
  issuer.keys.push(rotated);
  // The key set was fetched less than a minute ago, so the new kid is not known yet…
  expectError(
    await mint(await issuer.sign(claims(), { key: rotated })),
    'invalid-token',
    /has no key/,
  );
  expectError(
    await mint(await issuer.sign(claims(), { key: rotated })),
    'invalid-token',
    /has no key/,
  );
  const after = issuer.requests.filter((p) => p === '/keys').length;
  assert.ok(after - before <= 1, `fetched ${after - before} times`);
  // …and a fresh process (or a minute later) finds it: ES256 works too.
  const second = await startServer(server.sameData());
  try {
    const r = await mint(
      await issuer.sign(githubClaims(issuer.url, new URL(second.url).host), { key: rotated }),
      '/_/oidc/mint-token',
      second,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
  } finally {
    await second.close();
  }
});

test('the discovery document must name the registered issuer exactly', async () => {
  const liar = await startTestIssuer();
  try {
    liar.discoveryIssuer = `${liar.url}/`;
    await server.services.issuers.add(OPERATOR, { kind: 'github', url: liar.url, insecure: true });
    expectError(
      await mint(await liar.sign(githubClaims(liar.url, audience))),
      'invalid-token',
      /signing keys could not be fetched \(the index's log says why\)$/,
    );
  } finally {
    await liar.close();
  }
});

test('a custom issuer of kind github never matches a github.com publisher', async () => {
  const ghes = await startTestIssuer();
  try {
    await server.services.issuers.add(OPERATOR, { kind: 'github', url: ghes.url, insecure: true });
    await server.services.projects.create(OPERATOR, 'dotcom-lib', 'owner');
    await server.services.publishers.add(OPERATOR, 'dotcom-lib', {
      kind: 'github',
      fields: {
        owner: 'octo-org',
        repository: 'octo-repo',
        workflow: 'release.yml',
        ownerId: '65',
      },
    });
    // The same repository and workflow, but from another issuer: no publisher of that issuer.
    const r = await mint(await ghes.sign(githubClaims(ghes.url, audience)));
    expectError(r, 'invalid-publisher', /Publisher with matching claims was not found/);
    // And a token claiming to come from github.com, signed by the custom issuer's key, is not trusted.
    const posing = await ghes.sign(
      githubClaims('https://token.actions.githubusercontent.com', audience),
    );
    expectError(await mint(posing), 'invalid-token', /.+/);
  } finally {
    await ghes.close();
  }
});

test('publisher mismatches say which claim, what was expected and what came', async () => {
  expectError(
    await mint(await issuer.sign(claims({ repository_owner_id: '66' }))),
    'invalid-publisher',
    /valid token, but no corresponding publisher \(.*repository_owner_id.*'65'.*'66'/,
  );
  expectError(
    await mint(await issuer.sign(claims({ event_name: 'pull_request_target' }))),
    'invalid-publisher',
    /pull_request_target/,
  );
  expectError(
    await mint(await issuer.sign(claims({ repository: 'someone/else' }))),
    'invalid-publisher',
    /Publisher with matching claims was not found/,
  );
});

test('environments match in any case', async () => {
  const r = await mint(await issuer.sign(claims({ environment: 'Release' })));
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('removing the publisher stops its minted tokens at once; burning a token revokes it', async () => {
  await server.services.projects.create(OPERATOR, 'short-lived', 'owner');
  const view = await server.services.publishers.add(OPERATOR, 'short-lived', {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: { owner: 'octo-org', repository: 'octo-repo', workflow: 'short.yml', ownerId: '65' },
  });
  const shortClaims = () =>
    claims({
      workflow_file: 'short.yml',
      job_workflow_ref: `octo-org/octo-repo/.github/workflows/short.yml@refs/tags/v1.0.0`,
    });
  const a = (await mint(await issuer.sign(shortClaims()))).body.token as string;
  const b = (await mint(await issuer.sign(shortClaims()))).body.token as string;
  const whoami = (t: string) =>
    fetch(`${server.url}/api/whoami`, { headers: { authorization: `Bearer ${t}` } });
  assert.equal((await whoami(a)).status, 200);

  const burn = await fetch(`${server.url}/_/oidc/burn-token`, {
    method: 'POST',
    body: JSON.stringify({ token: a }),
  });
  assert.equal(burn.status, 202);
  assert.equal((await whoami(a)).status, 401);
  assert.equal(
    (await fetch(`${server.url}/_/oidc/burn-token`, { method: 'POST', body: 'garbage' })).status,
    202,
  );

  assert.equal((await whoami(b)).status, 200);
  await server.services.publishers.remove(OPERATOR, view.id);
  assert.equal((await whoami(b)).status, 401);
});

test('pending publishers: the first exchange creates the project, owned by its registrant', async () => {
  await server.services.publishers.addPending(
    OPERATOR,
    'brand-new-lib',
    {
      kind: 'github',
      issuerUrl: issuer.url,
      fields: { owner: 'octo-org', repository: 'octo-repo', workflow: 'new.yml', ownerId: '65' },
    },
    'owner',
  );
  const newClaims = () =>
    claims({ job_workflow_ref: 'octo-org/octo-repo/.github/workflows/new.yml@refs/tags/v1.0.0' });
  const r = await mint(await issuer.sign(newClaims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const project = await server.services.projects.require('brand-new-lib', {
    kind: 'operator',
    name: 'test',
  });
  assert.deepEqual(await server.services.projects.roles(project.id), [
    { user: 'owner', role: 'owner' },
  ]);
  const w = await makeWheel({ name: 'brand-new-lib', version: '0.1' });
  const up = await postUpload(
    server.url,
    r.body.token,
    await uploadParts({ ...w, fields: { name: 'brand-new-lib', version: '0.1' } }),
  );
  assert.equal(up.status, 200, up.body);
  // It is a real publisher now: later exchanges mint for the project.
  assert.equal((await mint(await issuer.sign(newClaims()))).status, 200);
});

test('pending publishers: conflicts, and the project created another way', async () => {
  const input = {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: { owner: 'octo-org', repository: 'octo-repo', workflow: 'mono.yml', ownerId: '65' },
  };
  await server.services.publishers.addPending(OPERATOR, 'mono-a', input, 'owner');
  await assert.rejects(
    server.services.publishers.addPending(OPERATOR, 'mono-a', input, 'owner'),
    /already been registered\.$/,
  );
  await assert.rejects(
    server.services.publishers.addPending(OPERATOR, 'mono-b', input, 'owner'),
    /for a different project name/,
  );
  await assert.rejects(
    server.services.publishers.addPending(OPERATOR, 'octo-lib', input, 'owner'),
    /exists already/,
  );
  await server.services.projects.create(OPERATOR, 'mono-a', 'owner');
  const r = await mint(
    await issuer.sign(
      claims({
        job_workflow_ref: 'octo-org/octo-repo/.github/workflows/mono.yml@refs/tags/v1.0.0',
      }),
    ),
  );
  expectError(r, 'invalid-pending-publisher', /project already exists/);
  assert.deepEqual(
    (await server.services.publishers.list(OPERATOR)).filter(
      (p) => p.pending?.project === 'mono-a',
    ),
    [],
  );
});

test('a pending publisher whose name was reserved since cannot create it without a grant (PEP 752)', async () => {
  await server.services.publishers.addPending(
    OPERATOR,
    'nsx-lib',
    {
      kind: 'github',
      issuerUrl: issuer.url,
      fields: { owner: 'octo-org', repository: 'octo-repo', workflow: 'nsx.yml', ownerId: '65' },
    },
    'owner',
  );
  await server.services.auth.addUser(OPERATOR, { username: 'nsx-owner', password: null });
  await server.services.namespaces.reserve(OPERATOR, 'nsx', 'nsx-owner');
  const nsxClaims = () =>
    claims({ job_workflow_ref: 'octo-org/octo-repo/.github/workflows/nsx.yml@refs/tags/v1.0.0' });
  const refused = await mint(await issuer.sign(nsxClaims()));
  expectError(
    refused,
    'invalid-pending-publisher',
    /The name 'nsx-lib' matches the reserved namespace 'nsx', and the project owner does not have an active grant for the namespace\./,
  );
  assert.equal(await server.services.projects.find('nsx-lib'), undefined);
  // With a grant for its owner, the same publisher's next exchange creates it.
  await server.services.namespaces.grant(OPERATOR, 'nsx', 'owner');
  assert.equal((await mint(await issuer.sign(nsxClaims()))).status, 200);
  assert.ok(await server.services.projects.find('nsx-lib'));
});

test('pending publishers expire after 30 days', async () => {
  const view = await server.services.publishers.addPending(
    OPERATOR,
    'too-late',
    {
      kind: 'github',
      issuerUrl: issuer.url,
      fields: { owner: 'octo-org', repository: 'octo-repo', workflow: 'late.yml', ownerId: '65' },
    },
    'owner',
  );
  await server.services.db.kysely
    .updateTable('publishers')
    .set({ created_at: Date.now() - 31 * 86_400_000 })
    .where('id', '=', view.id)
    .execute();
  const r = await mint(
    await issuer.sign(
      claims({
        job_workflow_ref: 'octo-org/octo-repo/.github/workflows/late.yml@refs/tags/v1.0.0',
      }),
    ),
  );
  expectError(r, 'invalid-publisher', /not found/);
  assert.equal(await server.services.projects.find('too-late'), undefined);
});

test('a replay at a second process on the same database is refused', async () => {
  const second = await startServer(server.sameData());
  try {
    const aud2 = new URL(second.url).host;
    const token = await issuer.sign(githubClaims(issuer.url, aud2));
    const results = await Promise.all([
      mint(token, '/_/oidc/mint-token', second),
      mint(token, '/_/oidc/mint-token', second),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 422]);
  } finally {
    await second.close();
  }
});

test('every exchange of a verified token is in the audit log, failures with their reason, never the token', async () => {
  const events = await server.services.db.kysely
    .selectFrom('audit_events')
    .selectAll()
    .where('action', 'in', ['oidc-exchange', 'oidc-exchange-failed'])
    .execute();
  assert.ok(events.some((e) => e.action === 'oidc-exchange' && e.project_name === 'octo-lib'));
  const failed = events
    .filter((e) => e.action === 'oidc-exchange-failed')
    .map((e) => JSON.parse(e.details_json));
  assert.ok(failed.some((d) => d.code === 'invalid-reuse-token'));
  // Tokens that could not be verified (expired ones here) are counted, not logged one by one.
  assert.ok(!failed.some((d) => d.code === 'invalid-token'));
  const counted = await server.services.exchange.unverifiedFailures();
  assert.ok(
    counted.some((c) => c.issuer === issuer.url && c.code === 'invalid-token' && c.count > 0),
  );
  assert.ok(!events.some((e) => /eyJ/.test(e.details_json)), 'no raw JWT in the audit log');
});

test('trusted publishing is off while the public URL is plain HTTP on a public name', async () => {
  const exposed = await startServer({ publicUrl: 'http://pypi.example.org' });
  try {
    const res = await fetch(`${exposed.listenUrl}/_/oidc/audience`);
    assert.equal(res.status, 403);
    assert.equal(
      ((await res.json()) as any).message,
      'Trusted publishing functionality not enabled',
    );
    await exposed.services.issuers.add(OPERATOR, {
      kind: 'github',
      url: issuer.url,
      insecure: true,
    });
    const m = await fetch(`${exposed.listenUrl}/_/oidc/mint-token`, {
      method: 'POST',
      body: JSON.stringify({ token: await issuer.sign(claims({ aud: 'pypi.example.org' })) }),
    });
    expectError(
      { status: m.status, body: await m.json() },
      'not-enabled',
      /trusted publishing functionality not enabled/,
    );
  } finally {
    await exposed.close();
  }
});
