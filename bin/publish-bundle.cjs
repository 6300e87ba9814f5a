'use strict';
// Loads build/pier-publish.cjs, the bundled `pier publish`, with V8's code cache: the bytecode
// of the functions a publish runs, saved by `npm run build` (scripts/publish-code-cache.mjs),
// so that a run deserialises them instead of parsing and compiling ~0.5 MB of JavaScript.
// The cache belongs to the Node.js that wrote it: V8 refuses one from another version or
// build (the bundle is then compiled as usual), and it is only ever an optimisation.
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'build', 'pier-publish.cjs');
const CACHE = `${BUNDLE}.cache`;

/**
 * The bundle's publishMain, or null when it was not built; `script` for writeCodeCache, and
 * whether V8 refused the cache. `useCache: false` compiles afresh (to write a new cache);
 * `cache` names another cache file (tests).
 */
function loadPublishBundle(options = {}) {
  let source;
  try {
    source = readFileSync(BUNDLE, 'utf8');
  } catch {
    return null;
  }
  let cachedData;
  if (options.useCache !== false) {
    try {
      cachedData = readFileSync(options.cache ?? CACHE);
    } catch {
      // no cache: compiled as usual
    }
  }
  // No importModuleDynamically: the bundle has no import() (esbuild resolves them all), and
  // asking for it would start the ES module loader.
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  const run = script.runInThisContext();
  run.call(
    module.exports,
    module.exports,
    Module.createRequire(BUNDLE),
    module,
    BUNDLE,
    dirname(BUNDLE),
  );
  return {
    publishMain: module.exports.publishMain,
    script,
    cacheUsed: cachedData !== undefined && script.cachedDataRejected === false,
  };
}

/** Saves the code V8 has compiled for the bundle so far (written whole, then renamed). */
function writeCodeCache(script) {
  const part = `${CACHE}.${process.pid}.part`;
  writeFileSync(part, script.createCachedData());
  renameSync(part, CACHE);
}

module.exports = { BUNDLE, CACHE, loadPublishBundle, writeCodeCache };
