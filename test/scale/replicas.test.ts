// @backends: runs on the embedded default and on PostgreSQL with S3.
// Several `pier serve` processes on one database and one blob store behave as one index:
// publish on one, install through the other; a token exchanged at one is refused when replayed
// at the other; concurrent uploads of one file end with one file; every change is seen by the
// other process on its very next request; first uploads of a new project racing at both
// processes all succeed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sample } from '../support/fixtures.js';
import { runPier, startPierProcess, type PierProcess } from '../support/server.js';
import { backendEnv, backendName } from '../support/backend.js';
import { createVenv, exec, pipInstall, twineUpload } from '../support/python.js';
import { tempDir } from '../support/tmp.js';
import { githubClaims, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';

let a: PierProcess;
let b: PierProcess;
let env: Record<string, string>;
let token: string;
let issuer: TestIssuer;

before(async () => {
  env = {
    PIER_DATA_DIR: tempDir('pier-replicas-'),
    PIER_OIDC_AUDIENCE: 'pier-replicas',
    ...backendEnv(),
  };
  const started = await Promise.allSettled([startPierProcess(env), startPierProcess(env)]);
  const [first, second] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  if (first) a = first;
  if (second) b = second;
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  assert.equal(
    (
      await runPier(
        ['user', 'add', 'rel', '--may-create-projects', '--password-stdin'],
        env,
        'rel-password-1',
      )
    ).code,
    0,
  );
  token = (await runPier(['token', 'create', '--user', 'rel'], env)).stdout.trim();
  issuer = await startTestIssuer();
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await issuer?.close();
});

test('both processes use the backend under test', async () => {
  const expected = backendName() === 'postgres' ? /database postgres:\/\/.*\n/ : /database sqlite:/;
  assert.match(a.output(), expected);
  assert.match(b.output(), expected);
});

test('publish through one process, install through the other', async () => {
  const { wheel, sdist } = sample('sample');
  const up = await twineUpload(a.url, [wheel, sdist], { username: '__token__', password: token });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const venv = await createVenv();
  const install = await pipInstall(venv, `${b.url}/simple/`, ['pier-sample==1.0.0']);
  assert.equal(install.code, 0, install.stdout + install.stderr);
  const imported = await exec(venv.python, [
    '-c',
    'import pier_sample; print(pier_sample.GREETING)',
  ]);
  assert.equal(imported.stdout.trim(), 'hello from pier-sample');
});

test('a yank made through one process is seen by the other on its next request', async () => {
  const page = async (url: string) =>
    (await (
      await fetch(`${url}/simple/pier-sample/`, {
        headers: { accept: 'application/vnd.pypi.simple.v1+json' },
      })
    ).json()) as {
      files: { yanked: unknown }[];
    };
  assert.equal((await page(b.url)).files[0]!.yanked, false); // b caches the page now
  const admin = (
    await runPier(['token', 'create', '--user', 'rel', '--scope', 'admin'], env)
  ).stdout.trim();
  const yank = await fetch(`${a.url}/api/projects/pier-sample/releases/1.0.0/yank`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'seen everywhere' }),
  });
  assert.equal(yank.status, 200);
  assert.equal((await page(b.url)).files[0]!.yanked, 'seen everywhere');
});

test('a token revoked through one process is refused by the other at once', async () => {
  const created = await runPier(['token', 'create', '--user', 'rel', '--scope', 'read'], env);
  const t = created.stdout.trim();
  const id = /created token (\d+)/.exec(created.stderr)![1]!;
  const whoami = (url: string) =>
    fetch(`${url}/api/whoami`, { headers: { authorization: `Bearer ${t}` } });
  assert.equal((await whoami(b.url)).status, 200);
  const admin = (
    await runPier(['token', 'create', '--user', 'rel', '--scope', 'admin'], env)
  ).stdout.trim();
  assert.equal(
    (
      await fetch(`${a.url}/api/tokens/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${admin}` },
      })
    ).status,
    204,
  );
  assert.equal((await whoami(b.url)).status, 401);
});

