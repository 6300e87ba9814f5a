// @backends: runs on the embedded default and on PostgreSQL with S3.
// Who may publish when several publishers match one token: every real publisher's projects are
// covered, pending publishers of different users never compete, a pending publisher that cannot
// create its project stops nothing, and registration is rate limited with a race-proof cap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { githubClaims, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { WebClient } from '../web/helpers.js';
import { matchPublishers } from '../../src/oidc/exchange.js';
import { publishersMayOverlap, refPatternsOverlap } from '../../src/oidc/overlap.js';
import { githubProvider } from '../../src/oidc/providers/github.js';
import { postMintToken } from '../support/mint.js';

let server: TestServer;
let issuer: TestIssuer;
let audience: string;

const mint = (token: string) => postMintToken(server.url, token);

/** A job of `repo` running `workflow` at `ref` (environment 'release'). */
const job = (repo: string, workflow: string, ref = 'refs/tags/v1.0.0') =>
  issuer.sign(
    githubClaims(issuer.url, audience, {
      repository: `octo-org/${repo}`,
      workflow_file: workflow,
      ref,
    }),
  );

const rule = (repo: string, workflow: string, extra: Record<string, string> = {}) => ({
  kind: 'github',
  issuerUrl: issuer.url,
  fields: { owner: 'octo-org', repository: repo, workflow, ownerId: '65', ...extra },
});

const actorOf = async (username: string) => ({
  principal: { kind: 'user' as const, user: (await server.services.auth.findUser(username))! },
  ip: '192.0.2.1',
});

/** The rows a refusal must not change. */
async function snapshot() {
  const db = server.services.db.kysely;
  return {
    projects: (await db.selectFrom('projects').select('name').orderBy('name').execute()).map(
      (p) => p.name,
    ),
    publishers: await db.selectFrom('publishers').selectAll().orderBy('id').execute(),
    links: await db
      .selectFrom('publisher_projects')
      .select(['publisher_id', 'project_id'])
      .orderBy('publisher_id')
      .orderBy('project_id')
      .execute(),
    tokens: (await db.selectFrom('tokens').select('id').orderBy('id').execute()).length,
  };
}

async function auditOf(action: string, project?: string) {
  let q = server.services.db.kysely
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', action);
  if (project) q = q.where('project_name', '=', project);
  return (await q.orderBy('id').execute()).map((e) => ({
    ...e,
    details: JSON.parse(e.details_json) as Record<string, any>,
  }));
}

before(async () => {
  issuer = await startTestIssuer();
  server = await startServer({ maxPendingPublishers: 3 });
  audience = new URL(server.url).host;
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  for (const username of ['alice', 'mallory', 'carol', 'dave'])
    await server.services.auth.addUser(OPERATOR, {
      username,
      password: `${username}-password`,
      mayCreateProjects: true,
    });
});

after(async () => {
  await server.close();
  await issuer.close();
});

test('ref patterns overlap unless no ref can match both; publishers overlap field by field', () => {
  const cases: [string, string, boolean][] = [
    ['', 'refs/tags/v*', true],
    ['refs/tags/v*', 'refs/tags/v1.*', true],
    ['refs/tags/v*', 'refs/heads/main', false],
    ['refs/tags/v1.0', 'refs/tags/v*', true],
    ['refs/tags/v1.0', 'refs/tags/v2.0', false],
    ['refs/tags/a-*', 'refs/tags/b-*', false],
    ['refs/tags/*-rc', 'refs/tags/*-final', false],
    ['refs/**', 'refs/tags/v*', true],
  ];
  for (const [a, b, expected] of cases) {
    assert.equal(refPatternsOverlap(a, b), expected, `${a} / ${b}`);
    assert.equal(refPatternsOverlap(b, a), expected, `${b} / ${a}`);
  }
  const base = {
    owner: 'o',
    ownerId: '1',
    repository: 'r',
    workflow: 'w.yml',
    environment: '',
    ref: '',
  };
  assert.equal(publishersMayOverlap('github', base, { ...base, ref: 'refs/tags/v*' }), true);
  assert.equal(publishersMayOverlap('github', base, { ...base, environment: 'release' }), true);
  assert.equal(publishersMayOverlap('github', base, { ...base, workflow: 'x.yml' }), false);
  assert.equal(publishersMayOverlap('github', base, { ...base, ownerId: '2' }), false);
  assert.equal(
    publishersMayOverlap(
      'github',
      { ...base, environment: 'a' },
      { ...base, environment: 'b', ref: 'refs/tags/v*' },
    ),
    false,
  );
});

