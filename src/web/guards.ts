// What a page needs before it renders: a signed-in user (else to the sign-in page, and back).
import type { FastifyRequest } from 'fastify';
import type { User } from '../db/schema.js';
import { forbidden, notFound } from '../errors.js';
import { WebRedirect, type WebContext } from './context.js';

export function loginRedirect(request: FastifyRequest): WebRedirect {
  const next = request.method === 'GET' ? request.url : '/';
  return new WebRedirect(`/login?next=${encodeURIComponent(next)}`);
}

export function requireUser(ctx: WebContext, request: FastifyRequest): User {
  if (!ctx.user) throw loginRedirect(request);
  return ctx.user;
}

export function requireAdmin(ctx: WebContext, request: FastifyRequest): User {
  const user = requireUser(ctx, request);
  if (!ctx.isAdmin) throw forbidden('Only administrators can see this page');
  return user;
}

/** A positive integer id from a URL parameter. */
export function idParam(text: string | undefined, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw notFound(`No ${what} with id ${text}`);
  return n;
}
