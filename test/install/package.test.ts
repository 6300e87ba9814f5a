// The package the repository makes: `npm pack`, then `npm install -g` of the tarball into a
// fresh prefix, gives a `pier` command that works outside any checkout, as the index server and
// as the publish client.
//
// Measured here: installing the tarball takes a few seconds with the dependencies in npm's cache
// (`.ci/run`'s `npm install` fills it; `--prefer-offline` fetches what is missing), but
// better-sqlite3's install script compiles SQLite from source when no prebuilt binary can be
// downloaded (7½ minutes on this 2-core machine). The test therefore installs with
// `--ignore-scripts` and gives the installed better-sqlite3 the checkout's compiled addon: the
// same version (the package ships npm-shrinkwrap.json) built for the same Node.js.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/server.js';
import { makeWheel } from '../support/dists.js';
import { tempDir } from '../support/tmp.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a shell that knows nothing of pier's settings or of the test run. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('PIER_') && !k.startsWith('npm_')) env[k] = v;
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env = cleanEnv()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const stops: (() => void)[] = [];
after(() => stops.forEach((stop) => stop()));

test('npm pack and npm install -g give a pier that serves and publishes anywhere', async () => {
  assert.notEqual(manifest.name, 'pier', 'the bare name is not ours on the npm registry');
  const work = tempDir('pier-package-');
  // `npm test` has built build/; `prepack` would build again (into the folder other tests run).
  const packed = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
    REPO_ROOT,
  );
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  const files = info!.files.map((f) => f.path);
  for (const f of [
    'package.json',
    'npm-shrinkwrap.json',
    'bin/pier.cjs',
    'build/src/cli/main.js',
    'build/pier-publish.cjs',
    'contrib/pier.service',
  ])
    assert.ok(files.includes(f), `the package ships ${f}`);
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('build/test/')), 'no sources');
  assert.ok(!files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript');

  const prefix = join(work, 'prefix');
  const installed = await run(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      join(work, info!.filename),
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
    ],
    work,
  );
  assert.equal(installed.code, 0, installed.stderr);
  const home = join(prefix, 'lib', 'node_modules', manifest.name);
  assert.ok(!existsSync(join(home, 'node_modules', 'typescript')), 'no dev dependencies');
  const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(join(home, addon, '..'), { recursive: true });
  copyFileSync(join(REPO_ROOT, addon), join(home, addon));

  const pier = join(prefix, 'bin', 'pier');
  const version = await run(pier, ['--version'], work);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout.trim(), manifest.version);

  // Another folder, as a server's would be: only serve creates the index.
  const site = join(work, 'site');
  mkdirSync(site);
  const none = await run(pier, ['user', 'list'], site);
  assert.equal(none.code, 1);
  assert.match(
    none.stderr,
    /^error: no index at .*site\/pier-data; use --data-dir or PIER_DATA_DIR/m,
  );

  const server = spawn(pier, ['serve', '--port', '0'], {
    cwd: site,
    env: cleanEnv({ PIER_WORKERS: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stops.push(() => server.kill('SIGTERM'));
  let output = '';
  server.stdout.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pier did not start:\n${output}`)), 30_000);
    server.stderr.on('data', (d) => {
      output += d;
      const m = /pier is serving (\S+)\/simple\//.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.once('exit', (code) => reject(new Error(`pier exited with ${code}:\n${output}`)));
  });
  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200);
  assert.ok(existsSync(join(site, 'pier-data')), 'serve made its index in its own folder');

  // The publish client of the same installation.
  const token = await run(pier, ['token', 'create', '--user', 'admin'], site);
  assert.equal(token.code, 0, token.stderr);
  const wheel = await makeWheel({ name: 'from-package', version: '1.0' });
  const dist = join(work, 'dist');
  mkdirSync(dist);
  writeFileSync(join(dist, wheel.filename), wheel.content);
  const published = await run(
    pier,
    ['publish', '--repository-url', `${url}/legacy/`, '--token', token.stdout.trim(), dist],
    work,
  );
  assert.equal(published.code, 0, published.stderr);
  const page = await fetch(`${url}/simple/from-package/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /from_package-1\.0-py3-none-any\.whl/);
  server.kill('SIGTERM');

  // The systemd unit the package ships runs this installation's `pier serve`.
  const unit = readFileSync(join(home, 'contrib', 'pier.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/pier serve$/m);
  const local = join(work, 'pier.service');
  writeFileSync(local, unit.replaceAll('/usr/local/bin/pier', pier));
  const analyze = '/usr/bin/systemd-analyze';
  if (existsSync(analyze)) {
    const verified = await run(analyze, ['verify', local], work);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stderr, '', 'systemd knows every setting of the unit');
  } else {
    const help = await run(pier, ['help', 'serve'], work);
    assert.match(help.stdout, /^Usage: pier serve/);
  }
});

test('docs/operations.md shows the systemd unit the package ships', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
  const block = /```ini\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'an ini block in docs/operations.md');
  assert.equal(block[1], readFileSync(join(REPO_ROOT, 'contrib', 'pier.service'), 'utf8'));
});

test('a checkout installed without dev dependencies builds nothing and says why', async () => {
  // `npm ci --omit=dev` runs `prepare` with no TypeScript installed: it must not fail.
  const checkout = tempDir('pier-omit-dev-');
  mkdirSync(join(checkout, 'scripts'));
  copyFileSync(join(REPO_ROOT, 'scripts', 'prepare.mjs'), join(checkout, 'scripts', 'prepare.mjs'));
  copyFileSync(join(REPO_ROOT, 'tsconfig.json'), join(checkout, 'tsconfig.json'));
  const r = await run(
    process.execPath,
    ['scripts/prepare.mjs'],
    checkout,
    cleanEnv({ npm_command: 'ci' }),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /the dev dependencies are not installed .* nothing is built here/);
  assert.ok(!existsSync(join(checkout, 'build')));
  const scripts = (
    JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  assert.equal(scripts.prepare, 'node scripts/prepare.mjs', 'install never runs tsc directly');
  assert.equal(scripts.prepack, 'npm run build', 'a package is never packed unbuilt');
  assert.doesNotMatch(scripts.start!, /build|tsc/, 'npm start does not rebuild');
  // An unbuilt checkout's pier says what to do.
  mkdirSync(join(checkout, 'bin'));
  copyFileSync(join(REPO_ROOT, 'bin', 'pier.cjs'), join(checkout, 'bin', 'pier.cjs'));
  const unbuilt = await run(process.execPath, ['bin/pier.cjs', '--version'], checkout);
  assert.equal(unbuilt.code, 1);
  assert.match(unbuilt.stderr, /^pier is not built \(no .*build\): run `npm run build` in /);
});
