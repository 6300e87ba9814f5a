import { sql, type CreateTableBuilder } from 'kysely';
import type { DialectName } from '../connect.js';

/** An auto-incrementing integer primary key named `id`, in each dialect's own form. */
export function idColumn<T extends string>(
  table: CreateTableBuilder<T, never>,
  dialect: DialectName,
): CreateTableBuilder<T, 'id'> {
  return dialect === 'postgres'
    ? table.addColumn('id', sql`bigserial`, (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}
