// Company sign-in (src/sso): GET /login/sso/<provider> sends the browser to the provider with a
// fresh state, nonce and PKCE challenge, remembered in a short-lived cookie of this browser;
// the provider sends it back to /login/sso/<provider>/callback, where the service verifies
// everything and the session starts exactly as after a password (startSession, with the TOTP
// step when the account has a second factor). A refusal is an error page and changes nothing.
// (A GET starts the flow: the CSP's form-action 'self' would stop a form's redirect to the
// provider, and starting a sign-in changes nothing at pier.)
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { safeNext } from '../forms.js';
import { errorPage } from '../render/layout.js';
import {
  cookieNames,
  cookieOptions,
  isSecure,
  sendPage,
  startSession,
  webContext,
} from '../context.js';
import { totpEnabled } from '../totp.js';
import { encodeFlow, parseFlow, SSO_FLOW_MAX_AGE_MS, SsoError } from '../../sso/service.js';

export function registerSsoRoutes(web: FastifyInstance, s: Services): void {
  const params = {
    type: 'object',
    properties: { provider: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' } },
    required: ['provider'],
  } as const;

  web.get<{ Params: { provider: string }; Querystring: { next?: string } }>(
    '/login/sso/:provider',
    { schema: { params } },
    async (request, reply) => {
      const ctx = webContext(request);
      const next = safeNext(request.query.next);
      try {
        const { url, flow } = await s.sso.begin(request.params.provider, next);
        const secure = isSecure(s);
        reply.setCookie(
          cookieNames(secure).sso,
          encodeFlow(flow),
          cookieOptions(secure, SSO_FLOW_MAX_AGE_MS / 1000),
        );
        return reply.redirect(url, 303);
      } catch (err) {
        if (!(err instanceof SsoError)) throw err;
        const status = err.code === 'unknown-provider' ? 404 : 502;
        return sendPage(reply, errorPage(ctx, status, err.message), status);
      }
    },
  );

  web.get<{ Params: { provider: string } }>(
    '/login/sso/:provider/callback',
    { schema: { params } },
    async (request, reply) => {
      const ctx = webContext(request);
      const secure = isSecure(s);
      const names = cookieNames(secure);
      const flow = parseFlow(request.cookies[names.sso]);
      // One use: whatever happens now, this state, nonce and verifier are spent.
      reply.clearCookie(names.sso, cookieOptions(secure));
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      // The URL as the provider was told it (the public URL), never from the Host header.
      const callback = new URL(`${s.sso.redirectUri(request.params.provider)}${query}`);
      const result = await s.sso.complete(request.params.provider, callback, flow, ctx.actor);
      if (!result.ok) {
        request.log.info({ provider: request.params.provider, code: result.code }, 'sso refused');
        return sendPage(reply, errorPage(ctx, 403, result.reason), 403);
      }
      const { user } = result;
      if (ctx.session) await s.web.sessions.revoke(ctx.session.id);
      if (ctx.pending) await s.web.sessions.revoke(ctx.pending.session.id);
      const provider = request.params.provider;
      if (totpEnabled(user)) {
        await startSession(s, request, reply, user, true, provider);
        return reply.redirect(`/login/2fa?next=${encodeURIComponent(flow!.next)}`, 303);
      }
      await startSession(s, request, reply, user, false, provider);
      return reply.redirect(safeNext(flow!.next), 303);
    },
  );
}
