// Organisation and team names. An organisation's name is written like a user name and shares
// their namespace: both appear as owners (a project's `ownership`, `pier org`, the web pages),
// so a name never means a user in one place and an organisation in another. Like user names,
// they are compared lowercased ('Acme' and 'acme' are one name).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { badRequest, conflict } from '../errors.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

export function nameKey(name: string): string {
  return name.toLowerCase();
}

/** The refusal for a malformed organisation or team name, or null. */
export function nameProblem(kind: 'organisation' | 'team', name: string): string | null {
  return NAME_RE.test(name)
    ? null
    : `Invalid ${kind} name '${name}': use 1 to 50 letters, digits, '.', '_' or '-', starting with a letter or digit`;
}

/** Refuses a new organisation's name that is malformed or taken by a user or an organisation. */
export async function checkOrganizationName(db: Kysely<Database>, name: string): Promise<void> {
  const problem = nameProblem('organisation', name);
  if (problem) throw badRequest(problem);
  if (
    await db
      .selectFrom('users')
      .select('id')
      .where('username_key', '=', nameKey(name))
      .executeTakeFirst()
  )
    throw conflict(`The name '${name}' is a user's: organisations and users never share a name`);
  if (
    await db
      .selectFrom('organizations')
      .select('id')
      .where('name_key', '=', nameKey(name))
      .executeTakeFirst()
  )
    throw conflict(`An organisation named '${name}' already exists`);
}

/** Refuses a new user's name that an organisation has. */
export async function checkUserNameIsNoOrganization(
  db: Kysely<Database>,
  username: string,
): Promise<void> {
  if (
    await db
      .selectFrom('organizations')
      .select('id')
      .where('name_key', '=', nameKey(username))
      .executeTakeFirst()
  )
    throw conflict(
      `The name '${username}' is an organisation's: organisations and users never share a name`,
    );
}
