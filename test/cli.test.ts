// @backends: runs on the embedded default and on PostgreSQL with S3.
// The `pier` command line, run as users run it, against a server in another process that must
// see every change on its very next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { OPERATOR, REPO_ROOT, runPier, startServer, type TestServer } from './support/server.js';
import { backendName } from './support/backend.js';
import { tempDir } from './support/tmp.js';
import { startTestIssuer } from './support/oidc-issuer.js';
import { RELEASE_JOB } from './support/dev-oidc.js';
import { postUpload, uploadParts } from './support/upload.js';
import { makeWheel } from './support/dists.js';

let server: TestServer;
let env: Record<string, string>;

before(async () => {
  server = await startServer();
  env = server.env();
});
after(() => server.close());

test('--help lists the commands of the contract', async () => {
  const r = await runPier(['--help'], env);
  assert.equal(r.code, 0);
  for (const c of [
    'serve',
    'user',
    'token',
    'project',
    'yank',
    'unyank',
    'delete',
    'audit',
    'migrate',
  ])
    assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test('user add, token create and an upload with that token', async () => {
  const add = await runPier(
    ['user', 'add', 'erin', '--may-create-projects', '--password-stdin'],
    env,
    'erin-long-password\n',
  );
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, '', 'a password given on stdin is not echoed');
  const dup = await runPier(['user', 'add', 'Erin', '--password-stdin'], env, 'whatever-password');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /error: A user named 'Erin' already exists/);
  const generated = await runPier(['user', 'add', 'frank'], env);
  assert.match(generated.stdout.trim(), /^\S{20,}$/, 'a generated password is printed once');

  const created = await runPier(
    ['token', 'create', '--user', 'erin', '--expires-in', '30d', '--name', 'laptop'],
    env,
  );
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^pypi-pier_\w{49}$/);
  assert.match(created.stderr, /created token \d+ for 'erin' \(scope upload, expires \d{4}-/);
  const w = await makeWheel({ name: 'cli-made', version: '1.0' });
  const up = await postUpload(
    server.url,
    token,
    await uploadParts({ ...w, fields: { name: 'cli-made', version: '1.0' } }),
  );
  assert.equal(up.status, 200, up.body);

  const bad = await runPier(['token', 'create', '--user', 'erin', '--scope', 'root'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Unknown scope 'root'/);
});

test('token revoke takes effect on the server’s next request', async () => {
  const created = await runPier(['token', 'create', '--user', 'erin', '--scope', 'read'], env);
  const token = created.stdout.trim();
  const id = /created token (\d+)/.exec(created.stderr)![1]!;
  const headers = { authorization: `Bearer ${token}` };
  assert.equal((await fetch(`${server.url}/api/whoami`, { headers })).status, 200);
  const list = await runPier(['token', 'list', '--user', 'erin', '--json'], env);
  assert.ok(!list.stdout.includes(token), 'never lists a secret');
  assert.ok(JSON.parse(list.stdout).some((t: { id: number }) => String(t.id) === id));
  const revoke = await runPier(['token', 'revoke', id], env);
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.equal((await fetch(`${server.url}/api/whoami`, { headers })).status, 401);
});

test('project create, private, roles; yank, unyank and delete, seen at once by the server', async () => {
  assert.equal(
    (await runPier(['project', 'create', 'cli-project', '--owner', 'erin'], env)).code,
    0,
  );
  const token = (await runPier(['token', 'create', '--user', 'erin'], env)).stdout.trim();
  for (const version of ['1.0', '2.0']) {
    const w = await makeWheel({ name: 'cli-project', version });
    assert.equal(
      (
        await postUpload(
          server.url,
          token,
          await uploadParts({ ...w, fields: { name: 'cli-project', version } }),
        )
      ).status,
      200,
    );
  }
  const page = async () =>
    (await (
      await fetch(`${server.url}/simple/cli-project/`, {
        headers: { accept: 'application/vnd.pypi.simple.v1+json' },
      })
    ).json()) as {
      files: { filename: string; yanked: unknown }[];
    };
  assert.equal((await runPier(['yank', 'cli-project', '1.0', '--reason', 'oops'], env)).code, 0);
  assert.equal((await page()).files[0]!.yanked, 'oops');
  assert.equal((await runPier(['unyank', 'cli-project', '1.0'], env)).code, 0);
  assert.equal((await page()).files[0]!.yanked, false);
  const del = await runPier(['delete', 'cli-project', '2.0'], env);
  assert.equal(del.code, 0, del.stderr);
  assert.match(del.stderr, /cli_project-2\.0-py3-none-any\.whl/);
  assert.deepEqual(
    (await page()).files.map((f) => f.filename),
    ['cli_project-1.0-py3-none-any.whl'],
  );
  const missing = await runPier(['delete', 'cli-project', '7.0'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /has no release 7.0/);

  assert.equal((await runPier(['project', 'set', 'cli-project', '--private'], env)).code, 0);
  assert.equal((await fetch(`${server.url}/simple/cli-project/`)).status, 404);
  assert.equal(
    (await runPier(['project', 'role', 'cli-project', 'frank', '--role', 'maintainer'], env)).code,
    0,
  );
  const frank = (
    await runPier(['token', 'create', '--user', 'frank', '--scope', 'read'], env)
  ).stdout.trim();
  assert.equal(
    (
      await fetch(`${server.url}/simple/cli-project/`, {
        headers: { authorization: `Bearer ${frank}` },
      })
    ).status,
    200,
  );
});

test('audit shows the changes, as text and as JSON lines', async () => {
  const r = await runPier(['audit', '--project', 'cli-project', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string; actor: string });
  const actions = events.map((e) => e.action);
  for (const a of [
    'project-create',
    'upload',
    'yank',
    'unyank',
    'delete-release',
    'project-change',
    'role-set',
  ])
    assert.ok(actions.includes(a), a);
  assert.match(events.find((e) => e.action === 'yank')!.actor, /^cli \(/);
  const text = await runPier(['audit', '--limit', '3'], env);
  assert.equal(text.stdout.trim().split('\n').length, 3);
});

test('migrate reports an up-to-date schema', async () => {
  const r = await runPier(['migrate'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /the schema is up to date/);
});

test('namespace reserve, grant, revoke and list; the server refuses new names at once', async () => {
  const token = await server.userWithToken('nora', { mayCreateProjects: true });
  await server.userWithToken('olaf', { mayCreateProjects: true });
  const upload = async (name: string) => {
    const w = await makeWheel({ name, version: '1.0' });
    return postUpload(
      server.url,
      token,
      await uploadParts({ ...w, fields: { name, version: '1.0' } }),
    );
  };
  const reserve = await runPier(['namespace', 'reserve', 'Initech', '--owner', 'olaf'], env);
  assert.equal(reserve.code, 0, reserve.stderr);
  assert.match(reserve.stderr, /reserved namespace 'initech' for 'olaf'/);
  const refused = await upload('initech-tps');
  assert.equal(refused.status, 409);
  assert.match(refused.statusText, /matches the reserved namespace 'initech'/);

  assert.equal((await runPier(['namespace', 'grant', 'initech', 'nora'], env)).code, 0);
  assert.equal((await upload('initech-tps')).status, 200);
  const list = await runPier(['namespace', 'list'], env);
  assert.equal(list.stdout, 'initech (Initech)  owners: nora, olaf\n');

  const revoke = await runPier(['namespace', 'revoke', 'initech', '--user', 'nora'], env);
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.equal((await upload('initech-more')).status, 409);
  const neither = await runPier(['namespace', 'revoke', 'initech'], env);
  assert.equal(neither.code, 1);
  assert.match(neither.stderr, /Give exactly one of --user USER and --all/);
  const clash = await runPier(['namespace', 'reserve', 'initech-eu', '--owner', 'nora'], env);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /overlaps the reserved namespace 'initech'/);

  const release = await runPier(['namespace', 'revoke', 'initech', '--all'], env);
  assert.equal(release.code, 0, release.stderr);
  assert.deepEqual(JSON.parse((await runPier(['namespace', 'list', '--json'], env)).stdout), []);
  assert.equal((await upload('initech-more')).status, 200);
});

test('--version prints the version in package.json', async () => {
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  const r = await runPier(['--version'], {});
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});

test('a numeric option that is not a number is a usage error, and nothing is done', async () => {
  const events = async () => (await runPier(['audit', '--json', '--limit', '100000'], env)).stdout;
  const before = await events();
  for (const [args, message] of [
    [
      ['audit', '--limit', 'abc'],
      /^error: option '--limit <n>' argument 'abc' is invalid\. expected a whole number of at least 1$/m,
    ],
    [['audit', '--limit', '0'], /argument '0' is invalid\. expected a whole number of at least 1/],
    [
      ['token', 'revoke', '1e3'],
      /value '1e3' is invalid for argument 'id'\. expected a whole number/,
    ],
    [
      ['publish', '--concurrency', '0x10', '--dry-run'],
      /argument '0x10' is invalid\. expected a whole number from 1 to 16/,
    ],
    [['publisher', 'remove', '-1'], /expected a whole number|unknown option '-1'/],
  ] as [string[], RegExp][]) {
    const r = await runPier(args, env);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /datatype mismatch|SQL|NaN/);
  }
  assert.equal(await events(), before, 'the refusals changed nothing');
});

test('pier help <group> <command> shows that command’s help', async () => {
  const r = await runPier(['help', 'publisher', 'add'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: pier publisher add \[options\] \[project\]/);
  assert.match(r.stdout, /--pending/);
  const group = await runPier(['help', 'user'], env);
  assert.match(group.stdout, /^Usage: pier user /);
  assert.match(group.stdout, /\badd \[options\] <name>/);
  const unknown = await runPier(['help', 'user', 'nope'], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: unknown command 'user nope'; see pier --help$/m);
});

test('management commands act on an existing index and say which', async () => {
  const r = await runPier(['user', 'list'], env);
  assert.equal(r.code, 0, r.stderr);
  const where = backendName() === 'postgres' ? /pier: index at postgres:\/\// : /pier: index at /;
  assert.match(r.stderr, where);
  if (backendName() === 'sqlite') assert.ok(r.stderr.includes(`pier: index at ${server.dataDir}`));
});

test('management commands never create an index: they refuse a folder that holds none', async () => {
  const folder = tempDir('pier-not-an-index-');
  const listing = () => readdirSync(folder, { recursive: true }).sort();
  const before = listing();
  for (const args of [
    ['user', 'list'],
    ['user', 'add', 'nobody'],
    ['audit'],
    ['publisher', 'list'],
    [
      'transfer',
      '--to-database-url',
      'sqlite:///nowhere.db',
      '--to-storage-url',
      'file:///nowhere',
    ],
    ['backup', 'copy'],
  ]) {
    // In a folder with no pier-data, as `cd docs && pier user list` once was.
    const r = await runPier(args, {}, undefined, { cwd: folder });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(
      r.stderr.trim(),
      `error: no index at ${join(folder, 'pier-data')}; use --data-dir or PIER_DATA_DIR`,
    );
    // And with --data-dir naming a folder that does not exist.
    const named = await runPier(['--data-dir', 'elsewhere', ...args], {}, undefined, {
      cwd: folder,
    });
    assert.match(
      named.stderr,
      /^error: no index at .*elsewhere; use --data-dir or PIER_DATA_DIR$/m,
    );
  }
  assert.deepEqual(listing(), before, 'nothing was created');
});

if (backendName() === 'postgres')
  test('PostgreSQL: a database without the schema is no index, until pier migrate', async () => {
    const admin = process.env.PIER_TEST_PG_ADMIN_URL!;
    const name = `pier_noindex_${randomUUID().replace(/-/g, '')}`;
    execFileSync(
      process.env.PIER_TEST_PSQL ?? 'psql',
      [admin, '-qAtc', `CREATE DATABASE ${name}`],
      {
        stdio: 'pipe',
      },
    );
    const url = new URL(admin);
    url.pathname = `/${name}`;
    const pgEnv = { PIER_DATA_DIR: tempDir('pier-pg-'), PIER_DATABASE_URL: url.href };
    const r = await runPier(['user', 'list'], pgEnv);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: no index at postgres:\/\/.*; use --database-url or PIER_DATABASE_URL \(or run 'pier migrate' to create one\)$/m,
    );
    const tables = execFileSync(
      process.env.PIER_TEST_PSQL ?? 'psql',
      [
        url.href,
        '-qAtc',
        "select count(*) from information_schema.tables where table_schema = 'public'",
      ],
      { encoding: 'utf8' },
    );
    assert.equal(tables.trim(), '0', 'the refusal created no table');
    assert.equal((await runPier(['migrate'], pgEnv)).code, 0);
    const listed = await runPier(['user', 'list'], pgEnv);
    assert.equal(listed.code, 0, listed.stderr);
  });

/** pier's own lines of stderr, without Node's process warnings (the AWS SDK's, with S3). */
function ownStderr(stderr: string): string {
  return stderr
    .replace(/^\(node:\d+\) \w*Warning:[\s\S]*?\(Use `node --trace-warnings[^\n]*\n/m, '')
    .replace(/^pier: index at [^\n]*\n/m, '');
}

/** What `user remove` and `issuer remove` could change: compared around each refusal. */
async function snapshot() {
  const db = server.services.db.kysely;
  const all = async (
    table:
      | 'users'
      | 'project_roles'
      | 'tokens'
      | 'web_sessions'
      | 'publishers'
      | 'oidc_issuers'
      | 'namespace_owners',
  ) => (await db.selectFrom(table).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
  return {
    users: await all('users'),
    roles: await all('project_roles'),
    tokens: await all('tokens'),
    sessions: await all('web_sessions'),
    publishers: await all('publishers'),
    issuers: await all('oidc_issuers'),
    namespaceOwners: await all('namespace_owners'),
    audit: (await db.selectFrom('audit_events').select('id').execute()).length,
  };
}

test('project list, user list and token create print one JSON document for scripts', async () => {
  const projects = await runPier(['project', 'list', '--json'], env);
  assert.equal(projects.code, 0, projects.stderr);
  const listed = JSON.parse(projects.stdout) as {
    name: string;
    private: boolean;
    status: string;
  }[];
  assert.deepEqual(
    listed.find((p) => p.name === 'cli-project'),
    {
      ...listed.find((p) => p.name === 'cli-project'),
      name: 'cli-project',
      normalized_name: 'cli-project',
      private: true,
      status: 'active',
    },
  );
  assert.ok(listed.some((p) => p.name === 'cli-made'));
  const text = await runPier(['project', 'list'], env);
  assert.match(text.stdout, /^cli-project\tprivate\tactive$/m);

  const users = await runPier(['user', 'list', '--json'], env);
  assert.equal(users.code, 0, users.stderr);
  const erin = (JSON.parse(users.stdout) as Record<string, unknown>[]).find(
    (u) => u.username === 'erin',
  );
  assert.deepEqual(Object.keys(erin!).sort(), [
    'admin',
    'created_at',
    'disabled',
    'may_create_projects',
    'username',
  ]);
  assert.equal(erin!.may_create_projects, true);

  const created = await runPier(
    ['token', 'create', '--user', 'erin', '--scope', 'read', '--project', 'cli-project'].concat([
      '--expires-in',
      '1d',
      '--name',
      'ci',
      '--json',
    ]),
    env,
  );
  assert.equal(created.code, 0, created.stderr);
  assert.equal(ownStderr(created.stderr), '');
  const doc = JSON.parse(created.stdout) as Record<string, unknown>;
  assert.match(doc.token as string, /^pypi-pier_\w{49}$/);
  assert.deepEqual(
    { ...doc, token: 'T', id: typeof doc.id, expires_at: typeof doc.expires_at },
    {
      token: 'T',
      id: 'number',
      user: 'erin',
      name: 'ci',
      scope: 'read',
      projects: ['cli-project'],
      expires_at: 'string',
    },
  );
  const whoami = await fetch(`${server.url}/api/whoami`, {
    headers: { authorization: `Bearer ${doc.token as string}` },
  });
  assert.equal(((await whoami.json()) as { token_id: number }).token_id, doc.id);
});

test('user remove refuses to orphan a project and changes nothing; otherwise it revokes, ends and records', async () => {
  const s = server.services;
  const gusToken = await server.userWithToken('gus', { mayCreateProjects: true, scope: 'admin' });
  await s.projects.create(OPERATOR, 'gus-only', 'gus');
  await s.projects.setRole(OPERATOR, 'cli-project', 'gus', 'maintainer');
  const gus = await s.auth.requireUser('gus');
  await s.web.sessions.create(gus, { pending2fa: false, ip: null, userAgent: null });
  const issuer = await startTestIssuer();
  await s.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  const pending = await s.publishers.addPending(
    OPERATOR,
    'gus-next',
    {
      kind: 'github',
      issuerUrl: issuer.url,
      fields: {
        owner: 'octo-org',
        repository: 'octo-repo',
        workflow: 'release.yml',
        ownerId: '65',
      },
    },
    'gus',
  );

  const before = await snapshot();
  const refused = await runPier(['user', 'remove', 'gus'], env);
  assert.equal(refused.code, 1);
  assert.equal(
    ownStderr(refused.stderr),
    "error: 'gus' is the last owner of project 'gus-only': give it another owner first\n",
  );
  assert.deepEqual(await snapshot(), before, 'a refused removal must change nothing');
  const unknown = await runPier(['user', 'remove', 'nobody'], env);
  assert.match(unknown.stderr, /error: No user named 'nobody'/);
  assert.deepEqual(await snapshot(), before);

  await s.projects.setRole(OPERATOR, 'gus-only', 'erin', 'owner');
  const removed = await runPier(['user', 'remove', 'GUS', '--json'], env);
  assert.equal(removed.code, 0, removed.stderr);
  const result = JSON.parse(removed.stdout) as Record<string, unknown>;
  assert.equal(result.removed, 'gus');
  assert.deepEqual(result.roles, [
    { project: 'cli-project', role: 'maintainer' },
    { project: 'gus-only', role: 'owner' },
  ]);
  assert.deepEqual(result.pending_publishers_removed, [pending.id]);
  assert.equal((result.tokens_revoked as number[]).length, 1);

  // The server sees it on its very next request: the token, the roles and the session are gone.
  const whoami = await fetch(`${server.url}/api/whoami`, {
    headers: { authorization: `Bearer ${gusToken}` },
  });
  assert.equal(whoami.status, 401);
  const db = s.db.kysely;
  assert.equal(
    (await db.selectFrom('web_sessions').selectAll().where('user_id', '=', gus.id).execute())
      .length,
    0,
  );
  assert.equal(
    (await db.selectFrom('project_roles').selectAll().where('user_id', '=', gus.id).execute())
      .length,
    0,
  );
  assert.deepEqual(await s.projects.roles((await s.projects.find('gus-only'))!.id), [
    { user: 'erin', role: 'owner' },
  ]);
  const users = JSON.parse((await runPier(['user', 'list', '--json'], env)).stdout) as {
    username: string;
  }[];
  assert.ok(!users.some((u) => u.username === 'gus'));
  const tokens = await runPier(['token', 'list'], env);
  assert.match(tokens.stdout, /\(removed user\)\tadmin\t\*\trevoked/);
  const audit = JSON.parse(
    (await runPier(['audit', '--action', 'user-remove', '--json'], env)).stdout.trim(),
  ) as { details: Record<string, unknown> };
  assert.equal(audit.details.username, 'gus');
  assert.deepEqual(audit.details.tokens_revoked, result.tokens_revoked);
  await issuer.close();
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('issuer add warns, in one line, when the discovery document cannot be read; issuer remove names its publishers', async () => {
  const issuer = await startTestIssuer();
  const good = await runPier(
    ['issuer', 'add', '--kind', 'github', '--url', issuer.url, '--insecure'],
    env,
  );
  assert.equal(good.code, 0, good.stderr);
  assert.doesNotMatch(ownStderr(good.stderr), /warning/);
  assert.ok(issuer.requests.includes('/.well-known/openid-configuration'));

  const unreachable = `http://127.0.0.1:${await closedPort()}`;
  const warned = await runPier(
    ['issuer', 'add', '--kind', 'gitlab', '--url', unreachable, '--insecure'],
    env,
  );
  assert.equal(warned.code, 0, 'registered anyway: it may be unreachable from here only');
  const lines = ownStderr(warned.stderr).trim().split('\n');
  assert.equal(lines.length, 2, warned.stderr);
  assert.match(
    lines[1]!,
    new RegExp(
      `^warning: could not check ${unreachable.replace(/\./g, '\\.')}'s discovery document \\(.*ECONNREFUSED\\); its tokens cannot be verified until it can be$`,
    ),
  );
  const issuers = JSON.parse((await runPier(['issuer', 'list', '--json'], env)).stdout) as {
    url: string;
  }[];
  assert.ok(issuers.some((i) => i.url === unreachable));

  const wrong = await startTestIssuer();
  // A hostile discovery document's text reaches the terminal escaped (src/cli/terminal.ts).
  wrong.discoveryIssuer = 'https://elsewhere.example\u009b2J\u001b[2J';
  const mismatch = await runPier(
    ['issuer', 'add', '--kind', 'github', '--url', wrong.url, '--insecure'],
    env,
  );
  assert.equal(mismatch.code, 0);
  assert.match(
    mismatch.stderr,
    /warning: .*names issuer "https:\/\/elsewhere\.example\\x9b2J\\\\u001b\[2J", not/,
  );
  assert.doesNotMatch(mismatch.stderr, /[\u001b\u009b]/, 'no raw control character is printed');

  const add = await runPier(
    [
      'publisher',
      'add',
      'cli-project',
      '--provider',
      'github',
      ...RELEASE_JOB,
      '--owner-id',
      '65',
      '--issuer',
      issuer.url,
    ],
    env,
  );
  assert.equal(add.code, 0, add.stderr);
  const pending = await runPier(
    [
      'publisher',
      'add',
      'cli-future',
      '--pending',
      '--owner',
      'erin',
      '--provider',
      'github',
      '--repository',
      'octo-org/other',
      '--workflow',
      'release.yml',
      '--owner-id',
      '66',
      '--issuer',
      issuer.url,
    ],
    env,
  );
  assert.equal(pending.code, 0, pending.stderr);
  const [a, b] = [add, pending].map((r) => /trusted publisher (\d+)/.exec(r.stderr)![1]);

  const before = await snapshot();
  const refused = await runPier(['issuer', 'remove', issuer.url], env);
  assert.equal(refused.code, 1);
  assert.equal(
    ownStderr(refused.stderr),
    `error: Publishers ${a} (cli-project), ${b} (pending cli-future) still trust ${issuer.url}; remove them first (pier publisher remove ID)\n`,
  );
  assert.deepEqual(await snapshot(), before, 'a refused removal must change nothing');

  const gone = await runPier(['issuer', 'remove', unreachable], env);
  assert.equal(gone.code, 0, gone.stderr);
  await issuer.close();
  await wrong.close();
});
