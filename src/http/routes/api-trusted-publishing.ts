// The REST API for trusted publishing: issuers (administrators), a project's publishers (its
// owners) and pending publishers (users who may create projects).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { badRequest } from '../../errors.js';
import { parsePublisherAccess, type RegistrationInput } from '../../oidc/publishers.js';
import { kindList } from '../../oidc/providers/index.js';
import { actorOf, requirePrincipal } from '../principal.js';

type Body = Record<string, unknown>;

function body(request: FastifyRequest): Body {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b))
    throw badRequest('The request body must be a JSON object');
  return b as Body;
}

const RESERVED = new Set([
  'provider',
  'issuer',
  'project',
  'project_owner',
  'organization',
  'access',
  'stage_only',
  'projects',
]);

/** `{provider, issuer?, …fields}`: the provider's registration fields, as strings. */
function registration(b: Body): RegistrationInput {
  const provider = b.provider;
  if (typeof provider !== 'string') throw badRequest(`'provider' is required: ${kindList()}`);
  if (b.issuer !== undefined && typeof b.issuer !== 'string')
    throw badRequest("'issuer' must be a string");
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(b)) {
    if (RESERVED.has(k)) continue;
    if (typeof v !== 'string') throw badRequest(`'${k}' must be a string`);
    fields[k] = v;
  }
  if (b.access !== undefined && typeof b.access !== 'string')
    throw badRequest("'access' must be a string: upload or read");
  return {
    kind: provider,
    fields,
    issuerUrl: b.issuer as string | undefined,
    access: parsePublisherAccess(b.access as string | undefined),
    stageOnly: stageOnly(b.stage_only),
  };
}

function stageOnly(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badRequest("'stage_only' must be true or false");
  return value;
}

function id(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw badRequest('Publisher ids are positive integers');
  return n;
}

export function registerTrustedPublishingApi(app: FastifyInstance, s: Services): void {
  const who = (request: FastifyRequest) => requirePrincipal(s.auth, request);

  app.get('/api/issuers', async (request) => {
    await who(request);
    return { issuers: await s.issuers.list() };
  });
  app.post('/api/issuers', async (request, reply) => {
    const p = await who(request);
    const b = body(request);
    if (typeof b.kind !== 'string' || typeof b.url !== 'string')
      throw badRequest("'kind' and 'url' are required");
    const added = await s.issuers.add(actorOf(p, request), {
      kind: b.kind,
      url: b.url,
      insecure: b.insecure === true,
      apiUrl: typeof b.api_url === 'string' ? b.api_url : null,
    });
    // Registered either way: the issuer may be unreachable from here at registration time.
    return reply.code(201).send({ ...added, warning: await s.jwks.probe(added) });
  });
  app.delete<{ Querystring: { url?: string } }>('/api/issuers', async (request, reply) => {
    const p = await who(request);
    if (!request.query.url) throw badRequest("Give the issuer as '?url=…'");
    await s.issuers.remove(actorOf(p, request), request.query.url);
    return reply.code(204).send();
  });

  app.get<{ Params: { name: string } }>('/api/projects/:name/publishers', async (request) => {
    const p = await who(request);
    return {
      publishers: await s.publishers.listForProject(actorOf(p, request), request.params.name),
    };
  });
  app.post<{ Params: { name: string } }>(
    '/api/projects/:name/publishers',
    async (request, reply) => {
      const p = await who(request);
      const view = await s.publishers.add(
        actorOf(p, request),
        request.params.name,
        registration(body(request)),
      );
      return reply.code(201).send(view);
    },
  );
  app.patch<{ Params: { name: string; id: string } }>(
    '/api/projects/:name/publishers/:id',
    async (request) => {
      const p = await who(request);
      const value = stageOnly(body(request).stage_only);
      if (value === undefined) throw badRequest("'stage_only' (true or false) is required");
      return s.publishers.setStageOnly(
        actorOf(p, request),
        id(request.params.id),
        request.params.name,
        value,
      );
    },
  );
  app.delete<{ Params: { name: string; id: string } }>(
    '/api/projects/:name/publishers/:id',
    async (request, reply) => {
      const p = await who(request);
      await s.publishers.remove(actorOf(p, request), id(request.params.id), request.params.name);
      return reply.code(204).send();
    },
  );

  app.get('/api/pending-publishers', async (request) => {
    const p = await who(request);
    return { publishers: await s.publishers.listPending(actorOf(p, request)) };
  });
  app.post('/api/pending-publishers', async (request, reply) => {
    const p = await who(request);
    const b = body(request);
    if (typeof b.project !== 'string' || b.project === '')
      throw badRequest("'project' is required: the project it will create");
    const owner = typeof b.project_owner === 'string' ? b.project_owner : undefined;
    if (
      b.organization !== undefined &&
      (typeof b.organization !== 'string' || b.organization === '')
    )
      throw badRequest("'organization' must be the name of an organisation");
    const view = await s.publishers.addPending(
      actorOf(p, request),
      b.project,
      registration(b),
      owner,
      { organization: b.organization as string | undefined },
    );
    return reply.code(201).send(view);
  });
  // Organisation-wide publishers (administrators): `projects` is the glob of project names.
  app.get<{ Params: { org: string } }>('/api/orgs/:org/publishers', async (request) => {
    const p = await who(request);
    return {
      publishers: await s.publishers.listOrganizationWide(actorOf(p, request), request.params.org),
    };
  });
  app.post<{ Params: { org: string } }>('/api/orgs/:org/publishers', async (request, reply) => {
    const p = await who(request);
    const b = body(request);
    if (b.projects !== undefined && typeof b.projects !== 'string')
      throw badRequest("'projects' must be a glob of project names, such as 'acme-*'");
    const view = await s.publishers.addOrganizationWide(
      actorOf(p, request),
      request.params.org,
      registration(b),
      b.projects as string | undefined,
    );
    return reply.code(201).send(view);
  });
  app.delete<{ Params: { org: string; id: string } }>(
    '/api/orgs/:org/publishers/:id',
    async (request, reply) => {
      const p = await who(request);
      await s.publishers.removeOrganizationWide(
        actorOf(p, request),
        request.params.org,
        id(request.params.id),
      );
      return reply.code(204).send();
    },
  );
  app.delete<{ Params: { id: string } }>('/api/pending-publishers/:id', async (request, reply) => {
    const p = await who(request);
    await s.publishers.remove(actorOf(p, request), id(request.params.id));
    return reply.code(204).send();
  });
}
