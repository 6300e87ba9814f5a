// A pending publisher's conversion, next to the publishers it converts: on its first successful
// exchange, a pending publisher creates its project (owned by whoever registered it) and becomes
// a real publisher of it, inside the exchange's transaction, so that the project, the publisher
// and the minted token are written together or not at all.
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/log.js';
import type { Database, PublisherRow, User } from '../db/schema.js';
import { PierError } from '../errors.js';
import type { ProjectService } from '../registry/projects.js';
import { readStoredConfig } from './providers/index.js';
import type { Claims, Provider } from './providers/types.js';
import { pendingExpiry, publisherActor, type PublisherService } from './publishers.js';
import { ExchangeError } from './verify.js';
import { linkGrants } from '../auth/permissions.js';
import { effectiveRoles } from '../orgs/roles.js';

export class PendingConversion {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly publishers: PublisherService,
    private readonly projects: ProjectService,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A pending publisher's first exchange: creates its project (owned by whoever registered it)
   * and turns it into a real publisher (or links the identical one that exists already). A
   * pending publisher that cannot create its project (expired, the name taken, its registrant
   * disabled or no longer allowed to create projects) creates nothing: the exchange goes on with
   * the job's real publishers when there are any (`others`), and fails when there are none.
   *
   * When the job already has real publishers, their projects' owners are the ones who chose it:
   * a pending publisher then creates its project only if its registrant owns one of them, so
   * that registering someone else's job never gets a project created by that job's releases.
   */
  async convertIfUsable(
    trx: Kysely<Database>,
    pending: PublisherRow,
    provider: Provider<unknown>,
    claims: Claims,
    ip: string | null,
    others: number[],
  ): Promise<PublisherRow | null> {
    const owner: User | null =
      pending.added_by_user_id === null
        ? null
        : ((await trx
            .selectFrom('users')
            .selectAll()
            .where('id', '=', pending.added_by_user_id)
            .executeTakeFirst()) ?? null);
    const problem =
      (await this.pendingProblem(trx, pending, owner)) ??
      (others.length > 0 && !(await this.registrantOwnsAProjectOf(trx, pending, owner, others))
        ? {
            reason:
              'its registrant owns none of the projects whose publishers already trust this job',
            drop: false,
          }
        : null);
    if (problem === null) return this.convert(trx, pending, owner, provider, claims, ip);
    const drop = async (db: Kysely<Database>) => {
      await db.deleteFrom('publishers').where('id', '=', pending.id).execute();
    };
    if (others.length > 0) {
      if (problem.drop) await drop(trx);
      await recordAudit(trx, publisherActor(provider, pending, ip), {
        action: 'pending-publisher-not-used',
        details: {
          publisher_id: pending.id,
          project: pending.pending_name,
          reason: problem.reason,
          claims: provider.provenance(claims),
        },
      });
      return null;
    }
    const error = new ExchangeError(
      'invalid-pending-publisher',
      `valid token, but ${problem.reason}`,
    );
    // Removed once this (failed) transaction is over.
    if (problem.drop) error.afterwards = () => drop(this.db);
    throw error;
  }

  /**
   * Whether the pending publisher's registrant owns a project of one of `publisherIds`: for an
   * organisation's, the organisation owns one; for a user's, the user's effective role is owner.
   * Only projects the job may upload to count: trusting a job to install one's own project is
   * open to anyone, so it is no say in what the job's releases create.
   */
  private async registrantOwnsAProjectOf(
    trx: Kysely<Database>,
    pending: PublisherRow,
    user: User | null,
    publisherIds: number[],
  ): Promise<boolean> {
    if (pending.organization_id === null)
      return user !== null && this.ownsAProjectOf(trx, user, publisherIds);
    const rows = await trx
      .selectFrom('publisher_projects')
      .innerJoin('projects', 'projects.id', 'publisher_projects.project_id')
      .select('publisher_projects.access')
      .where('publisher_projects.publisher_id', 'in', publisherIds)
      .where('projects.organization_id', '=', pending.organization_id)
      .execute();
    return rows.some((r) => linkGrants(r.access, 'upload'));
  }

