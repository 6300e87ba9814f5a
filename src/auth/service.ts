// Users, API tokens and authentication. Tokens are checked against the database on every use
// (revocation and expiry take effect on the very next request, in every process).
import { hasControlCharacters } from '../text.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, TokenRow, User } from '../db/schema.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashToken, insertToken, isWellFormedToken } from './tokens.js';
import type { Credentials } from './credentials.js';
import { isUniqueViolation } from '../db/errors.js';
import { isSiteAdmin, linkGrants } from './permissions.js';
import { findUserByName, requireUserByName } from './users.js';
import { lastOwnerRefusal, projectsOnlyOwnedBy } from './user-removal.js';
import { checkUserNameIsNoOrganization } from '../orgs/names.js';
import { soleOwnedOrganizations } from '../orgs/owners.js';
import { bumpSerial } from '../registry/journal.js';
import { endSessionsOf } from '../web/sessions.js';
import type { PasswordThrottle } from './password-throttle.js';
import { orgWideCovers } from '../oidc/org-wide.js';
import {
  credentialUseRefusal,
  passwordIsNotEnough,
  passwordsOffRefusal,
  type CredentialUse,
  type PasswordPolicy,
} from './credential-use.js';
import {
  principalScope,
  principalUser,
  scopeIncludes,
  type Principal,
  type Scope,
} from './principal.js';

const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

export type AuthResult =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      /** invalid: wrong or unknown credentials; throttled: too many failures, not checked;
       *  password-refused: a right password this account may not use here (credential-use.ts). */
      code: 'invalid' | 'throttled' | 'password-refused';
      reason: string;
      retryAfterSeconds?: number;
    };

/** Where credentials are being used: for the credential-use rule and the throttle. */
export interface CredentialContext {
  use: CredentialUse;
  ip: string | null;
}

export interface AuthOptions {
  policy: PasswordPolicy;
  throttle: PasswordThrottle;
}

export const INVALID_AUTH = 'Invalid or non-existent authentication information.';

export interface NewToken {
  id: number;
  token: string;
  /** The user the token acts for. */
  user: string;
  name: string;
  scope: Scope;
  projects: string[];
  expiresAt: number | null;
}

export interface TokenInfo {
  id: number;
  name: string;
  user: string | null;
  publisherId: number | null;
  prefix: string;
  scope: string;
  projects: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** A new token as `pier token create --json` and `POST /api/tokens` show it: once, secret included. */
export function newTokenJson(t: NewToken) {
  return {
    id: t.id,
    token: t.token,
    user: t.user,
    name: t.name,
    scope: t.scope,
    projects: t.projects,
    expires_at: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
  };
}

/** What removing a user did, for the audit log, the CLI and the API. */
export interface UserRemoval {
  username: string;
  /** The roles the user had, now gone (each project keeps another owner). */
  roles: { project: string; role: string }[];
  /** Tokens revoked; their rows stay, so that uploads still name the token that made them. */
  tokensRevoked: number[];
  /** Pending publishers the user registered: they could only ever create a project for them. */
  pendingPublishersRemoved: number[];
  /** Namespaces (PEP 752) the user was an owner of; they stay reserved. */
  namespaces: string[];
}

export function userRemovalJson(r: UserRemoval) {
  return {
    removed: r.username,
    roles: r.roles,
    tokens_revoked: r.tokensRevoked,
    pending_publishers_removed: r.pendingPublishersRemoved,
    namespaces: r.namespaces,
  };
}

/** Verified passwords, remembered briefly so that pip's many requests don't each pay for scrypt. */
class PasswordCache {
  private readonly entries = new Map<string, number>();
  constructor(
    private readonly ttlMs = 60_000,
    private readonly max = 1000,
  ) {}
  private key(user: User, password: string): string {
    return createHash('sha256')
      .update(`${user.id}\0${user.password_hash}\0${password}`)
      .digest('hex');
  }
  has(user: User, password: string): boolean {
    const k = this.key(user, password);
    const until = this.entries.get(k);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.entries.delete(k);
      return false;
    }
    return true;
  }
  add(user: User, password: string): void {
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(this.key(user, password), Date.now() + this.ttlMs);
  }
}

/**
 * The hash a password for an unknown, disabled or password-less account is checked against, so
 * that such a check costs the same scrypt as a wrong password for a real account.
 */
