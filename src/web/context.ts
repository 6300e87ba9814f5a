// What every web request knows once its hooks ran: the browser's session and user (re-read from
// the database on every request), the principal the services see (`{kind: 'user', user}`), the
// CSRF token its forms carry, and the flash message of the previous redirect. The hooks also
// refuse a POST whose CSRF token is wrong (403, before the handler: nothing changes), and keep an
// administrator who must enrol a second factor on the enrolment page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import type { User, WebSessionRow } from '../db/schema.js';
import type { Actor } from '../audit/log.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { isSiteAdmin, mayCreateProjects } from '../auth/permissions.js';
import { randomToken, sessionLifetimeMs } from './sessions.js';
import { CSRF_FAILURE, csrfMatches, csrfOfBody, postFromIndexOrigin } from './csrf.js';
import { totpEnabled } from './totp.js';
import { PierError } from '../errors.js';
import { errorPage, type Flash, type FlashToken, type PageContext } from './render/layout.js';
import type { SafeHtml } from './html.js';

export interface WebContext extends PageContext {
  /** The signed-in session (null before sign-in and during the TOTP step). */
  session: WebSessionRow | null;
  /** A session waiting for its TOTP code. */
  pending: { session: WebSessionRow; user: User } | null;
  principal: Principal;
  actor: Actor;
}

/** Thrown by handlers to answer with a redirect (303: the browser then GETs the location). */
export class WebRedirect extends Error {
  constructor(readonly location: string) {
    super(`redirect to ${location}`);
  }
}

/** Pages an administrator who must enrol a second factor may still reach. */
export const ENROLMENT_PATHS: readonly string[] = [
  '/account/2fa',
  '/account/2fa/begin',
  '/account/2fa/confirm',
  '/logout',
  '/static/pier.css',
  '/static/pier.js',
];

export interface CookieNames {
  session: string;
  csrf: string;
  flash: string;
  /** A company sign-in under way (src/web/routes/sso.ts). */
  sso: string;
}

/** `__Host-` cookies (Secure, Path=/, no Domain: they cannot be set by a sibling host) on HTTPS. */
export function cookieNames(secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : '';
  return {
    session: `${prefix}pier_session`,
    csrf: `${prefix}pier_csrf`,
    flash: `${prefix}pier_flash`,
    sso: `${prefix}pier_sso`,
  };
}

export function cookieOptions(secure: boolean, maxAgeSeconds?: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure,
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
  };
}

export function isSecure(s: Services): boolean {
  return s.publicUrl().startsWith('https:');
}

const contexts = new WeakMap<FastifyRequest, WebContext>();

export function webContext(request: FastifyRequest): WebContext {
  const ctx = contexts.get(request);
  if (!ctx) throw new Error('the web hooks did not run for this request');
  return ctx;
}

/** The new token of a flash cookie, when it has exactly the expected shape. */
function flashToken(value: unknown): FlashToken | null {
  if (typeof value !== 'object' || value === null) return null;
  const t = value as Record<string, unknown>;
  const ok =
    Number.isSafeInteger(t.id) &&
    typeof t.token === 'string' &&
    typeof t.name === 'string' &&
    typeof t.scope === 'string' &&
    Array.isArray(t.projects) &&
    t.projects.every((p) => typeof p === 'string') &&
    (t.expiresAt === null || Number.isSafeInteger(t.expiresAt));
  if (!ok) return null;
  return {
    id: t.id as number,
    token: t.token as string,
    name: t.name as string,
    scope: t.scope as string,
    projects: t.projects as string[],
    expiresAt: t.expiresAt as number | null,
  };
}

function readFlash(value: string | undefined): Flash | null {
  if (!value) return null;
  try {
    const parsed = JSON.parse(value) as { kind?: unknown; text?: unknown; newToken?: unknown };
    if ((parsed.kind === 'ok' || parsed.kind === 'error') && typeof parsed.text === 'string') {
      const newToken = flashToken(parsed.newToken);
      return {
        kind: parsed.kind,
        text: parsed.text.slice(0, 500),
        ...(newToken ? { newToken } : {}),
      };
    }
  } catch {
    // ignore a mangled cookie
  }
  return null;
}

/** Sets the message the next page shows (after a redirect). */
export function setFlash(s: Services, reply: FastifyReply, flash: Flash): void {
  const secure = isSecure(s);
  reply.setCookie(cookieNames(secure).flash, JSON.stringify(flash), cookieOptions(secure, 60));
}

export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page.value);
}

/**
 * One form's change, after Post/Redirect/Get: `run` makes it and says where to go next and what
 * the flash message says (none without `text`). A refusal (a PierError below 500) shows
 * `refusedPage`, built from it, with its status instead, and sets no flash; any other error
 * propagates (500).
 */
