// Teams from an identity provider's groups: a table maps (provider name, group claim value) to
// teams, and at each sign-in through that provider the user's memberships that came from its
// groups are made equal to the teams their groups map to. Memberships added by hand, and those
// of other providers, are never touched. Groups that map to no team are ignored (a provider
// sends every group a user is in); they are returned, not recorded.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { badRequest, notFound } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { hasControlCharacters } from '../text.js';
import { bumpSerial } from '../registry/journal.js';

/** The source of a membership added by hand. */
export const MANUAL = '';

/** At most this many groups are read from one sign-in; more is a broken or hostile provider. */
export const MAX_GROUPS = 1000;

export function providerProblem(provider: unknown): string | null {
  if (typeof provider !== 'string' || provider === '')
    return 'An identity provider name is required';
  if (provider.length > 100 || hasControlCharacters(provider))
    return 'An identity provider name is at most 100 characters, without control characters';
  return null;
}

export function groupProblem(group: unknown): string | null {
  if (typeof group !== 'string' || group === '') return 'A group is a non-empty string';
  if (group.length > 256 || hasControlCharacters(group))
    return 'A group is at most 256 characters, without control characters';
  return null;
}

export interface TeamSync {
  /** Teams joined, as "organisation/team". */
  added: string[];
  /** Teams left. */
  removed: string[];
  /** Groups that map to no team. */
  unmapped: string[];
}

/**
 * Makes `userId`'s memberships from `provider`'s groups equal to the teams `groups` map to, in
 * one transaction, with one audit event when anything changed (none when nothing did, so that
 * signing in again is free). Malformed input (not a list of strings, too many, an empty or
 * control-character group) is refused and changes nothing.
 */
export async function syncTeamsFromGroups(
  db: Kysely<Database>,
  input: { userId: number; provider: string; groups: readonly unknown[]; ip?: string | null },
): Promise<TeamSync> {
  const problem = providerProblem(input.provider);
  if (problem) throw badRequest(problem);
  if (!Array.isArray(input.groups)) throw badRequest('The groups claim must be a list of strings');
  if (input.groups.length > MAX_GROUPS)
    throw badRequest(`The groups claim lists more than ${MAX_GROUPS} groups`);
  for (const g of input.groups) {
    const p = groupProblem(g);
    if (p) throw badRequest(`The groups claim: ${p}`);
  }
  const groups = [...new Set(input.groups as string[])];
  return db.transaction().execute(async (trx) => {
    const user = await trx
      .selectFrom('users')
      .selectAll()
      .where('id', '=', input.userId)
      .executeTakeFirst();
    if (!user) throw notFound(`No user with id ${input.userId}`);
    const mapped = groups.length
      ? await trx
          .selectFrom('group_team_mappings')
          .innerJoin('teams', 'teams.id', 'group_team_mappings.team_id')
          .innerJoin('organizations', 'organizations.id', 'teams.organization_id')
          .select([
            'group_team_mappings.group_name',
            'teams.id',
            'teams.organization_id',
            'teams.name as team',
            'organizations.name as organization',
          ])
          .where('group_team_mappings.provider', '=', input.provider)
          .where('group_team_mappings.group_name', 'in', groups)
          .execute()
      : [];
    const current = await trx
      .selectFrom('team_members')
      .innerJoin('teams', 'teams.id', 'team_members.team_id')
      .innerJoin('organizations', 'organizations.id', 'teams.organization_id')
      .select([
        'teams.id',
        'teams.organization_id',
        'teams.name as team',
        'organizations.name as organization',
      ])
      .where('team_members.user_id', '=', user.id)
      .where('team_members.source', '=', input.provider)
      .execute();
    const label = (t: { organization: string; team: string }) => `${t.organization}/${t.team}`;
    const want = new Map(mapped.map((m) => [Number(m.id), m]));
    const have = new Map(current.map((c) => [Number(c.id), c]));
    const add = [...want.values()].filter((t) => !have.has(Number(t.id)));
    const remove = [...have.values()].filter((t) => !want.has(Number(t.id)));
    const now = Date.now();
    for (const t of add)
      await trx
        .insertInto('team_members')
        .values({ team_id: t.id, user_id: user.id, source: input.provider, created_at: now })
        .execute();
    if (remove.length)
      await trx
        .deleteFrom('team_members')
        .where('user_id', '=', user.id)
        .where('source', '=', input.provider)
        .where(
          'team_id',
          'in',
          remove.map((t) => t.id),
        )
        .execute();
    const result: TeamSync = {
      added: add.map(label).sort(),
      removed: remove.map(label).sort(),
      unmapped: groups.filter((g) => !mapped.some((m) => m.group_name === g)).sort(),
    };
    if (add.length || remove.length) {
      const orgs = new Set([...add, ...remove].map((t) => Number(t.organization_id)));
      const projects = await trx
        .selectFrom('projects')
        .select('id')
        .where('organization_id', 'in', [...orgs])
        .execute();
      for (const p of projects) await bumpSerial(trx, p.id, 'role');
      const actor: Actor = {
        principal: { kind: 'user', user },
        ip: input.ip ?? null,
        name: `${user.username} (sign-in through ${input.provider})`,
      };
      await recordAudit(trx, actor, {
        action: 'team-sync',
        details: {
          user: user.username,
          provider: input.provider,
          added: result.added,
          removed: result.removed,
        },
      });
    }
    return result;
  });
}