let dummyHash: Promise<string> | null = null;
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(24).toString('base64url'));
  return dummyHash;
}

export class AuthService {
  private readonly passwords = new PasswordCache();
  private readonly lastUsedWritten = new Map<number, number>();
  readonly throttle: PasswordThrottle;
  private readonly policy: PasswordPolicy;

  constructor(
    private readonly db: Kysely<Database>,
    options: AuthOptions,
    /** The project a name means to a principal; refuses, as missing, one it may not read. */
    private readonly readableProject: (
      p: Principal,
      name: string,
    ) => Promise<{ id: number; name: string }>,
  ) {
    this.throttle = options.throttle;
    this.policy = options.policy;
  }

  // ---------------------------------------------------------------- authentication

  /**
   * The principal of an Authorization header's credentials, used for `ctx.use`: a password is
   * throttled (password-throttle.ts), then must be one the account may use there
   * (credential-use.ts).
   */
  async authenticate(creds: Credentials, ctx: CredentialContext): Promise<AuthResult> {
    if (creds.kind === 'token') return this.authenticateToken(creds.token);
    // Refused before any check: no password is worth guessing then.
    const off = passwordsOffRefusal(this.policy);
    if (off !== null) return { ok: false, code: 'password-refused', reason: off };
    const result = await this.authenticatePassword(creds.username, creds.password, ctx.ip);
    if (!result.ok) return result;
    const refusal = credentialUseRefusal(result.principal, 'password', ctx.use, this.policy);
    if (refusal !== null) return { ok: false, code: 'password-refused', reason: refusal };
    return result;
  }

  /**
   * Checks a user's password, counting failures per user name and per address; past the limit,
   * the password is not checked at all. An unknown user costs the same scrypt as a known one.
   * A web sign-in asks for the second factor afterwards; HTTP Basic goes through authenticate().
   */
  async authenticatePassword(
    username: string,
    password: string,
    ip: string | null,
  ): Promise<AuthResult> {
    const off = passwordsOffRefusal(this.policy);
    if (off !== null) return { ok: false, code: 'password-refused', reason: off };
    const found = await this.findUser(username);
    const user = found && found.disabled !== 1 && found.password_hash !== null ? found : null;
    // A password verified moments ago is known to be right: no guess, nothing to throttle.
    if (user !== null && this.passwords.has(user, password))
      return { ok: true, principal: { kind: 'user', user } };
    const limit = await this.throttle.check(username, ip);
    if (!limit.ok)
      return {
        ok: false,
        code: 'throttled',
        reason: limit.message,
        retryAfterSeconds: limit.retryAfterSeconds,
      };
    const right = await verifyPassword(
      password,
      user?.password_hash ?? (await dummyPasswordHash()),
    );
    if (user === null || !right) {
      await this.throttle.recordFailure(username, ip);
      return { ok: false, code: 'invalid', reason: INVALID_AUTH };
    }
    this.passwords.add(user, password);
    // The password was the whole sign-in: the failures before it count no more. (With a second
    // factor, the sign-in's second step clears them.)
    if (!passwordIsNotEnough(user, this.policy)) await this.throttle.clearUsername(user.username);
    return { ok: true, principal: { kind: 'user', user } };
  }

