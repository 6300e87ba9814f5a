// The rules of a company sign-in, pure functions over plain data (the SSO service loads the rows
// and asks; tests run them as tables):
// - an identity is the pair (issuer, subject): never an e-mail address or a user name, which a
//   provider may reassign;
// - the user name claim names the pier user created at the first sign-in, and must be a valid pier
//   user name; an existing pier user of that name is never taken over (an administrator links it);
// - the groups claim is a list of strings (a single string counts as one group), stored as sent;
// - with allowed groups configured, a user in none of them is refused, and a linked pier user is
//   disabled until a later sign-in shows one of them again.
import { groupProblem, MAX_GROUPS } from '../orgs/groups.js';

/** pier's user names (src/auth/service.ts addUser). */
export const SSO_USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

export type SsoRefusalCode =
  'bad-username' | 'bad-groups' | 'not-allowed' | 'name-taken' | 'no-account' | 'disabled';

export interface SsoRefusal {
  ok: false;
  code: SsoRefusalCode;
  reason: string;
}

function refuse(code: SsoRefusalCode, reason: string): SsoRefusal {
  return { ok: false, code, reason };
}

/** The user name an ID token's claims give, or why they give none. */
export function usernameFromClaims(
  claims: Record<string, unknown>,
  claim: string,
): { ok: true; value: string } | SsoRefusal {
  const value = claims[claim];
  if (value === undefined)
    return refuse('bad-username', `The provider sent no '${claim}' claim to name the user.`);
  if (typeof value !== 'string')
    return refuse('bad-username', `The '${claim}' claim must be a string, got ${typeof value}.`);
  // An e-mail address as user name: its local part (the provider vouches for the whole address).
  const name = value.includes('@') ? value.slice(0, value.indexOf('@')) : value;
  if (!SSO_USERNAME_RE.test(name))
    return refuse(
      'bad-username',
      `The '${claim}' claim '${value.slice(0, 80)}' is not a valid pier user name (1 to 50 letters, digits, '.', '_' or '-').`,
    );
  return { ok: true, value: name };
}

/** The groups an ID token's claims carry: absent is none; anything but strings is refused. */
export function groupsFromClaims(
  claims: Record<string, unknown>,
  claim: string,
): { ok: true; value: string[] } | SsoRefusal {
  const value = claims[claim];
  if (value === undefined || value === null) return { ok: true, value: [] };
  if (typeof value === 'string') return { ok: true, value: [value] };
  if (!Array.isArray(value) || !value.every((g) => typeof g === 'string'))
    return refuse('bad-groups', `The '${claim}' claim must be a list of strings.`);
  // The rules of a group are those of the teams they map to (src/orgs/groups.ts): a claim that
  // breaks them is refused here, before the sign-in changes anything.
  if (value.length > MAX_GROUPS)
    return refuse('bad-groups', `The '${claim}' claim lists more than ${MAX_GROUPS} groups.`);
  for (const g of value) {
    const problem = groupProblem(g);
    if (problem) return refuse('bad-groups', `The '${claim}' claim: ${problem}.`);
  }
  return { ok: true, value: [...new Set(value as string[])] };
}

/** Whether the groups let the user in: any group when none are required. */
export function inAllowedGroups(groups: readonly string[], allowed: readonly string[]): boolean {
  return allowed.length === 0 || groups.some((g) => allowed.includes(g));
}

export interface SignInFacts {
  provider: { displayName: string; allowedGroups: string[]; createUsers: boolean };
  /** The pier user linked to this (issuer, subject), if any. */
  linked: { userId: number; disabled: boolean; disabledByProvider: boolean } | null;
  /** The user name the claims give. */
  username: string;
  /** Whether a pier user of that name exists (only asked when nothing is linked). */
  nameTaken: boolean;
  groups: string[];
}

export type SignInPlan =
  | { ok: true; kind: 'existing'; userId: number; reenable: boolean }
  | { ok: true; kind: 'create'; username: string }
  | (SsoRefusal & { disableUserId: number | null });

/** What a verified sign-in does. */
export function planSignIn(f: SignInFacts): SignInPlan {
  if (!inAllowedGroups(f.groups, f.provider.allowedGroups)) {
    const disable = f.linked !== null && !f.linked.disabled ? f.linked.userId : null;
    return {
      ...refuse(
        'not-allowed',
        `${f.provider.displayName} says you are not in a group allowed to use this index.`,
      ),
      disableUserId: disable,
    };
  }
  if (f.linked) {
    if (f.linked.disabled && !f.linked.disabledByProvider)
      return {
        ...refuse('disabled', 'Your pier account is disabled. Ask an administrator.'),
        disableUserId: null,
      };
    return {
      ok: true,
      kind: 'existing',
      userId: f.linked.userId,
      reenable: f.linked.disabled && f.linked.disabledByProvider,
    };
  }
  if (f.nameTaken)
    return {
      ...refuse(
        'name-taken',
        `A pier account named '${f.username}' exists already and is not linked to ${f.provider.displayName}: it is not taken over. An administrator can link it (pier sso link).`,
      ),
      disableUserId: null,
    };
  if (!f.provider.createUsers)
    return {
      ...refuse(
        'no-account',
        `No pier account is linked to your ${f.provider.displayName} identity, and this index does not create accounts at sign-in. Ask an administrator.`,
      ),
      disableUserId: null,
    };
  return { ok: true, kind: 'create', username: f.username };
}
