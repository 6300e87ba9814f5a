#!/usr/bin/env node
// Entry point for `npx pier`: runs the compiled CLI (built by `npm install` through `prepare`).
// `pier publish` runs in CI jobs, where start-up time is paid on every release: it loads the
// publish client alone, without the server's modules.
if (process.argv[2] === 'publish') {
  const { Command } = await import('commander');
  const { registerPublishCommand } = await import('../build/src/client/command.js');
  const program = new Command('pier');
  registerPublishCommand(program);
  await program.parseAsync(process.argv);
} else {
  const { main } = await import('../build/src/cli/main.js');
  main(process.argv).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
