// An organisation keeps at least one owner: the rule for removing or demoting one, and for
// removing a user.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** The organisations (names, sorted) whose only owner is `userId`. */
export async function soleOwnedOrganizations(
  db: Kysely<Database>,
  userId: number,
): Promise<string[]> {
  const owners = await db
    .selectFrom('organization_members')
    .innerJoin('organizations', 'organizations.id', 'organization_members.organization_id')
    .select(['organizations.name', 'organization_members.user_id'])
    .where('organization_members.role', '=', 'owner')
    .where('organization_members.organization_id', 'in', (eb) =>
      eb
        .selectFrom('organization_members')
        .select('organization_id')
        .where('user_id', '=', userId)
        .where('role', '=', 'owner'),
    )
    .execute();
  const others = new Map<string, number>();
  for (const o of owners)
    others.set(o.name, (others.get(o.name) ?? 0) + (Number(o.user_id) === userId ? 0 : 1));
  return [...others.entries()]
    .filter(([, n]) => n === 0)
    .map(([name]) => name)
    .sort();
}