test('matching is not chosen by specificity: all real publishers, and never between registrants', () => {
  const config = {
    owner: 'octo-org',
    ownerId: '65',
    repository: 'octo-repo',
    workflow: 'release.yml',
    environment: '',
    ref: '',
  };
  const candidate = (id: number, extra: object, by: number | null = 1) => ({
    row: { id, added_by_user_id: by } as any,
    config: { ...config, ...extra },
  });
  const claims = githubClaims('https://issuer.example', 'aud', {});
  const m = matchPublishers(
    [],
    [
      candidate(1, {}),
      candidate(2, { ref: 'refs/tags/v*' }),
      candidate(3, { ref: 'refs/heads/*' }),
    ],
    githubProvider,
    claims,
    'https://issuer.example',
  );
  assert.ok(m.ok);
  assert.deepEqual(
    m.real.map((c) => c.row.id),
    [1, 2],
  );
  const rivals = matchPublishers(
    [candidate(7, {}, 1), candidate(8, { ref: 'refs/tags/v*' }, 2)],
    [],
    githubProvider,
    claims,
    'https://issuer.example',
  );
  assert.equal(rivals.ok, false);
  assert.equal(!rivals.ok && rivals.code, 'invalid-pending-publisher');
});

test('a later pending publisher of another user that could match the same job is refused; the earliest creates the project', async () => {
  const alice = await actorOf('alice');
  const mallory = await actorOf('mallory');
  await server.services.publishers.addPending(alice, 'alice-lib', rule('pend-repo', 'release.yml'));
  const before = await snapshot();
  // More specific (a ref pattern, an environment): refused all the same.
  await assert.rejects(
    server.services.publishers.addPending(mallory, 'mallory-lib', rule('pend-repo', 'release.yml')),
    (err: any) => err.status === 409,
  );
  for (const extra of [{ ref: 'refs/tags/v*' }, { environment: 'release' }] as Record<
    string,
    string
  >[])
    await assert.rejects(
      server.services.publishers.addPending(
        mallory,
        'mallory-lib',
        rule('pend-repo', 'release.yml', extra),
      ),
      (err: any) => err.status === 409 && /another user, registered earlier/.test(err.message),
    );
  assert.deepEqual(await snapshot(), before, 'the refusals changed nothing');
  // Rules that exclude the other's jobs are fine.
  const other = await server.services.publishers.addPending(
    mallory,
    'mallory-other',
    rule('pend-repo', 'other.yml'),
  );
  const r = await mint(await job('pend-repo', 'release.yml'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const project = await server.services.projects.require('alice-lib', OPERATOR.principal);
  assert.deepEqual(await server.services.projects.roles(project.id), [
    { user: 'alice', role: 'owner' },
  ]);
  assert.equal(await server.services.projects.find('mallory-lib'), undefined);
  await server.services.publishers.remove(mallory, other.id);
});

test('pending publishers of different users matching one token fail closed: 422, audited, nothing created', async () => {
  const alice = await actorOf('alice');
  const mallory = await actorOf('mallory');
  const first = await server.services.publishers.addPending(
    alice,
    'first-lib',
    rule('race-repo', 'release.yml'),
  );
  // As two registrations at the same instant (or from before the rule) would leave them.
  const second = await server.services.publishers.addPending(
    mallory,
    'second-lib',
    rule('race-repo', 'other.yml'),
  );
  await server.services.db.kysely
    .updateTable('publishers')
    .set({
      config_json: JSON.stringify({
        ...JSON.parse(
          (await server.services.db.kysely
            .selectFrom('publishers')
            .select('config_json')
            .where('id', '=', first.id)
            .executeTakeFirstOrThrow())!.config_json,
        ),
        ref: 'refs/tags/v*',
      }),
    })
    .where('id', '=', second.id)
    .execute();
  const before = await snapshot();
  const auditBefore = (await auditOf('oidc-exchange-failed')).length;
  const r = await mint(await job('race-repo', 'release.yml'));
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.errors[0].code, 'invalid-pending-publisher');
  assert.match(r.body.errors[0].description, /pending publishers of different users match it/);
  assert.deepEqual(await snapshot(), before, 'nothing was created');
  const failed = await auditOf('oidc-exchange-failed');
  assert.equal(failed.length, auditBefore + 1);
  assert.equal(failed.at(-1)!.details.code, 'invalid-pending-publisher');
  await server.services.publishers.remove(alice, first.id);
  await server.services.publishers.remove(mallory, second.id);
});

test('another project’s more specific publisher does not take the job: the token covers both projects', async () => {
  await server.services.projects.create(OPERATOR, 'victim-lib', 'alice');
  await server.services.projects.create(OPERATOR, 'decoy-lib', 'mallory');
  const victimPublisher = await server.services.publishers.add(
    await actorOf('alice'),
    'victim-lib',
    rule('victim-repo', 'release.yml'),
  );
  const decoyPublisher = await server.services.publishers.add(
    await actorOf('mallory'),
    'decoy-lib',
    rule('victim-repo', 'release.yml', { ref: 'refs/tags/*', environment: 'release' }),
  );
  const r = await mint(await job('victim-repo', 'release.yml'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const upload = async (name: string, version: string) => {
    const w = await makeWheel({ name, version });
    const up = await postUpload(
      server.url,
      r.body.token,
      await uploadParts({ ...w, fields: { name, version } }),
    );
    return { ...up, filename: w.filename };
  };
  const up = await upload('victim-lib', '1.0');
  assert.equal(up.status, 200, up.body);
  assert.equal((await upload('decoy-lib', '1.0')).status, 200);
  // The file names the publisher that trusts its project, and the mint's audit shows both.
  const provenanceOf = async (filename: string) =>
    JSON.parse(
      (await server.services.db.kysely
        .selectFrom('files')
        .select('provenance_json')
        .where('filename', '=', filename)
        .executeTakeFirstOrThrow())!.provenance_json!,
    );
  assert.equal((await provenanceOf(up.filename)).publisher.id, victimPublisher.id);
  const exchange = (await auditOf('oidc-exchange', 'victim-lib')).at(-1)!;
  assert.deepEqual(exchange.details.projects.sort(), ['decoy-lib', 'victim-lib']);
  assert.deepEqual(
    exchange.details.publishers.map((p: any) => p.id),
    [victimPublisher.id, decoyPublisher.id],
  );
  assert.equal(
    (await auditOf('oidc-exchange', 'decoy-lib')).at(-1)!.details.publisher_id,
    decoyPublisher.id,
  );
  // Removing the decoy's publisher from the decoy takes the decoy off the token, not the victim.
  await server.services.publishers.remove(await actorOf('mallory'), decoyPublisher.id, 'decoy-lib');
  assert.equal((await upload('victim-lib', '1.1')).status, 200);
  assert.equal((await upload('decoy-lib', '1.1')).status, 403);
  // A token minted before projects recorded their publisher falls back to the token's own.
  await server.services.db.kysely
    .updateTable('token_projects')
    .set({ publisher_id: null })
    .where('token_id', '=', exchange.details.token_id)
    .execute();
  assert.equal((await upload('victim-lib', '1.2')).status, 200);
});

test('owners are told when another project registers a publisher for the same source', async () => {
  await server.services.projects.create(OPERATOR, 'watched-lib', 'alice');
  await server.services.projects.create(OPERATOR, 'newcomer-lib', 'mallory');
  await server.services.publishers.add(
    await actorOf('alice'),
    'watched-lib',
    rule('watched-repo', 'release.yml'),
  );
  assert.equal((await auditOf('publisher-same-source', 'watched-lib')).length, 0);
  const newcomer = await server.services.publishers.add(
    await actorOf('mallory'),
    'newcomer-lib',
    rule('watched-repo', 'release.yml', { ref: 'refs/tags/*' }),
  );
  const pending = await server.services.publishers.addPending(
    await actorOf('mallory'),
    'newcomer-pending',
    rule('watched-repo', 'other.yml'),
  );
  const notices = await auditOf('publisher-same-source', 'watched-lib');
  assert.deepEqual(
    notices.map((n) => [n.details.publisher_id, n.details.other_project, n.details.pending]),
    [
      [newcomer.id, 'newcomer-lib', false],
      [pending.id, 'newcomer-pending', true],
    ],
  );
  assert.equal((await auditOf('publisher-same-source', 'newcomer-lib')).length, 1);
  const web = new WebClient(server.url);
  await web.signIn('alice', 'alice-password');
  const page = await web.get('/manage/project/watched-lib/publishing/');
  assert.equal(page.status, 200);
  assert.match(page.text, /id="same-source"/);
  assert.match(page.text, /Other projects trust the same source/);
  assert.match(page.text, /<strong>newcomer-lib<\/strong>/);
  assert.match(page.text, /pending publisher for <strong>newcomer-pending<\/strong>/);
  await server.services.publishers.remove(await actorOf('mallory'), pending.id);
});

test('beside real publishers, a pending publisher creates its project only for an owner of one of theirs', async () => {
  const alice = await actorOf('alice');
  const mallory = await actorOf('mallory');
  await server.services.projects.create(OPERATOR, 'mono-core', 'alice');
  await server.services.publishers.add(alice, 'mono-core', rule('mono-repo', 'release.yml'));
  await server.services.publishers.addPending(
    alice,
    'mono-extra',
    rule('mono-repo', 'release.yml', { ref: 'refs/tags/v*' }),
  );
  const first = await mint(await job('mono-repo', 'release.yml'));
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const extra = await server.services.projects.require('mono-extra', OPERATOR.principal);
  assert.deepEqual(await server.services.projects.roles(extra.id), [
    { user: 'alice', role: 'owner' },
  ]);
  // Someone who owns none of the job's projects registers a pending publisher for its source:
  // the job's releases go on, and create nothing for them.
  const squat = await server.services.publishers.addPending(
    mallory,
    'mono-squat',
    rule('mono-repo', 'release.yml', { environment: 'release' }),
  );
  const r = await mint(await job('mono-repo', 'release.yml'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await server.services.projects.find('mono-squat'), undefined);
  const exchange = (await auditOf('oidc-exchange', 'mono-core')).at(-1)!;
  assert.deepEqual(exchange.details.projects.sort(), ['mono-core', 'mono-extra']);
  const notUsed = (await auditOf('pending-publisher-not-used')).at(-1)!;
  assert.equal(notUsed.details.publisher_id, squat.id);
  assert.match(notUsed.details.reason, /owns none of the projects/);
  await server.services.publishers.remove(mallory, squat.id);
});

test('trusting a job only to read is not owning one of its projects: a pending publisher beside it creates nothing', async () => {
  const alice = await actorOf('alice');
  const mallory = await actorOf('mallory');
  await server.services.projects.create(OPERATOR, 'reader-core', 'alice');
  await server.services.publishers.add(alice, 'reader-core', rule('reader-repo', 'release.yml'));
  // Mallory trusts alice's job to install her private project (anyone may, for their own
  // project), then registers a pending publisher for the same job.
  await server.services.projects.create(OPERATOR, 'mallory-private', 'mallory');
  await server.services.publishers.add(mallory, 'mallory-private', {
    ...rule('reader-repo', 'release.yml'),
    access: 'read',
  });
  const squat = await server.services.publishers.addPending(
    mallory,
    'reader-squat',
    rule('reader-repo', 'release.yml', { environment: 'release' }),
  );
  const r = await mint(await job('reader-repo', 'release.yml'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await server.services.projects.find('reader-squat'), undefined);
  const notUsed = (await auditOf('pending-publisher-not-used')).at(-1)!;
  assert.equal(notUsed.details.publisher_id, squat.id);
  assert.match(notUsed.details.reason, /owns none of the projects/);
  await server.services.publishers.remove(mallory, squat.id);
});

test('a pending publisher whose name exists does not stop the job’s real publishers', async () => {
  const carol = await actorOf('carol');
  await server.services.projects.create(OPERATOR, 'carol-real', 'carol');
  await server.services.publishers.add(carol, 'carol-real', rule('carol-repo', 'release.yml'));
  const pending = await server.services.publishers.addPending(
    carol,
    'carol-next',
    rule('carol-repo', 'release.yml', { ref: 'refs/tags/v*' }),
  );
  // Created another way by its own registrant: the pending publisher survives, of no use.
  await server.services.projects.create(OPERATOR, 'carol-next', 'carol');
  const r = await mint(await job('carol-repo', 'release.yml'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const token = await server.services.db.kysely
    .selectFrom('tokens')
    .select('claims_json')
    .where('id', '=', (await auditOf('oidc-exchange', 'carol-real')).at(-1)!.details.token_id)
    .executeTakeFirstOrThrow();
  assert.deepEqual(
    JSON.parse(token.claims_json!).publishers.flatMap((p: any) => p.projects),
    ['carol-real'],
  );
  const left = await server.services.db.kysely
    .selectFrom('publishers')
    .select('id')
    .where('id', '=', pending.id)
    .executeTakeFirst();
  assert.equal(left, undefined, 'the useless pending publisher is dropped');
});

test('a pending publisher whose registrant is disabled, or may no longer create projects, creates nothing', async () => {
  const dave = await actorOf('dave');
  await server.services.publishers.addPending(dave, 'dave-lib', rule('dave-repo', 'release.yml'));
  for (const [changes, reason] of [
    [{ disabled: true }, /registrant is disabled/],
    [{ disabled: false, mayCreateProjects: false }, /may no longer create projects/],
  ] as const) {
    await server.services.auth.updateUser(OPERATOR, 'dave', changes);
    const before = await snapshot();
    const r = await mint(await job('dave-repo', 'release.yml'));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.errors[0].code, 'invalid-pending-publisher');
    assert.match(r.body.errors[0].description, reason);
    assert.deepEqual(await snapshot(), before);
    assert.equal(await server.services.projects.find('dave-lib'), undefined);
  }
  await server.services.auth.updateUser(OPERATOR, 'dave', { mayCreateProjects: true });
  assert.equal((await mint(await job('dave-repo', 'release.yml'))).status, 200);
  assert.ok(await server.services.projects.find('dave-lib'));
});

test('failed exchanges of unverified tokens are counted per issuer and code, not logged one row each', async () => {
  const audit = async () =>
    (await server.services.db.kysely.selectFrom('audit_events').select('id').execute()).length;
  const count = async (issuerUrl: string, code: string) =>
    (await server.services.exchange.unverifiedFailures()).find(
      (f) => f.issuer === issuerUrl && f.code === code,
    )?.count ?? 0;
  const before = await audit();
  const expiredBefore = await count(issuer.url, 'invalid-token');
  const garbageBefore = await count('', 'invalid-payload');
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 5; i++) {
    const expired = await issuer.sign(
      githubClaims(issuer.url, audience, { iat: now - 4000, nbf: now - 4000, exp: now - 3000 }),
    );
    assert.equal((await mint(expired)).status, 422);
    assert.equal((await mint('not-a-jwt')).status, 422);
    const unknownIssuer = await issuer.sign(githubClaims(`https://unknown-${i}.example`, audience));
    assert.equal((await mint(unknownIssuer)).status, 422);
  }
  assert.equal(await audit(), before, 'no audit row for unverified tokens');
  assert.equal(await count(issuer.url, 'invalid-token'), expiredBefore + 5);
  assert.equal(await count('', 'invalid-payload'), garbageBefore + 10);
  // One row per (issuer, code): unknown issuers share the '' row, however many are sent.
  const rows = await server.services.exchange.unverifiedFailures();
  assert.ok(rows.every((r) => r.issuer === '' || r.issuer === issuer.url));
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(
    metrics,
    new RegExp(
      `pier_oidc_unverified_exchange_failures\\{issuer="${issuer.url.replace(/[.]/g, '\\.')}",code="invalid-token"\\} ${expiredBefore + 5}`,
    ),
  );
  // A verified token's failure is still audited.
  const r = await mint(await job('nobody-repo', 'release.yml'));
  assert.equal(r.status, 422);
  assert.equal(await audit(), before + 1);
});

test('registrations are rate limited per user and per address (PIER_PUBLISHER_REGISTRATIONS_PER_DAY)', async () => {
  const limited = await startServer({ publisherRegistrationsPerDay: 2 });
  try {
    await limited.services.issuers.add(OPERATOR, {
      kind: 'github',
      url: issuer.url,
      insecure: true,
    });
    const token = await limited.userWithToken('eve', { mayCreateProjects: true, scope: 'admin' });
    const other = await limited.userWithToken('frank', { mayCreateProjects: true, scope: 'admin' });
    const register = (as: string, n: number) =>
      fetch(`${limited.url}/api/pending-publishers`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${as}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          project: `limited-${n}`,
          provider: 'github',
          issuer: issuer.url,
          owner: 'octo-org',
          repository: `limited-${n}`,
          workflow: 'ci.yml',
          ownerId: '65',
        }),
      });
    assert.equal((await register(token, 1)).status, 201);
    // A refused attempt counts too (each may ask the provider's API).
    const bad = await fetch(`${limited.url}/api/pending-publishers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'limited-x', provider: 'github', workflow: 'ci.yml' }),
    });
    assert.equal(bad.status, 400);
    const third = await register(token, 3);
    assert.equal(third.status, 429);
    assert.match(
      ((await third.json()) as any).message,
      /Too many trusted publisher registrations for this account/,
    );
    // Another user from the same address.
    const fromAddress = await register(other, 4);
    assert.equal(fromAddress.status, 429);
    assert.match(((await fromAddress.json()) as any).message, /from your address/);
    // The operator is not limited.
    await limited.services.publishers.addPending(
      OPERATOR,
      'limited-5',
      rule('limited-5', 'ci.yml'),
      'eve',
    );
  } finally {
    await limited.close();
  }
});

test('the pending-publisher cap holds against registrations at the same instant', async () => {
  const racer = await actorOf('alice');
  const mine = await server.services.publishers.listPending(racer);
  for (const p of mine) await server.services.publishers.remove(racer, p.id);
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, n) =>
      server.services.publishers.addPending(racer, `race-${n}`, rule(`race-${n}`, 'ci.yml')),
    ),
  );
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  assert.equal(ok, 3, JSON.stringify(results.map((r) => r.status)));
  for (const r of results)
    if (r.status === 'rejected')
      assert.match(String(r.reason.message), /more than 3 pending trusted publishers at once/);
  assert.equal((await server.services.publishers.listPending(racer)).length, 3);
});
