// @backends: runs on the embedded default and on PostgreSQL with S3.
// The `pier` command line, run as users run it, against a server in another process that must
// see every change on its very next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPier, startServer, type TestServer } from './support/server.js';
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
