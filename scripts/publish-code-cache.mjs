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
import yazl from 'yazl';

const require = createRequire(import.meta.url);
const { loadPublishBundle, writeCodeCache, CACHE } = require('../bin/publish-bundle.cjs');

/** A valid wheel of `name` 1.0.0, in memory. */
function wheel(name) {
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${name}`,
    'Version: 1.0.0',
    'Summary: warms the code cache',
    'Requires-Python: >=3.8',
    'Requires-Dist: requests>=2; extra == "http"',
    'Provides-Extra: http',
    'Classifier: Programming Language :: Python :: 3',
    '',
    'A sample.',
  ].join('\n');
  const zip = new yazl.ZipFile();
  const distInfo = `${name}-1.0.0.dist-info`;
  zip.addBuffer(Buffer.from('VALUE = 1\n'), `${name}/__init__.py`);
  zip.addBuffer(Buffer.from(metadata), `${distInfo}/METADATA`);
  zip.addBuffer(
    Buffer.from('Wheel-Version: 1.0\nGenerator: pier\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
    `${distInfo}/WHEEL`,
  );
  zip.addBuffer(Buffer.from(''), `${distInfo}/RECORD`);
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks = [];
    zip.outputStream.on('data', (c) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'pier-code-cache-'));
try {
  const file = join(dir, 'pier_cache_warmup-1.0.0-py3-none-any.whl');
  writeFileSync(file, await wheel('pier_cache_warmup'));
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
