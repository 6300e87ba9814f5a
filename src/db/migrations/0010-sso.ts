// Company sign-in (src/sso): each identity a provider vouched for, linked to one pier user by
// (issuer, subject), with the groups its latest sign-in carried; and which provider started a web
// session (its lifetime is that provider's session_max_age, kept through the TOTP step).
import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function sso(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await idColumn(db.schema.createTable('sso_identities'), dialect)
        .addColumn('user_id', 'bigint', (c) =>
          c.notNull().references('users.id').onDelete('cascade'),
        )
        // The configured provider's name at the last sign-in (for display; the key is below).
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        // JSON array of strings: the groups claim as received at the latest sign-in.
        .addColumn('groups_json', 'text', (c) => c.notNull().defaultTo('[]'))
        // 1 while the user is disabled because the provider's groups no longer allowed them.
        .addColumn('disabled_by_provider', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_sign_in_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('sso_identities_issuer_subject')
        .on('sso_identities')
        .columns(['issuer', 'subject'])
        .unique()
        .execute();
      await db.schema
        .createIndex('sso_identities_user')
        .on('sso_identities')
        .column('user_id')
        .execute();
      await db.schema.alterTable('web_sessions').addColumn('sso_provider', 'text').execute();
    },
  };
}
