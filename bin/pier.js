#!/usr/bin/env node
// Entry point for `npx pier`: runs the compiled CLI (built by `npm install` through `prepare`).
// `pier publish` runs in CI jobs, where start-up time is paid on every release: it loads the
// publish client alone, without the server's modules.
// `npm run build` bundles it into one file (build/pier-publish.js), which starts fastest.
if (process.argv[2] === 'publish') {
  const { existsSync } = await import('node:fs');
  const bundled = new URL('../build/pier-publish.js', import.meta.url);
  const { publishMain } = await import(
    existsSync(bundled) ? bundled.href : '../build/src/client/main.js'
  );
  await publishMain(process.argv);
} else {
  const { main } = await import('../build/src/cli/main.js');
  main(process.argv).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
