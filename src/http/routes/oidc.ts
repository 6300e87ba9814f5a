// The trusted-publishing endpoints, where PyPI's clients look for them: at the root of the
// upload host. Codes and shapes are PyPI's (reference §1.2–1.4).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';

const OTHER_METHODS = ['DELETE', 'PATCH', 'PUT', 'OPTIONS'] as const;

function methodNotAllowed(allow: string) {
  return async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(405).header('allow', allow).send({ message: 'Method Not Allowed' });
}

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
      handler: async (_request, reply) => {
        const disabled = s.exchange.disabledReason;
        if (disabled !== null)
          return reply
            .code(403)
            .send({ message: 'Trusted publishing functionality not enabled', reason: disabled });
        return reply.header('cache-control', 'no-store').send({ audience: s.exchange.audience });
      },
    });
    child.route({
      method: ['HEAD', 'POST', ...OTHER_METHODS],
      url: '/_/oidc/audience',
      handler: methodNotAllowed('GET'),
    });

    const mint = async (request: FastifyRequest, reply: FastifyReply) => {
      const body = typeof request.body === 'string' ? request.body : '';
      const result = await s.exchange.mint(body, request.ip ?? null);
      return reply.code(result.status).header('cache-control', 'no-store').send(result.body);
    };
    for (const url of ['/_/oidc/mint-token', '/_/oidc/github/mint-token']) {
      child.route({ method: 'POST', url, handler: mint });
      child.route({
        method: ['GET', 'HEAD', ...OTHER_METHODS],
        url,
        handler: methodNotAllowed('POST'),
      });
    }

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
