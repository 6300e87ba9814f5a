#!/usr/bin/env node
// Entry point for `npx pier`: runs the compiled CLI (built by `npm install` through `prepare`).
import { main } from '../build/src/cli/main.js';

main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
