// On the embedded default only: what this file tests is poetry and pdm through the proxy; the
// proxy on PostgreSQL with S3 is tested by e2e/proxy-pip and test/proxy.
// One index URL for poetry and pdm too: each resolves, locks and installs through pier a hosted
// package whose dependency lives only on the upstream (another pier), with pier as its only
// source, configured as docs/proxy.md says; then the upstream is stopped and each installs its
// locked project again, with an empty cache of its own, from pier's cache alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProxyPair, stopUpstream, type ProxyPair } from '../support/proxy-pair.js';
import {
  installProject,
  projectPython,
  projectRequiring,
  type ProjectClient,
} from '../support/project-clients.js';
import { exec } from '../support/python.js';
import { tempDir } from '../support/tmp.js';

let pair: ProxyPair;
const clients: ProjectClient[] = ['poetry', 'pdm'];
const projects = new Map<ProjectClient, string>();
const LOCK_FILE: Record<ProjectClient, string> = { poetry: 'poetry.lock', pdm: 'pdm.lock' };

before(async () => {
  pair = await startProxyPair();
});

after(() => pair.close());

async function assertInstalled(client: ProjectClient, dir: string) {
  const r = await exec(projectPython(dir), [
    '-c',
    'import team_app, public_dep; print(team_app.NAME, public_dep.NAME)',
  ]);
  assert.equal(r.code, 0, `${client}: ${r.stderr}`);
  assert.equal(r.stdout.trim(), 'team-app public-dep');
}

test('poetry and pdm install through pier a hosted package whose dependency is only upstream', async () => {
  for (const client of clients) {
    const dir = projectRequiring(
      client,
      { name: 'team-app', version: '1.0' },
      `${pair.pier.url}/simple/`,
    );
    projects.set(client, dir);
    const r = await installProject(client, dir);
    assert.equal(r.code, 0, `${client}:\n${r.stdout}\n${r.stderr}`);
    await assertInstalled(client, dir);
  }
  // The upstream's file went through pier: fetched once, checked and kept.
  const cached = await pair.pier.services.db.kysely
    .selectFrom('upstream_blobs')
    .select('sha256')
    .execute();
  assert.ok(cached.length >= 1, 'public-dep was cached');
});

test('with the upstream stopped, both install their locked projects again from pier’s cache', async () => {
  await stopUpstream(pair);
  for (const client of clients) {
    // A new folder holding only the project and its lock file: no venv, no client state.
    const dir = tempDir(`pier-${client}-again-`);
    for (const file of ['pyproject.toml', LOCK_FILE[client]])
      copyFileSync(join(projects.get(client)!, file), join(dir, file));
    const r = await installProject(client, dir);
    assert.equal(r.code, 0, `${client}:\n${r.stdout}\n${r.stderr}`);
    await assertInstalled(client, dir);
  }
  const page = await fetch(`${pair.pier.url}/simple/public-dep/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('x-pier-upstream'), 'stale');
});
