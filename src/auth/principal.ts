// Who is making a request, once credentials have been checked.
import type { TokenRow, User } from '../db/schema.js';

export type Scope = 'read' | 'upload' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'upload', 'admin'];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** read < upload < admin: each scope includes the ones before it. */
export function scopeIncludes(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

export type Principal =
  | { kind: 'anonymous' }
  /** The person at the server's command line: may do anything. */
  | { kind: 'operator'; name: string }
  /** A user who gave their password (or has a session): the user's full rights. */
  | { kind: 'user'; user: User }
  /** An API token, of a user or minted for a trusted publisher. */
  | {
      kind: 'token';
      token: TokenRow;
      user: User | null;
      /** null when the token may act on every project its owner may. */
      projectIds: ReadonlySet<number> | null;
    };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export function principalUser(p: Principal): User | null {
  return p.kind === 'user' || p.kind === 'token' ? p.user : null;
}

export function principalScope(p: Principal): Scope | null {
  switch (p.kind) {
    case 'anonymous':
      return null;
    case 'operator':
    case 'user':
      return 'admin';
    case 'token':
      return p.token.scope as Scope;
  }
}

/** How the audit log names the actor. */
export function describePrincipal(p: Principal): string {
  switch (p.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'operator':
      return `cli (${p.name})`;
    case 'user':
      return p.user.username;
    case 'token':
      if (p.token.publisher_id !== null)
        return `trusted publisher ${p.token.publisher_id} (token ${p.token.id})`;
      return `${p.user?.username ?? '?'} (token ${p.token.id})`;
  }
}
