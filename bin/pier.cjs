#!/usr/bin/env node
'use strict';
// Entry point of the `pier` command: runs the compiled CLI in build/ (shipped in the package
// `npm pack` makes; in a checkout, `npm install` or `npm run build` makes it).
// `pier publish` runs in CI jobs, where start-up time is paid on every release: it runs the
// publish client alone, bundled into one CommonJS file (build/pier-publish.cjs, made by
// `npm run build`) and loaded with V8's code cache (see publish-bundle.cjs), without the
// server's modules and without the ES module loader. This file is CommonJS for that reason too.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

if (!existsSync(join(__dirname, '..', 'build', 'src', 'cli', 'main.js'))) {
  console.error(
    `pier is not built (no ${join(__dirname, '..', 'build')}): run \`npm run build\` in ${join(__dirname, '..')}`,
  );
  process.exit(1);
}
if (process.argv[2] === 'publish') {
  const { loadPublishBundle } = require('./publish-bundle.cjs');
  const bundled = loadPublishBundle();
  const main = bundled
    ? Promise.resolve(bundled.publishMain)
    : import('../build/src/client/main.js').then((m) => m.publishMain);
  main.then((publishMain) => publishMain(process.argv)).catch(fail);
} else {
  import('../build/src/cli/main.js').then(({ main }) => main(process.argv)).catch(fail);
}

function fail(err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
