// Projects and the roles people have in them.
import type { Kysely } from 'kysely';
import type { Database, Project, User } from '../db/schema.js';
import { badRequest, conflict, forbidden, notFound, type PierError } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import {
  isValidProjectName,
  normalizeProjectName,
  ultranormalizeProjectName,
} from '../packaging/names.js';
import {
  isSiteAdmin,
  mayAdministerProject,
  mayCreateInAnyNamespace,
  mayCreateProjects,
  mayReadProject,
  ROLES,
  type ProjectAccess,
  type Role,
} from '../auth/permissions.js';
import { principalUser, type Principal } from '../auth/principal.js';
import { ownerFor, requireUserByName } from '../auth/users.js';
import { bumpSerial } from './journal.js';
import { isUniqueViolation } from '../db/errors.js';
import type { NamespaceService } from '../namespaces/service.js';
import type { Creator } from '../namespaces/rules.js';
import { withHelp } from '../help.js';
import { effectiveRoles } from '../orgs/roles.js';

export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const PROJECT_STATUSES = ['active', 'archived', 'quarantined', 'deprecated'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

/** Who creates a project, as the namespace rule sees it: its owner, and whether an admin acts. */
export function creatorOf(actor: Actor, owner: Pick<User, 'id'> | null): Creator {
  return { ownerId: owner?.id ?? null, admin: mayCreateInAnyNamespace(actor.principal) };
}

/** The one answer for a project that is missing or that the caller may not read. */
export function noSuchProject(name: string): PierError {
  return notFound(`No project named '${name}'`);
}

export class ProjectService {
  /**
   * Whether a name exists on the upstream index this one proxies (src/proxy), or null without
   * one. Set once the proxy is opened.
   */
  upstreamHas: ((name: string) => Promise<boolean>) | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: {
      anyUserMayCreateProjects: boolean;
      readAccess: 'public' | 'authenticated';
    },
    private readonly namespaces: NamespaceService,
  ) {}

  /**
   * The guard's creation rule: a new project whose name exists upstream would shadow the public
   * one for everyone who installs through this index, so it is made only by an administrator who
   * says so (`shadowUpstream`); every other way of creating a project is refused. Called outside
   * any transaction (it may ask the upstream).
   */
  async checkNotOnUpstream(
    actor: Actor,
    name: string,
    options: { shadowUpstream?: boolean } = {},
  ): Promise<void> {
    if (options.shadowUpstream) {
      if (!isSiteAdmin(actor.principal))
        throw forbidden('Only administrators can create a project that shadows an upstream one');
      return;
    }
    if (this.upstreamHas && (await this.upstreamHas(name)))
      throw conflict(
        `The name '${name}' exists on the upstream index: a project here would replace it for ` +
          `everyone. An administrator can create it deliberately (pier project create ${name} --shadow-upstream).`,
      );
  }

  async find(name: string, db: Kysely<Database> = this.db): Promise<Project | undefined> {
    return db
      .selectFrom('projects')
      .selectAll()
      .where('normalized_name', '=', normalizeProjectName(name))
      .executeTakeFirst();
  }

  /**
   * The project named `name`, if `p` may read it. A project the caller may not read answers
   * exactly like a missing one, so that no endpoint tells a stranger that a private name exists.
   */
  async require(name: string, p: Principal, db: Kysely<Database> = this.db): Promise<Project> {
    const project = await this.find(name, db);
    if (!project || !(await this.mayRead(p, project, db))) throw noSuchProject(name);
    return project;
  }

  async mayRead(p: Principal, project: Project, db: Kysely<Database> = this.db): Promise<boolean> {
    return mayReadProject(p, await this.access(p, project, db), this.options.readAccess);
  }

  /** The user's effective role in the project: their own, their teams', their organisation's. */
  async roleOf(
    userId: number | undefined,
    projectId: number,
    db: Kysely<Database> = this.db,
  ): Promise<Role | null> {
    if (userId === undefined) return null;
    return (await effectiveRoles(db, userId, [projectId])).get(projectId) ?? null;
  }

  /** The user's own role in the project (project_roles), as `pier project role` changes it. */
  async ownRoleOf(userId: number, projectId: number, db: Kysely<Database>): Promise<Role | null> {
    const row = await db
      .selectFrom('project_roles')
      .select('role')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return (row?.role as Role | undefined) ?? null;
  }

  async access(
    p: Principal,
    project: Project,
    db: Kysely<Database> = this.db,
  ): Promise<ProjectAccess> {
    const user = principalUser(p);
    return { project, role: await this.roleOf(user?.id, project.id, db) };
  }

  /**
   * The naming rules a new project must pass (PyPI's check_project_name, less its policy on
   * standard-library names): a valid name, not taken, not in a reserved namespace (PEP 752) its
   * owner has no grant for, not too similar to an existing one.
   */
  async checkNewName(
    name: string,
    creator: Creator,
    db: Kysely<Database> = this.db,
  ): Promise<void> {
    if (!isValidProjectName(name))
      throw withHelp(badRequest(`The name '${name}' is invalid.`), 'project-name');
    // One query for both rules: under PostgreSQL's read-committed isolation two statements could
    // see different projects, and a project made in between must read as taken, not as similar.
    const normalized = normalizeProjectName(name);
    const existing = await db
      .selectFrom('projects')
      .select('normalized_name')
      .where((eb) =>
        eb.or([
          eb('normalized_name', '=', normalized),
          eb('similarity_key', '=', ultranormalizeProjectName(name)),
        ]),
      )
      .execute();
    if (existing.some((p) => p.normalized_name === normalized))
      throw withHelp(
        conflict(`The name '${name}' conflicts with an existing project.`),
        'project-name',
      );
    await this.namespaces.checkMayCreate(name, creator, db);
    if (existing.length)
      throw withHelp(
        badRequest(`The name '${name}' is too similar to an existing project.`),
        'project-name',
      );
  }

  /** Inserts a project (inside the caller's transaction) owned by `owner`, if any. */
  async insert(
    db: Kysely<Database>,
    actor: Actor,
    name: string,
    owner: User | null,
    /** For an organisation's project: the organisation, and who creates it for the naming rules. */
    org: { organizationId: number; creatorId: number | null } | null = null,
  ): Promise<Project> {
    await this.checkNewName(
      name,
      org
        ? { ownerId: org.creatorId, admin: mayCreateInAnyNamespace(actor.principal) }
        : creatorOf(actor, owner),
      db,
    );
    const now = Date.now();
    const project = await db
      .insertInto('projects')
      .values({
        name,
        normalized_name: normalizeProjectName(name),
        similarity_key: ultranormalizeProjectName(name),
        private: 0,
        status: 'active',
        created_at: now,
        last_serial: 0,
        organization_id: org?.organizationId ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (owner) {
      await db
        .insertInto('project_roles')
        .values({ project_id: project.id, user_id: owner.id, role: 'owner', created_at: now })
        .execute();
    }
    project.last_serial = await bumpSerial(db, project.id, 'create');
    // Other people's pending publishers for this name can never create it now (PyPI's rule);
    // the owner's own survive and are refused at their exchange.
    const invalidated = await db
      .deleteFrom('publishers')
      .where('pending_normalized_name', '=', project.normalized_name)
      .where((eb) =>
        org
          ? eb.or([
              eb('organization_id', '!=', org.organizationId),
              eb('organization_id', 'is', null),
            ])
          : owner
            ? eb.or([eb('added_by_user_id', '!=', owner.id), eb('added_by_user_id', 'is', null)])
            : eb.lit(true),
      )
      .returning('id')
      .execute();
    await recordAudit(db, actor, {
      action: 'project-create',
      project: { id: project.id, name: project.name },
      details: {
        owner: owner?.username ?? null,
        ...(org ? { organization_id: org.organizationId } : {}),
        ...(invalidated.length
          ? { pending_publishers_invalidated: invalidated.map((r) => r.id) }
          : {}),
      },
    });
    return project;
  }

  async create(
    actor: Actor,
    name: string,
    ownerName?: string,
    options: { shadowUpstream?: boolean } = {},
  ): Promise<Project> {
    if (!mayCreateProjects(actor.principal, this.options.anyUserMayCreateProjects))
      throw forbidden('You are not allowed to create projects');
    if (isValidProjectName(name) && !(await this.find(name)))
      await this.checkNotOnUpstream(actor, name, options);
    return this.db
      .transaction()
      .execute(async (trx) => {
        const owner = await ownerFor(
          trx,
          actor,
          ownerName,
          'Only administrators can create projects owned by someone else',
        );
        return this.insert(trx, actor, name, owner);
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw withHelp(
            conflict(`The name '${name}' conflicts with an existing project.`),
            'project-name',
          );
        throw err;
      });
  }

  private async requireAdminister(actor: Actor, name: string): Promise<Project> {
    const project = await this.require(name, actor.principal);
    if (!mayAdministerProject(actor.principal, await this.access(actor.principal, project)))
      throw forbidden(`You are not an owner of project '${project.name}'`);
    return project;
  }

  async setRole(actor: Actor, projectName: string, username: string, role: Role): Promise<void> {
    if (!ROLES.includes(role)) throw badRequest(`Unknown role '${role}': use owner or maintainer`);
    const project = await this.requireAdminister(actor, projectName);
    await this.db.transaction().execute(async (trx) => {
      const user = await requireUserByName(trx, username);
      const existing = await this.ownRoleOf(user.id, project.id, trx);
      if (existing === 'owner' && role !== 'owner')
        await this.ensureAnotherOwner(trx, project, user.id);
      if (existing === null)
        await trx
          .insertInto('project_roles')
          .values({ project_id: project.id, user_id: user.id, role, created_at: Date.now() })
          .execute();
      else
        await trx
          .updateTable('project_roles')
          .set({ role })
          .where('project_id', '=', project.id)
          .where('user_id', '=', user.id)
          .execute();
      // The Simple JSON page's `namespaces[].owned` follows the project's owners (PEP 752).
      await bumpSerial(trx, project.id, 'role');
      await recordAudit(trx, actor, {
        action: 'role-set',
        project: { id: project.id, name: project.name },
        details: { user: user.username, role, previous: existing },
      });
    });
  }

  async removeRole(actor: Actor, projectName: string, username: string): Promise<void> {
    const project = await this.requireAdminister(actor, projectName);
    await this.db.transaction().execute(async (trx) => {
      const user = await requireUserByName(trx, username);
      const existing = await this.ownRoleOf(user.id, project.id, trx);
      if (existing === null) throw notFound(`'${user.username}' has no role in '${project.name}'`);
      if (existing === 'owner') await this.ensureAnotherOwner(trx, project, user.id);
      await trx
        .deleteFrom('project_roles')
        .where('project_id', '=', project.id)
        .where('user_id', '=', user.id)
        .execute();
      await bumpSerial(trx, project.id, 'role');
      await recordAudit(trx, actor, {
        action: 'role-remove',
        project: { id: project.id, name: project.name },
        details: { user: user.username, role: existing },
      });
    });
  }

  private async ensureAnotherOwner(db: Kysely<Database>, project: Project, leavingUserId: number) {
    // An organisation's owners own its projects (and an organisation keeps one owner).
    if (project.organization_id !== null) return;
    const others = await db
      .selectFrom('project_roles')
      .select('user_id')
      .where('project_id', '=', project.id)
      .where('role', '=', 'owner')
      .where('user_id', '!=', leavingUserId)
      .execute();
    if (others.length === 0) throw badRequest(`'${project.name}' must keep at least one owner`);
  }

  async roles(projectId: number): Promise<{ user: string; role: Role }[]> {
    const rows = await this.db
      .selectFrom('project_roles')
      .innerJoin('users', 'users.id', 'project_roles.user_id')
      .select(['users.username', 'project_roles.role'])
      .where('project_roles.project_id', '=', projectId)
      .orderBy('users.username_key')
      .execute();
    return rows.map((r) => ({ user: r.username, role: r.role as Role }));
  }

  async update(
    actor: Actor,
    projectName: string,
    changes: {
      private?: boolean;
      status?: ProjectStatus;
      trustedPublishingOnly?: boolean;
      requireAttestations?: boolean;
      stageUploads?: boolean;
    },
  ): Promise<Project> {
    const project = await this.requireAdminister(actor, projectName);
    if (changes.status !== undefined && !PROJECT_STATUSES.includes(changes.status))
      throw badRequest(
        `Unknown project status '${String(changes.status)}': use ${PROJECT_STATUSES.join(', ')}`,
      );
    if (changes.status === 'quarantined' && !isSiteAdmin(actor.principal))
      throw forbidden('Only administrators can quarantine a project');
    return this.db.transaction().execute(async (trx) => {
      const set: Partial<
        Pick<
          Project,
          | 'private'
          | 'status'
          | 'trusted_publishing_only'
          | 'require_attestations'
          | 'stage_uploads'
        >
      > = {};
      if (changes.stageUploads !== undefined) set.stage_uploads = changes.stageUploads ? 1 : 0;
      if (changes.private !== undefined) set.private = changes.private ? 1 : 0;
      if (changes.requireAttestations !== undefined)
        set.require_attestations = changes.requireAttestations ? 1 : 0;
      if (changes.status !== undefined) set.status = changes.status;
      if (changes.trustedPublishingOnly !== undefined)
        set.trusted_publishing_only = changes.trustedPublishingOnly ? 1 : 0;
      if (set.trusted_publishing_only === 1 && project.trusted_publishing_only !== 1) {
        const publisher = await trx
          .selectFrom('publisher_projects')
          .select('publisher_id')
          .where('project_id', '=', project.id)
          .executeTakeFirst();
        if (!publisher)
          throw conflict(
            `Project '${project.name}' has no trusted publisher: add one before making it trusted-publishing-only, or nothing could upload to it.`,
          );
      }
      if (Object.keys(set).length > 0)
        await trx.updateTable('projects').set(set).where('id', '=', project.id).execute();
      await bumpSerial(trx, project.id, 'change');
      await recordAudit(trx, actor, {
        action: 'project-change',
        project: { id: project.id, name: project.name },
        details: changes,
      });
      return await trx
        .selectFrom('projects')
        .selectAll()
        .where('id', '=', project.id)
        .executeTakeFirstOrThrow();
    });
  }

  /** Projects a principal may see in listings (the read rule: mayReadProject), by name. */
  async listVisible(
    p: Principal,
    readAccess: 'public' | 'authenticated' = this.options.readAccess,
  ): Promise<Project[]> {
    return this.filterReadable(p, await this.listAll(), readAccess);
  }

  /** Every project, by name. */
  async listAll(): Promise<Project[]> {
    // Sorted here, by code point: a database's collation would order names differently on
    // SQLite and on PostgreSQL, and the Simple index must be the same everywhere.
    return (await this.db.selectFrom('projects').selectAll().execute()).sort((x, y) =>
      byCodePoint(x.normalized_name, y.normalized_name),
    );
  }

  /** The projects of `projects` that `p` may read, in the same order. */
  async filterReadable<T extends Pick<Project, 'id' | 'private' | 'status'>>(
    p: Principal,
    projects: T[],
    readAccess: 'public' | 'authenticated' = this.options.readAccess,
  ): Promise<T[]> {
    const user = principalUser(p);
    const roles =
      user && projects.some((project) => project.private === 1)
        ? await effectiveRoles(
            this.db,
            user.id,
            projects.filter((project) => project.private === 1).map((project) => project.id),
          )
        : new Map<number, Role>();
    return projects.filter((project) =>
      mayReadProject(p, { project, role: roles.get(project.id) ?? null }, readAccess),
    );
  }
}

/** A project as listings show it (`pier project list --json`, `GET /api/projects`). */
export function projectSummary(project: Project) {
  return {
    name: project.name,
    normalized_name: project.normalized_name,
    private: project.private === 1,
    status: project.status,
    trusted_publishing_only: project.trusted_publishing_only === 1,
    /** PEP 740: uploads must carry an attestation that verifies. */
    require_attestations: project.require_attestations === 1,
    /** Staged releases: every upload waits for an owner's or maintainer's approval. */
    stage_uploads: project.stage_uploads === 1,
    created_at: new Date(project.created_at).toISOString(),
    last_serial: project.last_serial,
  };
}