export async function submitChange(
  s: Services,
  reply: FastifyReply,
  run: () => Promise<{ to: string; text?: string }>,
  refusedPage: (err: PierError) => SafeHtml | Promise<SafeHtml>,
): Promise<FastifyReply> {
  let done: { to: string; text?: string };
  try {
    done = await run();
  } catch (err) {
    if (!(err instanceof PierError) || err.status >= 500) throw err;
    return sendPage(reply, await refusedPage(err), err.status);
  }
  if (done.text !== undefined) setFlash(s, reply, { kind: 'ok', text: done.text });
  return reply.redirect(done.to, 303);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** The preHandler of every web route. */
export async function resolveContext(
  s: Services,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  // The stylesheet and the script need no session (and every page asks for them).
  if (request.routeOptions.url?.startsWith('/static/')) return;
  const secure = isSecure(s);
  const names = cookieNames(secure);
  const cookies = request.cookies;
  const resolved = await s.web.sessions.resolve(cookies[names.session]);
  let session: WebSessionRow | null = null;
  let pending: WebContext['pending'] = null;
  let user: User | null = null;
  if (resolved && resolved.session.pending_2fa === 1) pending = resolved;
  else if (resolved) {
    session = resolved.session;
    user = resolved.user;
  }
  const principal: Principal = user ? { kind: 'user', user } : ANONYMOUS;
  let preSessionCsrf = cookies[names.csrf];
  const flash = request.method === 'GET' ? readFlash(cookies[names.flash]) : null;
  if (flash) reply.clearCookie(names.flash, cookieOptions(secure));
  const isAdmin = isSiteAdmin(principal);
  const ctx: WebContext = {
    session,
    pending,
    user,
    principal,
    actor: { principal, ip: request.ip ?? null },
    flash,
    isAdmin,
    mayCreateProjects: mayCreateProjects(principal, s.config.anyUserMayCreateProjects),
    path: request.url.split('?')[0] ?? '/',
    mustEnrol2fa:
      user !== null && isAdmin && s.config.requireTwoFactorForAdmins && !totpEnabled(user),
    csrf() {
      if (session) return session.csrf_token;
      if (pending) return pending.session.csrf_token;
      if (!preSessionCsrf || preSessionCsrf.length < 32) {
        preSessionCsrf = randomToken();
        reply.setCookie(names.csrf, preSessionCsrf, cookieOptions(secure));
      }
      return preSessionCsrf;
    },
  };
  contexts.set(request, ctx);

  if (request.method === 'POST') {
    const expected =
      session?.csrf_token ?? pending?.session.csrf_token ?? cookies[names.csrf] ?? null;
    const from = {
      secFetchSite: headerValue(request.headers['sec-fetch-site']),
      origin: headerValue(request.headers.origin),
    };
    if (
      !postFromIndexOrigin(from, new URL(s.publicUrl()).origin) ||
      !csrfMatches(expected, csrfOfBody(request.body))
    ) {
      await sendPage(reply, errorPage(ctx, 403, CSRF_FAILURE), 403);
      return;
    }
  }
  if (ctx.mustEnrol2fa && !ENROLMENT_PATHS.includes(ctx.path)) {
    if (request.method === 'GET') {
      await reply.redirect('/account/2fa', 303);
      return;
    }
    await sendPage(
      reply,
      errorPage(ctx, 403, 'Administrators must set up two-factor authentication first.'),
      403,
    );
    return;
  }
}

/**
 * Starts a signed-in (or TOTP-pending) session for the browser: the one way in, for a password
 * and for a company sign-in (`ssoProvider`, whose session_max_age bounds the session) alike.
 */
export async function startSession(
  s: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  user: User,
  pending2fa: boolean,
  ssoProvider: string | null = null,
): Promise<void> {
  const secure = isSecure(s);
  const names = cookieNames(secure);
  await s.web.sessions.deleteExpired();
  const sso = ssoProvider === null ? null : s.sso.sessionBound(ssoProvider);
  const { token } = await s.web.sessions.create(user, {
    pending2fa,
    ip: request.ip ?? null,
    userAgent: request.headers['user-agent'] ?? null,
    sso,
  });
  reply.setCookie(names.session, token, cookieOptions(secure, sessionLifetimeMs(sso) / 1000));
  // The pre-session CSRF token is of no use any more (the session has its own).
  reply.clearCookie(names.csrf, cookieOptions(secure));
}

export function endSessionCookie(s: Services, reply: FastifyReply): void {
  const secure = isSecure(s);
  reply.clearCookie(cookieNames(secure).session, cookieOptions(secure));
}
