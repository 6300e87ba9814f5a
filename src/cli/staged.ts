// `pier staged …`: staged releases from the command line, as the operator (the audit log and
// the files' provenance record `cli (<login>)` as the approver). Owners and maintainers decide
// through the REST API or the web interface, with their second factor.
import type { Command } from 'commander';
import type { Actor } from '../audit/log.js';
import type { Services } from '../services.js';
import type { StagedView } from '../registry/staged.js';
import { jsonForTerminal, terminalRow } from './terminal.js';

type WithServices = <T>(cmd: Command, fn: (s: Services) => Promise<T>) => Promise<T>;

function printStaged(v: StagedView): void {
  const when =
    v.state === 'open' ? `expires ${v.expires_at}` : `${v.decided_at ?? ''} ${v.decided_by ?? ''}`;
  console.log(
    terminalRow([
      v.project,
      v.version,
      v.state,
      `staged by ${v.staged_by}`,
      when.trim(),
      v.files.map((f) => f.filename).join(', '),
    ]),
  );
  if (v.preview_url) console.log(`  preview: ${v.preview_url}`);
}

export function registerStagedCommands(
  program: Command,
  withServices: WithServices,
  operator: Actor,
): void {
  const staged = program
    .command('staged')
    .description(
      'staged releases: uploads installers do not see until an owner or maintainer approves them',
    );
  staged
    .command('list <project>')
    .description("list a project's staged releases, newest first, with their preview index")
    .option('--state <state>', 'only open, approved, rejected or expired ones')
    .option('--json', 'print JSON')
    .action(async (project: string, opts: { state?: string; json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const list = await s.staged.list(operator, project, opts.state);
        if (opts.json) return console.log(jsonForTerminal(list, 2));
        for (const v of list) printStaged(v);
      }),
    );
  staged
    .command('approve <project> <version>')
    .description('publish every file of the staged release at once')
    .action(async (project: string, version: string, _opts, cmd: Command) =>
      withServices(cmd, async (s) => {
        const r = await s.staged.approve(operator, project, version);
        console.error(`approved ${r.project} ${r.version}: published ${r.files.join(', ')}`);
      }),
    );
  staged
    .command('reject <project> <version>')
    .description('delete the staged files (their filenames can never be used again)')
    .action(async (project: string, version: string, _opts, cmd: Command) =>
      withServices(cmd, async (s) => {
        const r = await s.staged.reject(operator, project, version);
        console.error(`rejected ${r.project} ${r.version}: deleted ${r.files.join(', ')}`);
      }),
    );
}
