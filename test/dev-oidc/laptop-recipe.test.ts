// The laptop recipe of docs/trusted-publishing.md, run as a reader pastes it: the block under
// the `laptop-recipe` marker, in a project's folder, in a shell whose `pier` is this checkout's,
// then pip installs what it published. Only the port differs from a reader's (PIER_PORT), so
// that the test never needs 8080 to be free.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { PIER_BIN, REPO_ROOT } from '../support/server.js';
import { sample } from '../support/fixtures.js';
import { createVenv, exec, pipInstall } from '../support/python.js';
import { tempDir } from '../support/tmp.js';

/** The shell block the marker names, exactly as the document shows it. */
export function laptopRecipe(markdown: string): string {
  const at = markdown.indexOf('<!-- laptop-recipe');
  assert.ok(at >= 0, 'docs/trusted-publishing.md marks its laptop recipe');
  const block = /```sh\n([\s\S]*?)```/.exec(markdown.slice(at));
  assert.ok(block, 'a sh block follows the marker');
  return block[1]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let group: number | undefined;
after(() => {
  if (group !== undefined)
    try {
      process.kill(-group, 'SIGTERM');
    } catch {
      // already gone
    }
});

test('the documented laptop recipe publishes the folder’s project by trusted publishing', async () => {
  const recipe = laptopRecipe(
    readFileSync(join(REPO_ROOT, 'docs', 'trusted-publishing.md'), 'utf8'),
  );
  const home = tempDir('pier-laptop-home-');
  const project = join(tempDir('pier-laptop-'), 'pier-sample');
  mkdirSync(join(project, 'dist'), { recursive: true });
  writeFileSync(
    join(project, 'pyproject.toml'),
    '[build-system]\nrequires = ["setuptools"]\n\n[project]\nname = "pier-sample"\nversion = "1.0.0"\n',
  );
  const { wheel, sdist } = sample('sample');
  for (const f of [wheel, sdist]) copyFileSync(f, join(project, 'dist', basename(f)));
  // `pier` on PATH, as `npm install -g` or `npm link` puts it.
  const bin = tempDir('pier-laptop-bin-');
  writeFileSync(join(bin, 'pier'), `#!/bin/sh\nexec '${process.execPath}' '${PIER_BIN}' "$@"\n`);
  chmodSync(join(bin, 'pier'), 0o755);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIER_')) env[k] = v;
  Object.assign(env, { HOME: home, PATH: `${bin}:${env.PATH}`, PIER_PORT: String(port) });

  const shell = spawn('bash', ['-e', '-c', recipe], {
    cwd: project,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  group = shell.pid;
  let out = '';
  shell.stdout.on('data', (d) => (out += d));
  shell.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => shell.once('exit', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /pier publisher add pier-sample --provider github .* --pending --owner admin/);
  assert.match(
    out,
    new RegExp(`pier publish --repository-url http://127\\.0\\.0\\.1:${port}/legacy/ dist/`),
  );
  assert.match(out, /Trusted publishing: exchanged the github OIDC token/);
  assert.match(out, /Uploaded pier_sample-1\.0\.0-py3-none-any\.whl/);

  const venv = await createVenv();
  const installed = await pipInstall(venv, `http://127.0.0.1:${port}/simple/`, ['pier-sample']);
  assert.equal(installed.code, 0, installed.stderr);
  const greeting = await exec(venv.python, [
    '-c',
    'import pier_sample; print(pier_sample.GREETING)',
  ]);
  assert.match(greeting.stdout, /hello from pier-sample/);
});
