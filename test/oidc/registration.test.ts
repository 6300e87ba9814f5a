// @backends: runs on the embedded default and on PostgreSQL with S3.
// Registering issuers and publishers through the CLI and the REST API, with the reference's
// validation and pier's rules on issuer URLs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';

let server: TestServer;
let env: Record<string, string>;
let issuer: TestIssuer;
let ownerToken: string;
let strangerToken: string;

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

before(async () => {
  server = await startServer();
  env = server.env();
  issuer = await startTestIssuer();
  issuer.users.set('octo-org', 65);
  ownerToken = await server.userWithToken('owner', { mayCreateProjects: true, scope: 'admin' });
  strangerToken = await server.userWithToken('stranger', { scope: 'admin' });
  await server.services.projects.create(OPERATOR, 'registered', 'owner');
});

after(async () => {
  await server.close();
  await issuer.close();
});

test('issuer URLs: HTTPS, or plain HTTP on a loopback literal with --insecure; exact strings', async () => {
  const cases: [string[], RegExp][] = [
    [['--kind', 'github', '--url', 'http://ci.example.com'], /must use HTTPS/],
    [
      ['--kind', 'github', '--url', 'http://localhost:9000', '--insecure'],
      /literal loopback address/,
    ],
    [['--kind', 'github', '--url', 'http://127.0.0.1:9000'], /must be registered with --insecure/],
    [
      ['--kind', 'github', '--url', 'https://ghe.example.com/_services/token', '--insecure'],
      /--insecure is only for plain-HTTP/,
    ],
    [
      ['--kind', 'github', '--url', 'https://ghe.example.com/_services/token/'],
      /does not end with '\/'/,
    ],
    [
      ['--kind', 'gitlab', '--url', 'https://token.actions.githubusercontent.com'],
      /is the built-in github issuer; it cannot be registered as gitlab/,
    ],
    [
      ['--kind', 'travis', '--url', 'https://ci.example.com'],
      /Allowed choices are github, gitlab, google, activestate/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await runPier(['issuer', 'add', ...args], env);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  const ok = await runPier(
    ['issuer', 'add', '--kind', 'github', '--url', 'https://ghe.example.com/_services/token'],
    env,
  );
  assert.equal(ok.code, 0, ok.stderr);
  const again = await runPier(
    ['issuer', 'add', '--kind', 'github', '--url', 'https://ghe.example.com/_services/token'],
    env,
  );
  assert.match(again.stderr, /registered already/);
  const list = await runPier(['issuer', 'list'], env);
  assert.match(
    list.stdout,
    /github\s+https:\/\/token\.actions\.githubusercontent\.com\s+\(built in\)/,
  );
  assert.match(list.stdout, /github\s+https:\/\/ghe\.example\.com\/_services\/token\n/);
});

test('publisher registration validates every field, with the messages next to the field', async () => {
  const base = ['publisher', 'add', 'registered', '--provider', 'github', '--owner-id', '65'];
  const cases: [string[], RegExp][] = [
    [
      ['--repository', 'octo-org/octo-repo', '--workflow', 'release'],
      /workflow: Workflow name must end with \.yml or \.yaml/,
    ],
    [
      ['--repository', 'octo-org/octo-repo', '--workflow', '.github/workflows/release.yml'],
      /without directories/,
    ],
    [
      ['--repository', '-bad/octo-repo', '--workflow', 'r.yml'],
      /owner: Invalid GitHub user or organization name\./,
    ],
    [['--repository', 'octo-org', '--workflow', 'r.yml'], /--repository must be OWNER\/REPO/],
    [
      ['--repository', 'octo-org/octo-repo', '--workflow', 'r.yml', '--environment', ' release'],
      /may not start with whitespace/,
    ],
    [
      [
        '--repository',
        'octo-org/octo-repo',
        '--workflow',
        'r.yml',
        '--issuer',
        'https://nowhere.example',
      ],
      /is not registered/,
    ],
    [['--repository', 'octo-org/octo-repo', '--workflow', 'r.yml', '--ref', 'v*'], /ref: /],
  ];
  for (const [args, message] of cases) {
    const r = await runPier([...base, ...args], env);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  const gitlab = await runPier(
    [
      'publisher',
      'add',
      'registered',
      '--provider',
      'gitlab',
      '--repository',
      'group/sub/project',
      '--workflow',
      '/ci.yml',
    ],
    env,
  );
  assert.match(gitlab.stderr, /cannot start or end with \//);
});

test('the owner id is looked up from the provider API, or must be given', async () => {
  await server.services.issuers.add(OPERATOR, {
    kind: 'github',
    url: issuer.url,
    insecure: true,
    apiUrl: `${issuer.url}/api`,
  });
  const looked = await runPier(
    [
      'publisher',
      'add',
      'registered',
      '--repository',
      'Octo-Org/octo-repo',
      '--workflow',
      'release.yml',
      '--issuer',
      issuer.url,
    ],
    env,
  );
  assert.equal(looked.code, 0, looked.stderr);
  const list = JSON.parse(
    (await runPier(['publisher', 'list', 'registered', '--json'], env)).stdout,
  );
  assert.equal(list[0].config.ownerId, '65');
  const unknown = await runPier(
    [
      'publisher',
      'add',
      'registered',
      '--repository',
      'ghost/repo',
      '--workflow',
      'release.yml',
      '--issuer',
      issuer.url,
    ],
    env,
  );
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /ownerId: Unknown user or organization 'ghost'/);
  // github.com cannot be reached from here: the message says what to do.
  const offline = await runPier(
    [
      'publisher',
      'add',
      'registered',
      '--repository',
      'octo-org/octo-repo',
      '--workflow',
      'release.yml',
    ],
    env,
  );
  assert.equal(offline.code, 1);
  assert.match(offline.stderr, /give the owner's numeric id/);
});

test('the same trust rule twice for a project is refused; for another project it is shared', async () => {
  const args = ['--repository', 'octo-org/shared', '--workflow', 'release.yml', '--owner-id', '65'];
  assert.equal((await runPier(['publisher', 'add', 'registered', ...args], env)).code, 0);
  const dup = await runPier(['publisher', 'add', 'registered', ...args], env);
  assert.match(dup.stderr, /is already a trusted publisher of 'registered'/);
  await server.services.projects.create(OPERATOR, 'sibling', 'owner');
  assert.equal((await runPier(['publisher', 'add', 'sibling', ...args], env)).code, 0);
  const all = JSON.parse((await runPier(['publisher', 'list', '--json'], env)).stdout) as {
    description: string;
    projects: string[];
  }[];
  const shared = all.find((p) => p.description.includes('octo-org/shared'))!;
  assert.deepEqual(shared.projects, ['registered', 'sibling']);
});

test('REST API: owners manage their project’s publishers; others may not', async () => {
  const body = {
    provider: 'github',
    owner: 'octo-org',
    repository: 'api-repo',
    workflow: 'ci.yml',
    ownerId: '65',
  };
  const denied = await api('POST', '/api/projects/registered/publishers', strangerToken, body);
  assert.equal(denied.status, 403);
  const created = await api('POST', '/api/projects/registered/publishers', ownerToken, body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.description, 'GitHub octo-org/api-repo, workflow ci.yml');
  const bad = await api('POST', '/api/projects/registered/publishers', ownerToken, {
    ...body,
    workflow: 'ci',
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.errors, { workflow: 'Workflow name must end with .yml or .yaml' });
  assert.equal(
    (await api('GET', '/api/projects/registered/publishers', strangerToken)).status,
    403,
  );
  assert.equal(
    (await api('DELETE', `/api/projects/registered/publishers/${created.body.id}`, strangerToken))
      .status,
    403,
  );
  assert.equal(
    (await api('DELETE', `/api/projects/registered/publishers/${created.body.id}`, ownerToken))
      .status,
    204,
  );
});

test('REST API: pending publishers need a user who may create projects', async () => {
  const body = {
    project: 'future-thing',
    provider: 'github',
    owner: 'octo-org',
    repository: 'future',
    workflow: 'ci.yml',
    ownerId: '65',
  };
  const denied = await api('POST', '/api/pending-publishers', strangerToken, body);
  assert.equal(denied.status, 403);
  assert.match(denied.body.message, /isn't allowed to create projects/);
  const ok = await api('POST', '/api/pending-publishers', ownerToken, body);
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.pending.project, 'future-thing');
  const mine = await api('GET', '/api/pending-publishers', ownerToken);
  assert.deepEqual(
    mine.body.publishers.map((p: any) => p.pending.project),
    ['future-thing'],
  );
  assert.equal(
    (await api('DELETE', `/api/pending-publishers/${ok.body.id}`, strangerToken)).status,
    403,
  );
  assert.equal(
    (await api('DELETE', `/api/pending-publishers/${ok.body.id}`, ownerToken)).status,
    204,
  );
  const similar = await api('POST', '/api/pending-publishers', ownerToken, {
    ...body,
    project: 'Reg1stered',
  });
  assert.equal(similar.status, 400);
  assert.match(similar.body.message, /too similar/);
});

test('a user may have 3 pending publishers at once (PIER_MAX_PENDING_PUBLISHERS); administrators more', async () => {
  const token = await server.userWithToken('collector', {
    mayCreateProjects: true,
    scope: 'admin',
  });
  const register = (n: number, as = token) =>
    api('POST', '/api/pending-publishers', as, {
      project: `collected-${n}`,
      provider: 'github',
      owner: 'octo-org',
      repository: `collected-${n}`,
      workflow: 'ci.yml',
      ownerId: '65',
    });
  const ids: number[] = [];
  for (const n of [1, 2, 3]) {
    const ok = await register(n);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    ids.push(ok.body.id);
  }
  const fourth = await register(4);
  assert.equal(fourth.status, 400);
  assert.match(fourth.body.message, /more than 3 pending trusted publishers at once/);
  const mine = await api('GET', '/api/pending-publishers', token);
  assert.equal(mine.body.publishers.length, 3, 'the refused one was not stored');
  // Removing one makes room again.
  assert.equal((await api('DELETE', `/api/pending-publishers/${ids[0]}`, token)).status, 204);
  assert.equal((await register(4)).status, 201);
  // The operator is not limited, even registering for this user.
  await server.services.publishers.addPending(
    OPERATOR,
    'collected-5',
    {
      kind: 'github',
      fields: { owner: 'octo-org', repository: 'collected-5', workflow: 'ci.yml', ownerId: '65' },
    },
    'collector',
  );
  assert.equal((await api('GET', '/api/pending-publishers', token)).body.publishers.length, 4);
});

test('a project created by someone else drops other people’s pending publishers for its name', async () => {
  const pending = await server.services.publishers.addPending(
    OPERATOR,
    'contested',
    {
      kind: 'github',
      fields: { owner: 'octo-org', repository: 'contested', workflow: 'ci.yml', ownerId: '65' },
    },
    'owner',
  );
  await server.services.projects.create(OPERATOR, 'contested', 'stranger');
  await assert.rejects(
    server.services.publishers.view(pending.id, OPERATOR.principal),
    /No trusted publisher/,
  );
  const audit = await server.services.db.kysely
    .selectFrom('audit_events')
    .select('details_json')
    .where('action', '=', 'project-create')
    .where('project_name', '=', 'contested')
    .executeTakeFirstOrThrow();
  assert.deepEqual(JSON.parse(audit.details_json).pending_publishers_invalidated, [pending.id]);
});
