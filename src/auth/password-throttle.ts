// The one throttle of every password check (the web sign-in, HTTP Basic on the API, uploads and
// reads, the account page) and of the web sign-in's TOTP step, stored in the database so that
// every pier process counts the same failures: a wrong password or TOTP code counts against the
// username (whether or not it exists, so the answer reveals nothing) and against the client's
// address. Past the limit within the window, the password is refused without being checked at
// all, with a message that says until when. A complete sign-in clears the username's failures.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface RateLimits {
  windowMs: number;
  perUsername: number;
  perAddress: number;
}

export const DEFAULT_LIMITS: RateLimits = {
  windowMs: 15 * 60_000,
  perUsername: 5,
  perAddress: 20,
};

export type LimitCheck = { ok: true } | { ok: false; message: string; retryAfterSeconds: number };

function minutes(ms: number): string {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return m === 1 ? '1 minute' : `${m} minutes`;
}

export class PasswordThrottle {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: RateLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private async failures(kind: 'user' | 'ip', key: string, since: number) {
    const rows = await this.db
      .selectFrom('login_failures')
      .select('at')
      .where('kind', '=', kind)
      .where('key', '=', key)
      .where('at', '>', since)
      .orderBy('at')
      .execute();
    return rows.map((r) => r.at);
  }

  /** Whether a password (or TOTP code) for `username` from `ip` may be tried now. */
  async check(username: string, ip: string | null): Promise<LimitCheck> {
    const now = this.now();
    const since = now - this.limits.windowMs;
    const checks: ['user' | 'ip', string | null, number, string][] = [
      ['user', username.toLowerCase(), this.limits.perUsername, 'for this account'],
      ['ip', ip, this.limits.perAddress, 'from your address'],
    ];
    for (const [kind, key, limit, where] of checks) {
      if (key === null) continue;
      const times = await this.failures(kind, key, since);
      if (times.length >= limit) {
        // Free again when the oldest failure that keeps it at the limit leaves the window.
        const until = times[times.length - limit]! + this.limits.windowMs;
        return {
          ok: false,
          retryAfterSeconds: Math.ceil((until - now) / 1000),
          message: `Too many failed sign-in attempts ${where}. Try again in ${minutes(until - now)}.`,
        };
      }
    }
    return { ok: true };
  }

  async recordFailure(username: string, ip: string | null): Promise<void> {
    const now = this.now();
    const rows = [{ kind: 'user', key: username.toLowerCase(), at: now }];
    if (ip !== null) rows.push({ kind: 'ip', key: ip, at: now });
    await this.db.insertInto('login_failures').values(rows).execute();
    // Keep the table small: what left the window counts no more.
    await this.db
      .deleteFrom('login_failures')
      .where('at', '<=', now - this.limits.windowMs)
      .execute();
  }

  async clearUsername(username: string): Promise<void> {
    await this.db
      .deleteFrom('login_failures')
      .where('kind', '=', 'user')
      .where('key', '=', username.toLowerCase())
      .execute();
  }
}
