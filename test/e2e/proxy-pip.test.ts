// @backends: runs on the embedded default and on PostgreSQL with S3.
// One index URL for everything: pip installs through pier a package whose dependency lives only
// on the upstream (another pier); `pier upstream prefetch` fills the cache from another process;
// then the upstream is stopped and pip installs again from the cache, also in offline mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPier, startServer, type TestServer } from '../support/server.js';
import { startProxyPair, stopUpstream, type ProxyPair } from '../support/proxy-pair.js';
import { createVenv, exec, pipInstall } from '../support/python.js';

let pair: ProxyPair;
let pier: TestServer;

before(async () => {
  pair = await startProxyPair({ upstreamProjects: ['public-dep', 'prefetched-dep'] });
  pier = pair.pier;
});

after(() => pair.close());

const imports = (python: string, module: string) =>
  exec(python, ['-c', `import ${module}; print(${module}.NAME)`]);

test('pip installs a hosted package whose dependency is only upstream, then again with the upstream gone', async () => {
  const venv = await createVenv();
  const first = await pipInstall(venv, `${pier.url}/simple/`, ['team-app']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal((await imports(venv.python, 'public_dep')).stdout.trim(), 'public-dep');

  // Another process fills the cache for a pinned list, through the same database and blobs.
  const env = { ...pier.env(), PIER_UPSTREAM_URL: pair.upstreamUrl };
  const prefetched = await runPier(['upstream', 'prefetch', 'prefetched-dep==1.0'], env);
  assert.equal(prefetched.code, 0, prefetched.stdout + prefetched.stderr);
  assert.match(prefetched.stdout, /fetched {2}prefetched_dep-1\.0-py3-none-any\.whl/);

  // Past the pages' freshness lifetime: pier must ask the upstream, find it down, serve stale.
  await stopUpstream(pair);
  const again = await pipInstall(
    venv,
    `${pier.url}/simple/`,
    ['team-app', 'prefetched-dep'],
    ['--force-reinstall'],
  );
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal((await imports(venv.python, 'prefetched_dep')).stdout.trim(), 'prefetched-dep');

  // Offline mode: only the cache, never the upstream; what is not cached is simply not there.
  const offline = await startServer({
    ...pier.sameData(),
    upstreamUrl: pair.upstreamUrl,
    upstreamOffline: true,
  });
  try {
    const res = await fetch(`${offline.url}/simple/public-dep/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-pier-upstream'), 'offline');
    assert.equal((await fetch(`${offline.url}/simple/never-cached/`)).status, 404);
    const third = await pipInstall(
      venv,
      `${offline.url}/simple/`,
      ['team-app'],
      ['--force-reinstall'],
    );
    assert.equal(third.code, 0, third.stdout + third.stderr);
  } finally {
    await offline.close();
  }
  // One copy of each file, however many processes fetched or served it.
  const rows = await pier.services.db.kysely
    .selectFrom('upstream_blobs')
    .select('blob_key')
    .execute();
  const keys: string[] = [];
  for await (const k of pier.services.blobs.keys()) if (k.startsWith('up-')) keys.push(k);
  assert.deepEqual(keys.sort(), rows.map((r) => r.blob_key).sort());
});
