// Recognising a unique-constraint violation on either database: the sign that another request
// (in this process or another) made the same row first.
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e.code === '23505') return true; // PostgreSQL unique_violation
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
    return true;
  return (
    typeof e.message === 'string' &&
    /UNIQUE constraint failed|duplicate key value violates unique constraint/.test(e.message)
  );
}
