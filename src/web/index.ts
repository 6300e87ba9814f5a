// The web interface: server-rendered pages over the same services as the CLI and the REST API.
// Everything lives in one encapsulated Fastify plugin, so its form parsing, cookies, hooks and
// error pages touch no other route (uploads, the OIDC exchange and the APIs are unchanged).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import type { Services } from '../services.js';
import { PierError } from '../errors.js';
import { resolveContext, sendPage, webContext, WebRedirect } from './context.js';
import { errorPage } from './render/layout.js';
import { registerAssetRoutes } from './routes/assets.js';
import { registerHelpRoutes } from './routes/help.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerSsoRoutes } from './routes/sso.js';
import { registerBrowseRoutes } from './routes/browse.js';
import { registerAccountRoutes } from './routes/account.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerPublishingRoutes } from './routes/publishing.js';
import { registerProjectManageRoutes } from './routes/manage.js';
import { registerStagedManageRoutes } from './routes/manage-staged.js';
import { registerReleaseManageRoutes } from './routes/manage-releases.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerNamespaceAdminRoutes } from './routes/admin-namespaces.js';
import { registerOrganizationWebRoutes } from './routes/organizations.js';
import { registerOrganizationPublisherRoutes } from './routes/org-publishers.js';

/** Content-Security-Policy: scripts and styles from pier only; images also from http(s). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: http: data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface WebRouteInfo {
  method: string;
  url: string;
}

const registered = new WeakMap<object, WebRouteInfo[]>();

/** Every route of the web interface, as registered (tests enumerate the forms with it). */
export function webRoutes(app: FastifyInstance): WebRouteInfo[] {
  return registered.get(app) ?? [];
}

export function registerWebRoutes(app: FastifyInstance, s: Services): void {
  const routes: WebRouteInfo[] = [];
  registered.set(app, routes);
  app.register(async (web) => {
    web.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods)
        if (method !== 'HEAD') routes.push({ method: String(method), url: route.url });
    });
    await web.register(formbody, { bodyLimit: 64 * 1024 });
    await web.register(cookie);

    web.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
      await resolveContext(s, request, reply);
    });
    web.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-frame-options', 'DENY');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      done(null, payload);
    });

    web.setErrorHandler(async (err, request, reply) => {
      if (err instanceof WebRedirect) return reply.redirect(err.location, 303);
      let status = 500;
      let message = 'Internal server error';
      if (err instanceof PierError) {
        status = err.status;
        message = err.message;
      } else if (
        typeof (err as { statusCode?: number }).statusCode === 'number' &&
        (err as { statusCode: number }).statusCode < 500
      ) {
        status = (err as { statusCode: number }).statusCode;
        message = (err as Error).message;
      } else request.log.error({ err }, 'web request failed');
      let ctx;
      try {
        ctx = webContext(request);
      } catch {
        return reply.code(status).type('text/plain; charset=utf-8').send(`${message}\n`);
      }
      return sendPage(reply, errorPage(ctx, status, message), status);
    });

    registerAssetRoutes(web);
    registerHelpRoutes(web);
    registerAuthRoutes(web, s);
    registerSsoRoutes(web, s);
    registerBrowseRoutes(web, s);
    registerAccountRoutes(web, s);
    registerTokenRoutes(web, s);
    registerPublishingRoutes(web, s);
    registerProjectManageRoutes(web, s);
    registerReleaseManageRoutes(web, s);
    registerStagedManageRoutes(web, s); // staged releases
    registerAdminRoutes(web, s);
    registerNamespaceAdminRoutes(web, s);
    registerOrganizationWebRoutes(web, s);
    registerOrganizationPublisherRoutes(web, s);
  });
}
