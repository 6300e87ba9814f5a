// PEP 740 attestations (src/attestations): each verified attestation of a file, as uploaded, with
// the publisher it was verified against and the signing identity the verification found; and the
// per-project policy that uploads must carry one.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';
import { idColumn } from './columns.js';

export function attestations(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await idColumn(db.schema.createTable('file_attestations'), dialect)
        .addColumn('file_id', 'bigint', (c) =>
          c.notNull().references('files.id').onDelete('cascade'),
        )
        // Its place in the uploaded list (served in the same order).
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('predicate_type', 'text', (c) => c.notNull())
        // The trusted publisher it was verified against (kept after the publisher is removed).
        .addColumn('publisher_id', 'bigint')
        // The provenance document's `publisher` object (src/attestations/identity.ts).
        .addColumn('publisher_json', 'text', (c) => c.notNull())
        // What the verification found: the certificate's identity and the log entry.
        .addColumn('identity_json', 'text', (c) => c.notNull())
        // The attestation object exactly as uploaded.
        .addColumn('attestation_json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('file_attestations_file')
        .on('file_attestations')
        .columns(['file_id', 'position'])
        .unique()
        .execute();
      // 1: every upload to the project must carry an attestation that verifies.
      await db.schema
        .alterTable('projects')
        .addColumn('require_attestations', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
