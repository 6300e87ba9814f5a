// Trusted publishers: which CI identities (a GitHub repository and workflow, a GitLab project
// and pipeline file, …) may publish which projects; and pending publishers, registered for a
// project that does not exist yet, which create it on their first successful exchange.
// Persistence lives here; the claim rules are pure functions in ./providers/.
import type { Kysely } from 'kysely';
import type { Database, PublisherRow, User } from '../db/schema.js';
import { badRequest, conflict, forbidden, notFound, PierError } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import {
  isSiteAdmin,
  mayAdministerProject,
  mayCreateProjects,
  mayManageOrganizationPublishers,
} from '../auth/permissions.js';
import { principalUser, type Principal } from '../auth/principal.js';
import { ownerFor } from '../auth/users.js';
import { normalizeProjectName } from '../packaging/names.js';
import type { ProjectService } from '../registry/projects.js';
import type { OrganizationService } from '../orgs/service.js';
import { NamespaceReservedError } from '../namespaces/service.js';
import { PROVIDERS, readStoredConfig } from './providers/index.js';
import type { ConfigInput, Provider, ProviderKind } from './providers/types.js';
import { IssuerService, isProviderKind, type Issuer } from './issuers.js';
import { completeIds } from './id-lookup.js';
import { publishersMayOverlap } from './overlap.js';
import { orgWideCovers, parseOrgWidePattern } from './org-wide.js';

export const PENDING_PUBLISHER_DAYS = 30;
const DAY_MS = 86_400_000;

export interface PublisherView {
  id: number;
  kind: ProviderKind;
  issuer: string;
  description: string;
  config: Record<string, string>;
  url: string | null;
  projects: string[];
  /** Of `projects`, those whose link gives the job's token read access only (trusted access). */
  readOnly: string[];
  /** Of `projects`, those where the publisher's uploads are staged for approval. */
  stageOnly: string[];
  pending: { project: string; addedBy: string | null; expiresAt: string } | null;
  /** An organisation-wide publisher: the organisation, and the glob of its projects it covers. */
  organizationWide: { organization: string; projects: string } | null;
  createdAt: string;
}

export function providerOf(kind: string): Provider<unknown> {
  if (!isProviderKind(kind))
    throw badRequest(`Unknown provider '${kind}': use ${Object.keys(PROVIDERS).join(', ')}`);
  return PROVIDERS[kind];
}

/** Who acts when a publisher's job does something (audit entries of exchanges). */
export function publisherActor(
  provider: Provider<unknown>,
  row: PublisherRow,
  ip: string | null,
): Actor {
  return {
    principal: { kind: 'anonymous' },
    ip,
    name: `trusted publisher ${row.id} (${provider.describe(readStoredConfig(provider, row.config_json))})`,
  };
}

export function identityKey(kind: ProviderKind, issuerUrl: string, identity: string): string {
  return `${kind}\n${issuerUrl}\n${identity}`;
}

/**
 * Who a pending publisher creates its project for: an organisation (`org:ID`, whichever of its
 * owners registered it) or a user (`user:ID`). Pending publishers of different registrants are
 * never chosen between (the exchange fails closed, a later overlapping registration is refused).
 */
export function registrantOf(row: Pick<PublisherRow, 'organization_id' | 'added_by_user_id'>) {
  const org = row.organization_id ?? null;
  return org !== null ? `org:${org}` : `user:${row.added_by_user_id ?? 'none'}`;
}

export function pendingExpiry(row: Pick<PublisherRow, 'created_at'>): number {
  return row.created_at + PENDING_PUBLISHER_DAYS * DAY_MS;
}

/** A registration refused because of its fields: the message names each field's problem. */
function fieldErrors(errors: Record<string, string>): PierError {
  const text = Object.entries(errors)
    .map(([field, message]) => `${field}: ${message}`)
    .join('; ');
  return badRequest(text, { errors });
}

/**
 * What a publisher's link to a project lets the job do there: `upload` (a release, and read
 * the project), or `read` only — trusted access for installs, through /_/oidc/mint-read-token.
 */
export type PublisherAccess = 'upload' | 'read';
export const PUBLISHER_ACCESS: readonly PublisherAccess[] = ['upload', 'read'];

export function parsePublisherAccess(value: string | undefined): PublisherAccess | undefined {
  if (value === undefined) return undefined;
  if (!(PUBLISHER_ACCESS as readonly string[]).includes(value))
    throw badRequest(`Unknown publisher access '${value}': use ${PUBLISHER_ACCESS.join(' or ')}`);
  return value as PublisherAccess;
}

export interface RegistrationInput {
  kind: string;
  fields: ConfigInput;
  /** For a project's publisher: what the job may do in the project (default: upload). */
  access?: PublisherAccess;
  /** For a project's publisher: its uploads are staged until approved (staged releases). */
  stageOnly?: boolean;
  /** The issuer to trust; the provider's built-in issuer when absent. */
  issuerUrl?: string;
}

