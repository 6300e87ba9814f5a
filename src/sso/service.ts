// Company sign-in with OpenID Connect: the authorization code flow with PKCE (S256), a state and
// a nonce, through openid-client, which checks the discovery document's issuer, the response's
// `iss`, the ID token's signature (against the provider's JWKS), issuer, audience, expiry and
// nonce. A verified sign-in is then planned by the pure rules of claims.ts and applied in one
// transaction: the identity row with its groups, the user created, disabled or re-enabled, the
// audit entry. The web route then starts the session exactly as a password sign-in does (with the
// TOTP step when the account has one). Nothing changes when anything fails.
import * as oidc from 'openid-client';
import type { Kysely } from 'kysely';
import type { Database, User } from '../db/schema.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { endSessionsOf } from '../web/sessions.js';
import { isUniqueViolation } from '../db/errors.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import { isSiteAdmin } from '../auth/permissions.js';
import type { SsoProviderConfig } from './config.js';
import { groupsFromClaims, planSignIn, usernameFromClaims } from './claims.js';

/** What the browser keeps (in a cookie) between leaving for the provider and coming back. */
export interface SsoFlow {
  provider: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  next: string;
  startedAt: number;
}

/** How long a browser may spend at the provider. */
export const SSO_FLOW_MAX_AGE_MS = 10 * 60_000;

/** Called after every successful company sign-in, before the session starts. */
export type AfterSignInHook = (event: {
  userId: number;
  provider: string;
  groups: string[];
}) => Promise<void> | void;

export type SsoResult =
  | { ok: true; user: User; groups: string[]; created: boolean }
  | { ok: false; code: string; reason: string };

function refused(code: string, reason: string): SsoResult {
  return { ok: false, code, reason };
}

/** The flow cookie's value, or null when it is not exactly what begin() wrote. */
export function parseFlow(value: string | undefined): SsoFlow | null {
  if (!value) return null;
  try {
    const f = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const strings = ['provider', 'state', 'nonce', 'codeVerifier', 'next'] as const;
    if (!strings.every((k) => typeof f[k] === 'string') || !Number.isSafeInteger(f.startedAt))
      return null;
    return f as unknown as SsoFlow;
  } catch {
    return null;
  }
}

export function encodeFlow(flow: SsoFlow): string {
  return Buffer.from(JSON.stringify(flow)).toString('base64url');
}

/** A provider as `pier sso list --json` and `GET /api/sso/providers` show it: no secret. */
export function providerJson(p: SsoProviderConfig, redirectUri: string) {
  return {
    name: p.name,
    display_name: p.displayName,
    issuer: p.issuer,
    client_id: p.clientId,
    scopes: p.scopes,
    username_claim: p.usernameClaim,
    groups_claim: p.groupsClaim,
    allowed_groups: p.allowedGroups,
    create_users: p.createUsers,
    session_max_age: p.sessionMaxAge,
    redirect_uri: redirectUri,
  };
}

export class SsoService {
  /** Every function here runs after each successful sign-in (teams from groups, for one). */
  readonly afterSignIn: AfterSignInHook[] = [];
  private readonly discovered = new Map<string, Promise<oidc.Configuration>>();
  private readonly byName: Map<string, SsoProviderConfig>;

  constructor(
    private readonly db: Kysely<Database>,
    readonly providers: readonly SsoProviderConfig[],
    private readonly publicUrl: () => string,
    private readonly now: () => number = Date.now,
  ) {
    this.byName = new Map(providers.map((p) => [p.name, p]));
  }

  provider(name: string): SsoProviderConfig | null {
    return this.byName.get(name) ?? null;
  }

  /** The lifetime of a web session a provider started (the default when no longer configured). */
  sessionBound(name: string): { provider: string; maxAgeMs: number } {
    const p = this.byName.get(name);
    return { provider: name, maxAgeMs: (p?.sessionMaxAge ?? 3600) * 1000 };
  }

  redirectUri(name: string): string {
    return `${this.publicUrl().replace(/\/+$/, '')}/login/sso/${name}/callback`;
  }

  /** The provider's metadata, fetched once (again after a failure). */
  private configuration(p: SsoProviderConfig): Promise<oidc.Configuration> {
    let c = this.discovered.get(p.name);
    if (!c) {
      const auth = p.clientSecret ? oidc.ClientSecretBasic(p.clientSecret.reveal()) : oidc.None();
      c = oidc.discovery(new URL(p.issuer), p.clientId, undefined, auth, {
        // ID tokens come from the token endpoint, where OpenID Connect lets a client skip
        // their signature; pier checks it anyway (against the provider's JWKS), so that a
        // token endpoint that was impersonated or misrouted cannot sign anyone in.
        execute: p.insecure
          ? [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks]
          : [oidc.enableNonRepudiationChecks],
        timeout: 10,
      });
      c.catch(() => this.discovered.delete(p.name));
      this.discovered.set(p.name, c);
    }
    return c;
  }

