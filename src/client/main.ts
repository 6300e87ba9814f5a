// `pier publish` on its own: the entry point that `npm run build` bundles into one file
// (build/pier-publish.cjs, see scripts/build-action.mjs --cli), which `bin/pier.cjs publish`
// runs when it exists, with a code cache (bin/publish-bundle.cjs). A CI job pays the client's start-up on every release; one bundled file starts
// in a fraction of the time that resolving and loading a hundred modules takes.
import { Command } from 'commander';
import { registerPublishCommand } from './command.js';

export async function publishMain(argv: string[]): Promise<void> {
  const program = new Command('pier');
  registerPublishCommand(program);
  await program.parseAsync(argv);
}