  async authenticateToken(raw: string): Promise<AuthResult> {
    if (!isWellFormedToken(raw)) return { ok: false, code: 'invalid', reason: INVALID_AUTH };
    const token = await this.db
      .selectFrom('tokens')
      .selectAll()
      .where('token_hash', '=', hashToken(raw))
      .executeTakeFirst();
    if (!token) return { ok: false, code: 'invalid', reason: INVALID_AUTH };
    const now = Date.now();
    if (token.revoked_at !== null)
      return { ok: false, code: 'invalid', reason: 'Invalid API Token: token has been revoked' };
    if (token.expires_at !== null && token.expires_at <= now)
      return { ok: false, code: 'invalid', reason: 'Invalid API Token: token is expired' };
    let user: User | null = null;
    if (token.user_id !== null) {
      user =
        (await this.db
          .selectFrom('users')
          .selectAll()
          .where('id', '=', token.user_id)
          .executeTakeFirst()) ?? null;
      if (!user || user.disabled === 1)
        return { ok: false, code: 'invalid', reason: 'Invalid API Token: its user is disabled' };
    }
    let projectIds: Set<number> | null = null;
    if (token.publisher_id !== null) {
      // A minted token covers the projects of its mint that still trust the publisher that
      // granted each (tokens of one publisher: token.publisher_id): removing the publisher (or
      // unlinking a project) takes effect on the very next request.
      // An organisation-wide publisher's grants (no link: src/oidc/org-wide.ts) hold while the
      // project is still its organisation's and matches its pattern.
      const orgWide = await this.db
        .selectFrom('token_projects')
        .innerJoin('publishers', (join) =>
          join.on((eb) =>
            eb(
              'publishers.id',
              '=',
              eb.fn.coalesce('token_projects.publisher_id', eb.val(token.publisher_id!)),
            ),
          ),
        )
        .innerJoin('projects', 'projects.id', 'token_projects.project_id')
        .select([
          'token_projects.project_id',
          'publishers.organization_id as publisher_org',
          'publishers.org_wide_pattern',
          'projects.organization_id',
          'projects.normalized_name',
        ])
        .where('token_projects.token_id', '=', token.id)
        .where('publishers.org_wide_pattern', 'is not', null)
        .execute()
        .then((all) =>
          all
            .filter((r) =>
              orgWideCovers(
                { organization_id: r.publisher_org, org_wide_pattern: r.org_wide_pattern },
                r,
              ),
            )
            .map((r) => ({ project_id: r.project_id, access: 'upload' })),
        );
      const linked = await this.db
        .selectFrom('token_projects')
        .innerJoin('publisher_projects', (join) =>
          join
            .onRef('publisher_projects.project_id', '=', 'token_projects.project_id')
            .on((eb) =>
              eb(
                'publisher_projects.publisher_id',
                '=',
                eb.fn.coalesce('token_projects.publisher_id', eb.val(token.publisher_id!)),
              ),
            ),
        )
        .select(['token_projects.project_id', 'publisher_projects.access'])
        .where('token_projects.token_id', '=', token.id)
        .execute();
      // A link changed to read-only since the mint stops an upload token there at once.
      const rows = [...linked, ...orgWide].filter((r) => linkGrants(r.access, token.scope));
      if (rows.length === 0)
        return {
          ok: false,
          code: 'invalid',
          reason:
            'Invalid API Token: its trusted publisher no longer publishes any of its projects',
        };
      projectIds = new Set(rows.map((r) => r.project_id));
    } else if (token.project_limited === 1) {
      const rows = await this.db
        .selectFrom('token_projects')
        .select('project_id')
        .where('token_id', '=', token.id)
        .execute();
      projectIds = new Set(rows.map((r) => r.project_id));
    }
    await this.touch(token, now);
    return { ok: true, principal: { kind: 'token', token, user, projectIds } };
  }

  /** Records when a token was last used, at most once a minute per token. */
  private async touch(token: TokenRow, now: number): Promise<void> {
    const last = this.lastUsedWritten.get(token.id) ?? token.last_used_at ?? 0;
    if (now - last < 60_000) return;
    this.lastUsedWritten.set(token.id, now);
    await this.db
      .updateTable('tokens')
      .set({ last_used_at: now })
      .where('id', '=', token.id)
      .execute();
  }

  // ---------------------------------------------------------------- users

  findUser(username: string): Promise<User | undefined> {
    return findUserByName(this.db, username);
  }

