// Runs once before the test files: builds the sample distributions with Debian's setuptools
// (cached by the hash of their definition, so a second run reuses them).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_DIR, MANIFEST, SAMPLES, type SampleFiles } from './fixtures.js';
import { tempDir } from './tmp.js';
import { SYSTEM_PYTHON } from './python.js';

const run = promisify(execFile);

function pyproject(name: string, version: string): string {
  return `[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "${name}"
version = "${version}"
description = "A sample project for pier's tests"
readme = "README.md"
requires-python = ">=3.8"
license = {text = "MIT"}
authors = [{name = "Pier Tests", email = "tests@example.com"}]
classifiers = ["Programming Language :: Python :: 3"]

[project.urls]
Homepage = "https://example.com/${name}"
`;
}

async function build(
  key: string,
  spec: { name: string; version: string; greeting: string },
  out: string,
) {
  const src = tempDir('pier-fixture-');
  const module = spec.name.replace(/-/g, '_');
  mkdirSync(join(src, module), { recursive: true });
  writeFileSync(join(src, 'pyproject.toml'), pyproject(spec.name, spec.version));
  writeFileSync(join(src, 'README.md'), `# ${spec.name}\n\nSample **${key}** for pier.\n`);
  writeFileSync(join(src, module, '__init__.py'), `GREETING = ${JSON.stringify(spec.greeting)}\n`);
  const dist = join(out, key);
  mkdirSync(dist, { recursive: true });
  await run(SYSTEM_PYTHON, ['-m', 'build', '--no-isolation', '--outdir', dist, src], {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000', PYTHONDONTWRITEBYTECODE: '1' },
  });
  const files = readdirSync(dist);
  const wheel = files.find((f) => f.endsWith('.whl'));
  const sdist = files.find((f) => f.endsWith('.tar.gz'));
  if (!wheel || !sdist) throw new Error(`build of ${key} produced ${files.join(', ')}`);
  return { wheel: join(dist, wheel), sdist: join(dist, sdist) };
}

async function main() {
  const key = createHash('sha256')
    .update(JSON.stringify(SAMPLES) + pyproject('x', '0'))
    .digest('hex')
    .slice(0, 16);
  const out = join(FIXTURE_DIR, key);
  if (existsSync(join(out, 'done'))) {
    copyFileSync(join(out, 'manifest.json'), MANIFEST);
    return;
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const manifest: Record<string, SampleFiles> = {};
  await Promise.all(
    Object.entries(SAMPLES).map(async ([name, spec]) => {
      manifest[name] = await build(name, spec, out);
    }),
  );
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(out, 'done'), '');
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2));
  console.log(`built sample distributions in ${out}`);
}

await main();
