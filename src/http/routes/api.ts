// The REST API under /api/: the same operations as the CLI, for a credential (an API token, or
// a user's password) instead of the operator. Routes parse and render; services hold the rules.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { badRequest, forbidden } from '../../errors.js';
import { isSiteAdmin, mayAdministerProject, ROLES, type Role } from '../../auth/permissions.js';
import { isScope, principalScope, principalUser, type Principal } from '../../auth/principal.js';
import { parseDuration } from '../../config.js';
import { queryAudit } from '../../audit/log.js';
import { PROJECT_STATUSES, type ProjectStatus } from '../../registry/projects.js';
import { userJson } from '../../auth/users.js';
import { newTokenJson, userRemovalJson } from '../../auth/service.js';
import { projectSummary } from '../../registry/projects.js';
import { actorOf, requirePrincipal } from '../principal.js';

export { userJson };

type Body = Record<string, unknown>;

function body(request: FastifyRequest): Body {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b))
    throw badRequest('The request body must be a JSON object');
  return b as Body;
}

function optString(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`'${key}' must be a string`);
  return v;
}

function reqString(b: Body, key: string): string {
  const v = optString(b, key);
  if (v === undefined || v === '') throw badRequest(`'${key}' is required`);
  return v;
}

function optBool(b: Body, key: string): boolean | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`'${key}' must be true or false`);
  return v;
}

function optStrings(b: Body, key: string): string[] | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw badRequest(`'${key}' must be a list of strings`);
  return v as string[];
}

