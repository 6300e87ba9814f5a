// PEP 752 namespaces, persisted: administrators reserve a namespace for an owner, grant it to
// more owners, revoke grants and release it; every change is audited and bumps the serial of the
// projects it covers (their Simple pages show `namespaces`, so cached pages must be rebuilt).
// The rules themselves are in ./rules.ts.
import type { Kysely } from 'kysely';
import type { Database, User } from '../db/schema.js';
import { badRequest, conflict, forbidden, notFound, PierError } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { isSiteAdmin } from '../auth/permissions.js';
import { requireUserByName } from '../auth/users.js';
import { isUniqueViolation } from '../db/errors.js';
import { normalizeProjectName } from '../packaging/names.js';
import { bumpSerial } from '../registry/journal.js';
import { projectOwnerIds } from '../orgs/roles.js';
import {
  candidateNamespaces,
  checkCreation,
  checkNamespaceName,
  checkReservation,
  coveringNamespaces,
  creationRefusal,
  namespaceDetail,
  projectNamespaces,
  type Creator,
  type Grant,
  type NamespaceDetail,
  type ProjectNamespace,
} from './rules.js';

/** The PEP's 409 for a new name in a reserved namespace; `namespace` is the one lacking a grant. */
export class NamespaceReservedError extends PierError {
  constructor(projectName: string, namespace: string) {
    super(409, creationRefusal(projectName, namespace), { namespace });
  }
}

export interface NamespaceView {
  /** Normalized, as the PEP's API shows it. */
  name: string;
  /** As the administrator reserved it. */
  display_name: string;
  owners: string[];
  created_at: string;
}

export class NamespaceService {
  constructor(private readonly db: Kysely<Database>) {}

  // ------------------------------------------------------------------ reading

  /** The grants whose namespace is one of `names` (normalized), with their owners. */
  private async grants(db: Kysely<Database>, names: readonly string[]): Promise<Grant[]> {
    if (names.length === 0) return [];
    const rows = await db
      .selectFrom('namespaces')
      .leftJoin('namespace_owners', 'namespace_owners.namespace_id', 'namespaces.id')
      .select(['namespaces.normalized_name', 'namespace_owners.user_id'])
      .where('namespaces.normalized_name', 'in', names)
      .execute();
    return groupGrants(rows);
  }

  /** The grants covering a project name (at most one per hyphen-separated prefix). */
  grantsCovering(name: string, db: Kysely<Database> = this.db): Promise<Grant[]> {
    return this.grants(db, candidateNamespaces(name));
  }

  /**
   * The most specific reserved namespace covering `name`, or null. For the upstream proxy's
   * guard: a name in a reserved namespace is never fetched from upstream.
   */
  async reservedNamespaceOf(name: string, db: Kysely<Database> = this.db): Promise<string | null> {
    const covering = coveringNamespaces(name, await this.grantsCovering(name, db));
    return covering.length ? covering[covering.length - 1]!.name : null;
  }

  /** Every reserved namespace (normalized), sorted: `GET /namespaces`. */
  async names(): Promise<string[]> {
    const rows = await this.db.selectFrom('namespaces').select('normalized_name').execute();
    return rows.map((r) => r.normalized_name).sort();
  }

  /** `GET /namespace/<namespace>`, or undefined when it is not reserved. */
  async detail(name: string): Promise<NamespaceDetail | undefined> {
    const all = await this.names();
    const normalized = normalizeProjectName(name);
    return all.includes(normalized) ? namespaceDetail(normalized, all) : undefined;
  }

  /** The project detail's `namespaces` key for a project (null when none matches). */
  async ofProject(
    project: { id: number; normalized_name: string },
    db: Kysely<Database> = this.db,
  ): Promise<ProjectNamespace[] | null> {
    const grants = await this.grantsCovering(project.normalized_name, db);
    if (grants.length === 0) return null;
    const owners = await projectOwnerIds(db, project.id);
    return projectNamespaces(project.normalized_name, grants, owners);
  }

