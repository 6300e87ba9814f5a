// Optional TOTP two-factor authentication (RFC 6238: SHA-1, 6 digits, 30-second steps, as every
// authenticator app reads an otpauth:// URI). Enrolment stores a new secret; a code from it
// confirms and enables it; once enabled, sign-in asks for a code after the password. A code is
// accepted for the current step and one either side (clock drift), and never twice: the last
// step used is recorded with a compare-and-set, so two processes cannot both accept one code.
import type { Kysely } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import type { Database, User } from '../db/schema.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { badRequest, forbidden } from '../errors.js';
import { isSiteAdmin } from '../auth/permissions.js';
import { principalUser } from '../auth/principal.js';
import { hasSecondFactor } from '../auth/credential-use.js';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;

/** TOTP is pier's second factor: enabled once confirmed (src/auth/credential-use.ts). */
export function totpEnabled(user: Pick<User, 'totp_enabled_at' | 'totp_secret'>): boolean {
  return hasSecondFactor(user);
}

export function totpFor(secretBase32: string, issuer: string, label: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The issuer shown in authenticator apps: pier and the index's host. */
export function totpIssuer(publicUrl: string): string {
  return `pier (${new URL(publicUrl).host})`;
}

/** What a person types: digits, maybe with spaces. */
export function cleanCode(code: unknown): string | null {
  if (typeof code !== 'string') return null;
  const digits = code.replace(/\s+/g, '');
  return new RegExp(`^[0-9]{${TOTP_DIGITS}}$`).test(digits) ? digits : null;
}

/** The time step a code belongs to, or null when it matches none in the window. */
export function matchingStep(secretBase32: string, code: string, nowMs: number): number | null {
  const totp = totpFor(secretBase32, 'pier', 'x');
  const delta = totp.validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  if (delta === null) return null;
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS) + delta;
}

export class TwoFactorService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  private async reload(userId: number): Promise<User> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
  }

  /** Starts (or restarts) enrolment: a new secret, not in use until a code confirms it. */
  async begin(user: User): Promise<string> {
    if (totpEnabled(user)) throw badRequest('Two-factor authentication is enabled already');
    const secret = new Secret({ size: 20 }).base32;
    await this.db
      .updateTable('users')
      .set({ totp_secret: secret, totp_enabled_at: null, totp_last_step: null })
      .where('id', '=', user.id)
      .execute();
    return secret;
  }

  /**
   * Accepts `code` for the user's secret once: true when it matches a step not used before.
   * `requireEnabled` false is for the confirmation of a pending enrolment.
   */
  async verify(user: User, code: unknown, requireEnabled = true): Promise<boolean> {
    const fresh = await this.reload(user.id);
    if (fresh.totp_secret === null) return false;
    if (requireEnabled && !totpEnabled(fresh)) return false;
    const digits = cleanCode(code);
    if (digits === null) return false;
    const step = matchingStep(fresh.totp_secret, digits, this.now());
    if (step === null) return false;
    const updated = await this.db
      .updateTable('users')
      .set({ totp_last_step: step })
      .where('id', '=', user.id)
      .where('totp_secret', '=', fresh.totp_secret)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** Confirms enrolment with a code from the new secret. */
  async confirm(actor: Actor, user: User, code: unknown): Promise<boolean> {
    const fresh = await this.reload(user.id);
    if (totpEnabled(fresh)) return true;
    if (!(await this.verify(fresh, code, false))) return false;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ totp_enabled_at: this.now() })
        .where('id', '=', user.id)
        .execute();
      await recordAudit(trx, actor, {
        action: 'user-2fa-enable',
        details: { username: user.username },
      });
    });
    return true;
  }

  /**
   * Turns the second factor off: the user (whose current code the caller has checked), or an
   * administrator resetting it for someone who lost their device.
   */
  async disable(actor: Actor, user: User): Promise<void> {
    const self = principalUser(actor.principal)?.id === user.id;
    if (!self && !isSiteAdmin(actor.principal))
      throw forbidden("Only administrators can reset another user's two-factor authentication");
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ totp_secret: null, totp_enabled_at: null, totp_last_step: null })
        .where('id', '=', user.id)
        .execute();
      await recordAudit(trx, actor, {
        action: 'user-2fa-disable',
        details: { username: user.username },
      });
    });
  }
}
