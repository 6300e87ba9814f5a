// @backends: runs on the embedded default and on PostgreSQL with S3.
// A Forgejo publisher's immutable ids looked up at registration from the instance its issuer
// belongs to (`https://HOST/api/actions` → `GET https://HOST/api/v1/repos/{owner}/{repo}`). No
// Forgejo can run here: the instance is an HTTP server of the test's own (the OIDC issuer of
// test/support/oidc-issuer.ts, answering under /api/actions) that answers with the JSON Forgejo's
// API documentation gives for `repoGet` (a `Repository`, its `owner` a `User`). Left empty, the
// ids are looked up through the service, `pier publisher add`, the REST API and the web form, and
// a job's token with those ids is exchanged; given, they are not asked for (both) or must agree
// (one). A failing or hostile instance (a private repository, rate limits, errors, a huge body,
// wrong types, no JSON, a renamed repository, slow headers or body, no answer at all) changes
// nothing, and each message says to give the ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { PierError } from '../../src/errors.js';
import { API_LOOKUP_MAX_BYTES } from '../../src/oidc/api-lookup.js';
import { WebClient } from '../web/helpers.js';

const WORKFLOW = '.forgejo/workflows/release.yml';
const SHA = '7b3a5e0c4f2d1a9b8c7d6e5f4a3b2c1d0e9f8a7b';

let issuer: TestIssuer;
let server: TestServer;
/** The instance's issuer: `<web root>/api/actions`, as Forgejo's authorized integrations name it. */
let forgejo: string;
let ownerToken: string;

/** A `Repository` as Forgejo's API answers `GET /api/v1/repos/{owner}/{repo}` (abridged). */
function repository(owner: string, ownerId: number, name: string, id: number) {
  const web = forgejo.replace(/\/api\/actions$/, '');
  return {
    id,
    owner: {
      id: ownerId,
      login: owner,
      login_name: '',
      full_name: '',
      email: `${owner}@noreply.example`,
      avatar_url: `${web}/avatars/${ownerId}`,
      html_url: `${web}/${owner}`,
      language: '',
      is_admin: false,
      restricted: false,
      active: false,
      prohibit_login: false,
      visibility: 'public',
      username: owner,
    },
    name,
    full_name: `${owner}/${name}`,
    description: '',
    empty: false,
    private: false,
    fork: false,
    template: false,
    parent: null,
    mirror: false,
    size: 120,
    html_url: `${web}/${owner}/${name}`,
    url: `${web}/api/v1/repos/${owner}/${name}`,
    clone_url: `${web}/${owner}/${name}.git`,
    default_branch: 'main',
    archived: false,
    has_actions: true,
    object_format_name: 'sha1',
    created_at: '2025-03-01T10:00:00Z',
    updated_at: '2026-11-30T08:12:00Z',
    permissions: { admin: false, push: false, pull: true },
  };
}

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
const json =
  (status: number, body: unknown): Answer =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(body));
  };

/** The instance's repositories, by lower-cased `owner/name` (Forgejo's names ignore case). */
const REPOS = new Map<string, Answer>();
const lookups: string[] = [];

