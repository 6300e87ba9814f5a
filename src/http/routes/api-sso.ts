// The REST API of company sign-in (docs/sso.md), for administrators, as `pier sso list` and
// `pier sso link` on the command line: the providers (never a client secret), a user's linked
// identities, and linking one.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { badRequest, forbidden } from '../../errors.js';
import { isSiteAdmin } from '../../auth/permissions.js';
import { principalUser } from '../../auth/principal.js';
import { providerJson } from '../../sso/service.js';
import { actorOf, requirePrincipal } from '../principal.js';

function field(request: FastifyRequest, key: string): string {
  const b = request.body as Record<string, unknown> | null | undefined;
  const v = b && typeof b === 'object' && !Array.isArray(b) ? b[key] : undefined;
  if (typeof v !== 'string' || v.trim() === '') throw badRequest(`'${key}' is required`);
  return v;
}

export function registerSsoApi(app: FastifyInstance, s: Services): void {
  app.get('/api/sso/providers', async (request) => {
    const p = await requirePrincipal(s.auth, request);
    if (!isSiteAdmin(p)) throw forbidden('Only administrators can list sign-in providers');
    return { providers: s.sso.providers.map((x) => providerJson(x, s.sso.redirectUri(x.name))) };
  });

  app.get<{ Params: { name: string } }>('/api/users/:name/sso-identities', async (request) => {
    const p = await requirePrincipal(s.auth, request);
    const user = await s.auth.requireUser(request.params.name);
    if (principalUser(p)?.id !== user.id && !isSiteAdmin(p))
      throw forbidden("Only administrators can see another user's identities");
    return { identities: await s.sso.identitiesOf(user.id) };
  });

  app.post<{ Params: { name: string } }>(
    '/api/users/:name/sso-identities',
    async (request, reply) => {
      const p = await requirePrincipal(s.auth, request);
      await s.sso.link(actorOf(p, request), {
        username: request.params.name,
        provider: field(request, 'provider'),
        subject: field(request, 'subject'),
      });
      return reply.code(201).send({
        identities: await s.sso.identitiesOf((await s.auth.requireUser(request.params.name)).id),
      });
    },
  );
}
