// Resolving the request's credentials into a principal, once per request.
import type { FastifyRequest } from 'fastify';
import { parseAuthorization } from '../auth/credentials.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import type { AuthService } from '../auth/service.js';
import { PierError, unauthorized } from '../errors.js';
import type { Actor } from '../audit/log.js';

const cache = new WeakMap<FastifyRequest, Promise<Principal>>();
const ANONYMOUS_PROMISE: Promise<Principal> = Promise.resolve(ANONYMOUS);

/**
 * The principal for a request. Missing credentials are anonymous; wrong ones are an error
 * (401 on reads so clients ask for credentials, `failStatus` elsewhere).
 */
export function principalOf(
  auth: AuthService,
  request: FastifyRequest,
  failStatus: 401 | 403 = 401,
): Promise<Principal> {
  // Most reads carry no credentials: answer them without a cache entry or a new promise.
  if (request.headers.authorization === undefined) return ANONYMOUS_PROMISE;
  let p = cache.get(request);
  if (!p) {
    p = (async () => {
      const parsed = parseAuthorization(request.headers.authorization);
      if (parsed.kind === 'none') return ANONYMOUS;
      if (parsed.kind === 'malformed') throw new PierError(failStatus, parsed.reason);
      const result = await auth.authenticate(parsed);
      if (!result.ok) throw new PierError(failStatus, result.reason);
      return result.principal;
    })();
    cache.set(request, p);
  }
  return p;
}

export async function requirePrincipal(
  auth: AuthService,
  request: FastifyRequest,
): Promise<Principal> {
  const p = await principalOf(auth, request);
  if (p.kind === 'anonymous') throw unauthorized('Authentication required');
  return p;
}

export function actorOf(principal: Principal, request: FastifyRequest): Actor {
  return { principal, ip: request.ip ?? null };
}
