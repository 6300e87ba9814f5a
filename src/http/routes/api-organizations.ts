// Organisations and teams over the REST API (docs/organizations.md): the same operations as
// `pier org …` and `pier team …`, for a credential. Routes parse and render; src/orgs holds the
// rules, and every change is audited with its actor.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { badRequest } from '../../errors.js';
import { ORG_ROLES, ROLES, type OrgRole, type Role } from '../../auth/permissions.js';
import { actorOf, requirePrincipal } from '../principal.js';

type Body = Record<string, unknown>;

function body(request: FastifyRequest): Body {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b))
    throw badRequest('The request body must be a JSON object');
  return b as Body;
}

function reqString(b: Body | Record<string, unknown>, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || v === '') throw badRequest(`'${key}' is required`);
  return v;
}

type Org = { Params: { org: string } };
type OrgUser = { Params: { org: string; user: string } };
type OrgTeam = { Params: { org: string; team: string } };
type TeamUser = { Params: { org: string; team: string; user: string } };
type TeamProject = { Params: { org: string; team: string; project: string } };

export function registerOrganizationApi(app: FastifyInstance, s: Services): void {
  const who = (request: FastifyRequest) => requirePrincipal(s.auth, request);
  const actor = async (request: FastifyRequest) => actorOf(await who(request), request);
  const view = async (request: FastifyRequest, org: string) =>
    s.orgs.view(await actor(request), org);

  app.get('/api/orgs', async (request) => ({
    organizations: await s.orgs.list(await who(request)),
  }));

  app.post('/api/orgs', async (request, reply) => {
    const b = body(request);
    const created = await s.orgs.create(
      await actor(request),
      reqString(b, 'name'),
      reqString(b, 'owner'),
    );
    return reply.code(201).send(created);
  });

  app.get<Org>('/api/orgs/:org', async (request) => view(request, request.params.org));

  app.put<OrgUser>('/api/orgs/:org/members/:user', async (request) => {
    const role = reqString(body(request), 'role');
    if (!ORG_ROLES.includes(role as OrgRole))
      throw badRequest(`Unknown organisation role '${role}': use owner or member`);
    const { org, user } = request.params;
    await s.orgs.setMember(await actor(request), org, user, role as OrgRole);
    return view(request, org);
  });

  app.delete<OrgUser>('/api/orgs/:org/members/:user', async (request) => {
    const { org, user } = request.params;
    await s.orgs.removeMember(await actor(request), org, user);
    return view(request, org);
  });

  app.post<Org>('/api/orgs/:org/teams', async (request, reply) => {
    const { org } = request.params;
    const name = reqString(body(request), 'name');
    await s.orgs.createTeam(await actor(request), org, name);
    return reply.code(201).send(await s.orgs.teamDetail(await actor(request), org, name));
  });

  app.get<OrgTeam>('/api/orgs/:org/teams/:team', async (request) =>
    s.orgs.teamDetail(await actor(request), request.params.org, request.params.team),
  );

  app.delete<OrgTeam>('/api/orgs/:org/teams/:team', async (request, reply) => {
    await s.orgs.removeTeam(await actor(request), request.params.org, request.params.team);
    return reply.code(204).send();
  });

  app.put<TeamUser>('/api/orgs/:org/teams/:team/members/:user', async (request) => {
    const { org, team, user } = request.params;
    await s.orgs.addTeamMember(await actor(request), org, team, user);
    return s.orgs.teamDetail(await actor(request), org, team);
  });

  app.delete<TeamUser>('/api/orgs/:org/teams/:team/members/:user', async (request) => {
    const { org, team, user } = request.params;
    await s.orgs.removeTeamMember(await actor(request), org, team, user);
    return s.orgs.teamDetail(await actor(request), org, team);
  });

  app.put<TeamProject>('/api/orgs/:org/teams/:team/projects/:project', async (request) => {
    const role = reqString(body(request), 'role');
    if (!ROLES.includes(role as Role))
      throw badRequest(`Unknown role '${role}': use owner or maintainer`);
    const { org, team, project } = request.params;
    await s.orgs.setTeamRole(await actor(request), org, team, project, role as Role);
    return s.orgs.teamDetail(await actor(request), org, team);
  });

  app.delete<TeamProject>('/api/orgs/:org/teams/:team/projects/:project', async (request) => {
    const { org, team, project } = request.params;
    await s.orgs.removeTeamRole(await actor(request), org, team, project);
    return s.orgs.teamDetail(await actor(request), org, team);
  });

  app.post<OrgTeam>('/api/orgs/:org/teams/:team/groups', async (request, reply) => {
    const b = body(request);
    const { org, team } = request.params;
    await s.orgs.mapGroup(
      await actor(request),
      org,
      team,
      reqString(b, 'provider'),
      reqString(b, 'group'),
    );
    return reply.code(201).send(await s.orgs.teamDetail(await actor(request), org, team));
  });

  app.delete<OrgTeam & { Querystring: Record<string, unknown> }>(
    '/api/orgs/:org/teams/:team/groups',
    async (request) => {
      const { org, team } = request.params;
      await s.orgs.unmapGroup(
        await actor(request),
        org,
        team,
        reqString(request.query, 'provider'),
        reqString(request.query, 'group'),
      );
      return s.orgs.teamDetail(await actor(request), org, team);
    },
  );

  app.post<{ Params: { name: string } }>('/api/projects/:name/transfer', async (request) => {
    const org = reqString(body(request), 'organization');
    await s.orgs.transferProject(await actor(request), request.params.name, org);
    return view(request, org);
  });
}
