// `pier issuer …` and `pier publisher …`: trusted publishing management from the command line.
import { forTerminal, jsonForTerminal, terminalRow } from './terminal.js';
import { Command, Option } from 'commander';
import type { Actor } from '../audit/log.js';
import { PierError } from '../errors.js';
import type { Services } from '../services.js';
import type { PublisherView } from '../oidc/publishers.js';
import { wholeNumber } from '../client/numeric-option.js';
import { isProviderKind } from '../oidc/issuers.js';
import { kindList, mergedCliOptions, PROVIDER_KINDS, PROVIDERS } from '../oidc/providers/index.js';

type WithServices = <T>(cmd: Command, fn: (s: Services) => Promise<T>) => Promise<T>;

interface PublisherFlags {
  provider: string;
  readOnly?: boolean;
  stageOnly?: boolean;
  issuer?: string;
  pending?: boolean;
  org?: string;
  owner?: string;
  /** An organisation-wide publisher's glob of project names. */
  projects?: string;
  /** The providers' own options (src/oidc/providers/<kind>: `cli.options`). */
  [option: string]: string | readonly string[] | boolean | undefined;
}

/** The provider's registration fields, from the command line's flags. */
export function publisherFields(flags: PublisherFlags): Record<string, string | undefined> {
  if (!isProviderKind(flags.provider))
    throw new PierError(400, `Unknown provider '${flags.provider}': use ${kindList()}`);
  const result = PROVIDERS[flags.provider].cli.fields(flags);
  if (!result.ok) throw new PierError(400, result.message);
  return result.fields;
}

function printPublisher(p: PublisherView): void {
  const where = p.organizationWide
    ? `organisation-wide: every project of '${p.organizationWide.organization}' matching '${p.organizationWide.projects}'`
    : p.pending
      ? `pending: creates '${p.pending.project}' for ${p.pending.addedBy ?? '?'} (expires ${p.pending.expiresAt})`
      : `projects: ${p.projects.map((name) => (p.readOnly.includes(name) ? `${name} (read only)` : p.stageOnly.includes(name) ? `${name} (stage only)` : name)).join(', ')}`;
  console.log(terminalRow([p.id, p.description, p.issuer, where]));
}

/** The providers whose every instance, organisation or workspace is its own issuer. */
function withoutBuiltinIssuer(): string {
  return PROVIDER_KINDS.filter((k) => PROVIDERS[k].builtinIssuer === null)
    .map((k) => PROVIDERS[k].displayName)
    .join(', ');
}