  /** Where to send the browser, and what it must bring back. */
  async begin(name: string, next: string): Promise<{ url: string; flow: SsoFlow }> {
    const p = this.byName.get(name);
    if (!p) throw new SsoError('unknown-provider', `No sign-in provider named '${name}'.`);
    let config: oidc.Configuration;
    try {
      config = await this.configuration(p);
    } catch (err) {
      throw new SsoError('discovery', `${p.displayName} cannot be reached: ${describe(err)}`);
    }
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const flow: SsoFlow = {
      provider: p.name,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier,
      next,
      startedAt: this.now(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(p.name),
      scope: p.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url: url.href, flow };
  }

  /**
   * Completes a sign-in: `callback` is the URL the provider sent the browser to, `flow` what
   * begin() gave that browser. Refusals change nothing, except that a linked user the provider's
   * groups no longer allow is disabled.
   */
  async complete(
    name: string,
    callback: URL,
    flow: SsoFlow | null,
    actor: Actor,
  ): Promise<SsoResult> {
    const p = this.byName.get(name);
    if (!p) return refused('unknown-provider', `No sign-in provider named '${name}'.`);
    if (!flow || flow.provider !== name)
      return refused(
        'no-flow',
        'This sign-in was not started in this browser (or its cookie was lost). Start again.',
      );
    if (this.now() - flow.startedAt > SSO_FLOW_MAX_AGE_MS)
      return refused('flow-expired', 'This sign-in took too long. Start again.');
    let claims: Record<string, unknown>;
    try {
      const config = await this.configuration(p);
      const tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const c = tokens.claims();
      if (!c) return refused('no-id-token', `${p.displayName} sent no ID token.`);
      claims = c as Record<string, unknown>;
    } catch (err) {
      return refused('verification', `${p.displayName} sign-in failed: ${describe(err)}`);
    }
    const issuer = String(claims.iss);
    const subject = claims.sub;
    if (typeof subject !== 'string' || subject === '')
      return refused('verification', `${p.displayName} sent an ID token without a subject.`);
    const username = usernameFromClaims(claims, p.usernameClaim);
    const groups = groupsFromClaims(claims, p.groupsClaim);
    if (!groups.ok) return refused(groups.code, groups.reason);
    const result = await this.apply(p, issuer, subject, username, groups.value, actor);
    if (result.ok)
      for (const hook of this.afterSignIn)
        await hook({ userId: result.user.id, provider: p.name, groups: result.groups });
    return result;
  }

  private async apply(
    p: SsoProviderConfig,
    issuer: string,
    subject: string,
    username: ReturnType<typeof usernameFromClaims>,
    groups: string[],
    actor: Actor,
  ): Promise<SsoResult> {
    const now = this.now();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const identity = await trx
          .selectFrom('sso_identities')
          .innerJoin('users', 'users.id', 'sso_identities.user_id')
          .select([
            'sso_identities.id',
            'sso_identities.user_id',
            'sso_identities.disabled_by_provider',
            'users.disabled',
          ])
          .where('sso_identities.issuer', '=', issuer)
          .where('sso_identities.subject', '=', subject)
          .executeTakeFirst();
        // A linked identity needs no user name; a first sign-in does.
        if (!identity && !username.ok) return refused(username.code, username.reason);
        const name = username.ok ? username.value : '';
        const taken =
          !identity &&
          (await trx
            .selectFrom('users')
            .select('id')
            .where('username_key', '=', name.toLowerCase())
            .executeTakeFirst()) !== undefined;
        const plan = planSignIn({
          provider: p,
          linked: identity
            ? {
                userId: identity.user_id,
                disabled: identity.disabled === 1,
                disabledByProvider: identity.disabled_by_provider === 1,
              }
            : null,
          username: name,
          nameTaken: taken,
          groups,
        });
        const details = { provider: p.name, issuer, subject, groups };
        if (!plan.ok) {
          if (plan.disableUserId !== null && identity) {
            await trx
              .updateTable('users')
              .set({ disabled: 1 })
              .where('id', '=', plan.disableUserId)
              .execute();
            await trx
              .updateTable('sso_identities')
              .set({ disabled_by_provider: 1, groups_json: JSON.stringify(groups) })
              .where('id', '=', identity.id)
              .execute();
            await endSessionsOf(trx, plan.disableUserId);
            await recordAudit(trx, actor, {
              action: 'sso-user-disable',
              details: { ...details, reason: plan.reason },
            });
            return refused(plan.code, `${plan.reason} Your pier account is now disabled.`);
          }
          return refused(plan.code, plan.reason);
        }
        let userId: number;
        if (plan.kind === 'create') {
          const created = await trx
            .insertInto('users')
            .values({
              username: plan.username,
              username_key: plan.username.toLowerCase(),
              password_hash: null,
              is_admin: 0,
              may_create_projects: 0,
              disabled: 0,
              created_at: now,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          userId = created.id;
          await trx
            .insertInto('sso_identities')
            .values({
              user_id: userId,
              provider: p.name,
              issuer,
              subject,
              groups_json: JSON.stringify(groups),
              created_at: now,
              last_sign_in_at: now,
            })
            .execute();
          await recordAudit(trx, actor, {
            action: 'sso-user-create',
            details: { ...details, username: plan.username },
          });
        } else {
          userId = plan.userId;
          if (plan.reenable)
            await trx.updateTable('users').set({ disabled: 0 }).where('id', '=', userId).execute();
          await trx
            .updateTable('sso_identities')
            .set({
              provider: p.name,
              groups_json: JSON.stringify(groups),
              disabled_by_provider: 0,
              last_sign_in_at: now,
            })
            .where('id', '=', identity!.id)
            .execute();
          if (plan.reenable) await recordAudit(trx, actor, { action: 'sso-user-enable', details });
        }
        const user = await trx
          .selectFrom('users')
          .selectAll()
          .where('id', '=', userId)
          .executeTakeFirstOrThrow();
        return { ok: true as const, user, groups, created: plan.kind === 'create' };
      });
    } catch (err) {
      // Two first sign-ins at once: the other one created the user or the identity.
      if (isUniqueViolation(err))
        return refused('conflict', 'This sign-in raced another one. Sign in again.');
      throw err;
    }
  }

