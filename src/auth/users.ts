// Users named by a request or a command: found case-insensitively (as they sign in), and the
// rule for who may make a user the owner of something — oneself, or anyone for administrators.
import type { Kysely } from 'kysely';
import type { Database, User } from '../db/schema.js';
import { forbidden, notFound } from '../errors.js';
import type { Actor } from '../audit/log.js';
import { isSiteAdmin } from './permissions.js';
import { principalUser } from './principal.js';

export function findUserByName(db: Kysely<Database>, username: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('username_key', '=', username.toLowerCase())
    .executeTakeFirst();
}

export async function requireUserByName(db: Kysely<Database>, username: string): Promise<User> {
  const user = await findUserByName(db, username);
  if (!user) throw notFound(`No user named '${username}'`);
  return user;
}

/**
 * Who will own what `actor` creates: the user named by `ownerName`, or else the actor's own user
 * (null for the operator without a name). Naming someone else takes an administrator; otherwise
 * `refusal` is the 403's message.
 */
export async function ownerFor(
  db: Kysely<Database>,
  actor: Actor,
  ownerName: string | undefined,
  refusal: string,
): Promise<User | null> {
  const self = principalUser(actor.principal);
  if (ownerName === undefined) return self;
  const named = await requireUserByName(db, ownerName);
  if (self?.id !== named.id && !isSiteAdmin(actor.principal)) throw forbidden(refusal);
  return named;
}

/** A user as the CLI's `--json` and the API show it (never a secret). */
export function userJson(u: User) {
  return {
    username: u.username,
    admin: u.is_admin === 1,
    may_create_projects: u.may_create_projects === 1,
    disabled: u.disabled === 1,
    created_at: new Date(u.created_at).toISOString(),
  };
}
