// Resolving the request's credentials into a principal, once per request.
import type { FastifyRequest } from 'fastify';
import { parseAuthorization } from '../auth/credentials.js';
import type { CredentialUse } from '../auth/credential-use.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import type { AuthService } from '../auth/service.js';
import { PierError, unauthorized } from '../errors.js';
import type { Actor } from '../audit/log.js';

const cache = new WeakMap<FastifyRequest, Promise<Principal>>();
const ANONYMOUS_PROMISE: Promise<Principal> = Promise.resolve(ANONYMOUS);

/**
 * The principal for a request, whose credentials are used for `use` (reading, uploading, or the
 * REST API: a password may be refused for one and not another, src/auth/credential-use.ts).
 * Missing credentials are anonymous; wrong ones are an error: 401 so that clients ask for
 * credentials, but 403 on uploads (as PyPI answers, and twine shows the reason); a right password
 * the account may not use here is 403 (401 on reads, where pip may then ask for a token); too
 * many failed passwords are 429.
 */
export function principalOf(
  auth: AuthService,
  request: FastifyRequest,
  use: CredentialUse = 'manage',
): Promise<Principal> {
  // Most reads carry no credentials: answer them without a cache entry or a new promise.
  if (request.headers.authorization === undefined) return ANONYMOUS_PROMISE;
  let p = cache.get(request);
  if (!p) {
    p = (async () => {
      const failStatus = use === 'upload' ? 403 : 401;
      const parsed = parseAuthorization(request.headers.authorization);
      if (parsed.kind === 'none') return ANONYMOUS;
      if (parsed.kind === 'malformed') throw new PierError(failStatus, parsed.reason);
      const result = await auth.authenticate(parsed, { use, ip: request.ip ?? null });
      if (result.ok) return result.principal;
      switch (result.code) {
        case 'invalid':
          throw new PierError(failStatus, result.reason, { help: 'invalid-auth' });
        case 'password-refused':
          throw new PierError(use === 'read' ? 401 : 403, result.reason);
        case 'throttled':
          throw new PierError(429, result.reason, {
            retry_after_seconds: result.retryAfterSeconds,
          });
      }
    })();
    cache.set(request, p);
  }
  return p;
}

export async function requirePrincipal(
  auth: AuthService,
  request: FastifyRequest,
): Promise<Principal> {
  const p = await principalOf(auth, request, 'manage');
  if (p.kind === 'anonymous') throw unauthorized('Authentication required');
  return p;
}

export function actorOf(principal: Principal, request: FastifyRequest): Actor {
  return { principal, ip: request.ip ?? null };
}
