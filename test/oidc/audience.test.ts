// @backends: runs on the embedded default and on PostgreSQL with S3.
// The default OIDC audience (src/oidc/audience.ts): the public URL's host[:port], plus its path
// when the index lives under one, so that two indexes under one host never share an audience.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultAudience, oidcAudience } from '../../src/oidc/audience.js';
import { OPERATOR, startServer } from '../support/server.js';
import { githubClaims, startTestIssuer } from '../support/oidc-issuer.js';

test('the default audience: host[:port], and the path when there is one beyond /', () => {
  const cases: [string, string][] = [
    ['https://pkgs.example.com', 'pkgs.example.com'],
    ['https://pkgs.example.com/', 'pkgs.example.com'],
    ['https://pkgs.example.com:8443', 'pkgs.example.com:8443'],
    ['https://pkgs.example.com:443/', 'pkgs.example.com'],
    ['https://pkgs.example.com/team-a', 'pkgs.example.com/team-a'],
    ['https://pkgs.example.com/team-a/', 'pkgs.example.com/team-a'],
    ['https://pkgs.example.com/team-b', 'pkgs.example.com/team-b'],
    ['https://pkgs.example.com:8443/python/team-a/', 'pkgs.example.com:8443/python/team-a'],
    ['http://127.0.0.1:8080', '127.0.0.1:8080'],
  ];
  for (const [publicUrl, audience] of cases)
    assert.equal(defaultAudience(publicUrl), audience, publicUrl);
  assert.equal(oidcAudience(null, 'https://pkgs.example.com/team-a'), 'pkgs.example.com/team-a');
  assert.equal(oidcAudience('pier-internal', 'https://pkgs.example.com/team-a'), 'pier-internal');
});

test('an index under a path accepts tokens for its own audience only, not its siblings’', async () => {
  const issuer = await startTestIssuer();
  const server = await startServer({ publicUrl: 'http://127.0.0.1/team-a' });
  try {
    const res = await fetch(`${server.listenUrl}/_/oidc/audience`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { audience: '127.0.0.1/team-a' });

    await server.services.issuers.add(OPERATOR, {
      kind: 'github',
      url: issuer.url,
      insecure: true,
    });
    await server.services.projects.create(OPERATOR, 'team-a-lib');
    await server.services.publishers.add(OPERATOR, 'team-a-lib', {
      kind: 'github',
      issuerUrl: issuer.url,
      fields: {
        owner: 'octo-org',
        repository: 'octo-repo',
        workflow: 'release.yml',
        ownerId: '65',
      },
    });
    const mint = async (audience: string) => {
      const r = await fetch(`${server.listenUrl}/_/oidc/mint-token`, {
        method: 'POST',
        body: JSON.stringify({ token: await issuer.sign(githubClaims(issuer.url, audience)) }),
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    for (const sibling of ['127.0.0.1', '127.0.0.1/team-b', '127.0.0.1/team-a/sub']) {
      const r = await mint(sibling);
      assert.equal(r.status, 422, sibling);
      assert.equal(r.body.errors[0].code, 'invalid-token');
      assert.match(r.body.errors[0].description, /the audience must be '127\.0\.0\.1\/team-a'/);
    }
    const ok = await mint('127.0.0.1/team-a');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  } finally {
    await server.close();
    await issuer.close();
  }
});
