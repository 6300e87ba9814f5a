// The web interface's own services, constructed with the others in src/services.ts.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { SessionService } from './sessions.js';
import { TwoFactorService } from './totp.js';
import { LoginRateLimiter } from './rate-limit.js';

export interface WebServices {
  sessions: SessionService;
  twoFactor: TwoFactorService;
  loginLimiter: LoginRateLimiter;
}

export function openWebServices(db: Kysely<Database>): WebServices {
  return {
    sessions: new SessionService(db),
    twoFactor: new TwoFactorService(db),
    loginLimiter: new LoginRateLimiter(db),
  };
}
