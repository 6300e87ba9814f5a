// The first start of an empty index creates an administrator. Its generated password goes to a
// file in the data directory that only the operator's account can read (mode 0600), never to the
// output: a service's output ends up in journald or a container's log, readable by many.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthService } from '../auth/service.js';
import { generatePassword } from '../auth/passwords.js';
import { PierError } from '../errors.js';

export const FIRST_ADMIN = 'admin';
export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

const OPERATOR = { principal: { kind: 'operator' as const, name: 'first start' }, ip: null };

/**
 * Creates the first administrator if the index has no user, and returns the file holding its
 * password (null when there was nothing to do, or another process starting on the same new
 * database created it first). The file is written under a temporary name first and renamed once
 * the account exists, so it never holds a password that is not the account's.
 */
export async function createFirstAdministrator(
  auth: AuthService,
  dataDir: string,
): Promise<string | null> {
  if ((await auth.countUsers()) !== 0) return null;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, INITIAL_PASSWORD_FILE);
  const temp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}`;
  const password = generatePassword();
  writeFileSync(temp, `${password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    const created = await auth
      .addUser(OPERATOR, { username: FIRST_ADMIN, admin: true, password })
      .catch((err: unknown) => {
        if (err instanceof PierError && err.status === 409) return null;
        throw err;
      });
    if (created === null) return null;
    renameSync(temp, file);
    return file;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** What the first start prints: where the password is, never the password. */
export function firstStartMessage(file: string): string {
  return (
    `\nThis is a new index. An administrator account was created: username '${FIRST_ADMIN}'.\n` +
    `Its password is in ${file} (readable by this account only; it is not printed).\n` +
    `Sign in, change the password, then delete the file. Create tokens with:\n` +
    `  npx pier token create --user ${FIRST_ADMIN} --scope admin\n\n`
  );
}
