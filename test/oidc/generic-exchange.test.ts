// @backends: runs on the embedded default and on PostgreSQL with S3.
// A generic OIDC publisher end to end: an issuer the test writes (registered with --kind generic)
// signs a token, the exchange mints and the minted token uploads; a token failing one rule mints
// nothing. Registration needs a registered issuer, and a pending publisher of another user keyed
// on another immutable claim that could match the same jobs is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { uploadWheelWith } from '../support/upload.js';
import { postMintToken } from '../support/mint.js';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const out: Record<string, unknown> = {
    iss: issuer.url,
    aud: audience,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: `jti-${Math.random()}`,
    sub: 'project:acme/app',
    project_id: '4211',
    ref: 'refs/tags/v1.0',
    run: 91,
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete out[k];
  return out;
}

const mint = (token: string) => postMintToken(server.url, token);

const tokenIds = async () =>
  server.services.db.kysely.selectFrom('tokens').select('id').orderBy('id').execute();

before(async () => {
  issuer = await startTestIssuer();
  server = await startServer();
  audience = new URL(server.url).host;
  await server.services.issuers.add(OPERATOR, { kind: 'generic', url: issuer.url, insecure: true });
  await server.services.auth.addUser(OPERATOR, {
    username: 'owner',
    password: 'owner-password',
    mayCreateProjects: true,
  });
  await server.services.auth.addUser(OPERATOR, {
    username: 'rival',
    password: 'rival-password',
    mayCreateProjects: true,
  });
  await server.services.projects.create(OPERATOR, 'acme-app', 'owner');
  await server.services.publishers.add(OPERATOR, 'acme-app', {
    kind: 'generic',
    issuerUrl: issuer.url,
    fields: { rules: 'sub = project:acme/app; ref ~ refs/tags/v*', immutable: 'sub' },
  });
});

after(async () => {
  await server.close();
  await issuer.close();
});

test('a token satisfying every rule is exchanged, and the minted token uploads', async () => {
  const r = await mint(await issuer.sign(claims()));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await uploadWheelWith(server.url, r.body.token, 'acme-app', '1.0');
});

test('a token failing one rule mints nothing', async () => {
  const before = await tokenIds();
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ ref: 'refs/heads/main' }, /claim 'ref': expected a value matching 'refs\/tags\/v\*'/],
    [{ ref: undefined }, /Missing claim 'ref'/],
    [{ ref: 7 }, /claim 'ref': expected a string, got a number/],
    // Another subject is another lookup key: no candidate at all.
    [{ sub: 'project:acme/other' }, /no corresponding publisher|claim 'sub'/],
  ];
  for (const [over, reason] of refused) {
    const r = await mint(await issuer.sign(claims(over)));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.errors[0].description, reason);
  }
  assert.deepEqual(await tokenIds(), before, 'a refusal mints nothing');
});

test('registration: the issuer must be registered and named; rules that match too much are refused', async () => {
  const fields = { rules: 'sub = project:acme/lib', immutable: 'sub' };
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'acme-app', { kind: 'generic', fields }),
    /A Generic OIDC publisher names its issuer: register it \(pier issuer add --kind generic --url URL\)/,
  );
  await assert.rejects(
    server.services.publishers.add(OPERATOR, 'acme-app', {
      kind: 'generic',
      issuerUrl: issuer.url,
      fields: { rules: 'sub ~ project:*', immutable: 'sub' },
    }),
    /needs an exact rule/,
  );
  const count = await server.services.db.kysely.selectFrom('publishers').select('id').execute();
  assert.equal(count.length, 1, 'a refused registration changes nothing');
});

test('a rival pending publisher keyed on another immutable claim that could match is refused', async () => {
  await server.services.publishers.addPending(
    OPERATOR,
    'new-thing',
    {
      kind: 'generic',
      issuerUrl: issuer.url,
      fields: { rules: 'sub = project:acme/new', immutable: 'sub' },
    },
    'owner',
  );
  await assert.rejects(
    server.services.publishers.addPending(
      OPERATOR,
      'other-thing',
      {
        kind: 'generic',
        issuerUrl: issuer.url,
        fields: { rules: 'project_id = 5000', immutable: 'project_id' },
      },
      'rival',
    ),
    /could match the same jobs/,
  );
  // Disjoint on sub: accepted.
  await server.services.publishers.addPending(
    OPERATOR,
    'other-thing',
    {
      kind: 'generic',
      issuerUrl: issuer.url,
      fields: { rules: 'project_id = 5000; sub = project:rival/x', immutable: 'project_id' },
    },
    'rival',
  );
  // The pending publisher's first exchange creates its project.
  const r = await mint(
    await issuer.sign(claims({ sub: 'project:rival/x', project_id: '5000', ref: undefined })),
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await server.services.projects.require('other-thing', { kind: 'operator', name: 'test' });
});

test('pier publisher add takes repeatable --claim, --claim-glob and --immutable; the REST API the fields', async () => {
  const env = server.env();
  const added = await runPier(
    [
      'publisher',
      'add',
      'acme-app',
      '--provider',
      'generic',
      '--issuer',
      issuer.url,
      '--claim',
      'sub=project:acme/cli',
      '--claim',
      'project_id=77',
      '--claim-glob',
      'ref=refs/tags/v*',
      '--immutable',
      'sub',
      '--immutable',
      'project_id',
    ],
    env,
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(
    added.stderr,
    /Generic OIDC project_id = 77; ref ~ refs\/tags\/v\*; sub = project:acme\/cli/,
  );
  const everything = await runPier(
    [
      'publisher',
      'add',
      'acme-app',
      '--provider',
      'generic',
      '--issuer',
      issuer.url,
      '--claim',
      'sub=project:acme/x',
      '--claim-glob',
      'ref=**',
      '--immutable',
      'sub',
    ],
    env,
  );
  assert.notEqual(everything.code, 0);
  assert.match(everything.stderr, /The glob on 'ref' matches every value/);

  const token = await server.userWithToken('owner', { scope: 'admin' });
  const post = async (body: unknown) => {
    const res = await fetch(`${server.url}/api/projects/acme-app/publishers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const refused = await post({
    provider: 'generic',
    issuer: issuer.url,
    rules: 'ref ~ refs/tags/*',
    immutable: 'sub',
  });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.deepEqual(refused.body.errors, {
    immutable: "The immutable claim 'sub' needs an exact rule (sub = VALUE)",
  });
  const created = await post({
    provider: 'generic',
    issuer: issuer.url,
    rules: 'sub = project:acme/api',
    immutable: 'sub',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.description, 'Generic OIDC sub = project:acme/api');
  // Found by its lookup key at the exchange.
  const r = await mint(await issuer.sign(claims({ sub: 'project:acme/api' })));
  assert.equal(r.status, 200, JSON.stringify(r.body));
});