  /** Reservations with their owners, for administrators. */
  async list(): Promise<NamespaceView[]> {
    const rows = await this.db
      .selectFrom('namespaces')
      .leftJoin('namespace_owners', 'namespace_owners.namespace_id', 'namespaces.id')
      .leftJoin('users', 'users.id', 'namespace_owners.user_id')
      .select([
        'namespaces.name',
        'namespaces.normalized_name',
        'namespaces.created_at',
        'users.username',
      ])
      .execute();
    const views = new Map<string, NamespaceView>();
    for (const r of rows) {
      let v = views.get(r.normalized_name);
      if (!v) {
        v = {
          name: r.normalized_name,
          display_name: r.name,
          owners: [],
          created_at: new Date(Number(r.created_at)).toISOString(),
        };
        views.set(r.normalized_name, v);
      }
      if (r.username !== null) v.owners.push(r.username);
    }
    return [...views.values()]
      .map((v) => ({ ...v, owners: v.owners.sort() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async view(name: string): Promise<NamespaceView> {
    const normalized = normalizeProjectName(name);
    const found = (await this.list()).find((v) => v.name === normalized);
    if (!found) throw notFound(`No reserved namespace '${name}'`);
    return found;
  }

  // ------------------------------------------------------------------ enforcing

  /**
   * Refuses (409, in the PEP's words) to create a project named `name` for `creator` when it is
   * in a reserved namespace the owner has no grant for. Every path that creates a project asks
   * here (ProjectService.checkNewName), inside the creating transaction when there is one.
   */
  async checkMayCreate(
    name: string,
    creator: Creator,
    db: Kysely<Database> = this.db,
  ): Promise<void> {
    const verdict = checkCreation(name, await this.grantsCovering(name, db), creator);
    if (!verdict.ok) throw new NamespaceReservedError(name, verdict.namespace);
  }

  // ------------------------------------------------------------------ changing

  private requireAdmin(actor: Actor): void {
    if (!isSiteAdmin(actor.principal)) throw forbidden('Only administrators can manage namespaces');
  }

  /** Reserves `name` with `ownerName` as its first owner. */
  async reserve(actor: Actor, name: string, ownerName: string): Promise<NamespaceView> {
    this.requireAdmin(actor);
    const checked = checkNamespaceName(name);
    if (!checked.ok) throw badRequest(checked.reason);
    const normalized = checked.normalized;
    await this.db
      .transaction()
      .execute(async (trx) => {
        const owner = await requireUserByName(trx, ownerName);
        const overlapping = await this.overlapping(trx, normalized);
        const verdict = checkReservation(normalized, owner.id, overlapping);
        if (!verdict.ok)
          throw conflict(
            verdict.code === 'taken'
              ? `The namespace '${verdict.namespace}' is reserved already.`
              : `The namespace '${name}' overlaps the reserved namespace '${verdict.namespace}', which '${owner.username}' does not own.`,
          );
        const now = Date.now();
        const row = await trx
          .insertInto('namespaces')
          .values({ name, normalized_name: normalized, created_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('namespace_owners')
          .values({ namespace_id: row.id, user_id: owner.id, created_at: now })
          .execute();
        const projects = await this.touchCovered(trx, normalized);
        await recordAudit(trx, actor, {
          action: 'namespace-reserve',
          details: { namespace: normalized, name, owner: owner.username, projects },
        });
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw conflict(`The namespace '${normalized}' is reserved already.`);
        throw err;
      });
    return this.view(normalized);
  }

  /** Grants a reserved namespace to one more owner. */
  async grant(actor: Actor, name: string, username: string): Promise<NamespaceView> {
    this.requireAdmin(actor);
    await this.db
      .transaction()
      .execute(async (trx) => {
        const ns = await this.requireNamespace(trx, name);
        const user = await requireUserByName(trx, username);
        if (await this.isOwner(trx, ns.id, user))
          throw conflict(`'${user.username}' has a grant for '${ns.normalized_name}' already.`);
        await trx
          .insertInto('namespace_owners')
          .values({ namespace_id: ns.id, user_id: user.id, created_at: Date.now() })
          .execute();
        const projects = await this.touchCovered(trx, ns.normalized_name);
        await recordAudit(trx, actor, {
          action: 'namespace-grant',
          details: { namespace: ns.normalized_name, user: user.username, projects },
        });
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw conflict(`'${username}' has a grant for '${normalizeProjectName(name)}' already.`);
        throw err;
      });
    return this.view(name);
  }

  /** Revokes one owner's grant; the last owner stays (release the namespace instead). */
  async revoke(actor: Actor, name: string, username: string): Promise<NamespaceView> {
    this.requireAdmin(actor);
    await this.db.transaction().execute(async (trx) => {
      const ns = await this.requireNamespace(trx, name);
      const user = await requireUserByName(trx, username);
      if (!(await this.isOwner(trx, ns.id, user)))
        throw notFound(`'${user.username}' has no grant for '${ns.normalized_name}'`);
      const others = await trx
        .selectFrom('namespace_owners')
        .select('user_id')
        .where('namespace_id', '=', ns.id)
        .where('user_id', '!=', user.id)
        .execute();
      if (others.length === 0)
        throw badRequest(
          `'${ns.normalized_name}' must keep at least one owner: release the namespace instead`,
        );
      await trx
        .deleteFrom('namespace_owners')
        .where('namespace_id', '=', ns.id)
        .where('user_id', '=', user.id)
        .execute();
      const projects = await this.touchCovered(trx, ns.normalized_name);
      await recordAudit(trx, actor, {
        action: 'namespace-revoke',
        details: { namespace: ns.normalized_name, user: user.username, projects },
      });
    });
    return this.view(name);
  }

  /** Releases a namespace: its names are open to anyone again; existing projects are untouched. */
  async release(actor: Actor, name: string): Promise<void> {
    this.requireAdmin(actor);
    await this.db.transaction().execute(async (trx) => {
      const ns = await this.requireNamespace(trx, name);
      await trx.deleteFrom('namespace_owners').where('namespace_id', '=', ns.id).execute();
      await trx.deleteFrom('namespaces').where('id', '=', ns.id).execute();
      const projects = await this.touchCovered(trx, ns.normalized_name);
      await recordAudit(trx, actor, {
        action: 'namespace-release',
        details: { namespace: ns.normalized_name, projects },
      });
    });
  }

  private async requireNamespace(db: Kysely<Database>, name: string) {
    const ns = await db
      .selectFrom('namespaces')
      .selectAll()
      .where('normalized_name', '=', normalizeProjectName(name))
      .executeTakeFirst();
    if (!ns) throw notFound(`No reserved namespace '${name}'`);
    return ns;
  }

  private async isOwner(db: Kysely<Database>, namespaceId: number, user: User): Promise<boolean> {
    const row = await db
      .selectFrom('namespace_owners')
      .select('user_id')
      .where('namespace_id', '=', namespaceId)
      .where('user_id', '=', user.id)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Grants that overlap `normalized`: its reserved prefixes and the namespaces inside it. */
  private async overlapping(db: Kysely<Database>, normalized: string): Promise<Grant[]> {
    const rows = await db
      .selectFrom('namespaces')
      .leftJoin('namespace_owners', 'namespace_owners.namespace_id', 'namespaces.id')
      .select(['namespaces.normalized_name', 'namespace_owners.user_id'])
      .where((eb) =>
        eb.or([
          eb('namespaces.normalized_name', 'in', candidateNamespaces(normalized)),
          // Normalized names hold only [a-z0-9-]: no LIKE wildcard can occur in them.
          eb('namespaces.normalized_name', 'like', `${normalized}-%`),
        ]),
      )
      .execute();
    return groupGrants(rows);
  }

  /**
   * Bumps the serial of every project the namespace covers, so that every process rebuilds their
   * pages (whose `namespaces` key changed); returns their names for the audit entry.
   */
  private async touchCovered(db: Kysely<Database>, normalized: string): Promise<string[]> {
    const covered = await db
      .selectFrom('projects')
      .select(['id', 'normalized_name'])
      .where((eb) =>
        eb.or([
          eb('normalized_name', '=', normalized),
          eb('normalized_name', 'like', `${normalized}-%`),
        ]),
      )
      .orderBy('id')
      .execute();
    for (const p of covered) await bumpSerial(db, p.id, 'namespace');
    return covered.map((p) => p.normalized_name);
  }
}

function groupGrants(rows: { normalized_name: string; user_id: number | null }[]): Grant[] {
  const byName = new Map<string, number[]>();
  for (const r of rows) {
    const owners = byName.get(r.normalized_name) ?? [];
    if (r.user_id !== null) owners.push(Number(r.user_id));
    byName.set(r.normalized_name, owners);
  }
  return [...byName.entries()].map(([name, ownerIds]) => ({ name, ownerIds }));
}