  /** Whether `user`'s effective role is owner in a project one of `publisherIds` may upload to. */
  private async ownsAProjectOf(
    trx: Kysely<Database>,
    user: User,
    publisherIds: number[],
  ): Promise<boolean> {
    const linked = (
      await trx
        .selectFrom('publisher_projects')
        .select(['project_id', 'access'])
        .where('publisher_id', 'in', publisherIds)
        .execute()
    ).filter((l) => linkGrants(l.access, 'upload'));
    const roles = await effectiveRoles(
      trx,
      user.id,
      linked.map((l) => Number(l.project_id)),
    );
    return [...roles.values()].includes('owner');
  }

  /** Why a pending publisher cannot create its project now (`drop`: it never will), or null. */
  private async pendingProblem(
    trx: Kysely<Database>,
    pending: PublisherRow,
    owner: User | null,
  ): Promise<{ reason: string; drop: boolean } | null> {
    if (pendingExpiry(pending) <= this.now())
      return { reason: 'the pending publisher has expired', drop: false };
    // The project was created another way since: this pending publisher is of no use.
    if (await this.projects.find(pending.pending_name!, trx))
      return { reason: 'project already exists', drop: true };
    try {
      await this.projects.checkNewName(
        pending.pending_name!,
        { ownerId: owner?.id ?? null, admin: false },
        trx,
      );
    } catch (err) {
      if (!(err instanceof PierError)) throw err;
      // Too similar to a project, or in a namespace its owner has no grant for (PEP 752): it may
      // become usable later, so it is kept.
      return { reason: err.message, drop: false };
    }
    const refusal =
      pending.organization_id !== null
        ? await this.organizationRegistrantRefusal(trx, pending, owner)
        : this.publishers.registrantRefusal(owner);
    if (refusal !== null) return { reason: refusal, drop: false };
    return null;
  }

  /**
   * An organisation's pending publisher creates its project while whoever registered it is
   * still an owner of the organisation (or an administrator); the operator's need no one.
   */
  private async organizationRegistrantRefusal(
    trx: Kysely<Database>,
    pending: PublisherRow,
    registrant: User | null,
  ): Promise<string | null> {
    if (pending.added_by_user_id === null) return null;
    if (registrant === null || registrant.disabled === 1)
      return "the pending publisher's registrant is gone or disabled";
    if (registrant.is_admin === 1) return null;
    const member = await trx
      .selectFrom('organization_members')
      .select('role')
      .where('organization_id', '=', pending.organization_id!)
      .where('user_id', '=', registrant.id)
      .executeTakeFirst();
    return member?.role === 'owner'
      ? null
      : "the pending publisher's registrant is no longer an owner of its organisation";
  }

  private async convert(
    trx: Kysely<Database>,
    pending: PublisherRow,
    owner: User | null,
    provider: Provider<unknown>,
    claims: Claims,
    ip: string | null,
  ): Promise<PublisherRow> {
    const name = pending.pending_name!;
    const actor = publisherActor(provider, pending, ip);
    let project;
    try {
      // An organisation's pending publisher creates the project for the organisation: no
      // personal owner; its registrant's namespace grants apply (pendingProblem).
      project =
        pending.organization_id !== null
          ? await this.projects.insert(trx, actor, name, null, {
              organizationId: pending.organization_id,
              creatorId: owner?.id ?? null,
            })
          : await this.projects.insert(trx, actor, name, owner!);
    } catch (err) {
      if (err instanceof PierError) throw new ExchangeError('invalid-payload', err.message);
      throw err;
    }
    const existing = await trx
      .selectFrom('publishers')
      .selectAll()
      .where('identity_key', '=', pending.identity_key)
      .where('pending_name', 'is', null)
      .executeTakeFirst();
    let publisher: PublisherRow;
    if (existing) {
      await trx.deleteFrom('publishers').where('id', '=', pending.id).execute();
      publisher = existing;
    } else {
      publisher = await trx
        .updateTable('publishers')
        .set({ pending_name: null, pending_normalized_name: null })
        .where('id', '=', pending.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    await trx
      .insertInto('publisher_projects')
      .values({ publisher_id: publisher.id, project_id: project.id, created_at: this.now() })
      .execute();
    await recordAudit(trx, actor, {
      action: 'publisher-add',
      project: { id: project.id, name: project.name },
      details: {
        publisher_id: publisher.id,
        publisher: provider.describe(readStoredConfig(provider, publisher.config_json)),
        reified_from_pending_publisher: true,
        claims: provider.provenance(claims),
      },
    });
    return publisher;
  }
}
