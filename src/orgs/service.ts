// Organisations and teams (docs/organizations.md): an organisation owns projects; its owners own
// all of them; its teams hold roles (owner, maintainer) in them. The rules are pure functions in
// src/auth/permissions.ts; a user's role in a project is effectiveRole over src/orgs/roles.ts.
// Every change is written with its audit event in one transaction.
import type { Kysely } from 'kysely';
import type { Database, Organization, Project, Team, User } from '../db/schema.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import {
  mayAdministerOrganization,
  mayCreateOrganization,
  mayReadOrganization,
  mayTransferProjectToOrganization,
  ORG_ROLES,
  ROLES,
  type OrgRole,
  type Role,
} from '../auth/permissions.js';
import { principalUser, type Principal } from '../auth/principal.js';
import { requireUserByName } from '../auth/users.js';
import { isUniqueViolation } from '../db/errors.js';
import { bumpSerial } from '../registry/journal.js';
import type { ProjectService } from '../registry/projects.js';
import { checkOrganizationName, nameKey, nameProblem } from './names.js';
import { soleOwnedOrganizations } from './owners.js';
import { MANUAL, providerProblem, groupProblem } from './groups.js';

export interface TeamView {
  name: string;
  members: { user: string; sources: string[] }[];
  projects: { project: string; role: Role }[];
  groups: { provider: string; group: string }[];
}

export interface OrganizationView {
  name: string;
  created_at: string;
  members: { user: string; role: OrgRole }[];
  teams: TeamView[];
  projects: string[];
}