export function registerTrustedPublishingCommands(
  program: Command,
  withServices: WithServices,
  operator: Actor,
): void {
  const issuer = program
    .command('issuer')
    .description('manage OIDC issuers trusted for trusted publishing');
  issuer
    .command('add')
    .description(
      'trust another OIDC issuer (GitHub Enterprise, self-managed GitLab, a Forgejo instance, a CircleCI organisation, a Bitbucket workspace, a Jenkins, an Azure DevOps organization, …, or any other with --kind generic); warns when its discovery document cannot be read from here',
    )
    .addOption(
      new Option('--kind <kind>', 'which claims its tokens carry')
        .choices(PROVIDER_KINDS)
        .makeOptionMandatory(),
    )
    .requiredOption('--url <url>', 'the issuer URL, exactly as tokens carry it in "iss"')
    .option('--insecure', 'allow plain HTTP on a loopback address (development and tests only)')
    .option(
      '--api-url <url>',
      "the provider's REST API for id lookups at registration (GitHub-compatible /users/NAME; Forgejo: the instance's /api/v1, by default next to the issuer)",
    )
    .action(
      async (
        opts: { kind: string; url: string; insecure?: boolean; apiUrl?: string },
        cmd: Command,
      ) =>
        withServices(cmd, async (s) => {
          const added = await s.issuers.add(operator, {
            kind: opts.kind,
            url: opts.url,
            insecure: opts.insecure,
            apiUrl: opts.apiUrl,
          });
          console.error(
            `trusting ${added.kind} issuer ${added.url}${added.insecure ? ' (insecure: development only)' : ''}`,
          );
          const warning = await s.jwks.probe(added);
          if (warning) console.error(forTerminal(`warning: ${warning}`));
        }),
    );
  issuer
    .command('list')
    .description('list trusted issuers, built-in and added')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const list = await s.issuers.list();
        if (opts.json) return console.log(jsonForTerminal(list, 2));
        for (const i of list)
          console.log(
            forTerminal(
              `${i.kind.padEnd(12)} ${i.url}${i.builtin ? '  (built in)' : ''}${i.insecure ? '  (insecure)' : ''}`,
            ),
          );
      }),
    );
  issuer
    .command('remove <url>')
    .description('stop trusting an issuer (refused, naming them, while publishers use it)')
    .action(async (url: string, _opts, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.issuers.remove(operator, url);
        console.error(`no longer trusting ${url}`);
      }),
    );

  const publisher = program.command('publisher').description('manage trusted publishers');
  const add = publisher
    .command('add [project]')
    .description(
      'trust a CI workflow to publish a project (with --pending: to create it; with --org and no project: every project of an organisation)',
    )
    .addOption(
      new Option('--provider <provider>', 'the CI platform')
        .choices(PROVIDER_KINDS)
        .default('github'),
    )
    .option(
      '--issuer <url>',
      `a registered issuer of the same kind (default: the provider’s public one; required for ${withoutBuiltinIssuer()}, which have none)`,
    )
    .option(
      '--read-only',
      'the job may read the project (trusted access for installs: /_/oidc/mint-read-token), not upload',
    )
    .option(
      '--stage-only',
      'its uploads are staged: installers see them once an owner or maintainer approves (pier staged approve)',
    )
    .option('--pending', 'register a pending publisher: its first exchange creates the project')
    .option('--owner <user>', 'for --pending: who will own the project')
    .option(
      '--org <name>',
      'for --pending: the organisation (pier org) that will own the project; without a project: register an organisation-wide publisher (administrators)',
    )
    .option(
      '--projects <glob>',
      "for an organisation-wide publisher: only the organisation's projects whose normalized names match (e.g. 'acme-*'; default: all)",
    );
  // Each provider's options, one per flag (src/oidc/providers/index.ts: mergedCliOptions).
  for (const option of mergedCliOptions())
    if (option.repeatable)
      add.option(option.flags, option.description, (value: string, previous?: string[]) => [
        ...(previous ?? []),
        value,
      ]);
    else add.option(option.flags, option.description);
  add.action(async (projectName: string | undefined, flags: PublisherFlags, cmd: Command) =>
    withServices(cmd, async (s) => {
      const orgWide = projectName === undefined;
      if (orgWide && !flags.org)
        throw new PierError(
          400,
          'Give the project, or --org ORG (without a project) for an organisation-wide publisher',
        );
      if (orgWide && (flags.pending || flags.owner || flags.readOnly || flags.stageOnly))
        throw new PierError(
          400,
          'An organisation-wide publisher (--org without a project) takes no --pending, --owner, --read-only or --stage-only',
        );
      if (!orgWide && flags.projects !== undefined)
        throw new PierError(
          400,
          '--projects is for an organisation-wide publisher: give --org and no project',
        );
      if (!flags.pending && flags.owner) throw new PierError(400, '--owner is only for --pending');
      if (!orgWide && !flags.pending && flags.org)
        throw new PierError(
          400,
          '--org with a project is only for --pending; leave the project out for an organisation-wide publisher',
        );
      if (flags.pending && flags.stageOnly)
        throw new PierError(
          400,
          '--stage-only is for a publisher of an existing project: once the pending publisher has created it, add the publisher again with --stage-only, or stage every upload with pier project set --stage-uploads',
        );
      const input = {
        kind: flags.provider,
        fields: publisherFields(flags),
        issuerUrl: flags.issuer,
        access: flags.readOnly ? ('read' as const) : undefined,
        stageOnly: flags.stageOnly,
      };
      const view = orgWide
        ? await s.publishers.addOrganizationWide(operator, flags.org!, input, flags.projects)
        : flags.pending
          ? await s.publishers.addPending(operator, projectName!, input, flags.owner, {
              organization: flags.org,
            })
          : await s.publishers.add(operator, projectName!, input);
      console.error(`added trusted publisher ${view.id}: ${view.description} (${view.issuer})`);
      printPublisher(view);
    }),
  );
  publisher
    .command('list [project]')
    .description('list trusted publishers (of a project, or all of them)')
    .option('--json', 'print JSON')
    .action(async (projectName: string | undefined, opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const list = projectName
          ? await s.publishers.listForProject(operator, projectName)
          : await s.publishers.list(operator);
        if (opts.json) return console.log(jsonForTerminal(list, 2));
        for (const p of list) printPublisher(p);
      }),
    );
  publisher
    .command('set')
    .description("change a trusted publisher's link to a project")
    .argument('<id>', 'the publisher id (pier publisher list)', wholeNumber({ min: 1 }))
    .requiredOption('--project <name>', 'the project whose link changes')
    .option('--stage-only', 'stage its uploads until an owner or maintainer approves them')
    .option('--no-stage-only', 'publish its uploads at once (the default)')
    .action(async (n: number, opts: { project: string; stageOnly?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        if (opts.stageOnly === undefined)
          throw new PierError(400, 'Give --stage-only or --no-stage-only');
        const view = await s.publishers.setStageOnly(operator, n, opts.project, opts.stageOnly);
        printPublisher(view);
      }),
    );
  publisher
    .command('remove')
    .description('remove a trusted publisher (its tokens stop working at once)')
    .argument('<id>', 'the publisher id (pier publisher list)', wholeNumber({ min: 1 }))
    .option('--project <name>', 'only from this project')
    .action(async (n: number, opts: { project?: string }, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.publishers.remove(operator, n, opts.project);
        console.error(
          `removed trusted publisher ${n}${opts.project ? ` from '${opts.project}'` : ''}`,
        );
      }),
    );
}