export class PublisherService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuers: IssuerService,
    private readonly projects: ProjectService,
    private readonly orgs: OrganizationService,
    private readonly options: {
      anyUserMayCreateProjects: boolean;
      /** Pending publishers a user may have at once (PyPI: 3); administrators are not limited. */
      maxPendingPerUser?: number;
      /** Registration attempts per user, and per address, in a day (PyPI: 100). */
      registrationsPerDay?: number;
      fetchImpl?: typeof fetch;
    },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Why the user who registered a pending publisher may not have its project created now (no
   * such user any more, disabled, or no longer allowed to create projects), or null.
   */
  registrantRefusal(user: User | null): string | null {
    if (user === null) return 'the pending publisher has no registrant any more';
    if (user.disabled === 1) return "the pending publisher's registrant is disabled";
    if (!mayCreateProjects({ kind: 'user', user }, this.options.anyUserMayCreateProjects))
      return "the pending publisher's registrant may no longer create projects";
    return null;
  }

  /**
   * Registrations are rate limited per user and per client address, as on PyPI (each attempt
   * may ask the provider's API for an owner id). Counted in the database, so every process
   * counts the same attempts; the operator's command line is not limited.
   */
  private async checkRegistrationRate(actor: Actor): Promise<void> {
    if (actor.principal.kind === 'operator') return;
    const limit = this.options.registrationsPerDay ?? 100;
    const now = this.now();
    const since = now - DAY_MS;
    const user = principalUser(actor.principal);
    const keys: ['user' | 'ip', string, string][] = [];
    if (user) keys.push(['user', String(user.id), 'for this account']);
    if (actor.ip !== null) keys.push(['ip', actor.ip, 'from your address']);
    for (const [kind, key, where] of keys) {
      const { n } = await this.db
        .selectFrom('publisher_registrations')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('kind', '=', kind)
        .where('key', '=', key)
        .where('at', '>', since)
        .executeTakeFirstOrThrow();
      if (Number(n) >= limit)
        throw new PierError(
          429,
          `Too many trusted publisher registrations ${where}: at most ${limit} a day. Try again later.`,
        );
    }
    if (keys.length > 0)
      await this.db
        .insertInto('publisher_registrations')
        .values(keys.map(([kind, key]) => ({ kind, key, at: now })))
        .execute();
    await this.db.deleteFrom('publisher_registrations').where('at', '<=', since).execute();
  }

  /** Validates a registration: the issuer, the ids looked up (./id-lookup.ts), the field rules. */
  async prepare(
    input: RegistrationInput,
  ): Promise<{ provider: Provider<unknown>; issuer: Issuer; config: unknown }> {
    const provider = providerOf(input.kind);
    const kind = provider.kind;
    let issuer: Issuer;
    if (input.issuerUrl === undefined || input.issuerUrl === '') {
      const builtin = IssuerService.builtinFor(kind);
      if (builtin === null)
        throw badRequest(
          `${/^[AEIOU]/.test(provider.displayName) ? 'An' : 'A'} ${provider.displayName} publisher names its issuer: register it (pier issuer add --kind ${kind} --url URL) and give it`,
          { errors: { issuer: 'Choose the issuer' } },
        );
      issuer = builtin;
    } else {
      const found = await this.issuers.find(input.issuerUrl);
      if (!found)
        throw badRequest(`The issuer ${input.issuerUrl} is not registered (pier issuer add)`, {
          errors: { issuer: 'Unknown issuer' },
        });
      if (found.kind !== kind)
        throw badRequest(`The issuer ${input.issuerUrl} is of kind ${found.kind}, not ${kind}`, {
          errors: { issuer: `Not a ${kind} issuer` },
        });
      issuer = found;
    }
    const fields: Record<string, string | undefined> = { ...input.fields };
    const looked = await completeIds(kind, issuer, fields, this.options.fetchImpl);
    if (!looked.ok) throw fieldErrors(looked.errors);
    const result = provider.validateConfig(fields);
    if (!result.ok) throw fieldErrors(result.errors);
    const mismatch = provider.issuerMismatch?.(result.config, issuer.url);
    if (mismatch) throw badRequest(mismatch, { errors: { issuer: mismatch } });
    return { provider, issuer, config: result.config };
  }

  /** Registers a trusted publisher for an existing project (owners and administrators). */
  async add(actor: Actor, projectName: string, input: RegistrationInput): Promise<PublisherView> {
    const project = await this.projects.require(projectName, actor.principal);
    if (
      !mayAdministerProject(actor.principal, await this.projects.access(actor.principal, project))
    )
      throw forbidden(`Only owners of '${project.name}' may manage its trusted publishers`);
    await this.checkRegistrationRate(actor);
    const { provider, issuer, config } = await this.prepare(input);
    const key = identityKey(provider.kind, issuer.url, provider.identityOf(config));
    const id = await this.db.transaction().execute(async (trx) => {
      let row = await trx
        .selectFrom('publishers')
        .selectAll()
        .where('identity_key', '=', key)
        .where('pending_name', 'is', null)
        .where('org_wide_pattern', 'is', null)
        .executeTakeFirst();
      if (!row)
        row = await this.insert(
          trx,
          provider,
          issuer,
          config,
          key,
          null,
          principalUser(actor.principal),
        );
      const linked = await trx
        .selectFrom('publisher_projects')
        .select('publisher_id')
        .where('publisher_id', '=', row.id)
        .where('project_id', '=', project.id)
        .executeTakeFirst();
      if (linked)
        throw conflict(
          `${provider.describe(config)} is already a trusted publisher of '${project.name}'`,
        );
      const access = input.access ?? 'upload';
      const stageOnly = input.stageOnly === true;
      if (stageOnly && access === 'read')
        throw badRequest('A read-only publisher uploads nothing: it cannot also be stage-only');
      await trx
        .insertInto('publisher_projects')
        .values({
          publisher_id: row.id,
          project_id: project.id,
          created_at: Date.now(),
          access,
          stage_only: stageOnly ? 1 : 0,
        })
        .execute();
      await recordAudit(trx, actor, {
        action: 'publisher-add',
        project: { id: project.id, name: project.name },
        details: {
          publisher_id: row.id,
          publisher: provider.describe(config),
          issuer: issuer.url,
          access,
          ...(stageOnly ? { stage_only: true } : {}),
        },
      });
      await this.noticeSameSource(trx, actor, row, provider, {
        project: project.private === 1 ? null : project.name,
        excludeProjectId: project.id,
      });
      return row.id;
    });
    return this.view(id, actor.principal);
  }

  /**
   * Registers an organisation-wide publisher (site administrators only): it trusts the job for
   * every project `orgName` owns whose normalized name matches `pattern` (a glob; absent: all)
   * at the time of each exchange. It links no project and never creates one.
   */
  async addOrganizationWide(
    actor: Actor,
    orgName: string,
    input: RegistrationInput,
    pattern?: string,
  ): Promise<PublisherView> {
    if (!mayManageOrganizationPublishers(actor.principal))
      throw forbidden('Only administrators may register organisation-wide trusted publishers');
    const org = await this.orgs.require(orgName, actor.principal);
    const stored = parseOrgWidePattern(pattern);
    if (input.access === 'read')
      throw badRequest(
        'An organisation-wide publisher uploads: for read access, add a publisher to each project with --read-only',
      );
    if (input.stageOnly)
      throw badRequest(
        'An organisation-wide publisher cannot be stage only: stage the uploads of its projects with pier project set --stage-uploads',
      );
    await this.checkRegistrationRate(actor);
    const { provider, issuer, config } = await this.prepare(input);
    const key = identityKey(provider.kind, issuer.url, provider.identityOf(config));
    const id = await this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('publishers')
        .select('id')
        .where('identity_key', '=', key)
        .where('organization_id', '=', org.id)
        .where('org_wide_pattern', '=', stored)
        .executeTakeFirst();
      if (existing)
        throw conflict(
          `${provider.describe(config)} is already an organisation-wide publisher of '${org.name}' for '${stored}' (publisher ${existing.id})`,
        );
      const row = await trx
        .insertInto('publishers')
        .values({
          kind: provider.kind,
          issuer_url: issuer.url,
          lookup_key: provider.lookupKeyOfConfig(config),
          identity_key: key,
          config_json: JSON.stringify(config),
          pending_name: null,
          pending_normalized_name: null,
          added_by_user_id: principalUser(actor.principal)?.id ?? null,
          organization_id: org.id,
          org_wide_pattern: stored,
          created_at: Date.now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actor, {
        action: 'org-publisher-add',
        details: {
          publisher_id: row.id,
          organization: org.name,
          projects: stored,
          publisher: provider.describe(config),
          issuer: issuer.url,
        },
      });
      await this.noticeSameSource(trx, actor, row, provider, { project: null });
      return row.id;
    });
    return this.view(id, actor.principal);
  }

  /** Removes an organisation-wide publisher of `orgName` (the REST API names the organisation). */
  async removeOrganizationWide(actor: Actor, orgName: string, id: number): Promise<void> {
    if (!mayManageOrganizationPublishers(actor.principal))
      throw forbidden('Only administrators may remove organisation-wide trusted publishers');
    const org = await this.orgs.require(orgName, actor.principal);
    const row = await this.db
      .selectFrom('publishers')
      .select('id')
      .where('id', '=', id)
      .where('organization_id', '=', org.id)
      .where('org_wide_pattern', 'is not', null)
      .executeTakeFirst();
    if (!row) throw notFound(`No organisation-wide publisher ${id} of '${org.name}'`);
    await this.remove(actor, id);
  }

  /**
   * Registers a pending publisher: the first successful exchange creates `projectName`, owned by
   * `owner` (the registering user, or the user the operator names).
   */
  async addPending(
    actor: Actor,
    projectName: string,
    input: RegistrationInput,
    ownerName?: string,
    options: { organization?: string } = {},
  ): Promise<PublisherView> {
    if (options.organization !== undefined)
      return this.addOrganizationPending(
        actor,
        projectName,
        input,
        options.organization,
        ownerName,
      );
    const owner = await ownerFor(
      this.db,
      actor,
      ownerName,
      'Only administrators can register pending publishers for someone else',
    );
    if (!owner)
      throw badRequest('A pending publisher needs the user who will own the project (--owner)');
    if (input.access === 'read')
      throw badRequest(
        'A pending publisher creates its project with its first upload: read access is for an existing project’s publishers',
      );
    if (input.stageOnly)
      throw badRequest(
        'A pending publisher cannot be stage only: once it has created its project, make its link stage only (pier publisher set ID --project NAME --stage-only), or stage every upload of the project',
      );
    const ownerPrincipal =
      actor.principal.kind === 'operator'
        ? { kind: 'user' as const, user: owner }
        : actor.principal;
    if (!mayCreateProjects(ownerPrincipal, this.options.anyUserMayCreateProjects))
      throw forbidden(
        `The user '${owner.username}' isn't allowed to create projects, so cannot register a pending publisher`,
      );
    await this.checkPendingProject(actor, projectName, owner.id);
    const { provider, issuer, config } = await this.prepare(input);
    const key = identityKey(provider.kind, issuer.url, provider.identityOf(config));
    const lookupKey = provider.lookupKeyOfConfig(config);
    const id = await this.db.transaction().execute(async (trx) => {
      // Locks the owner's row (a no-op update) until the end of the transaction, so that two
      // registrations at the same instant count each other's pending publishers (PostgreSQL's
      // read committed would otherwise let both see the same count; SQLite writes one at a time).
      await trx
        .updateTable('users')
        .set((eb) => ({ id: eb.ref('id') }))
        .where('id', '=', owner!.id)
        .execute();
      await this.deleteExpiredPending(trx);
      const existing = await trx
        .selectFrom('publishers')
        .selectAll()
        .where('identity_key', '=', key)
        .where('pending_name', 'is not', null)
        .executeTakeFirst();
      if (existing)
        throw conflict(
          existing.pending_normalized_name === normalizeProjectName(projectName)
            ? 'This trusted publisher has already been registered.'
            : 'A pending trusted publisher matching this configuration has already been registered for a different project name.',
        );
      // Pending publishers of different users are never chosen between at the exchange: the
      // earliest registrant keeps the jobs its rules match, and a later one that could match
      // any of them is refused (without saying whose it is).
      await this.refuseRivals(trx, provider, issuer, config, lookupKey, `user:${owner!.id}`);
      const max = this.options.maxPendingPerUser ?? 3;
      if (!isSiteAdmin(actor.principal) && !isSiteAdmin(ownerPrincipal)) {
        const { n } = await trx
          .selectFrom('publishers')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('pending_name', 'is not', null)
          .where('added_by_user_id', '=', owner!.id)
          .where('organization_id', 'is', null)
          .executeTakeFirstOrThrow();
        if (Number(n) >= max)
          throw badRequest(
            `You can't register more than ${max} pending trusted publishers at once: remove one, or let one create its project first.`,
          );
      }
      const row = await this.insert(trx, provider, issuer, config, key, projectName, owner);
      await recordAudit(trx, actor, {
        action: 'pending-publisher-add',
        details: {
          publisher_id: row.id,
          project: projectName,
          owner: owner!.username,
          publisher: provider.describe(config),
          issuer: issuer.url,
        },
      });
      await this.noticeSameSource(trx, actor, row, provider, { project: projectName });
      return row.id;
    });
    return this.view(id, actor.principal);
  }

  /**
   * Pending publishers of different registrants (users, organisations) are never chosen between
   * at the exchange: the earliest registrant keeps the jobs its rules match, and a later one
   * that could match any of them is refused (without saying whose it is).
   */
  private async refuseRivals(
    trx: Kysely<Database>,
    provider: Provider<unknown>,
    issuer: Issuer,
    config: unknown,
    lookupKey: string,
    registrant: string,
  ): Promise<void> {
    const rivals = (
      await trx
        .selectFrom('publishers')
        .selectAll()
        .where('issuer_url', '=', issuer.url)
        .where('kind', '=', provider.kind)
        .$if(!provider.rivalsAcrossLookupKeys, (q) => q.where('lookup_key', '=', lookupKey))
        .where('pending_name', 'is not', null)
        .execute()
    ).filter((r) => registrantOf(r) !== registrant);
    if (
      rivals.some((r) =>
        publishersMayOverlap(provider.kind, config, readStoredConfig(provider, r.config_json)),
      )
    )
      throw conflict(
        "A pending trusted publisher of another user, registered earlier, could match the same jobs: make this one's rules exclude its jobs (another workflow, environment or ref pattern), or ask an administrator.",
      );
  }

  /**
   * What a pending publisher's project must be before it is registered: a new name its creator
   * may take (a reserved namespace needs a grant, PEP 752), within the registration rate, and —
   * since the project is created at its first exchange — refused now, while a person is there to
   * read why, if it would shadow an upstream project.
   */
  private async checkPendingProject(
    actor: Actor,
    projectName: string,
    creatorId: number | null,
  ): Promise<void> {
    // Created as the publisher, never as an administrator, whoever registers it.
    const creator = { ownerId: creatorId, admin: false };
    await this.projects.checkNewName(projectName, creator).catch((err: unknown) => {
      if (
        err instanceof PierError &&
        err.status === 409 &&
        !(err instanceof NamespaceReservedError)
      )
        throw conflict(
          `The project '${projectName}' exists already: add the publisher to it instead`,
        );
      throw err;
    });
    await this.checkRegistrationRate(actor);
    await this.projects.checkNotOnUpstream(actor, projectName);
  }

  /**
   * A pending publisher of an organisation (docs/organizations.md): its first exchange creates
   * the project owned by the organisation, not by a person. Registered by an owner of the
   * organisation (or an administrator); the registrant's namespace grants (PEP 752) apply.
   */
  private async addOrganizationPending(
    actor: Actor,
    projectName: string,
    input: RegistrationInput,
    orgName: string,
    ownerName: string | undefined,
  ): Promise<PublisherView> {
    if (ownerName !== undefined)
      throw badRequest('A pending publisher of an organisation has no personal owner (--owner)');
    if (input.access === 'read')
      throw badRequest(
        'A pending publisher creates its project with its first upload: read access is for an existing project’s publishers',
      );
    const org = await this.orgs.requireAdministrable(actor, orgName);
    const registrant = principalUser(actor.principal);
    await this.checkPendingProject(actor, projectName, registrant?.id ?? null);
    const { provider, issuer, config } = await this.prepare(input);
    const key = identityKey(provider.kind, issuer.url, provider.identityOf(config));
    const lookupKey = provider.lookupKeyOfConfig(config);
    const id = await this.db.transaction().execute(async (trx) => {
      // Locks the organisation's row, so that two registrations count each other (as addPending).
      await trx
        .updateTable('organizations')
        .set((eb) => ({ id: eb.ref('id') }))
        .where('id', '=', org.id)
        .execute();
      await this.deleteExpiredPending(trx);
      const existing = await trx
        .selectFrom('publishers')
        .selectAll()
        .where('identity_key', '=', key)
        .where('pending_name', 'is not', null)
        .executeTakeFirst();
      if (existing)
        throw conflict(
          existing.pending_normalized_name === normalizeProjectName(projectName)
            ? 'This trusted publisher has already been registered.'
            : 'A pending trusted publisher matching this configuration has already been registered for a different project name.',
        );
      await this.refuseRivals(trx, provider, issuer, config, lookupKey, `org:${org.id}`);
      const max = this.options.maxPendingPerUser ?? 3;
      if (!isSiteAdmin(actor.principal)) {
        const { n } = await trx
          .selectFrom('publishers')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('pending_name', 'is not', null)
          .where('organization_id', '=', org.id)
          .executeTakeFirstOrThrow();
        if (Number(n) >= max)
          throw badRequest(
            `An organisation can't have more than ${max} pending trusted publishers at once: remove one, or let one create its project first.`,
          );
      }
      const row = await this.insert(
        trx,
        provider,
        issuer,
        config,
        key,
        projectName,
        registrant,
        org.id,
      );
      await recordAudit(trx, actor, {
        action: 'pending-publisher-add',
        details: {
          publisher_id: row.id,
          project: projectName,
          organization: org.name,
          publisher: provider.describe(config),
          issuer: issuer.url,
        },
      });
      await this.noticeSameSource(trx, actor, row, provider, { project: projectName });
      return row.id;
    });
    return this.view(id, actor.principal);
  }

  /**
   * Tells the owners of every other project trusting the same source (same issuer and lookup
   * key: the repository, project path, email or organization/project) that `row` now trusts it
   * too: an audit event on each of those projects. A private registering project is not named.
   */
  private async noticeSameSource(
    trx: Kysely<Database>,
    actor: Actor,
    row: PublisherRow,
    provider: Provider<unknown>,
    about: { project: string | null; excludeProjectId?: number },
  ): Promise<void> {
    let q = trx
      .selectFrom('publishers')
      .innerJoin('publisher_projects', 'publisher_projects.publisher_id', 'publishers.id')
      .innerJoin('projects', 'projects.id', 'publisher_projects.project_id')
      .select(['projects.id', 'projects.name'])
      .where('publishers.issuer_url', '=', row.issuer_url)
      .where('publishers.kind', '=', row.kind)
      .where('publishers.lookup_key', '=', row.lookup_key)
      .where('publishers.pending_name', 'is', null)
      .distinct();
    if (about.excludeProjectId !== undefined)
      q = q.where('projects.id', '!=', about.excludeProjectId);
    const description = provider.describe(readStoredConfig(provider, row.config_json));
    for (const project of await q.orderBy('projects.id').execute())
      await recordAudit(trx, actor, {
        action: 'publisher-same-source',
        project,
        details: {
          publisher_id: row.id,
          publisher: description,
          issuer: row.issuer_url,
          other_project: about.project,
          pending: row.pending_name !== null,
        },
      });
  }

  /**
   * Publishers of other projects (and pending publishers) that trust the same sources as the
   * project's own: owners see them on the project's trusted-publishing page. Other projects are
   * named only when they are public.
   */
  async sameSource(
    actor: Actor,
    projectName: string,
  ): Promise<{ publisher: string; project: string | null; pending: boolean; createdAt: string }[]> {
    const own = await this.listForProject(actor, projectName);
    const project = await this.projects.require(projectName, actor.principal);
    if (own.length === 0) return [];
    const mine = await this.db
      .selectFrom('publishers')
      .select(['issuer_url', 'kind', 'lookup_key'])
      .where(
        'id',
        'in',
        own.map((p) => p.id),
      )
      .distinct()
      .execute();
    const out: {
      publisher: string;
      project: string | null;
      pending: boolean;
      createdAt: string;
    }[] = [];
    for (const source of mine) {
      const rows = await this.db
        .selectFrom('publishers')
        .leftJoin('publisher_projects', 'publisher_projects.publisher_id', 'publishers.id')
        .leftJoin('projects', 'projects.id', 'publisher_projects.project_id')
        .select([
          'publishers.id',
          'publishers.kind',
          'publishers.config_json',
          'publishers.pending_name',
          'publishers.created_at',
          'projects.id as project_id',
          'projects.name as project_name',
          'projects.private as project_private',
        ])
        .where('publishers.issuer_url', '=', source.issuer_url)
        .where('publishers.kind', '=', source.kind)
        .where('publishers.lookup_key', '=', source.lookup_key)
        .orderBy('publishers.id')
        .execute();
      for (const r of rows) {
        if (r.pending_name === null && (r.project_id === null || r.project_id === project.id))
          continue;
        const source = providerOf(r.kind);
        const description = source.describe(readStoredConfig(source, r.config_json));
        const name = r.pending_name ?? (r.project_private === 1 ? null : (r.project_name ?? null));
        if (out.some((o) => o.publisher === description && o.project === name)) continue;
        out.push({
          publisher: description,
          project: name,
          pending: r.pending_name !== null,
          createdAt: new Date(r.created_at).toISOString(),
        });
      }
    }
    return out;
  }

  private async insert(
    db: Kysely<Database>,
    provider: Provider<unknown>,
    issuer: Issuer,
    config: unknown,
    key: string,
    pendingName: string | null,
    addedBy: User | null,
    organizationId: number | null = null,
  ): Promise<PublisherRow> {
    return db
      .insertInto('publishers')
      .values({
        kind: provider.kind,
        issuer_url: issuer.url,
        lookup_key: provider.lookupKeyOfConfig(config),
        identity_key: key,
        config_json: JSON.stringify(config),
        pending_name: pendingName,
        pending_normalized_name: pendingName === null ? null : normalizeProjectName(pendingName),
        added_by_user_id: addedBy?.id ?? null,
        organization_id: organizationId,
        created_at: Date.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Whether the publisher's uploads to a project are staged for approval (staged releases):
   * changed by the project's owners, on the publisher's link to that project only.
   */
  async setStageOnly(
    actor: Actor,
    id: number,
    projectName: string,
    stageOnly: boolean,
  ): Promise<PublisherView> {
    const project = await this.projects.require(projectName, actor.principal);
    if (
      !mayAdministerProject(actor.principal, await this.projects.access(actor.principal, project))
    )
      throw forbidden(`Only owners of '${project.name}' may change its trusted publishers`);
    const link = await this.db
      .selectFrom('publisher_projects')
      .select(['access', 'stage_only'])
      .where('publisher_id', '=', id)
      .where('project_id', '=', project.id)
      .executeTakeFirst();
    if (!link) throw notFound(`Trusted publisher ${id} is not a publisher of '${project.name}'`);
    if (stageOnly && link.access === 'read')
      throw badRequest('A read-only publisher uploads nothing: it cannot also be stage-only');
    if ((link.stage_only === 1) !== stageOnly)
      await this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('publisher_projects')
          .set({ stage_only: stageOnly ? 1 : 0 })
          .where('publisher_id', '=', id)
          .where('project_id', '=', project.id)
          .execute();
        await recordAudit(trx, actor, {
          action: 'publisher-change',
          project: { id: project.id, name: project.name },
          details: { publisher_id: id, stage_only: stageOnly },
        });
      });
    return this.view(id, actor.principal);
  }

  /**
   * Removes a publisher from one project (or, without `projectName`, from all of them). A
   * publisher left with no project is deleted, and its minted tokens stop working at once.
   */
  async remove(actor: Actor, id: number, projectName?: string): Promise<void> {
    const row = await this.db
      .selectFrom('publishers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound(`No trusted publisher with id ${id}`);
    const provider = providerOf(row.kind);
    const description = provider.describe(readStoredConfig(provider, row.config_json));
    if (row.org_wide_pattern !== null) {
      if (!mayManageOrganizationPublishers(actor.principal))
        throw forbidden('Only administrators may remove organisation-wide trusted publishers');
      if (projectName !== undefined)
        throw badRequest(
          `Trusted publisher ${id} is organisation-wide: it links no project; remove it whole, or move the project out of the organisation`,
        );
      await this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('publishers').where('id', '=', id).execute();
        await recordAudit(trx, actor, {
          action: 'org-publisher-remove',
          details: { publisher_id: id, projects: row.org_wide_pattern, publisher: description },
        });
      });
      return;
    }
    if (row.pending_name !== null) {
      // An organisation's pending publisher is its owners' to remove.
      const mine =
        row.organization_id !== null
          ? await this.orgs.mayAdministerById(actor, row.organization_id)
          : principalUser(actor.principal)?.id === row.added_by_user_id;
      if (!mine && !isSiteAdmin(actor.principal))
        throw forbidden('You may only remove your own pending publishers');
      await this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('publishers').where('id', '=', id).execute();
        await recordAudit(trx, actor, {
          action: 'pending-publisher-remove',
          details: { publisher_id: id, project: row.pending_name, publisher: description },
        });
      });
      return;
    }
    const links = await this.db
      .selectFrom('publisher_projects')
      .innerJoin('projects', 'projects.id', 'publisher_projects.project_id')
      .selectAll('projects')
      .where('publisher_projects.publisher_id', '=', id)
      .execute();
    // A project the caller may not read answers as missing; so does a publisher that is only
    // linked to such projects.
    const named =
      projectName === undefined ? null : await this.projects.require(projectName, actor.principal);
    const targets =
      named === null
        ? await this.projects.filterReadable(actor.principal, links)
        : links.filter((p) => p.id === named.id);
    if (targets.length === 0)
      throw named === null
        ? notFound(`No trusted publisher with id ${id}`)
        : notFound(`Trusted publisher ${id} is not a publisher of '${named.name}'`);
    for (const project of targets)
      if (
        !mayAdministerProject(actor.principal, await this.projects.access(actor.principal, project))
      )
        throw forbidden(`Only owners of '${project.name}' may remove its trusted publishers`);
    await this.db.transaction().execute(async (trx) => {
      for (const project of targets) {
        await trx
          .deleteFrom('publisher_projects')
          .where('publisher_id', '=', id)
          .where('project_id', '=', project.id)
          .execute();
        await recordAudit(trx, actor, {
          action: 'publisher-remove',
          project: { id: project.id, name: project.name },
          details: { publisher_id: id, publisher: description },
        });
      }
      const left = await trx
        .selectFrom('publisher_projects')
        .select('project_id')
        .where('publisher_id', '=', id)
        .executeTakeFirst();
      if (!left) await trx.deleteFrom('publishers').where('id', '=', id).execute();
    });
  }

  /** A publisher as `viewer` may see it: only the projects it may read are listed. */
  async view(id: number, viewer: Principal): Promise<PublisherView> {
    const row = await this.db
      .selectFrom('publishers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound(`No trusted publisher with id ${id}`);
    return (await this.views([row], viewer))[0]!;
  }

  private async views(rows: PublisherRow[], viewer: Principal): Promise<PublisherView[]> {
    if (rows.length === 0) return [];
    const allLinks = await this.db
      .selectFrom('publisher_projects')
      .innerJoin('projects', 'projects.id', 'publisher_projects.project_id')
      .select([
        'publisher_projects.publisher_id',
        'projects.id',
        'projects.name',
        'projects.private',
        'projects.status',
        'publisher_projects.access',
        'publisher_projects.stage_only',
      ])
      .where(
        'publisher_projects.publisher_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('projects.normalized_name')
      .execute();
    // A publisher shared with a project the viewer may not read does not name that project.
    const links = await this.projects.filterReadable(viewer, allLinks);
    const users = new Map(
      (await this.db.selectFrom('users').select(['id', 'username']).execute()).map((u) => [
        u.id,
        u.username,
      ]),
    );
    const orgNames = new Map(
      (await this.db.selectFrom('organizations').select(['id', 'name']).execute()).map((o) => [
        o.id,
        o.name,
      ]),
    );
    return rows.map((row) => {
      const provider = providerOf(row.kind);
      const config = readStoredConfig(provider, row.config_json) as Record<string, string>;
      return {
        id: row.id,
        kind: provider.kind,
        issuer: row.issuer_url,
        description: provider.describe(config),
        config,
        url: provider.url(config, row.issuer_url),
        projects: links.filter((l) => l.publisher_id === row.id).map((l) => l.name),
        readOnly: links
          .filter((l) => l.publisher_id === row.id && l.access === 'read')
          .map((l) => l.name),
        stageOnly: links
          .filter((l) => l.publisher_id === row.id && l.stage_only === 1)
          .map((l) => l.name),
        pending:
          row.pending_name === null
            ? null
            : {
                project: row.pending_name,
                addedBy:
                  row.added_by_user_id === null ? null : (users.get(row.added_by_user_id) ?? null),
                expiresAt: new Date(pendingExpiry(row)).toISOString(),
              },
        organizationWide:
          row.org_wide_pattern === null
            ? null
            : {
                organization: orgNames.get(row.organization_id ?? -1) ?? '',
                projects: row.org_wide_pattern,
              },
        createdAt: new Date(row.created_at).toISOString(),
      };
    });
  }

  /** Publishers of a project (its owners and administrators may see them). */
  async listForProject(actor: Actor, projectName: string): Promise<PublisherView[]> {
    const project = await this.projects.require(projectName, actor.principal);
    if (
      !mayAdministerProject(actor.principal, await this.projects.access(actor.principal, project))
    )
      throw forbidden(`Only owners of '${project.name}' may see its trusted publishers`);
    const rows = await this.db
      .selectFrom('publishers')
      .innerJoin('publisher_projects', 'publisher_projects.publisher_id', 'publishers.id')
      .selectAll('publishers')
      .where('publisher_projects.project_id', '=', project.id)
      .orderBy('publishers.id')
      .execute();
    return this.views(rows, actor.principal);
  }

  /**
   * The organisation-wide publishers that cover the project now (its owners and administrators
   * may see them): a job they match may upload to it although no publisher of its own is listed.
   */
  async organizationWideFor(actor: Actor, projectName: string): Promise<PublisherView[]> {
    const project = await this.projects.require(projectName, actor.principal);
    if (
      !mayAdministerProject(actor.principal, await this.projects.access(actor.principal, project))
    )
      throw forbidden(`Only owners of '${project.name}' may see its trusted publishers`);
    if (project.organization_id === null) return [];
    const rows = await this.db
      .selectFrom('publishers')
      .selectAll()
      .where('organization_id', '=', project.organization_id)
      .where('org_wide_pattern', 'is not', null)
      .orderBy('id')
      .execute();
    return this.views(
      rows.filter((row) => orgWideCovers(row, project)),
      actor.principal,
    );
  }

  /**
   * The organisation-wide publishers of an organisation (administrators, who alone register and
   * remove them), whichever projects they cover now.
   */
  async listOrganizationWide(actor: Actor, orgName: string): Promise<PublisherView[]> {
    if (!mayManageOrganizationPublishers(actor.principal))
      throw forbidden('Only administrators may manage organisation-wide trusted publishers');
    const org = await this.orgs.require(orgName, actor.principal);
    const rows = await this.db
      .selectFrom('publishers')
      .selectAll()
      .where('organization_id', '=', org.id)
      .where('org_wide_pattern', 'is not', null)
      .orderBy('id')
      .execute();
    return this.views(rows, actor.principal);
  }

  /** Every publisher (administrators), or the pending publishers a user registered. */
  async list(actor: Actor): Promise<PublisherView[]> {
    if (isSiteAdmin(actor.principal)) {
      await this.deleteExpiredPending(this.db);
      return this.views(
        await this.db.selectFrom('publishers').selectAll().orderBy('id').execute(),
        actor.principal,
      );
    }
    return this.listPending(actor);
  }

  async listPending(actor: Actor): Promise<PublisherView[]> {
    const user = principalUser(actor.principal);
    if (!user) return [];
    const cutoff = Date.now() - PENDING_PUBLISHER_DAYS * DAY_MS;
    const rows = await this.db
      .selectFrom('publishers')
      .selectAll()
      .where('pending_name', 'is not', null)
      .where('added_by_user_id', '=', user.id)
      .where('created_at', '>', cutoff)
      .orderBy('id')
      .execute();
    return this.views(rows, actor.principal);
  }

  /** Pending publishers expire 30 days after registration. */
  async deleteExpiredPending(db: Kysely<Database>): Promise<void> {
    const cutoff = Date.now() - PENDING_PUBLISHER_DAYS * DAY_MS;
    await db
      .deleteFrom('publishers')
      .where('pending_name', 'is not', null)
      .where('created_at', '<=', cutoff)
      .execute();
  }
}
