// The web interface (src/web): sessions stored in the database (so every pier process shares
// them and a revoked one stops at once everywhere), failed sign-ins for rate limiting, and each
// user's TOTP second factor.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function web(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // A browser's session. The cookie holds a random token; only its SHA-256 is stored.
      await idColumn(db.schema.createTable('web_sessions'), dialect)
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'bigint', (c) =>
          c.notNull().references('users.id').onDelete('cascade'),
        )
        // The CSRF token every form of this session carries.
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        // 1 between a correct password and the TOTP code: the session can do nothing else.
        .addColumn('pending_2fa', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema
        .createIndex('web_sessions_user')
        .on('web_sessions')
        .column('user_id')
        .execute();
      await db.schema
        .createIndex('web_sessions_expiry')
        .on('web_sessions')
        .column('expires_at')
        .execute();

      // Failed sign-ins (wrong password or code), per username and per client address.
      await idColumn(db.schema.createTable('login_failures'), dialect)
        .addColumn('kind', 'text', (c) => c.notNull()) // 'user' | 'ip'
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('login_failures_key')
        .on('login_failures')
        .columns(['kind', 'key', 'at'])
        .execute();

      // TOTP (RFC 6238): the secret (set at enrolment, enabled once a code confirms it) and the
      // last time step used, so a code is accepted once only.
      await db.schema.alterTable('users').addColumn('totp_secret', 'text').execute();
      await db.schema.alterTable('users').addColumn('totp_enabled_at', 'bigint').execute();
      await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
    },
  };
}
