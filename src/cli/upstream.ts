// `pier upstream …`: the upstream proxy's run-time exclude list, and filling its cache ahead of
// time for networks that will be cut off from the upstream.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Actor } from '../audit/log.js';
import type { Services } from '../services.js';
import { parseRequirement, type Requirement } from '../packaging/requirements.js';
import { parseRequirementsFile, prefetch } from '../proxy/prefetch.js';
import { PierError } from '../errors.js';

type WithServices = <T>(cmd: Command, fn: (s: Services) => Promise<T>) => Promise<T>;

function requireProxy(s: Services): void {
  if (!s.proxy.enabled)
    throw new PierError(400, 'No upstream index is configured (PIER_UPSTREAM_URL / upstream_url)');
}

export function registerUpstreamCommands(
  program: Command,
  withServices: WithServices,
  operator: Actor,
): void {
  const upstream = program
    .command('upstream')
    .description('the upstream index pier proxies (PIER_UPSTREAM_URL)');

  const exclude = upstream
    .command('exclude')
    .description('names never taken from the upstream, besides PIER_UPSTREAM_EXCLUDE');
  exclude
    .command('add <glob>')
    .description("never take names matching GLOB (e.g. 'acme-*') from the upstream")
    .action(async (glob: string, _opts: unknown, cmd: Command) =>
      withServices(cmd, async (s) => {
        const stored = await s.proxy.addExclude(operator, glob);
        console.error(`excluded '${stored}' from the upstream`);
      }),
    );
  exclude
    .command('remove <glob>')
    .description('remove a glob added with `pier upstream exclude add`')
    .action(async (glob: string, _opts: unknown, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.proxy.removeExclude(operator, glob);
        console.error(`removed '${glob}' from the exclude list`);
      }),
    );
  exclude
    .command('list')
    .description('every exclude glob, and where it comes from (config or admin)')
    .action(async (_opts: unknown, cmd: Command) =>
      withServices(cmd, async (s) => {
        for (const e of await s.proxy.excludes()) console.log(`${e.pattern}\t${e.source}`);
      }),
    );

  upstream
    .command('prefetch [requirement...]')
    .description(
      'fetch into the cache the files of the highest version satisfying each requirement ' +
        '(give a fully pinned list: dependencies are not resolved)',
    )
    .option(
      '-r, --requirement <file>',
      'a requirements file',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(async (args: string[], opts: { requirement: string[] }, cmd: Command) =>
      withServices(cmd, async (s) => {
        requireProxy(s);
        const reqs: Requirement[] = [
          ...opts.requirement.flatMap((f) => parseRequirementsFile(readFileSync(f, 'utf8'))),
          ...args.map(parseRequirement),
        ];
        if (reqs.length === 0)
          throw new PierError(400, 'Nothing to prefetch: give requirements or -r FILE');
        const missing = await prefetch(s.proxy, reqs, (e) => {
          if (e.kind === 'file')
            console.log(`${e.state === 'miss' ? 'fetched' : 'cached '}  ${e.filename}`);
          else console.error(`missing  ${e.name}: ${e.reason}`);
        });
        if (missing > 0) {
          process.exitCode = 1;
          console.error(`${missing} requirement(s) could not be prefetched`);
        }
      }),
    );
}
