#!/usr/bin/env node
// Writes build/pier-publish.cjs.cache, the V8 code cache bin/publish-bundle.cjs loads the
// bundled `pier publish` with. V8 saves the functions compiled so far, so the bundle first runs
// what every publish runs before its uploads: `pier publish --dry-run` of a small wheel (its
// command line, finding, reading, checking and hashing the file, the report). Run by
// `scripts/build-action.mjs --cli` after it bundles; the cache is tied to this Node.js.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The sample wheel comes from the test suite's own builder, compiled by the same build.
import { makeWheel, metadataText } from '../build/test/support/dists.js';

const require = createRequire(import.meta.url);
const { loadPublishBundle, writeCodeCache, CACHE } = require('../bin/publish-bundle.cjs');

/** A valid wheel of `name` 1.0.0 whose metadata exercises the checks' parsers. */
function wheel(name) {
  return makeWheel({
    name,
    version: '1.0.0',
    metadata: metadataText(
      name,
      '1.0.0',
      [
        'Requires-Dist: requests>=2; extra == "http"',
        'Provides-Extra: http',
        'Classifier: Programming Language :: Python :: 3',
      ].join('\n'),
    ),
  });
}

const dir = mkdtempSync(join(tmpdir(), 'pier-code-cache-'));
try {
  const made = await wheel('pier_cache_warmup');
  const file = join(dir, made.filename);
  writeFileSync(file, made.content);
  const bundle = loadPublishBundle({ useCache: false });
  if (!bundle) throw new Error('build/pier-publish.cjs is missing: bundle it first');
  // The report goes to standard error; a dry run sends nothing.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = () => true;
  try {
    await bundle.publishMain(['node', 'pier', 'publish', '--dry-run', file]);
  } finally {
    process.stderr.write = write;
  }
  if (process.exitCode) throw new Error('the dry run behind the code cache failed');
  writeCodeCache(bundle.script);
  console.log(`wrote ${CACHE}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