  requireUser(username: string): Promise<User> {
    return requireUserByName(this.db, username);
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async addUser(
    actor: Actor,
    opts: {
      username: string;
      password?: string | null;
      admin?: boolean;
      mayCreateProjects?: boolean;
    },
  ): Promise<{ user: User; generatedPassword: string | null }> {
    if (!isSiteAdmin(actor.principal)) throw forbidden('Only administrators can add users');
    if (!USERNAME_RE.test(opts.username))
      throw badRequest(
        `Invalid username '${opts.username}': use 1 to 50 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    let generatedPassword: string | null = null;
    let password = opts.password ?? null;
    if (password === null) {
      generatedPassword = generatePassword();
      password = generatedPassword;
    }
    const problem = passwordProblem(password);
    if (problem) throw badRequest(problem);
    const hash = await hashPassword(password);
    const user = await this.db
      .transaction()
      .execute(async (trx) => {
        if (
          await trx
            .selectFrom('users')
            .select('id')
            .where('username_key', '=', opts.username.toLowerCase())
            .executeTakeFirst()
        )
          throw conflict(`A user named '${opts.username}' already exists`);
        await checkUserNameIsNoOrganization(trx, opts.username);
        const created = await trx
          .insertInto('users')
          .values({
            username: opts.username,
            username_key: opts.username.toLowerCase(),
            password_hash: hash,
            is_admin: opts.admin ? 1 : 0,
            may_create_projects: opts.mayCreateProjects ? 1 : 0,
            disabled: 0,
            created_at: Date.now(),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, actor, {
          action: 'user-add',
          details: {
            username: created.username,
            admin: opts.admin === true,
            may_create_projects: opts.mayCreateProjects === true,
          },
        });
        return created;
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw conflict(`A user named '${opts.username}' already exists`);
        throw err;
      });
    return { user, generatedPassword };
  }

  /**
   * Sets a user's password, and ends the user's web sessions (but `keepSessionId`, the session
   * of a user changing their own password): a reset locks out whoever knew the old one.
   */
  async setPassword(
    actor: Actor,
    username: string,
    password: string,
    opts: { keepSessionId?: number } = {},
  ): Promise<void> {
    const user = await this.requireUser(username);
    const self = principalUser(actor.principal)?.id === user.id && actor.principal.kind === 'user';
    if (!self && !isSiteAdmin(actor.principal)) throw forbidden('You may not change this password');
    const problem = passwordProblem(password);
    if (problem) throw badRequest(problem);
    const hash = await hashPassword(password);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ password_hash: hash })
        .where('id', '=', user.id)
        .execute();
      await endSessionsOf(trx, user.id, opts.keepSessionId);
      await recordAudit(trx, actor, {
        action: 'user-password',
        details: { username: user.username },
      });
    });
  }

  async updateUser(
    actor: Actor,
    username: string,
    changes: { admin?: boolean; mayCreateProjects?: boolean; disabled?: boolean },
  ): Promise<User> {
    if (!isSiteAdmin(actor.principal)) throw forbidden('Only administrators can change users');
    const user = await this.requireUser(username);
    const set: Partial<Pick<User, 'is_admin' | 'may_create_projects' | 'disabled'>> = {};
    if (changes.admin !== undefined) set.is_admin = changes.admin ? 1 : 0;
    if (changes.mayCreateProjects !== undefined)
      set.may_create_projects = changes.mayCreateProjects ? 1 : 0;
    if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0;
    if (Object.keys(set).length === 0) return user;
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('users')
        .set(set)
        .where('id', '=', user.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actor, {
        action: 'user-change',
        details: { username: user.username, ...changes },
      });
      return updated;
    });
  }

  /**
   * Removes a user: refused while they are the last owner of a project. Their roles go, their
   * tokens are revoked (the rows stay, unowned, so uploads still name the token that made them),
   * their web sessions end, the pending publishers they registered go (nobody could use them
   * now), and their namespace grants end. All in one transaction, recorded in the audit log.
   */
  async removeUser(actor: Actor, username: string): Promise<UserRemoval> {
    if (!isSiteAdmin(actor.principal)) throw forbidden('Only administrators can remove users');
    return this.db.transaction().execute(async (trx) => {
      const user = await requireUserByName(trx, username);
      if (principalUser(actor.principal)?.id === user.id)
        throw badRequest('You cannot remove your own account');
      const mine = await trx
        .selectFrom('project_roles')
        .innerJoin('projects', 'projects.id', 'project_roles.project_id')
        .select(['projects.id', 'projects.name', 'project_roles.role'])
        .where('project_roles.user_id', '=', user.id)
        .orderBy('projects.normalized_name')
        .execute();
      const held = mine.length
        ? await trx
            .selectFrom('project_roles')
            .innerJoin('projects', 'projects.id', 'project_roles.project_id')
            .select([
              'project_roles.project_id as projectId',
              'projects.name as project',
              'project_roles.user_id as userId',
              'project_roles.role',
            ])
            .where(
              'project_roles.project_id',
              'in',
              mine.map((m) => m.id),
            )
            // An organisation's project keeps its owners: the organisation's.
            .where('projects.organization_id', 'is', null)
            .execute()
        : [];
      const orphaned = projectsOnlyOwnedBy(held, user.id);
      if (orphaned.length) throw conflict(lastOwnerRefusal(user.username, orphaned));
      const soleOwnerOf = await soleOwnedOrganizations(trx, user.id);
      if (soleOwnerOf.length)
        throw conflict(
          `'${user.username}' is the last owner of organisation ${soleOwnerOf.map((o) => `'${o}'`).join(', ')}: give it another owner first`,
        );

      await trx.deleteFrom('project_roles').where('user_id', '=', user.id).execute();
      // The Simple JSON page's `namespaces[].owned` follows the project's owners (PEP 752).
      // Each project's own audit log shows its member leaving.
      for (const m of mine) {
        await bumpSerial(trx, m.id, 'role');
        await recordAudit(trx, actor, {
          action: 'role-remove',
          project: { id: m.id, name: m.name },
          details: { user: user.username, role: m.role, user_removed: true },
        });
      }
      const now = Date.now();
      const revoked = await trx
        .updateTable('tokens')
        .set({ revoked_at: now })
        .where('user_id', '=', user.id)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute();
      await trx
        .updateTable('tokens')
        .set({ user_id: null })
        .where('user_id', '=', user.id)
        .execute();
      const pending = await trx
        .deleteFrom('publishers')
        .where('added_by_user_id', '=', user.id)
        .where('pending_name', 'is not', null)
        .returning('id')
        .execute();
      const namespaces = await trx
        .selectFrom('namespace_owners')
        .innerJoin('namespaces', 'namespaces.id', 'namespace_owners.namespace_id')
        .select('namespaces.name')
        .where('namespace_owners.user_id', '=', user.id)
        .orderBy('namespaces.normalized_name')
        .execute();
      await trx.deleteFrom('namespace_owners').where('user_id', '=', user.id).execute();
      await endSessionsOf(trx, user.id);
      await trx.deleteFrom('users').where('id', '=', user.id).execute();
      const removal: UserRemoval = {
        username: user.username,
        roles: mine.map((m) => ({ project: m.name, role: m.role })),
        tokensRevoked: revoked.map((r) => r.id).sort((a, b) => a - b),
        pendingPublishersRemoved: pending.map((r) => r.id).sort((a, b) => a - b),
        namespaces: namespaces.map((n) => n.name),
      };
      await recordAudit(trx, actor, {
        action: 'user-remove',
        details: {
          username: removal.username,
          roles: removal.roles,
          tokens_revoked: removal.tokensRevoked,
          pending_publishers_removed: removal.pendingPublishersRemoved,
          namespaces: removal.namespaces,
        },
      });
      return removal;
    });
  }

  async listUsers(): Promise<User[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username_key').execute();
  }

  // ---------------------------------------------------------------- tokens

  /**
   * Creates an API token for `username`. No credential can create a token broader than itself:
   * the new token's scope, projects and lifetime stay within the creating token's.
   */
  async createToken(
    actor: Actor,
    opts: {
      username: string;
      name?: string;
      scope?: Scope;
      projects?: string[];
      expiresInSeconds?: number | null;
    },
  ): Promise<NewToken> {
    const p = actor.principal;
    const target = await this.requireUser(opts.username);
    if (target.disabled === 1) throw badRequest(`User '${target.username}' is disabled`);
    const scope: Scope = opts.scope ?? 'upload';
    const actorScope = principalScope(p);
    if (actorScope === null) throw forbidden('Creating tokens requires credentials');
    if (p.kind === 'token' && p.token.publisher_id !== null)
      throw forbidden('A token minted for a trusted publisher cannot create tokens');
    if (!scopeIncludes(actorScope, 'admin'))
      throw forbidden(
        `Creating tokens needs an admin-scoped credential; this one is '${actorScope}'`,
      );
    if (!scopeIncludes(actorScope, scope))
      throw forbidden(`A '${actorScope}' token cannot create a '${scope}' token`);
    const actorUser = principalUser(p);
    if (p.kind !== 'operator' && actorUser?.id !== target.id && !isSiteAdmin(p))
      throw forbidden('You may only create tokens for yourself');

    const projects: { id: number; name: string }[] = [];
    for (const name of opts.projects ?? []) {
      const project = await this.readableProject(p, name);
      if (!projects.some((q) => q.id === project.id)) projects.push(project);
    }
    if (p.kind === 'token' && p.projectIds !== null) {
      if (projects.length === 0)
        throw forbidden(
          'A token limited to projects can only create tokens limited to the same projects',
        );
      for (const project of projects)
        if (!p.projectIds.has(project.id))
          throw forbidden(`This token does not cover project '${project.name}'`);
    }
    const now = Date.now();
    let expiresAt = opts.expiresInSeconds ? now + opts.expiresInSeconds * 1000 : null;
    if (
      opts.expiresInSeconds !== undefined &&
      opts.expiresInSeconds !== null &&
      opts.expiresInSeconds <= 0
    )
      throw badRequest('The expiry must be in the future');
    if (p.kind === 'token' && p.token.expires_at !== null) {
      if (expiresAt === null || expiresAt > p.token.expires_at) expiresAt = p.token.expires_at;
    }
    const name = (opts.name ?? '').trim() || `token created ${new Date(now).toISOString()}`;
    if (name.length > 100) throw badRequest('Token names are at most 100 characters long');
    if (hasControlCharacters(name))
      throw badRequest('Token names cannot contain control characters');
    const { id, raw } = await this.db.transaction().execute(async (trx) => {
      const row = await insertToken(trx, {
        userId: target.id,
        publisherId: null,
        name,
        scope,
        projects: projects.map((project) => ({ projectId: project.id })),
        createdAt: now,
        expiresAt,
        claimsJson: null,
      });
      await recordAudit(trx, actor, {
        action: 'token-create',
        details: {
          token_id: row.id,
          user: target.username,
          name,
          scope,
          projects: projects.map((pr) => pr.name),
          expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
        },
      });
      return row;
    });
    return {
      id,
      token: raw,
      user: target.username,
      name,
      scope,
      projects: projects.map((pr) => pr.name),
      expiresAt,
    };
  }

  async revokeToken(actor: Actor, tokenId: number): Promise<void> {
    const token = await this.db
      .selectFrom('tokens')
      .selectAll()
      .where('id', '=', tokenId)
      .executeTakeFirst();
    if (!token) throw notFound(`No token with id ${tokenId}`);
    const p = actor.principal;
    const actorUser = principalUser(p);
    const own = actorUser !== null && token.user_id === actorUser.id;
    const scope = principalScope(p);
    const allowed =
      p.kind === 'operator' ||
      isSiteAdmin(p) ||
      (own &&
        scope !== null &&
        scopeIncludes(scope, 'admin') &&
        !(p.kind === 'token' && p.token.publisher_id !== null));
    if (!allowed) throw forbidden('You may not revoke this token');
    if (token.revoked_at !== null) return;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('tokens')
        .set({ revoked_at: Date.now() })
        .where('id', '=', tokenId)
        .execute();
      await recordAudit(trx, actor, {
        action: 'token-revoke',
        details: { token_id: tokenId, name: token.name },
      });
    });
  }

  async listTokens(opts: { userId?: number }): Promise<TokenInfo[]> {
    let q = this.db
      .selectFrom('tokens')
      .leftJoin('users', 'users.id', 'tokens.user_id')
      .select([
        'tokens.id',
        'tokens.name',
        'tokens.publisher_id',
        'tokens.display_prefix',
        'tokens.scope',
        'tokens.project_limited',
        'tokens.created_at',
        'tokens.expires_at',
        'tokens.revoked_at',
        'tokens.last_used_at',
        'users.username',
      ])
      .orderBy('tokens.id');
    if (opts.userId !== undefined) q = q.where('tokens.user_id', '=', opts.userId);
    const rows = await q.execute();
    const links = await this.db
      .selectFrom('token_projects')
      .innerJoin('projects', 'projects.id', 'token_projects.project_id')
      .select(['token_projects.token_id', 'projects.name'])
      .execute();
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      user: r.username ?? null,
      publisherId: r.publisher_id,
      prefix: r.display_prefix,
      scope: r.scope,
      projects:
        r.project_limited === 1
          ? links.filter((l) => l.token_id === r.id).map((l) => l.name)
          : null,
      createdAt: new Date(r.created_at).toISOString(),
      expiresAt: iso(r.expires_at),
      revokedAt: iso(r.revoked_at),
      lastUsedAt: iso(r.last_used_at),
    }));
  }
}
