// Turning on a user's second factor the way the account page does: enrolment, then a code.
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import type { Services } from '../../src/services.js';
import { OPERATOR } from './server.js';

/** Enables TOTP for `username`; returns the secret. */
export async function enableTotp(services: Services, username: string): Promise<string> {
  const user = await services.auth.requireUser(username);
  const secret = await services.web.twoFactor.begin(user);
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
  assert.equal(await services.web.twoFactor.confirm(OPERATOR, user, code), true);
  return secret;
}