export function registerApiRoutes(app: FastifyInstance, s: Services): void {
  const who = (request: FastifyRequest) => requirePrincipal(s.auth, request);

  app.get('/api/whoami', async (request) => {
    const p = await who(request);
    const user = principalUser(p);
    return {
      user: user ? userJson(user) : null,
      kind: p.kind,
      scope: principalScope(p),
      token_id: p.kind === 'token' ? p.token.id : null,
    };
  });

  // ------------------------------------------------------------------ users
  app.get('/api/users', async (request) => {
    const p = await who(request);
    if (!isSiteAdmin(p)) throw forbidden('Only administrators can list users');
    return { users: (await s.auth.listUsers()).map(userJson) };
  });

  app.post('/api/users', async (request, reply) => {
    const p = await who(request);
    const b = body(request);
    const { user, generatedPassword } = await s.auth.addUser(actorOf(p, request), {
      username: reqString(b, 'username'),
      password: optString(b, 'password') ?? null,
      admin: optBool(b, 'admin'),
      mayCreateProjects: optBool(b, 'may_create_projects'),
    });
    return reply
      .code(201)
      .send({ ...userJson(user), ...(generatedPassword ? { password: generatedPassword } : {}) });
  });

  app.patch<{ Params: { name: string } }>('/api/users/:name', async (request) => {
    const p = await who(request);
    const b = body(request);
    const actor = actorOf(p, request);
    const password = optString(b, 'password');
    if (password !== undefined) await s.auth.setPassword(actor, request.params.name, password);
    const changes = {
      admin: optBool(b, 'admin'),
      mayCreateProjects: optBool(b, 'may_create_projects'),
      disabled: optBool(b, 'disabled'),
    };
    const user = Object.values(changes).some((v) => v !== undefined)
      ? await s.auth.updateUser(actor, request.params.name, changes)
      : await s.auth.requireUser(request.params.name);
    return userJson(user);
  });

  app.delete<{ Params: { name: string } }>('/api/users/:name', async (request) => {
    const p = await who(request);
    return userRemovalJson(await s.auth.removeUser(actorOf(p, request), request.params.name));
  });

  // ------------------------------------------------------------------ tokens
  app.get<{ Querystring: { user?: string } }>('/api/tokens', async (request) => {
    const p = await who(request);
    const me = principalUser(p);
    if (request.query.user !== undefined) {
      const target = await s.auth.requireUser(request.query.user);
      if (target.id !== me?.id && !isSiteAdmin(p))
        throw forbidden('You may only list your own tokens');
      return { tokens: await s.auth.listTokens({ userId: target.id }) };
    }
    if (isSiteAdmin(p) && me === null) return { tokens: await s.auth.listTokens({}) };
    if (me === null) throw forbidden('This credential has no user');
    return { tokens: await s.auth.listTokens({ userId: me.id }) };
  });

  app.post('/api/tokens', async (request, reply) => {
    const p = await who(request);
    if (p.kind === 'token' && p.token.publisher_id !== null)
      throw forbidden('A token minted for a trusted publisher cannot create tokens');
    const b = body(request);
    const username = optString(b, 'user') ?? principalUser(p)?.username;
    if (!username) throw badRequest("'user' is required");
    const scope = optString(b, 'scope') ?? 'upload';
    if (!isScope(scope)) throw badRequest(`Unknown scope '${scope}': use read, upload or admin`);
    const expires = b.expires_in;
    const created = await s.auth.createToken(actorOf(p, request), {
      username,
      name: optString(b, 'name'),
      scope,
      projects: optStrings(b, 'projects'),
      expiresInSeconds:
        expires === undefined || expires === null
          ? null
          : parseDuration(expires as string | number, 'expires_in'),
    });
    return reply.code(201).send(newTokenJson(created));
  });

  app.delete<{ Params: { id: string } }>('/api/tokens/:id', async (request, reply) => {
    const p = await who(request);
    const id = Number(request.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw badRequest('Token ids are positive integers');
    await s.auth.revokeToken(actorOf(p, request), id);
    return reply.code(204).send();
  });

  // ------------------------------------------------------------------ projects
  async function projectJson(p: Principal, name: string) {
    const project = await s.projects.require(name, p);
    return {
      ...projectSummary(project),
      roles: await s.projects.roles(project.id),
    };
  }

  app.get('/api/projects', async (request) => {
    const p = await who(request);
    return { projects: (await s.projects.listVisible(p)).map(projectSummary) };
  });

  app.post('/api/projects', async (request, reply) => {
    const p = await who(request);
    const b = body(request);
    const project = await s.projects.create(
      actorOf(p, request),
      reqString(b, 'name'),
      optString(b, 'owner'),
      { shadowUpstream: optBool(b, 'shadow_upstream') },
    );
    return reply.code(201).send(await projectJson(p, project.name));
  });

  app.get<{ Params: { name: string } }>('/api/projects/:name', async (request) =>
    projectJson(await who(request), request.params.name),
  );

  app.patch<{ Params: { name: string } }>('/api/projects/:name', async (request) => {
    const p = await who(request);
    const b = body(request);
    const status = optString(b, 'status');
    if (status !== undefined && !(PROJECT_STATUSES as readonly string[]).includes(status))
      throw badRequest(`Unknown project status '${status}': use ${PROJECT_STATUSES.join(', ')}`);
    await s.projects.update(actorOf(p, request), request.params.name, {
      private: optBool(b, 'private'),
      status: status as ProjectStatus | undefined,
      trustedPublishingOnly: optBool(b, 'trusted_publishing_only'),
      requireAttestations: optBool(b, 'require_attestations'),
      stageUploads: optBool(b, 'stage_uploads'),
    });
    return projectJson(p, request.params.name);
  });

  app.put<{ Params: { name: string; user: string } }>(
    '/api/projects/:name/roles/:user',
    async (request) => {
      const p = await who(request);
      const role = reqString(body(request), 'role');
      if (!ROLES.includes(role as Role))
        throw badRequest(`Unknown role '${role}': use owner or maintainer`);
      await s.projects.setRole(
        actorOf(p, request),
        request.params.name,
        request.params.user,
        role as Role,
      );
      return projectJson(p, request.params.name);
    },
  );

  app.delete<{ Params: { name: string; user: string } }>(
    '/api/projects/:name/roles/:user',
    async (request) => {
      const p = await who(request);
      await s.projects.removeRole(actorOf(p, request), request.params.name, request.params.user);
      return projectJson(p, request.params.name);
    },
  );

  // ------------------------------------------------------------------ releases
  type ReleaseParams = { Params: { name: string; version: string } };
  app.post<ReleaseParams>('/api/projects/:name/releases/:version/yank', async (request) => {
    const p = await who(request);
    const reason = optString(body(request), 'reason');
    return s.manage.setYanked(
      actorOf(p, request),
      request.params.name,
      request.params.version,
      true,
      reason,
    );
  });

  app.post<ReleaseParams>('/api/projects/:name/releases/:version/unyank', async (request) => {
    const p = await who(request);
    return s.manage.setYanked(
      actorOf(p, request),
      request.params.name,
      request.params.version,
      false,
    );
  });

  app.delete<ReleaseParams>('/api/projects/:name/releases/:version', async (request) => {
    const p = await who(request);
    return s.manage.delete(actorOf(p, request), request.params.name, request.params.version);
  });

  app.delete<{ Params: { name: string; version: string; filename: string } }>(
    '/api/projects/:name/releases/:version/files/:filename',
    async (request) => {
      const p = await who(request);
      const { name, version, filename } = request.params;
      return s.manage.delete(actorOf(p, request), name, version, filename);
    },
  );

  // ------------------------------------------------------------------ audit
  // ------------------------------------------------------------------ upstream proxy
  app.get('/api/upstream/excludes', async (request) => {
    const p = await who(request);
    if (!isSiteAdmin(p)) throw forbidden('Only administrators can read the upstream exclude list');
    return { excludes: await s.proxy.excludes() };
  });

  app.post('/api/upstream/excludes', async (request, reply) => {
    const p = await who(request);
    const pattern = await s.proxy.addExclude(
      actorOf(p, request),
      reqString(body(request), 'pattern'),
    );
    return reply.code(201).send({ pattern, source: 'admin' });
  });

  app.delete<{ Params: { pattern: string } }>(
    '/api/upstream/excludes/:pattern',
    async (request, reply) => {
      const p = await who(request);
      await s.proxy.removeExclude(actorOf(p, request), request.params.pattern);
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { project?: string; action?: string; limit?: string; before?: string } }>(
    '/api/audit',
    async (request) => {
      const p = await who(request);
      const q = request.query;
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw badRequest("'limit' must be 1 to 1000");
      const beforeId = q.before === undefined ? undefined : Number(q.before);
      if (q.project !== undefined) {
        const project = await s.projects.require(q.project, p);
        if (!mayAdministerProject(p, await s.projects.access(p, project)))
          throw forbidden(`Only owners may read the audit log of '${project.name}'`);
        return {
          events: await queryAudit(s.db.kysely, {
            projectId: project.id,
            action: q.action,
            limit,
            beforeId,
          }),
        };
      }
      if (!isSiteAdmin(p)) throw forbidden('Only administrators may read the whole audit log');
      return { events: await queryAudit(s.db.kysely, { action: q.action, limit, beforeId }) };
    },
  );
}
