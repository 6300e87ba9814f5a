// The web interface's own services, constructed with the others in src/services.ts.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { PasswordThrottle } from '../auth/password-throttle.js';
import { SessionService } from './sessions.js';
import { TwoFactorService } from './totp.js';

export interface WebServices {
  sessions: SessionService;
  twoFactor: TwoFactorService;
  /** The throttle of every password check (the auth service's), also counting TOTP codes. */
  loginLimiter: PasswordThrottle;
}

export function openWebServices(db: Kysely<Database>, throttle: PasswordThrottle): WebServices {
  return {
    sessions: new SessionService(db),
    twoFactor: new TwoFactorService(db),
    loginLimiter: throttle,
  };
}
