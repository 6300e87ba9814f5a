// How many things the client does at once: checking and hashing files, and uploading them.

/** Uploads in flight at once after the first: enough to overlap the index's work per file. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * `fn` over `items` with at most `limit` running at once; results in the items' order. When
 * some fail, the error of the first failing item (in order, not in time) is thrown.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: ({ ok: R } | { error: unknown })[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: await fn(items[i] as T) };
      } catch (error) {
        results[i] = { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results.map((r) => {
    if ('error' in r) throw r.error;
    return r.ok;
  });
}