export class OrganizationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projects: ProjectService,
  ) {}

  async find(name: string, db: Kysely<Database> = this.db): Promise<Organization | undefined> {
    return db
      .selectFrom('organizations')
      .selectAll()
      .where('name_key', '=', nameKey(name))
      .executeTakeFirst();
  }

  /**
   * A user's standing in an organisation: their membership's role, or `member` when they are
   * only in one of its teams; null when neither.
   */
  async roleIn(
    userId: number | undefined,
    orgId: number,
    db: Kysely<Database> = this.db,
  ): Promise<OrgRole | null> {
    if (userId === undefined) return null;
    const row = await db
      .selectFrom('organization_members')
      .select('role')
      .where('organization_id', '=', orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (row) return row.role as OrgRole;
    const team = await db
      .selectFrom('team_members')
      .innerJoin('teams', 'teams.id', 'team_members.team_id')
      .select('teams.id')
      .where('teams.organization_id', '=', orgId)
      .where('team_members.user_id', '=', userId)
      .executeTakeFirst();
    return team ? 'member' : null;
  }

  /** The organisation named `name`, if `p` may see it: else it answers as missing. */
  async require(name: string, p: Principal, db: Kysely<Database> = this.db) {
    const org = await this.find(name, db);
    if (!org || !mayReadOrganization(p, await this.roleIn(principalUser(p)?.id, org.id, db)))
      throw notFound(`No organisation named '${name}'`);
    return org;
  }

  /** The organisation named `name`, if `actor` may change it (else 404 or 403). */
  async requireAdministrable(actor: Actor, name: string, db: Kysely<Database> = this.db) {
    const org = await this.require(name, actor.principal, db);
    if (
      !mayAdministerOrganization(
        actor.principal,
        await this.roleIn(principalUser(actor.principal)?.id, org.id, db),
      )
    )
      throw forbidden(`You are not an owner of organisation '${org.name}'`);
    return org;
  }

  /** Whether `actor` may change the organisation with id `orgId`. */
  async mayAdministerById(actor: Actor, orgId: number): Promise<boolean> {
    return mayAdministerOrganization(
      actor.principal,
      await this.roleIn(principalUser(actor.principal)?.id, orgId),
    );
  }

  private async requireTeam(db: Kysely<Database>, org: Organization, name: string): Promise<Team> {
    const team = await db
      .selectFrom('teams')
      .selectAll()
      .where('organization_id', '=', org.id)
      .where('name_key', '=', nameKey(name))
      .executeTakeFirst();
    if (!team) throw notFound(`Organisation '${org.name}' has no team named '${name}'`);
    return team;
  }

  // ---------------------------------------------------------------- organisations

  async create(actor: Actor, name: string, ownerName: string): Promise<OrganizationView> {
    if (!mayCreateOrganization(actor.principal))
      throw forbidden('Only administrators can create organisations');
    await this.db
      .transaction()
      .execute(async (trx) => {
        await checkOrganizationName(trx, name);
        const owner = await requireUserByName(trx, ownerName);
        const now = Date.now();
        const org = await trx
          .insertInto('organizations')
          .values({ name, name_key: nameKey(name), created_at: now })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('organization_members')
          .values({ organization_id: org.id, user_id: owner.id, role: 'owner', created_at: now })
          .execute();
        await recordAudit(trx, actor, {
          action: 'org-create',
          details: { organization: org.name, owner: owner.username },
        });
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw conflict(`An organisation named '${name}' already exists`);
        throw err;
      });
    return this.view(actor, name);
  }

  /** Organisations `p` may see: all for administrators, else those `p`'s user belongs to. */
  async list(p: Principal): Promise<string[]> {
    const all = await this.db.selectFrom('organizations').selectAll().orderBy('name_key').execute();
    const out: string[] = [];
    for (const org of all)
      if (mayReadOrganization(p, await this.roleIn(principalUser(p)?.id, org.id)))
        out.push(org.name);
    return out;
  }

  async view(actor: Actor, name: string): Promise<OrganizationView> {
    const org = await this.require(name, actor.principal);
    const members = await this.db
      .selectFrom('organization_members')
      .innerJoin('users', 'users.id', 'organization_members.user_id')
      .select(['users.username', 'users.username_key', 'organization_members.role'])
      .where('organization_id', '=', org.id)
      .orderBy('users.username_key')
      .execute();
    const teams = await this.db
      .selectFrom('teams')
      .selectAll()
      .where('organization_id', '=', org.id)
      .orderBy('name_key')
      .execute();
    const projects = await this.db
      .selectFrom('projects')
      .selectAll()
      .where('organization_id', '=', org.id)
      .orderBy('normalized_name')
      .execute();
    const visible = await this.projects.filterReadable(actor.principal, projects);
    const views: TeamView[] = [];
    for (const team of teams) views.push(await this.teamView(team, visible));
    return {
      name: org.name,
      created_at: new Date(Number(org.created_at)).toISOString(),
      members: members.map((m) => ({ user: m.username, role: m.role as OrgRole })),
      teams: views,
      projects: visible.map((p) => p.name),
    };
  }

  private async teamView(team: Team, visible: Pick<Project, 'id'>[]): Promise<TeamView> {
    const members = await this.db
      .selectFrom('team_members')
      .innerJoin('users', 'users.id', 'team_members.user_id')
      .select(['users.username', 'users.username_key', 'team_members.source'])
      .where('team_id', '=', team.id)
      .orderBy('users.username_key')
      .orderBy('team_members.source')
      .execute();
    const byUser = new Map<string, string[]>();
    for (const m of members)
      byUser.set(m.username, [
        ...(byUser.get(m.username) ?? []),
        m.source === MANUAL ? 'manual' : m.source,
      ]);
    const roles = await this.db
      .selectFrom('team_project_roles')
      .innerJoin('projects', 'projects.id', 'team_project_roles.project_id')
      .select(['projects.id', 'projects.name', 'team_project_roles.role'])
      .where('team_id', '=', team.id)
      .orderBy('projects.normalized_name')
      .execute();
    const seen = new Set(visible.map((p) => p.id));
    const groups = await this.db
      .selectFrom('group_team_mappings')
      .select(['provider', 'group_name'])
      .where('team_id', '=', team.id)
      .orderBy('provider')
      .orderBy('group_name')
      .execute();
    return {
      name: team.name,
      members: [...byUser.entries()].map(([user, sources]) => ({ user, sources })),
      projects: roles
        .filter((r) => seen.has(r.id))
        .map((r) => ({ project: r.name, role: r.role as Role })),
      groups: groups.map((g) => ({ provider: g.provider, group: g.group_name })),
    };
  }

  async teamDetail(actor: Actor, orgName: string, teamName: string): Promise<TeamView> {
    const view = await this.view(actor, orgName);
    const team = view.teams.find((t) => nameKey(t.name) === nameKey(teamName));
    if (!team) throw notFound(`Organisation '${view.name}' has no team named '${teamName}'`);
    return team;
  }

  // ---------------------------------------------------------------- members

  /** Adds a member, or changes a member's role (`owner` or `member`). */
  async setMember(actor: Actor, orgName: string, username: string, role: OrgRole) {
    if (!ORG_ROLES.includes(role))
      throw badRequest(`Unknown organisation role '${String(role)}': use owner or member`);
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const user = await requireUserByName(trx, username);
      const existing = await trx
        .selectFrom('organization_members')
        .select('role')
        .where('organization_id', '=', org.id)
        .where('user_id', '=', user.id)
        .executeTakeFirst();
      if (existing?.role === role) return;
      if (existing?.role === 'owner') await this.ensureAnotherOwner(trx, org, user);
      await trx
        .insertInto('organization_members')
        .values({ organization_id: org.id, user_id: user.id, role, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doUpdateSet({ role }))
        .execute();
      await this.bumpProjects(trx, org);
      await recordAudit(trx, actor, {
        action: 'org-member-set',
        details: {
          organization: org.name,
          user: user.username,
          role,
          previous: existing?.role ?? null,
        },
      });
    });
  }

  /** Removes a member: their role goes, and so does every team membership they had in it. */
  async removeMember(actor: Actor, orgName: string, username: string) {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const user = await requireUserByName(trx, username);
      const existing = await trx
        .selectFrom('organization_members')
        .select('role')
        .where('organization_id', '=', org.id)
        .where('user_id', '=', user.id)
        .executeTakeFirst();
      const teams = await trx
        .selectFrom('team_members')
        .innerJoin('teams', 'teams.id', 'team_members.team_id')
        .select(['teams.id', 'teams.name'])
        .where('teams.organization_id', '=', org.id)
        .where('team_members.user_id', '=', user.id)
        .distinct()
        .execute();
      if (!existing && teams.length === 0)
        throw notFound(`'${user.username}' is not a member of '${org.name}'`);
      if (existing?.role === 'owner') await this.ensureAnotherOwner(trx, org, user);
      await trx
        .deleteFrom('organization_members')
        .where('organization_id', '=', org.id)
        .where('user_id', '=', user.id)
        .execute();
      if (teams.length)
        await trx
          .deleteFrom('team_members')
          .where('user_id', '=', user.id)
          .where(
            'team_id',
            'in',
            teams.map((t) => t.id),
          )
          .execute();
      await this.bumpProjects(trx, org);
      await recordAudit(trx, actor, {
        action: 'org-member-remove',
        details: {
          organization: org.name,
          user: user.username,
          role: existing?.role ?? null,
          teams: teams.map((t) => t.name).sort(),
        },
      });
    });
  }

  private async ensureAnotherOwner(trx: Kysely<Database>, org: Organization, user: User) {
    if ((await soleOwnedOrganizations(trx, user.id)).includes(org.name))
      throw badRequest(`'${org.name}' must keep at least one owner`);
  }

  /** The Simple JSON page's `namespaces[].owned` follows the owners of each project (PEP 752). */
  private async bumpProjects(trx: Kysely<Database>, org: Organization) {
    const projects = await trx
      .selectFrom('projects')
      .select('id')
      .where('organization_id', '=', org.id)
      .execute();
    for (const p of projects) await bumpSerial(trx, p.id, 'role');
  }

  // ---------------------------------------------------------------- teams

  async createTeam(actor: Actor, orgName: string, teamName: string): Promise<void> {
    const problem = nameProblem('team', teamName);
    if (problem) throw badRequest(problem);
    await this.db
      .transaction()
      .execute(async (trx) => {
        const org = await this.requireAdministrable(actor, orgName, trx);
        const taken = await trx
          .selectFrom('teams')
          .select('id')
          .where('organization_id', '=', org.id)
          .where('name_key', '=', nameKey(teamName))
          .executeTakeFirst();
        if (taken) throw conflict(`Organisation '${org.name}' has a team named '${teamName}'`);
        await trx
          .insertInto('teams')
          .values({
            organization_id: org.id,
            name: teamName,
            name_key: nameKey(teamName),
            created_at: Date.now(),
          })
          .execute();
        await recordAudit(trx, actor, {
          action: 'team-create',
          details: { organization: org.name, team: teamName },
        });
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw conflict(`Organisation '${orgName}' has a team named '${teamName}'`);
        throw err;
      });
  }

  async removeTeam(actor: Actor, orgName: string, teamName: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const team = await this.requireTeam(trx, org, teamName);
      await trx.deleteFrom('teams').where('id', '=', team.id).execute();
      await this.bumpProjects(trx, org);
      await recordAudit(trx, actor, {
        action: 'team-remove',
        details: { organization: org.name, team: team.name },
      });
    });
  }

  /** Adds a user to a team by hand (a membership no group sync ever removes). */
  async addTeamMember(actor: Actor, orgName: string, teamName: string, username: string) {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const team = await this.requireTeam(trx, org, teamName);
      const user = await requireUserByName(trx, username);
      const existing = await trx
        .selectFrom('team_members')
        .select('user_id')
        .where('team_id', '=', team.id)
        .where('user_id', '=', user.id)
        .where('source', '=', MANUAL)
        .executeTakeFirst();
      if (existing) throw conflict(`'${user.username}' is in team '${team.name}' already`);
      await trx
        .insertInto('team_members')
        .values({ team_id: team.id, user_id: user.id, source: MANUAL, created_at: Date.now() })
        .execute();
      await this.bumpProjects(trx, org);
      await recordAudit(trx, actor, {
        action: 'team-member-add',
        details: { organization: org.name, team: team.name, user: user.username },
      });
    });
  }

  /**
   * Removes a membership added by hand. One that comes from an identity provider's groups
   * stays until the next sign-in without the group (or the mapping is removed): refused, saying so.
   */
  async removeTeamMember(actor: Actor, orgName: string, teamName: string, username: string) {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const team = await this.requireTeam(trx, org, teamName);
      const user = await requireUserByName(trx, username);
      const rows = await trx
        .selectFrom('team_members')
        .select('source')
        .where('team_id', '=', team.id)
        .where('user_id', '=', user.id)
        .execute();
      if (!rows.some((r) => r.source === MANUAL)) {
        const from = rows.map((r) => r.source);
        throw from.length
          ? conflict(
              `'${user.username}' is in team '${team.name}' through the groups of ${from.join(', ')}: remove the group mapping, or the user from the group`,
            )
          : notFound(`'${user.username}' is not in team '${team.name}'`);
      }
      await trx
        .deleteFrom('team_members')
        .where('team_id', '=', team.id)
        .where('user_id', '=', user.id)
        .where('source', '=', MANUAL)
        .execute();
      await this.bumpProjects(trx, org);
      await recordAudit(trx, actor, {
        action: 'team-member-remove',
        details: { organization: org.name, team: team.name, user: user.username },
      });
    });
  }

  /** Gives a team a role in one of its organisation's projects. */
  async setTeamRole(
    actor: Actor,
    orgName: string,
    teamName: string,
    projectName: string,
    role: Role,
  ): Promise<void> {
    if (!ROLES.includes(role))
      throw badRequest(`Unknown role '${String(role)}': use owner or maintainer`);
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const team = await this.requireTeam(trx, org, teamName);
      const project = await this.projects.require(projectName, actor.principal, trx);
      if (project.organization_id !== org.id)
        throw badRequest(
          `Project '${project.name}' does not belong to '${org.name}': transfer it to the organisation first`,
        );
      const existing = await trx
        .selectFrom('team_project_roles')
        .select('role')
        .where('team_id', '=', team.id)
        .where('project_id', '=', project.id)
        .executeTakeFirst();
      await trx
        .insertInto('team_project_roles')
        .values({ team_id: team.id, project_id: project.id, role, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['team_id', 'project_id']).doUpdateSet({ role }))
        .execute();
      await bumpSerial(trx, project.id, 'role');
      await recordAudit(trx, actor, {
        action: 'team-role-set',
        project: { id: project.id, name: project.name },
        details: {
          organization: org.name,
          team: team.name,
          role,
          previous: existing?.role ?? null,
        },
      });
    });
  }

  async removeTeamRole(actor: Actor, orgName: string, teamName: string, projectName: string) {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const team = await this.requireTeam(trx, org, teamName);
      const project = await this.projects.require(projectName, actor.principal, trx);
      const removed = await trx
        .deleteFrom('team_project_roles')
        .where('team_id', '=', team.id)
        .where('project_id', '=', project.id)
        .returning('role')
        .executeTakeFirst();
      if (!removed) throw notFound(`Team '${team.name}' has no role in '${project.name}'`);
      await bumpSerial(trx, project.id, 'role');
      await recordAudit(trx, actor, {
        action: 'team-role-remove',
        project: { id: project.id, name: project.name },
        details: { organization: org.name, team: team.name, role: removed.role },
      });
    });
  }

  // ---------------------------------------------------------------- projects

  /**
   * Moves a project into an organisation: an owner of both acts (or an administrator). The
   * project keeps its people's own roles; its organisation's owners now own it too.
   */
  async transferProject(actor: Actor, projectName: string, orgName: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const project = await this.projects.require(projectName, actor.principal, trx);
      const org = await this.require(orgName, actor.principal, trx);
      const user = principalUser(actor.principal);
      const access = await this.projects.access(actor.principal, project, trx);
      const orgRole = await this.roleIn(user?.id, org.id, trx);
      if (!mayTransferProjectToOrganization(actor.principal, access, orgRole))
        throw forbidden(
          `Moving '${project.name}' into '${org.name}' takes an owner of both the project and the organisation`,
        );
      if (project.organization_id === org.id)
        throw conflict(`Project '${project.name}' belongs to '${org.name}' already`);
      const previous =
        project.organization_id === null
          ? null
          : ((
              await trx
                .selectFrom('organizations')
                .select('name')
                .where('id', '=', project.organization_id)
                .executeTakeFirst()
            )?.name ?? null);
      await trx
        .updateTable('projects')
        .set({ organization_id: org.id })
        .where('id', '=', project.id)
        .execute();
      // Another organisation's teams have no role here any more.
      await trx.deleteFrom('team_project_roles').where('project_id', '=', project.id).execute();
      await bumpSerial(trx, project.id, 'change');
      await recordAudit(trx, actor, {
        action: 'project-transfer',
        project: { id: project.id, name: project.name },
        details: { organization: org.name, previous },
      });
    });
  }

  // ---------------------------------------------------------------- group mappings

  /** Maps an identity provider's group claim value to a team (applied at each sign-in). */
  async mapGroup(
    actor: Actor,
    orgName: string,
    teamName: string,
    provider: string,
    group: string,
  ): Promise<void> {
    const problem = providerProblem(provider) ?? groupProblem(group);
    if (problem) throw badRequest(problem);
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const team = await this.requireTeam(trx, org, teamName);
      const existing = await trx
        .selectFrom('group_team_mappings')
        .select('team_id')
        .where('provider', '=', provider)
        .where('group_name', '=', group)
        .where('team_id', '=', team.id)
        .executeTakeFirst();
      if (existing)
        throw conflict(`Group '${group}' of '${provider}' maps to team '${team.name}' already`);
      await trx
        .insertInto('group_team_mappings')
        .values({ provider, group_name: group, team_id: team.id, created_at: Date.now() })
        .execute();
      await recordAudit(trx, actor, {
        action: 'group-mapping-add',
        details: { organization: org.name, team: team.name, provider, group },
      });
    });
  }

  /**
   * Removes a mapping. The memberships it gave stay until each user's next sign-in, which
   * takes them away (the provider is the one that knows who is in the group).
   */
  async unmapGroup(
    actor: Actor,
    orgName: string,
    teamName: string,
    provider: string,
    group: string,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.requireAdministrable(actor, orgName, trx);
      const team = await this.requireTeam(trx, org, teamName);
      const removed = await trx
        .deleteFrom('group_team_mappings')
        .where('provider', '=', provider)
        .where('group_name', '=', group)
        .where('team_id', '=', team.id)
        .returning('team_id')
        .executeTakeFirst();
      if (!removed)
        throw notFound(`Group '${group}' of '${provider}' does not map to team '${team.name}'`);
      await recordAudit(trx, actor, {
        action: 'group-mapping-remove',
        details: { organization: org.name, team: team.name, provider, group },
      });
    });
  }
}