test('an OIDC token exchanged at one process is refused when replayed at the other', async () => {
  assert.equal(
    (await runPier(['issuer', 'add', '--kind', 'github', '--url', issuer.url, '--insecure'], env))
      .code,
    0,
  );
  const add = await runPier(
    [
      'publisher',
      'add',
      'pier-sample',
      '--repository',
      'octo-org/octo-repo',
      '--workflow',
      'release.yml',
      '--owner-id',
      '65',
      '--issuer',
      issuer.url,
    ],
    env,
  );
  assert.equal(add.code, 0, add.stderr);
  const jwt = await issuer.sign(githubClaims(issuer.url, 'pier-replicas'));
  const mint = (url: string) =>
    fetch(`${url}/_/oidc/mint-token`, { method: 'POST', body: JSON.stringify({ token: jwt }) });
  assert.equal((await mint(a.url)).status, 200);
  const replay = await mint(b.url);
  assert.equal(replay.status, 422);
  assert.equal(
    ((await replay.json()) as { errors: { code: string }[] }).errors[0]!.code,
    'invalid-reuse-token',
  );
});

test('the same OIDC token at both processes at once mints exactly one upload token', async () => {
  const jwt = await issuer.sign(githubClaims(issuer.url, 'pier-replicas'));
  const mint = (url: string) =>
    fetch(`${url}/_/oidc/mint-token`, {
      method: 'POST',
      body: JSON.stringify({ token: jwt }),
    }).then((r) => r.status);
  const statuses = await Promise.all([mint(a.url), mint(b.url), mint(a.url), mint(b.url)]);
  assert.deepEqual(statuses.sort(), [200, 422, 422, 422]);
});

test('concurrent uploads of one file to both processes end with one file', async () => {
  const w = await makeWheel({ name: 'racy', version: '1.0', salt: 'the one' });
  const parts = await uploadParts({ ...w, fields: { name: 'racy', version: '1.0' } });
  const statuses = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      postUpload(i % 2 ? a.url : b.url, token, parts).then((r) => `${r.status} ${r.statusText}`),
    ),
  );
  assert.deepEqual(
    statuses.map((s) => s.slice(0, 3)),
    ['200', '200', '200', '200', '200', '200'],
    statuses.join('\n'),
  );
  const doc = (await (await fetch(`${b.url}/pypi/racy/json`)).json()) as {
    urls: { filename: string }[];
  };
  assert.deepEqual(
    doc.urls.map((u) => u.filename),
    [w.filename],
  );
  const audit = await runPier(['audit', '--project', 'racy', '--action', 'upload', '--json'], env);
  assert.equal(audit.stdout.trim().split('\n').length, 1, 'one upload recorded');
});

test('concurrent uploads of different bytes under one filename: one wins, the others are told it exists', async () => {
  const variants = await Promise.all(
    [1, 2, 3, 4].map((i) => makeWheel({ name: 'racy', version: '2.0', salt: `variant ${i}` })),
  );
  const results = await Promise.all(
    variants.map(async (w, i) =>
      postUpload(
        i % 2 ? a.url : b.url,
        token,
        await uploadParts({ ...w, fields: { name: 'racy', version: '2.0' } }),
      ),
    ),
  );
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 400);
  assert.equal(ok.length, 1, results.map((r) => `${r.status} ${r.statusText}`).join('\n'));
  assert.equal(refused.length, 3, results.map((r) => `${r.status} ${r.statusText}`).join('\n'));
  for (const r of refused) assert.match(r.statusText, /^File already exists/);
});

test('first uploads of a new project racing at both processes all succeed: none is told the name is taken or too similar', async () => {
  // Each project's first file goes to both processes, the requests a millisecond or two apart, so
  // that some request's name checks run while another's transaction makes the project.
  const names = Array.from({ length: 8 }, (_, i) => `newcomer-${i}`);
  const prepared = await Promise.all(
    names.map(async (name) => {
      const w = await makeWheel({ name, version: '1.0', salt: name });
      return { name, parts: await uploadParts({ ...w, fields: { name, version: '1.0' } }) };
    }),
  );
  const statuses = await Promise.all(
    prepared.map(({ name, parts }) =>
      Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * 2));
          const r = await postUpload(i % 2 ? a.url : b.url, token, parts);
          return `${name}: ${r.status} ${r.statusText}`;
        }),
      ),
    ),
  );
  const all = statuses.flat();
  assert.deepEqual(
    all.filter((s) => !/: 200 /.test(s)),
    [],
    all.join('\n'),
  );
  for (const name of names) {
    const doc = (await (await fetch(`${a.url}/pypi/${name}/json`)).json()) as {
      urls: unknown[];
    };
    assert.equal(doc.urls.length, 1, name);
  }
});