  /**
   * Links an existing pier user to a provider's subject (the administrator's way to let a local
   * account sign in through the provider, and the only way to link a user whose name is taken).
   */
  async link(
    actor: Actor,
    opts: { username: string; provider: string; subject: string },
  ): Promise<void> {
    if (!isSiteAdmin(actor.principal)) throw forbidden('Only administrators can link identities');
    const p = this.byName.get(opts.provider);
    if (!p) throw notFound(`No sign-in provider named '${opts.provider}'`);
    if (opts.subject.trim() === '') throw badRequest('The subject is empty');
    const now = this.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        const user = await trx
          .selectFrom('users')
          .select(['id', 'username'])
          .where('username_key', '=', opts.username.toLowerCase())
          .executeTakeFirst();
        if (!user) throw notFound(`No user named '${opts.username}'`);
        await trx
          .insertInto('sso_identities')
          .values({
            user_id: user.id,
            provider: p.name,
            issuer: p.issuer,
            subject: opts.subject,
            created_at: now,
            last_sign_in_at: null,
          })
          .execute();
        await recordAudit(trx, actor, {
          action: 'sso-link',
          details: {
            provider: p.name,
            issuer: p.issuer,
            subject: opts.subject,
            username: user.username,
          },
        });
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw conflict(`That ${p.displayName} subject is linked to a pier user already`);
      throw err;
    }
  }

  /** The identities linked to a user (the account page and `pier sso list`). */
  async identitiesOf(userId: number) {
    const rows = await this.db
      .selectFrom('sso_identities')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      provider: r.provider,
      issuer: r.issuer,
      subject: r.subject,
      groups: JSON.parse(r.groups_json) as string[],
      last_sign_in_at:
        r.last_sign_in_at === null ? null : new Date(r.last_sign_in_at).toISOString(),
    }));
  }
}

export class SsoError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** An openid-client error in words (never a token: its messages name checks, not values). */
function describe(err: unknown): string {
  if (err instanceof oidc.AuthorizationResponseError)
    return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  if (err instanceof oidc.ResponseBodyError)
    return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  let message = err instanceof Error ? err.message : String(err);
  // openid-client's own words are general ("invalid response encountered"); the check that
  // failed is its cause's message (which names the check, never the values compared).
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error && cause.message !== message) message += `: ${cause.message}`;
  return message.slice(0, 300);
}