before(async () => {
  issuer = await startTestIssuer();
  forgejo = `${issuer.url}/api/actions`;
  issuer.override = (path, req, res) => {
    if (path === '/api/actions/.well-known/openid-configuration') {
      json(200, { issuer: forgejo, jwks_uri: `${issuer.url}/keys` })(req, res);
      return true;
    }
    const m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)$/.exec(path);
    if (!m) return false;
    lookups.push(path);
    const key = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`.toLowerCase();
    (REPOS.get(key) ?? json(404, { message: 'The target couldn\u2019t be found.', errors: [] }))(
      req,
      res,
    );
    return true;
  };
  const release = json(200, repository('forgejo', 48, 'release-app', 2817));
  REPOS.set('forgejo/release-app', release);
  server = await startServer();
  await server.services.issuers.add(OPERATOR, { kind: 'forgejo', url: forgejo, insecure: true });
  ownerToken = await server.userWithToken('owner', { scope: 'admin' });
  for (const name of ['forge-lib', 'forge-cli', 'forge-api', 'forge-web', 'forge-bad'])
    await server.services.projects.create(OPERATOR, name, 'owner');
});

after(async () => {
  await server?.close();
  await issuer?.close();
});

const fields = (over: Record<string, string> = {}) => ({
  owner: 'forgejo',
  repository: 'release-app',
  workflow: WORKFLOW,
  ...over,
});

function register(project: string, over: Record<string, string> = {}, issuerUrl = forgejo) {
  return server.services.publishers.add(OPERATOR, project, {
    kind: 'forgejo',
    issuerUrl,
    fields: fields(over),
  });
}

async function publishers(): Promise<string> {
  const rows = await server.services.db.kysely
    .selectFrom('publishers')
    .selectAll()
    .orderBy('id')
    .execute();
  const links = await server.services.db.kysely
    .selectFrom('publisher_projects')
    .selectAll()
    .execute();
  return JSON.stringify([rows, links.length]);
}

async function mint(claims: Record<string, unknown>) {
  const now = Math.floor(Date.now() / 1000);
  const ref = `forgejo/release-app/${WORKFLOW}@refs/tags/v1.0`;
  const token = await issuer.sign({
    iss: forgejo,
    aud: new URL(server.url).host,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: `jti-${Math.random()}`,
    sub: 'repo:forgejo/release-app:ref:refs/tags/v1.0',
    repository: 'forgejo/release-app',
    repository_owner: 'forgejo',
    repository_id: '2817',
    repository_owner_id: '48',
    workflow_ref: ref,
    job_workflow_ref: ref,
    event_name: 'push',
    ref: 'refs/tags/v1.0',
    sha: SHA,
    run_id: '91823',
    run_number: '14',
    ...claims,
  });
  const res = await fetch(`${server.url}/_/oidc/mint-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('left empty, the ids come from the instance next to the issuer, the names as it spells them; the job’s token matches', async () => {
  const before = lookups.length;
  const view = await register('forge-lib', { owner: 'Forgejo', repository: 'Release-App' });
  assert.deepEqual(lookups.slice(before), ['/api/v1/repos/Forgejo/Release-App']);
  assert.deepEqual(
    [view.config.owner, view.config.repository, view.config.repositoryId, view.config.ownerId],
    ['forgejo', 'release-app', '2817', '48'],
  );
  const ok = await mint({});
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  // The pinned ids are the instance's: a repository re-created under the name does not match.
  const other = await mint({ repository_id: '9001' });
  assert.equal(other.status, 422, JSON.stringify(other.body));
  assert.match(JSON.stringify(other.body), /claim 'repository_id': expected '2817', got '9001'/);
});

test('pier publisher add, the REST API and the web form look them up too', async () => {
  const cli = await runPier(
    [
      'publisher',
      'add',
      'forge-cli',
      '--provider',
      'forgejo',
      '--issuer',
      forgejo,
      '--repository',
      'forgejo/release-app',
      '--workflow',
      WORKFLOW,
    ],
    server.env(),
  );
  assert.equal(cli.code, 0, cli.stderr);
  const res = await fetch(`${server.url}/api/projects/forge-api/publishers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'forgejo', issuer: forgejo, ...fields() }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const web = new WebClient(server.url);
  assert.equal((await web.signIn('owner', 'owner-password')).status, 303);
  await web.get('/manage/project/forge-web/publishing/?provider=forgejo');
  const posted = await web.post('/manage/project/forge-web/publishing/', {
    provider: 'forgejo',
    ...fields(),
    repositoryId: '',
    ownerId: '',
    environment: '',
    ref: '',
    issuer: forgejo,
  });
  assert.equal(posted.status, 303, posted.text.slice(0, 2000));
  for (const project of ['forge-cli', 'forge-api', 'forge-web']) {
    const [p] = await server.services.publishers.listForProject(OPERATOR, project);
    assert.deepEqual([p!.config.repositoryId, p!.config.ownerId], ['2817', '48'], project);
  }
});

test('given ids: both given, nothing is asked; one given, it must agree with the instance', async () => {
  let before = lookups.length;
  const given = await register('forge-bad', {
    repositoryId: '5',
    ownerId: '6',
    workflow: '.forgejo/workflows/given.yml',
  });
  assert.equal(lookups.length, before, 'no request when both ids are given');
  assert.deepEqual([given.config.repositoryId, given.config.ownerId], ['5', '6']);
  const agreed = await register('forge-bad', {
    repositoryId: '2817',
    workflow: '.forgejo/workflows/one.yml',
  });
  assert.equal(agreed.config.ownerId, '48');
  const snapshot = await publishers();
  before = lookups.length;
  for (const [over, field, message] of [
    [
      { repositoryId: '2818' },
      'repositoryId',
      /says the repository's id of 'forgejo\/release-app' is 2817, not 2818/,
    ],
    [{ ownerId: '49' }, 'ownerId', /says the owner's id of 'forgejo\/release-app' is 48, not 49/],
  ] as const) {
    await assert.rejects(
      register('forge-bad', { ...over, workflow: '.forgejo/workflows/two.yml' }),
      (err: unknown) => {
        assert.ok(err instanceof PierError && err.status === 400, String(err));
        assert.match((err.extra.errors as Record<string, string>)[field] ?? '', message);
        return true;
      },
    );
  }
  assert.equal(lookups.length, before + 2);
  assert.equal(await publishers(), snapshot);
});

test('a failing or hostile instance changes nothing, and says to give the ids', async () => {
  const huge = repository('huge', 7, 'repo', 70) as Record<string, unknown>;
  huge.description = 'x'.repeat(API_LOOKUP_MAX_BYTES + 10);
  const hugeText = JSON.stringify(huge);
  const pending: ServerResponse[] = [];
  const answers: [string, Answer, RegExp][] = [
    [
      'private/repo',
      json(404, { message: 'Not Found' }),
      /Unknown repository 'private\/repo' at .*a private repository answers so too/,
    ],
    [
      'rate/limited',
      json(429, { message: 'rate limited' }),
      /rate-limited the lookup of 'rate\/limited'; try again later or give/,
    ],
    ['broken/repo', json(500, { message: 'boom' }), /answered 500 for 'broken\/repo'/],
    // Huge, with the length said and without it: not read past the limit.
    [
      'huge/repo',
      (_q, s) => {
        s.writeHead(200, { 'content-type': 'application/json' });
        s.end(hugeText);
      },
      /unexpected answer/,
    ],
    [
      'huge/chunked',
      (_q, s) => {
        s.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        const text = JSON.stringify({ ...huge, name: 'chunked', owner: { id: 7, login: 'huge' } });
        for (let i = 0; i < text.length; i += 65536) s.write(text.slice(i, i + 65536));
        s.end();
      },
      /unexpected answer/,
    ],
    [
      'types/string',
      json(200, { ...repository('types', 8, 'string', 80), id: '80' }),
      /unexpected answer/,
    ],
    [
      'types/float',
      json(200, { ...repository('types', 8, 'float', 80), id: 80.5 }),
      /unexpected answer/,
    ],
    [
      'types/zero',
      json(200, { ...repository('types', 8, 'zero', 80), id: 0 }),
      /unexpected answer/,
    ],
    ['types/negative', json(200, repository('types', -8, 'negative', 80)), /unexpected answer/],
    [
      'types/owner',
      json(200, { ...repository('types', 8, 'owner', 80), owner: 'types' }),
      /unexpected answer/,
    ],
    [
      'types/nologin',
      json(200, { ...repository('types', 8, 'nologin', 80), owner: { id: 8 } }),
      /unexpected answer/,
    ],
    ['types/array', json(200, [repository('types', 8, 'array', 80)]), /unexpected answer/],
    ['types/null', json(200, null), /unexpected answer/],
    [
      'types/html',
      (_q, s) => {
        s.writeHead(200, { 'content-type': 'text/html' });
        s.end('<!doctype html><title>Forgejo</title>');
      },
      /unexpected answer/,
    ],
    // Forgejo redirects a renamed repository's old name; its tokens carry the new one.
    [
      'old/name',
      json(200, repository('new', 9, 'name', 90)),
      /answered for 'new\/name', not 'old\/name': the repository was renamed or moved/,
    ],
    // Slow: no headers at all, or headers and then never the rest of the body.
    ['slow/headers', (_q, s) => void pending.push(s), /Timed out looking up 'slow\/headers' at /],
    [
      'slow/body',
      (_q, s) => {
        s.writeHead(200, { 'content-type': 'application/json' });
        s.write('{"id": 28');
        pending.push(s);
      },
      /Timed out looking up 'slow\/body' at /,
    ],
  ];
  for (const [name, answer] of answers) REPOS.set(name, answer);
  const snapshot = await publishers();
  const started = Date.now();
  await Promise.all(
    answers.map(async ([name, , message]) => {
      const [owner, repo] = name.split('/') as [string, string];
      await assert.rejects(register('forge-bad', { owner, repository: repo }), (err: unknown) => {
        assert.ok(err instanceof PierError && err.status === 400, `${name}: ${String(err)}`);
        const text = (err.extra.errors as Record<string, string>).repositoryId ?? '';
        assert.match(text, message, name);
        // (A renamed repository is registered under its new name instead.)
        if (owner !== 'old')
          assert.match(text, /give the repository's and its owner's numeric ids/, name);
        return true;
      });
    }),
  );
  // The slow answers were cut at the lookup's limit (5 s), not waited for.
  assert.ok(Date.now() - started < 15_000, `${Date.now() - started} ms`);
  for (const s of pending) s.destroy();

  // An instance pier cannot reach, and an issuer whose API pier cannot tell.
  for (const url of ['http://127.0.0.1:9/api/actions', 'http://127.0.0.1:9/oidc'])
    await server.services.issuers.add(OPERATOR, { kind: 'forgejo', url, insecure: true });
  for (const [url, message] of [
    [
      'http://127.0.0.1:9/api/actions',
      /Could not reach http:\/\/127\.0\.0\.1:9\/api\/v1 to look up 'forgejo\/release-app'; give/,
    ],
    [
      'http://127.0.0.1:9/oidc',
      /pier does not know the API of http:\/\/127\.0\.0\.1:9\/oidc; give/,
    ],
  ] as const)
    await assert.rejects(register('forge-bad', {}, url), (err: unknown) => {
      assert.ok(err instanceof PierError && err.status === 400, String(err));
      assert.match((err.extra.errors as Record<string, string>).repositoryId ?? '', message);
      return true;
    });
  assert.equal(await publishers(), snapshot);
});
