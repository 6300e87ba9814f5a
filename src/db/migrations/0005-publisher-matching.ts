// Publisher matching: a minted token may cover the projects of several publishers (every one
// whose rules the job passes), so each of its projects records which publisher granted it; the
// failed exchanges of unverified tokens are counted per issuer and reason instead of logged one
// row each; and registrations of trusted publishers are rate limited per user and per address.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function publisherMatching(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Null for tokens that are not minted (and for those minted before this migration, whose
      // projects were all granted by tokens.publisher_id).
      await db.schema.alterTable('token_projects').addColumn('publisher_id', 'bigint').execute();

      // One row per (issuer, code): how many exchanges of tokens that could not be verified
      // failed, and when the last one did. issuer_url is '' when the issuer is not registered.
      await db.schema
        .createTable('oidc_exchange_failures')
        .addColumn('issuer_url', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('oidc_exchange_failures_pk', ['issuer_url', 'code'])
        .execute();

      // Registration attempts of trusted publishers, per user and per client address.
      await idColumn(db.schema.createTable('publisher_registrations'), dialect)
        .addColumn('kind', 'text', (c) => c.notNull()) // 'user' | 'ip'
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('publisher_registrations_key')
        .on('publisher_registrations')
        .columns(['kind', 'key', 'at'])
        .execute();
    },
  };
}
