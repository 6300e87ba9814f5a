// `pier namespace …`: PEP 752 namespaces from the command line, as the operator.
import type { Command } from 'commander';
import type { Actor } from '../audit/log.js';
import { PierError } from '../errors.js';
import type { Services } from '../services.js';
import type { NamespaceView } from '../namespaces/service.js';

type WithServices = <T>(cmd: Command, fn: (s: Services) => Promise<T>) => Promise<T>;

function line(v: NamespaceView): string {
  const shown = v.display_name === v.name ? v.name : `${v.name} (${v.display_name})`;
  return `${shown}  owners: ${v.owners.join(', ')}`;
}

export function registerNamespaceCommands(
  program: Command,
  withServices: WithServices,
  operator: Actor,
): void {
  const namespace = program
    .command('namespace')
    .description('manage PEP 752 namespaces: reserved name prefixes (acme covers acme-*)');
  namespace
    .command('reserve <name>')
    .description('reserve a namespace: only its owners may create projects named NAME or NAME-*')
    .requiredOption('--owner <user>', 'its first owner')
    .action(async (name: string, opts: { owner: string }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const view = await s.namespaces.reserve(operator, name, opts.owner);
        console.error(`reserved namespace '${view.name}' for '${opts.owner}'`);
      }),
    );
  namespace
    .command('grant <name> <user>')
    .description('grant a reserved namespace to another owner')
    .action(async (name: string, user: string, _opts: unknown, cmd: Command) =>
      withServices(cmd, async (s) => {
        const view = await s.namespaces.grant(operator, name, user);
        console.error(`granted '${view.name}' to '${user}'`);
      }),
    );
  namespace
    .command('revoke <name>')
    .description("revoke one owner's grant (--user), or release the whole namespace (--all)")
    .option('--user <user>', 'the owner whose grant ends')
    .option('--all', 'release the namespace: its names are open to anyone again')
    .action(async (name: string, opts: { user?: string; all?: boolean }, cmd: Command) => {
      if ((opts.user === undefined) === (opts.all === undefined))
        throw new PierError(400, 'Give exactly one of --user USER and --all');
      await withServices(cmd, async (s) => {
        if (opts.user !== undefined) {
          const view = await s.namespaces.revoke(operator, name, opts.user);
          console.error(`revoked the grant of '${opts.user}' for '${view.name}'`);
        } else {
          await s.namespaces.release(operator, name);
          console.error(`released namespace '${name}'`);
        }
      });
    });
  namespace
    .command('list')
    .description('list reserved namespaces and their owners')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const views = await s.namespaces.list();
        if (opts.json) console.log(JSON.stringify(views, null, 2));
        else for (const v of views) console.log(line(v));
      }),
    );
}
