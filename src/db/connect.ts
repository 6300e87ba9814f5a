// Opens the database named by PIER_DATABASE_URL: a SQLite file (the embedded default) or
// PostgreSQL. Both are driven through the same Kysely code.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { UnchangedSinceCommit, WalIndexHeader } from './wal-index.js';

export type DialectName = 'sqlite' | 'postgres';

/** The project row the Simple API reads on every request, to check its cached page is current. */
export interface ProjectHeadRow {
  id: number;
  name: string;
  normalized_name: string;
  last_serial: number;
  private: number;
  status: string;
}

const PROJECT_HEAD_SQL =
  'select id, name, normalized_name, last_serial, private, status from projects where normalized_name = ';

/**
 * What a proxied page's cached answer depends on, besides the hosted project of that name (read
 * by projectHead): the stored page's identity — when it was checked, its ETag and the size of
 * its files — and the run-time exclude list and reserved namespaces, as space-separated lists
 * (neither a glob nor a normalized name holds a space). The page columns are null when nothing
 * is stored for the name.
 */
export interface ProxyStateRow {
  found: number | null;
  checked_at: number | null;
  etag: string | null;
  /** Bytes of the stored files' JSON (UTF-8), the same on both databases. */
  bytes: number | null;
  excludes: string;
  reserved: string;
}

function proxyStateSql(dialect: DialectName, param: string): string {
  const list = (column: string) =>
    dialect === 'sqlite'
      ? `coalesce(group_concat(${column}, ' '), '')`
      : `coalesce(string_agg(${column}, ' '), '')`;
  const bytes =
    dialect === 'sqlite' ? 'length(cast(u.files_json as blob))' : 'octet_length(u.files_json)';
  return (
    `select u.found, u.checked_at, u.etag, ${bytes} as bytes, ` +
    `(select ${list('pattern')} from upstream_excludes) as excludes, ` +
    `(select ${list('normalized_name')} from namespaces) as reserved ` +
    `from (select 1 as one) as one left join upstream_pages as u on u.normalized_name = ${param}`
  );
}

/**
 * Reads on the hottest path, without Kysely's per-query compilation: a statement prepared once.
 * On SQLite they use their own read-only connection, so they only ever see committed data (the
 * main connection may be inside another request's transaction) and never wait for a writer.
 */
export interface HotReads {
  /** Synchronous on SQLite, a promise on PostgreSQL. */
  projectHead(
    normalizedName: string,
  ): ProjectHeadRow | undefined | Promise<ProjectHeadRow | undefined>;
  /** Synchronous on SQLite, a promise on PostgreSQL: one read either way. */
  proxyState(normalizedName: string): ProxyStateRow | Promise<ProxyStateRow>;
  /**
   * A value that changes whenever the list of projects does (PROJECT_LIST_VERSION_SQL). On
   * SQLite it is read again only after a commit; on PostgreSQL, one aggregate read.
   */
  projectListVersion(): string | Promise<string>;
}

/**
 * Every change to a project's row bumps its serial to a new journal number
 * (src/registry/journal.ts), and serials only grow, so their sum grows with each change whatever
 * order concurrent transactions commit in (the largest serial alone would not: a change committed
 * after a later-numbered one leaves it as it was); a new project adds to the count.
 */
const PROJECT_LIST_VERSION_SQL =
  "select cast(count(*) as text) || ':' || cast(coalesce(sum(last_serial), 0) as text) as version from projects";

export interface Db {
  kysely: Kysely<Database>;
  hot: HotReads;
  dialect: DialectName;
  /** A redacted description of where the data lives, for logs. */
  describe: string;
  close(): Promise<void>;
}

// PostgreSQL returns BIGINT (int8) as strings; every bigint we store (times, sizes, serials)
// fits in a double, so read them as numbers on both databases.
pg.types.setTypeParser(20, (v: string) => Number(v));

/**
 * SQLite transactions begin IMMEDIATE: they take the write lock at once (waiting up to
 * busy_timeout for another process to finish). A deferred transaction that read first and wrote
 * later would instead fail outright when another process committed in between — the usual case
 * when several pier processes, or the CLI and a server, share one file.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

/** Statements kept prepared per connection; beyond this the least recently used is dropped. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The connection as Kysely's SQLite driver sees it, with each statement prepared once: Kysely
 * asks for `prepare(sql)` before every query, and compiling the SQL again each time was a
 * tenth of an upload's time on the event loop. A statement still iterating (never the case for
 * all()/run(), which finish before returning) is not handed out twice: it gets a fresh one.
 * SQLite recompiles a prepared statement by itself when the schema changes.
 */
