// Sample distributions, built once per test run by global-setup with Debian's setuptools
// (`python3 -m build --no-isolation`), shared by every test file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './server.js';

export const FIXTURE_DIR = join(REPO_ROOT, '.cache', 'test-fixtures');
export const MANIFEST = join(FIXTURE_DIR, 'manifest.json');

/**
 * The variants global-setup builds: name, version and the text the module exports. The names use
 * `_` because Debian's setuptools (66) names sdists after the name as written, and pier, like PyPI,
 * accepts only PEP 625 sdist names (pier_sample-1.0.0.tar.gz).
 */
export const SAMPLES = {
  /** pier-sample 1.0.0, the one most tests upload and install. */
  sample: { name: 'pier_sample', version: '1.0.0', greeting: 'hello from pier-sample' },
  /** Same filenames as `sample`, different bytes: a conflicting re-upload. */
  conflicting: {
    name: 'pier_sample',
    version: '1.0.0',
    greeting: 'a different build of the same version',
  },
  /** A later release. */
  later: { name: 'pier_sample', version: '1.1.0', greeting: 'hello from pier-sample 1.1' },
  /** Another project. */
  other: { name: 'pier_other', version: '0.1.0', greeting: 'hello from pier-other' },
} as const;

export type SampleName = keyof typeof SAMPLES;

export interface SampleFiles {
  wheel: string;
  sdist: string;
}

export function sample(name: SampleName): SampleFiles {
  if (!existsSync(MANIFEST))
    throw new Error('fixtures are missing: run the tests through scripts/run-tests.mjs');
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, SampleFiles>;
  const files = manifest[name];
  if (!files) throw new Error(`no fixture ${name}`);
  return files;
}
