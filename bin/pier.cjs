#!/usr/bin/env node
'use strict';
// Entry point for `npx pier`: runs the compiled CLI (built by `npm install` through `prepare`).
// `pier publish` runs in CI jobs, where start-up time is paid on every release: it runs the
// publish client alone, bundled into one CommonJS file (build/pier-publish.cjs, made by
// `npm run build`) and loaded with V8's code cache (see publish-bundle.cjs), without the
// server's modules and without the ES module loader. This file is CommonJS for that reason too.
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
