// `pier publish` as bin/pier.cjs runs it: the bundle that `npm run build` writes, loaded with
// the code cache written beside it. The cache must be one V8 accepts (else it is dead weight),
// and a cache V8 refuses must cost nothing but the compilation it would have saved.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../support/tmp.js';
import { REPO_ROOT } from '../support/server.js';
import { runNode, cleanEnv } from './processes.js';

interface Loaded {
  publishMain: (argv: string[]) => Promise<void>;
  cacheUsed: boolean;
}
const require = createRequire(import.meta.url);
const { loadPublishBundle } = require(join(REPO_ROOT, 'bin', 'publish-bundle.cjs')) as {
  loadPublishBundle(options?: { useCache?: boolean; cache?: string }): Loaded | null;
};

test('the build wrote the bundle and a code cache this Node.js accepts', () => {
  const loaded = loadPublishBundle();
  assert.ok(loaded, 'build/pier-publish.cjs exists');
  assert.equal(typeof loaded.publishMain, 'function');
  assert.equal(loaded.cacheUsed, true);
});

test('a cache V8 refuses is ignored: the bundle is compiled and runs', async () => {
  const bad = join(tempDir('pier-bundle-cache-'), 'bad.cache');
  writeFileSync(bad, Buffer.alloc(4096, 7));
  const loaded = loadPublishBundle({ cache: bad });
  assert.ok(loaded);
  assert.equal(loaded.cacheUsed, false);
  assert.equal(typeof loaded.publishMain, 'function');
  assert.equal(loadPublishBundle({ useCache: false })?.cacheUsed, false);
});

test('bin/pier.cjs publish runs the bundle (its --help names every option)', async () => {
  const r = await runNode([join(REPO_ROOT, 'bin', 'pier.cjs'), 'publish', '--help'], cleanEnv());
  assert.equal(r.code, 0, r.stderr);
  for (const option of ['--repository-url', '--skip-existing', '--concurrency', '--dry-run'])
    assert.match(r.stdout, new RegExp(option));
});
