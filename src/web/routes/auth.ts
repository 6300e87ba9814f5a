// Signing in (username and password, then a TOTP code when the account has one), and out.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { html } from '../html.js';
import { field, formError, layout, csrfField } from '../render/layout.js';
import { formBody, formString, safeNext } from '../forms.js';
import {
  endSessionCookie,
  sendPage,
  startSession,
  webContext,
  type WebContext,
} from '../context.js';
import { totpEnabled } from '../totp.js';

export const INVALID_SIGN_IN = 'Invalid username or password.';

export const PASSWORDS_OFF =
  'Password sign-in is turned off on this index: sign in with your company account.';

export function loginPage(
  s: Services,
  ctx: WebContext,
  opts: { username?: string; error?: string | null; next: string },
) {
  const providers = s.sso.providers;
  const passwords = s.config.passwordSignIn;
  return layout(
    ctx,
    'Sign in',
    html`<section class="card narrow">
      <h1>Sign in</h1>
      ${formError(opts.error)}
      ${
        providers.length > 0
          ? html`<ul class="sso-providers" id="sso-providers">
              ${providers.map(
                (p) =>
                  html`<li>
                    <a
                      class="button"
                      id="sso-${p.name}"
                      href="/login/sso/${p.name}?next=${encodeURIComponent(opts.next)}"
                      >Sign in with ${p.displayName}</a
                    >
                  </li>`,
              )}
            </ul>`
          : ''
      }
      ${
        passwords
          ? html`<form method="post" action="/login" id="login-form">
              ${csrfField(ctx)}
              <input type="hidden" name="next" value="${opts.next}" />
              ${field('username', 'Username', { value: opts.username ?? '', required: true, autocomplete: 'username' })}
              ${field('password', 'Password', { type: 'password', required: true, autocomplete: 'current-password' })}
              <button type="submit">Sign in</button>
            </form>`
          : html`<p class="muted" id="passwords-off">${PASSWORDS_OFF}</p>`
      }
    </section>`,
  );
}

function totpPage(ctx: WebContext, opts: { error?: string | null; next: string }) {
  return layout(
    ctx,
    'Two-factor authentication',
    html`<section class="card narrow">
      <h1>Two-factor authentication</h1>
      <p class="muted">
        Enter the 6-digit code from your authenticator app for
        <strong>${ctx.pending?.user.username ?? ''}</strong>.
      </p>
      ${formError(opts.error)}
      <form method="post" action="/login/2fa" id="totp-form">
        ${csrfField(ctx)}
        <input type="hidden" name="next" value="${opts.next}" />
        ${field('code', 'Code', { required: true, autocomplete: 'one-time-code', inputmode: 'numeric' })}
        <button type="submit">Verify</button>
      </form>
    </section>`,
  );
}

export function registerAuthRoutes(web: FastifyInstance, s: Services): void {
  web.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const ctx = webContext(request);
    const next = safeNext(request.query.next);
    if (ctx.user) return reply.redirect(next, 303);
    return sendPage(reply, loginPage(s, ctx, { next }));
  });

  web.post('/login', async (request, reply) => {
    const ctx = webContext(request);
    const body = formBody(request.body);
    const username = formString(body, 'username').trim();
    const password = formString(body, 'password');
    const next = safeNext(formString(body, 'next'));
    const ip = request.ip ?? null;
    if (!s.config.passwordSignIn)
      return sendPage(reply, loginPage(s, ctx, { username, error: PASSWORDS_OFF, next }), 403);
    // The auth service throttles every password check (per user name and address, in the
    // database) and costs the same for unknown users.
    const result =
      username === '' ? null : await s.auth.authenticatePassword(username, password, ip);
    if (result && !result.ok && result.code === 'throttled') {
      reply.header('retry-after', String(result.retryAfterSeconds));
      return sendPage(reply, loginPage(s, ctx, { username, error: result.reason, next }), 429);
    }
    if (!result || !result.ok || result.principal.kind !== 'user')
      return sendPage(reply, loginPage(s, ctx, { username, error: INVALID_SIGN_IN, next }), 401);
    const user = result.principal.user;
    if (ctx.session) await s.web.sessions.revoke(ctx.session.id);
    if (ctx.pending) await s.web.sessions.revoke(ctx.pending.session.id);
    if (totpEnabled(user)) {
      await startSession(s, request, reply, user, true);
      return reply.redirect(`/login/2fa?next=${encodeURIComponent(next)}`, 303);
    }
    await s.web.loginLimiter.clearUsername(user.username);
    await startSession(s, request, reply, user, false);
    return reply.redirect(next, 303);
  });

  web.get<{ Querystring: { next?: string } }>('/login/2fa', async (request, reply) => {
    const ctx = webContext(request);
    if (!ctx.pending) return reply.redirect('/login', 303);
    return sendPage(reply, totpPage(ctx, { next: safeNext(request.query.next) }));
  });

  web.post('/login/2fa', async (request, reply) => {
    const ctx = webContext(request);
    const body = formBody(request.body);
    const next = safeNext(formString(body, 'next'));
    if (!ctx.pending) return reply.redirect('/login', 303);
    const { user, session } = ctx.pending;
    const ip = request.ip ?? null;
    const limit = await s.web.loginLimiter.check(user.username, ip);
    if (!limit.ok) {
      reply.header('retry-after', String(limit.retryAfterSeconds));
      return sendPage(reply, totpPage(ctx, { error: limit.message, next }), 429);
    }
    if (!(await s.web.twoFactor.verify(user, formString(body, 'code')))) {
      await s.web.loginLimiter.recordFailure(user.username, ip);
      return sendPage(
        reply,
        totpPage(ctx, { error: 'That code is not valid (or was used already).', next }),
        401,
      );
    }
    await s.web.sessions.revoke(session.id);
    await s.web.loginLimiter.clearUsername(user.username);
    // A company sign-in's session keeps its provider (and so its shorter lifetime).
    await startSession(s, request, reply, user, false, session.sso_provider);
    return reply.redirect(next, 303);
  });

  web.post('/logout', async (request, reply) => {
    const ctx = webContext(request);
    if (ctx.session) await s.web.sessions.revoke(ctx.session.id);
    if (ctx.pending) await s.web.sessions.revoke(ctx.pending.session.id);
    endSessionCookie(s, reply);
    return reply.redirect('/', 303);
  });
}
