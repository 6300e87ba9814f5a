// How many server processes `pier serve` runs: PIER_WORKERS when it is set, else one per core
// (at most MAX_WORKERS). One where the data lives inside the process — an in-memory SQLite
// database, which another process cannot see — and there a larger number is refused.
import { availableParallelism } from 'node:os';
import { ConfigError, MAX_WORKERS, type Config } from '../config.js';
import { sqlitePathFromUrl } from '../db/connect.js';

export interface WorkerCount {
  count: number;
  /** Why this number, for the start-up log. */
  reason: string;
}

/** Why the configuration needs a single process, or null when any number of them can share it. */
export function singleProcessReason(config: Pick<Config, 'databaseUrl'>): string | null {
  const path = sqlitePathFromUrl(config.databaseUrl);
  if (path === ':memory:' || (path !== null && /^file::memory:|[?&]mode=memory/.test(path)))
    return 'an in-memory SQLite database belongs to one process';
  return null;
}

export function workerCount(
  config: Pick<Config, 'databaseUrl' | 'workers'>,
  cores: number = availableParallelism(),
): WorkerCount {
  const single = singleProcessReason(config);
  if (config.workers !== null) {
    if (single !== null && config.workers > 1)
      throw new ConfigError(
        `${config.workers} server processes (PIER_WORKERS) are not possible: ${single}; use 1`,
      );
    return { count: config.workers, reason: 'configured' };
  }
  if (single !== null) return { count: 1, reason: single };
  const count = Math.max(1, Math.min(cores, MAX_WORKERS));
  return { count, reason: `one per core (${cores})` };
}
