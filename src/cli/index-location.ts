// Which index a management command acts on, and the rule that only `serve` and `migrate` create
// one: every other command refuses a data directory (or database) that holds no index, rather
// than leaving a new `pier-data` folder wherever it happened to run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { openDatabase, sqlitePathFromUrl } from '../db/connect.js';
import { schemaStatus } from '../db/migrate.js';

/** Refusal of a command that needs an existing index. */
export class NoIndexError extends Error {
  override name = 'NoIndexError';
}

export interface IndexLocation {
  /** How the index is named to the operator: its data directory, SQLite file or database. */
  where: string;
  /** The settings that choose it, for the refusal's advice. */
  settings: string;
}

/** Where `config` puts the index (a pure function of the configuration). */
export function indexLocation(config: Config): IndexLocation {
  const sqlite = sqlitePathFromUrl(config.databaseUrl);
  if (sqlite === null)
    return {
      where: redactedUrl(config.databaseUrl),
      settings: '--database-url or PIER_DATABASE_URL',
    };
  // The default database lives in the data directory: name the folder people configure.
  if (sqlite === join(config.dataDir, 'pier.sqlite3'))
    return { where: config.dataDir, settings: '--data-dir or PIER_DATA_DIR' };
  return { where: sqlite, settings: '--database-url or PIER_DATABASE_URL' };
}

/** The refusal, in one place: `no index at <where>; use <settings>`. */
export function noIndexMessage(location: IndexLocation): string {
  return `no index at ${location.where}; use ${location.settings}`;
}

/**
 * The index `config` names, or NoIndexError when there is none: on SQLite no database file
 * (nothing is created by asking), on PostgreSQL a database without any pier migration applied.
 */
export async function requireIndex(config: Config): Promise<IndexLocation> {
  const location = indexLocation(config);
  const sqlite = sqlitePathFromUrl(config.databaseUrl);
  if (sqlite !== null) {
    if (!existsSync(sqlite)) throw new NoIndexError(noIndexMessage(location));
    return location;
  }
  const db = openDatabase(config.databaseUrl);
  try {
    if ((await schemaStatus(db)).applied.length === 0)
      throw new NoIndexError(`${noIndexMessage(location)} (or run 'pier migrate' to create one)`);
  } finally {
    await db.close();
  }
  return location;
}

function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return '(the configured database)';
  }
}
