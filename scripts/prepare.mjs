#!/usr/bin/env node
// `npm install` (or `npm ci`) in a checkout: build pier, so that `npm install && npm start`
// works on a fresh clone. A production install (`npm ci --omit=dev`) has no TypeScript to build
// with: it says so and leaves the checkout as it is (`npm run build` on a machine with the dev
// dependencies, or install the package `npm pack` makes, which carries the build). `npm pack`
// and `npm publish` build in `prepack` instead, so that a package is never packed unbuilt.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

// An installed package carries its build and no sources: nothing to do.
if (!existsSync(new URL('../tsconfig.json', import.meta.url))) process.exit(0);
const command = process.env.npm_command;
if (command === 'pack' || command === 'publish') process.exit(0);

try {
  createRequire(import.meta.url).resolve('typescript');
} catch {
  console.error(
    'pier: the dev dependencies are not installed (npm ci --omit=dev), so nothing is built here; ' +
      'run `npm run build` where they are, or install the package that `npm pack` makes',
  );
  process.exit(0);
}
const built = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
process.exit(built.status ?? 1);
