// Browser sessions, stored in the database so that any number of pier processes share them: a
// session signed out, revoked, expired, or whose user was disabled stops working on the very next
// request, in every process. The cookie holds 32 random bytes; only their SHA-256 is stored.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, User, WebSessionRow } from '../db/schema.js';

/** A session lives this long after sign-in, however active. */
export const SESSION_MAX_AGE_MS = 12 * 3600_000;
/** …and ends after this long without a request. */
export const SESSION_IDLE_MS = 2 * 3600_000;
/** Between a correct password and the TOTP code. */
export const PENDING_2FA_MS = 5 * 60_000;
/** How often last_seen_at is written (at most). */
const TOUCH_EVERY_MS = 60_000;

export interface ResolvedSession {
  session: WebSessionRow;
  user: User;
}

/** How long a signed-in session lasts: SESSION_MAX_AGE_MS, or less for a company sign-in. */
export function sessionLifetimeMs(sso?: { maxAgeMs: number } | null): number {
  return sso ? Math.min(sso.maxAgeMs, SESSION_MAX_AGE_MS) : SESSION_MAX_AGE_MS;
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isWellFormedSessionToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/**
 * Ends every web session of a user but `keepId`: after a password change or an administrator's
 * reset (src/auth/service.ts calls it in the same transaction as the new password).
 */
export async function endSessionsOf(
  db: Kysely<Database>,
  userId: number,
  keepId?: number,
): Promise<void> {
  let q = db.deleteFrom('web_sessions').where('user_id', '=', userId);
  if (keepId !== undefined) q = q.where('id', '!=', keepId);
  await q.execute();
}

export class SessionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Starts a session; `pending2fa` sessions can only complete the TOTP step. A session started
   * through a company sign-in provider (`sso`) lasts that provider's `maxAgeMs` (at most
   * SESSION_MAX_AGE_MS): then the provider is asked again, and can refuse.
   */
  async create(
    user: User,
    opts: {
      pending2fa: boolean;
      ip: string | null;
      userAgent: string | null;
      sso?: { provider: string; maxAgeMs: number } | null;
    },
  ): Promise<{ token: string; session: WebSessionRow }> {
    const token = randomToken();
    const now = this.now();
    const session = await this.db
      .insertInto('web_sessions')
      .values({
        token_hash: hashSessionToken(token),
        user_id: user.id,
        csrf_token: randomToken(),
        pending_2fa: opts.pending2fa ? 1 : 0,
        created_at: now,
        last_seen_at: now,
        expires_at: now + (opts.pending2fa ? PENDING_2FA_MS : sessionLifetimeMs(opts.sso)),
        ip: opts.ip,
        user_agent: opts.userAgent?.slice(0, 300) ?? null,
        sso_provider: opts.sso?.provider ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { token, session };
  }

  /** The live session of a cookie value and its user, or null. */
  async resolve(token: string | undefined): Promise<ResolvedSession | null> {
    if (!token || !isWellFormedSessionToken(token)) return null;
    const session = await this.db
      .selectFrom('web_sessions')
      .selectAll()
      .where('token_hash', '=', hashSessionToken(token))
      .executeTakeFirst();
    if (!session) return null;
    const now = this.now();
    if (session.expires_at <= now || session.last_seen_at + SESSION_IDLE_MS <= now) {
      await this.revoke(session.id);
      return null;
    }
    const user = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', session.user_id)
      .executeTakeFirst();
    if (!user || user.disabled === 1) return null;
    if (now - session.last_seen_at >= TOUCH_EVERY_MS) {
      await this.db
        .updateTable('web_sessions')
        .set({ last_seen_at: now })
        .where('id', '=', session.id)
        .execute();
      session.last_seen_at = now;
    }
    return { session, user };
  }

  async revoke(id: number): Promise<void> {
    await this.db.deleteFrom('web_sessions').where('id', '=', id).execute();
  }

  /** Revokes one of a user's sessions (the account page's "sign out" per session). */
  async revokeOwn(userId: number, id: number): Promise<boolean> {
    const r = await this.db
      .deleteFrom('web_sessions')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Every session of a user but `keepId` (after a password change). */
  async revokeAllOf(userId: number, keepId?: number): Promise<void> {
    await endSessionsOf(this.db, userId, keepId);
  }

  async listOf(userId: number): Promise<WebSessionRow[]> {
    const now = this.now();
    return this.db
      .selectFrom('web_sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('pending_2fa', '=', 0)
      .where('expires_at', '>', now)
      .where('last_seen_at', '>', now - SESSION_IDLE_MS)
      .orderBy('id', 'desc')
      .execute();
  }

  /** Drops expired rows (called now and then; expired sessions never work anyway). */
  async deleteExpired(): Promise<void> {
    const now = this.now();
    await this.db
      .deleteFrom('web_sessions')
      .where((eb) =>
        eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - SESSION_IDLE_MS)]),
      )
      .execute();
  }
}
