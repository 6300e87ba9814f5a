// PEP 752 namespaces over HTTP: the PEP's public endpoints (`GET /namespaces`, the list, and
// `GET /namespace/<namespace>`, one namespace's parent and children), and the REST API under
// /api/namespaces with which administrators reserve, grant, revoke and release them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { badRequest, notFound, unauthorized } from '../../errors.js';
import { mayReadIndex } from '../../auth/permissions.js';
import { normalizeProjectName } from '../../packaging/names.js';
import { CORS_HEADERS } from '../../simple/answer.js';
import { actorOf, principalOf, requirePrincipal } from '../principal.js';

type Body = Record<string, unknown>;

function body(request: FastifyRequest): Body {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b))
    throw badRequest('The request body must be a JSON object');
  return b as Body;
}

function reqString(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || v === '') throw badRequest(`'${key}' is required`);
  return v;
}

export function registerNamespaceRoutes(app: FastifyInstance, s: Services): void {
  const readAccess = s.config.readAccess;
  const who = (request: FastifyRequest) => requirePrincipal(s.auth, request);

  async function reader(request: FastifyRequest): Promise<void> {
    const p = await principalOf(s.auth, request);
    if (!mayReadIndex(p, readAccess))
      throw unauthorized('Authentication required to read this index');
  }

  // ------------------------------------------------------------------ the PEP's endpoints
  // "The response MUST be an array of mappings representing each reserved namespace."
  app.get('/namespaces', async (request, reply) => {
    await reader(request);
    const names = await s.namespaces.names();
    return reply.headers(CORS_HEADERS).send(names.map((name) => ({ name })));
  });

  // "/namespace/<namespace> where <namespace> is the normalized namespace"; another spelling is
  // redirected to it, as /simple/ does for project names.
  app.get<{ Params: { name: string } }>('/namespace/:name', async (request, reply) => {
    await reader(request);
    const { name } = request.params;
    const normalized = normalizeProjectName(name);
    const detail = await s.namespaces.detail(normalized);
    if (!detail) throw notFound(`No reserved namespace '${name}'`);
    if (normalized !== name)
      return reply.headers(CORS_HEADERS).redirect(`/namespace/${normalized}`, 301);
    return reply.headers(CORS_HEADERS).send(detail);
  });

  // ------------------------------------------------------------------ administration
  app.get('/api/namespaces', async (request) => {
    await who(request);
    return { namespaces: await s.namespaces.list() };
  });

  app.post('/api/namespaces', async (request, reply) => {
    const p = await who(request);
    const b = body(request);
    const view = await s.namespaces.reserve(
      actorOf(p, request),
      reqString(b, 'name'),
      reqString(b, 'owner'),
    );
    return reply.code(201).send(view);
  });

  app.get<{ Params: { name: string } }>('/api/namespaces/:name', async (request) => {
    await who(request);
    return s.namespaces.view(request.params.name);
  });

  app.delete<{ Params: { name: string } }>('/api/namespaces/:name', async (request, reply) => {
    const p = await who(request);
    await s.namespaces.release(actorOf(p, request), request.params.name);
    return reply.code(204).send();
  });

  app.post<{ Params: { name: string } }>('/api/namespaces/:name/owners', async (request, reply) => {
    const p = await who(request);
    const view = await s.namespaces.grant(
      actorOf(p, request),
      request.params.name,
      reqString(body(request), 'user'),
    );
    return reply.code(201).send(view);
  });

  app.delete<{ Params: { name: string; user: string } }>(
    '/api/namespaces/:name/owners/:user',
    async (request) => {
      const p = await who(request);
      return s.namespaces.revoke(actorOf(p, request), request.params.name, request.params.user);
    },
  );
}
