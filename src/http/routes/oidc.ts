// The trusted-publishing endpoints, where PyPI's clients look for them: at the root of the
// upload host. Codes and shapes are PyPI's (reference §1.2–1.4); a client that asks for RFC 9457
// problem documents (PEP 807's clients) gets its errors as those, with PyPI's members kept. Next
// to them, PEP 807's discovery document at /.well-known/pytp (src/oidc/pytp.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import type { MintScope } from '../../oidc/exchange.js';
import {
  acceptsPytp,
  discoveryAnswer,
  problem,
  problemFromPypiBody,
  PROBLEM_MEDIA_TYPE,
  PYTP_MEDIA_TYPE,
  wantsProblemDocument,
} from '../../oidc/pytp.js';

const OTHER_METHODS = ['DELETE', 'PATCH', 'PUT', 'OPTIONS'] as const;

/** An error from PyPI's endpoints: PyPI's body, or the same as a problem document if asked. */
function sendOidcError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  body: unknown,
) {
  reply.code(status).header('vary', 'Accept');
  if (!wantsProblemDocument(request.headers.accept)) return reply.send(body);
  return reply.type(PROBLEM_MEDIA_TYPE).send(problemFromPypiBody(status, body));
}

function methodNotAllowed(allow: string) {
  return async (request: FastifyRequest, reply: FastifyReply) =>
    sendOidcError(request, reply.header('allow', allow), 405, { message: 'Method Not Allowed' });
}

/** How long a discovery answer may be reused: it changes only with the configuration. */
const DISCOVERY_CACHE = 'public, max-age=300';

export function registerOidcRoutes(app: FastifyInstance, s: Services): void {
  // Why an issuer's keys could not be fetched is for the operator: the caller of mint-token only
  // learns that they could not be.
  s.jwks.setLog(({ issuer, problem }) =>
    app.log.warn({ issuer, problem }, 'trusted publishing: the issuer keys are unavailable'),
  );
  app.register(async (child) => {
    // The exchange reads its body itself, whatever the Content-Type, so that a malformed body
    // gets PyPI's invalid-payload answer instead of a generic parser error.
    child.removeAllContentTypeParsers();
    child.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_req, body, done) => done(null, body),
    );

    child.route({
      method: 'GET',
      url: '/_/oidc/audience',
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const disabled = s.exchange.disabledReason;
        if (disabled !== null)
          return sendOidcError(request, reply, 403, {
            message: 'Trusted publishing functionality not enabled',
            reason: disabled,
          });
        return reply.header('cache-control', 'no-store').send({ audience: s.exchange.audience });
      },
    });
    child.route({
      method: ['HEAD', 'POST', ...OTHER_METHODS],
      url: '/_/oidc/audience',
      handler: methodNotAllowed('GET'),
    });

    const minter = (scope: MintScope) => async (request: FastifyRequest, reply: FastifyReply) => {
      const body = typeof request.body === 'string' ? request.body : '';
      const result = await s.exchange.mint(body, request.ip ?? null, scope);
      reply.header('cache-control', 'no-store');
      if (result.status >= 400) return sendOidcError(request, reply, result.status, result.body);
      return reply.code(result.status).send(result.body);
    };
    // pier's addition, trusted access for installs: a read-only token for the projects whose
    // publishers trust the job (docs/trusted-publishing.md).
    const endpoints: [string, MintScope][] = [
      ['/_/oidc/mint-token', 'upload'],
      ['/_/oidc/github/mint-token', 'upload'],
      ['/_/oidc/mint-read-token', 'read'],
    ];
    for (const [url, scope] of endpoints) {
      child.route({ method: 'POST', url, handler: minter(scope) });
      child.route({
        method: ['GET', 'HEAD', ...OTHER_METHODS],
        url,
        handler: methodNotAllowed('POST'),
      });
    }

    // PEP 807 discovery. GET and HEAD; the query names the upload path being asked about.
    child.route({
      method: 'GET',
      url: '/.well-known/pytp',
      handler: async (request, reply) => {
        reply.header('vary', 'Accept');
        if (!acceptsPytp(request.headers.accept))
          return reply
            .code(406)
            .header('cache-control', 'no-store')
            .type(PROBLEM_MEDIA_TYPE)
            .send(
              problem(
                406,
                'not-acceptable',
                `discovery answers ${PYTP_MEDIA_TYPE} (or application/json); the request accepts only ${request.headers.accept}`,
              ),
            );
        const answer = discoveryAnswer({
          publicUrl: s.publicUrl(),
          discover: (request.query as Record<string, unknown>).discover,
          disabledReason: s.exchange.disabledReason,
        });
        if (answer.status !== 200)
          return reply
            .code(answer.status)
            .header('cache-control', 'no-store')
            .type(PROBLEM_MEDIA_TYPE)
            .send(answer.body);
        return reply
          .header('cache-control', DISCOVERY_CACHE)
          .type(PYTP_MEDIA_TYPE)
          .send(answer.body);
      },
    });
    child.route({
      method: ['POST', ...OTHER_METHODS],
      url: '/.well-known/pytp',
      handler: async (_request, reply) =>
        reply
          .code(405)
          .header('allow', 'GET, HEAD')
          .type(PROBLEM_MEDIA_TYPE)
          .send(problem(405, 'method-not-allowed', 'discovery answers GET and HEAD only')),
    });

    child.route({
      method: 'POST',
      url: '/_/oidc/burn-token',
      handler: async (request, reply) => {
        await s.exchange.burn(
          typeof request.body === 'string' ? request.body : '',
          request.ip ?? null,
        );
        return reply.code(202).send({ message: 'Accepted' });
      },
    });
    child.route({
      method: ['GET', 'HEAD', ...OTHER_METHODS],
      url: '/_/oidc/burn-token',
      handler: methodNotAllowed('POST'),
    });
  });
}
