// Loads where a user's roles in projects come from (their own, their organisation's, their
// teams') and asks the one rule, effectiveRole (src/auth/permissions.ts). Every role check on a
// project goes through here.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { effectiveRole, type OrgRole, type Role, type RoleSources } from '../auth/permissions.js';

/** The sources of `userId`'s roles in each of `projectIds` (every id is in the map). */
export async function roleSources(
  db: Kysely<Database>,
  userId: number,
  projectIds: readonly number[],
): Promise<Map<number, RoleSources>> {
  const out = new Map<number, { own: Role | null; org: OrgRole | null; teams: Role[] }>();
  if (projectIds.length === 0) return out;
  const ids = [...new Set(projectIds)];
  for (const id of ids) out.set(id, { own: null, org: null, teams: [] });
  const own = await db
    .selectFrom('project_roles')
    .select(['project_id', 'role'])
    .where('user_id', '=', userId)
    .where('project_id', 'in', ids)
    .execute();
  for (const r of own) out.get(Number(r.project_id))!.own = r.role as Role;
  const org = await db
    .selectFrom('projects')
    .innerJoin(
      'organization_members',
      'organization_members.organization_id',
      'projects.organization_id',
    )
    .select(['projects.id', 'organization_members.role'])
    .where('organization_members.user_id', '=', userId)
    .where('projects.id', 'in', ids)
    .execute();
  for (const r of org) out.get(Number(r.id))!.org = r.role as OrgRole;
  // A team's role counts only in a project of the team's own organisation.
  const teams = await db
    .selectFrom('team_project_roles')
    .innerJoin('teams', 'teams.id', 'team_project_roles.team_id')
    .innerJoin('projects', (j) =>
      j
        .onRef('projects.id', '=', 'team_project_roles.project_id')
        .onRef('projects.organization_id', '=', 'teams.organization_id'),
    )
    .innerJoin('team_members', 'team_members.team_id', 'teams.id')
    .select(['team_project_roles.project_id', 'team_project_roles.role'])
    .where('team_members.user_id', '=', userId)
    .where('team_project_roles.project_id', 'in', ids)
    .execute();
  for (const r of teams) out.get(Number(r.project_id))!.teams.push(r.role as Role);
  return out;
}

/** `userId`'s effective role in each of `projectIds` (absent: none). */
export async function effectiveRoles(
  db: Kysely<Database>,
  userId: number,
  projectIds: readonly number[],
): Promise<Map<number, Role>> {
  const roles = new Map<number, Role>();
  for (const [id, sources] of await roleSources(db, userId, projectIds)) {
    const role = effectiveRole(sources);
    if (role !== null) roles.set(id, role);
  }
  return roles;
}

/**
 * The users whose effective role in the project is `owner`: its own owners, the owners of the
 * organisation that owns it, and the members of that organisation's teams that own it.
 */
export async function projectOwnerIds(db: Kysely<Database>, projectId: number): Promise<number[]> {
  const own = await db
    .selectFrom('project_roles')
    .select('user_id')
    .where('project_id', '=', projectId)
    .where('role', '=', 'owner')
    .execute();
  const org = await db
    .selectFrom('projects')
    .innerJoin(
      'organization_members',
      'organization_members.organization_id',
      'projects.organization_id',
    )
    .select('organization_members.user_id')
    .where('projects.id', '=', projectId)
    .where('organization_members.role', '=', 'owner')
    .execute();
  const teams = await db
    .selectFrom('team_project_roles')
    .innerJoin('teams', 'teams.id', 'team_project_roles.team_id')
    .innerJoin('projects', (j) =>
      j
        .onRef('projects.id', '=', 'team_project_roles.project_id')
        .onRef('projects.organization_id', '=', 'teams.organization_id'),
    )
    .innerJoin('team_members', 'team_members.team_id', 'teams.id')
    .select('team_members.user_id')
    .where('team_project_roles.project_id', '=', projectId)
    .where('team_project_roles.role', '=', 'owner')
    .execute();
  return [...new Set([...own, ...org, ...teams].map((r) => Number(r.user_id)))].sort(
    (a, b) => a - b,
  );
}
