// `pier org …` and `pier team …`: organisations and teams from the command line, as the
// operator (docs/organizations.md).
import { Option, type Command } from 'commander';
import type { Actor } from '../audit/log.js';
import { ORG_ROLES, ROLES, type OrgRole, type Role } from '../auth/permissions.js';
import { PierError } from '../errors.js';
import type { Services } from '../services.js';
import type { OrganizationView, TeamView } from '../orgs/service.js';
import { forTerminal } from './terminal.js';

type WithServices = <T>(cmd: Command, fn: (s: Services) => Promise<T>) => Promise<T>;

function teamLines(t: TeamView): string[] {
  return [
    `team ${t.name}`,
    `  members: ${t.members.map((m) => `${m.user} (${m.sources.join(', ')})`).join(', ') || '-'}`,
    `  projects: ${t.projects.map((p) => `${p.project} (${p.role})`).join(', ') || '-'}`,
    `  groups: ${t.groups.map((g) => `${g.provider}:${g.group}`).join(', ') || '-'}`,
  ];
}

function orgLines(v: OrganizationView): string[] {
  return [
    `organisation ${v.name}`,
    `members: ${v.members.map((m) => `${m.user} (${m.role})`).join(', ') || '-'}`,
    `projects: ${v.projects.join(', ') || '-'}`,
    ...v.teams.flatMap(teamLines),
  ];
}

const print = (lines: string[]) => {
  for (const l of lines) console.log(forTerminal(l));
};

export function registerOrganizationCommands(
  program: Command,
  withServices: WithServices,
  operator: Actor,
): void {
  const org = program
    .command('org')
    .description('manage organisations: they own projects, and their teams hold roles in them');
  org
    .command('create <name>')
    .description('create an organisation (its name is never also a user name)')
    .requiredOption('--owner <user>', 'its first owner')
    .action(async (name: string, opts: { owner: string }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const v = await s.orgs.create(operator, name, opts.owner);
        console.error(`created organisation '${v.name}', owned by '${opts.owner}'`);
      }),
    );
  org
    .command('list')
    .description('list organisations')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const names = await s.orgs.list(operator.principal);
        if (opts.json) console.log(JSON.stringify(names, null, 2));
        else print(names);
      }),
    );
  org
    .command('show <name>')
    .description('show an organisation: members, projects, teams and their roles and groups')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const v = await s.orgs.view(operator, name);
        if (opts.json) console.log(JSON.stringify(v, null, 2));
        else print(orgLines(v));
      }),
    );
  org
    .command('member <name> <user>')
    .description("add a member, change a member's role, or remove a member (and their teams)")
    .addOption(new Option('--role <role>', 'owner or member').choices([...ORG_ROLES]))
    .option('--remove', 'remove the member from the organisation and all its teams')
    .action(
      async (name: string, user: string, opts: { role?: string; remove?: boolean }, cmd: Command) =>
        withServices(cmd, async (s) => {
          if (opts.remove) {
            await s.orgs.removeMember(operator, name, user);
            console.error(`removed '${user}' from '${name}'`);
          } else {
            if (!opts.role) throw new PierError(400, 'Give --role owner|member, or --remove');
            await s.orgs.setMember(operator, name, user, opts.role as OrgRole);
            console.error(`'${user}' is now ${opts.role} of '${name}'`);
          }
        }),
    );
  org
    .command('transfer <project> <name>')
    .description('move a project into an organisation (its owners then own the project)')
    .action(async (project: string, name: string, _opts: unknown, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.orgs.transferProject(operator, project, name);
        console.error(`'${project}' now belongs to '${name}'`);
      }),
    );

  const team = program
    .command('team')
    .description(
      "manage an organisation's teams: members, project roles, identity-provider groups",
    );
  team
    .command('create <org> <team>')
    .description('create a team in an organisation')
    .action(async (o: string, t: string, _opts: unknown, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.orgs.createTeam(operator, o, t);
        console.error(`created team '${t}' in '${o}'`);
      }),
    );
  team
    .command('remove <org> <team>')
    .description('remove a team: its members lose the roles it gave them')
    .action(async (o: string, t: string, _opts: unknown, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.orgs.removeTeam(operator, o, t);
        console.error(`removed team '${t}' from '${o}'`);
      }),
    );
  team
    .command('show <org> <team>')
    .description('show a team')
    .option('--json', 'print JSON')
    .action(async (o: string, t: string, opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const v = await s.orgs.teamDetail(operator, o, t);
        if (opts.json) console.log(JSON.stringify(v, null, 2));
        else print(teamLines(v));
      }),
    );
  team
    .command('member <org> <team> <user>')
    .description('add a user to a team by hand (group syncs never remove it), or --remove')
    .option('--remove', 'remove the membership added by hand')
    .action(async (o: string, t: string, user: string, opts: { remove?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        if (opts.remove) {
          await s.orgs.removeTeamMember(operator, o, t, user);
          console.error(`removed '${user}' from team '${t}'`);
        } else {
          await s.orgs.addTeamMember(operator, o, t, user);
          console.error(`added '${user}' to team '${t}'`);
        }
      }),
    );
  team
    .command('role <org> <team> <project>')
    .description("give a team a role in one of its organisation's projects, or --remove it")
    .addOption(new Option('--role <role>', 'owner or maintainer').choices([...ROLES]))
    .option('--remove', "remove the team's role in the project")
    .action(
      async (
        o: string,
        t: string,
        project: string,
        opts: { role?: string; remove?: boolean },
        cmd: Command,
      ) =>
        withServices(cmd, async (s) => {
          if (opts.remove) {
            await s.orgs.removeTeamRole(operator, o, t, project);
            console.error(`team '${t}' has no role in '${project}' now`);
          } else {
            if (!opts.role) throw new PierError(400, 'Give --role owner|maintainer, or --remove');
            await s.orgs.setTeamRole(operator, o, t, project, opts.role as Role);
            console.error(`team '${t}' is now ${opts.role} of '${project}'`);
          }
        }),
    );
  team
    .command('group <org> <team>')
    .description(
      "map an identity provider's group to a team (kept in sync at each sign-in), or --remove",
    )
    .requiredOption('--provider <name>', 'the identity provider, as pier names it')
    .requiredOption('--group <value>', 'the value of its groups claim')
    .option('--remove', 'remove the mapping (memberships it gave end at the next sign-in)')
    .action(
      async (
        o: string,
        t: string,
        opts: { provider: string; group: string; remove?: boolean },
        cmd: Command,
      ) =>
        withServices(cmd, async (s) => {
          if (opts.remove) {
            await s.orgs.unmapGroup(operator, o, t, opts.provider, opts.group);
            console.error(`group '${opts.group}' of '${opts.provider}' no longer maps to '${t}'`);
          } else {
            await s.orgs.mapGroup(operator, o, t, opts.provider, opts.group);
            console.error(`group '${opts.group}' of '${opts.provider}' maps to team '${t}'`);
          }
        }),
    );
}