export function cachingStatements(db: BetterSqlite3.Database): {
  prepare(sql: string): BetterSqlite3.Statement;
  close(): void;
} {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        // Most recently used last, so that the first key is the one to drop.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = db.prepare(sql);
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}

export function sqlitePathFromUrl(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (!rest) throw new Error(`database URL ${url} names no file`);
  return rest;
}

export function openDatabase(url: string, options: { poolSize?: number } = {}): Db {
  const sqlitePath = sqlitePathFromUrl(url);
  if (sqlitePath !== null) {
    if (sqlitePath !== ':memory:') mkdirSync(dirname(sqlitePath), { recursive: true });
    const sqlite = new BetterSqlite3(sqlitePath);
    // WAL lets readers proceed during a write; synchronous stays FULL (the default), so a
    // committed upload survives a power cut. busy_timeout lets the CLI and the server share the file.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('foreign_keys = ON');
    const kysely = new Kysely<Database>({
      dialect: new ImmediateSqliteDialect({ database: cachingStatements(sqlite) }),
    });
    let reader: BetterSqlite3.Database | null = null;
    let walIndex: WalIndexHeader | null = null;
    /**
     * A read by a statement prepared on the read-only connection, kept until something is
     * committed (src/db/wal-index.ts). Opened on first use: by then the schema exists (it is
     * created on the main connection).
     */
    const hotRead = <R>(sql: string, keyed = true): { get(key: string): R } => {
      if (!reader) {
        reader =
          sqlitePath === ':memory:' ? sqlite : new BetterSqlite3(sqlitePath, { readonly: true });
        if (reader !== sqlite) reader.pragma('busy_timeout = 10000');
      }
      const statement = reader.prepare(sql);
      const read = (key: string) => (keyed ? statement.get(key) : statement.get()) as R;
      if (sqlitePath === ':memory:') return { get: read };
      walIndex ??= new WalIndexHeader(sqlitePath);
      return new UnchangedSinceCommit(walIndex, read);
    };
    let heads: { get(name: string): ProjectHeadRow | undefined } | null = null;
    let proxyStates: { get(name: string): ProxyStateRow } | null = null;
    let listVersion: { get(key: string): { version: string } } | null = null;
    const hot: HotReads = {
      projectHead(name) {
        heads ??= hotRead<ProjectHeadRow | undefined>(`${PROJECT_HEAD_SQL}?`);
        return heads.get(name);
      },
      proxyState(name) {
        proxyStates ??= hotRead<ProxyStateRow>(proxyStateSql('sqlite', '?'));
        return proxyStates.get(name);
      },
      projectListVersion() {
        listVersion ??= hotRead<{ version: string }>(PROJECT_LIST_VERSION_SQL, false);
        return listVersion.get('').version;
      },
    };
    return {
      kysely,
      hot,
      dialect: 'sqlite',
      describe: `sqlite:${sqlitePath}`,
      close: async () => {
        walIndex?.close();
        if (reader && reader !== sqlite) reader.close();
        await kysely.destroy();
      },
    };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      // While the server is down a request waits at most this long for a connection, then fails
      // with a 503 (src/faults.ts) instead of hanging.
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection cut by a server restart or failover is dropped by the pool, which then
    // emits 'error': without a listener that would end the process. The next query connects anew.
    pool.on('error', (err) => {
      process.emitWarning(`PostgreSQL closed an idle connection: ${err.message}`);
    });
    // The same for a connection in use between two queries (inside a transaction): the request
    // using it fails on its next query, and the pool discards the connection when it is released.
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const redacted = new URL(url);
    if (redacted.password) redacted.password = '***';
    const hot: HotReads = {
      async projectHead(name) {
        // A named statement: each pooled connection prepares it once.
        const result = await pool.query<ProjectHeadRow>({
          name: 'pier_project_head',
          text: `${PROJECT_HEAD_SQL}$1`,
          values: [name],
        });
        return result.rows[0];
      },
      async proxyState(name) {
        const result = await pool.query<ProxyStateRow>({
          name: 'pier_proxy_state',
          text: proxyStateSql('postgres', '$1'),
          values: [name],
        });
        return result.rows[0]!;
      },
      async projectListVersion() {
        const result = await pool.query<{ version: string }>({
          name: 'pier_project_list_version',
          text: PROJECT_LIST_VERSION_SQL,
        });
        return result.rows[0]!.version;
      },
    };
    return {
      kysely,
      hot,
      dialect: 'postgres',
      describe: redacted.href,
      close: () => kysely.destroy(),
    };
  }
  throw new Error(
    `unsupported database URL (expected sqlite:// or postgres://): ${url.split(':')[0]}:…`,
  );
}
