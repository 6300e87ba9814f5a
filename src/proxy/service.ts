// The caching read-through proxy of an upstream index. Pages are kept in the database (shared by
// every pier process), revalidated with If-None-Match once their freshness lifetime has passed,
// and fetched once however many requests ask at the same time. Files are fetched on their first
// download, streamed to the client while they are hashed and stored, and kept only when their
// bytes match the SHA-256 the page listed. Nothing the upstream sends wrong is ever cached.
import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database } from '../db/schema.js';
import type { HotReads, ProxyStateRow } from '../db/connect.js';
import type { BlobStore } from '../storage/blob-store.js';
import { normalizeProjectName } from '../packaging/names.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { badRequest, forbidden, notFound, PierError } from '../errors.js';
import { isSiteAdmin } from '../auth/permissions.js';
import { UpstreamClient } from './client.js';
import { UpstreamError, type UpstreamFile } from './model.js';
import { parseProjectPage } from './parse.js';
import { ProxiedPages } from './page.js';
import { isInReservedNamespace } from '../namespaces/rules.js';
import {
  isNeverFromUpstream,
  isServableAsStored,
  isValidGlob,
  normalizeGlob,
  offeredFiles,
  offeredFilesChangeAt,
} from './rules.js';

/** How an answer relates to the upstream: sent as the X-Pier-Upstream response header. */
export type CacheState = 'hit' | 'miss' | 'revalidated' | 'stale' | 'offline';

export interface ProxiedPage {
  name: string;
  files: UpstreamFile[];
  state: CacheState;
  /** Identifies the stored answer it was built from (`storedPageStamp`). */
  stamp: string;
  /** Until when `files` stays true of that stored answer (the minimum age lets more through). */
  changesAt: number;
}

/**
 * The identity of a stored page: a new fetch or a revalidation, by any process, rewrites
 * `checked_at`, and the ETag and the size of the files tell answers of one moment apart. The
 * fast path (src/proxy/fast-page.ts) computes it from the same columns read by SQL.
 */
export function storedPageStamp(checkedAt: number, etag: string | null, bytes: number): string {
  return `${checkedAt}|${etag ?? ''}|${bytes}`;
}

export interface ProxyStats {
  pageHits: number;
  pageMisses: number;
  fileHits: number;
  fileMisses: number;
  upstreamErrors: number;
  /** Bytes fetched from the upstream (pages and files). */
  upstreamBytes: number;
  /** Bytes of proxied files sent to clients. */
  servedBytes: number;
}

export interface ProxiedFile {
  size: number | null;
  state: CacheState;
  body: Readable;
  /** Settles once a fetched file is stored (or refused and removed); at once for a cached one. */
  settled: Promise<void>;
}

const SYSTEM: Actor = { principal: { kind: 'operator', name: 'upstream proxy' }, ip: null };

export class ProxyService {
  readonly client: UpstreamClient | null;
  readonly stats: ProxyStats = {
    pageHits: 0,
    pageMisses: 0,
    fileHits: 0,
    fileMisses: 0,
    upstreamErrors: 0,
    upstreamBytes: 0,
    servedBytes: 0,
  };
  private readonly fetching = new Map<string, Promise<ProxiedPage | null>>();
  /** Rendered pages, shared by the Simple route and the fast path. */
  readonly pages = new ProxiedPages();
  private readonly configExcludes: string[];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly blobs: BlobStore,
    private readonly config: Config,
    /** The database's hot reads (src/db/connect.ts), shared with the Simple pages. */
    readonly hot: HotReads,
  ) {
    this.configExcludes = config.upstreamExclude.map(normalizeGlob);
    this.client = config.upstreamUrl
      ? new UpstreamClient({
          url: config.upstreamUrl,
          username: config.upstreamUsername,
          password: config.upstreamPassword,
          caFile: config.upstreamCa,
          timeoutMs: config.upstreamTimeout * 1000,
          maxPageBytes: config.upstreamMaxPageSize,
        })
      : null;
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  // --- the run-time exclude list -------------------------------------------------------------

  async excludes(): Promise<{ pattern: string; source: 'config' | 'admin' }[]> {
    const rows = await this.db
      .selectFrom('upstream_excludes')
      .select('pattern')
      .orderBy('pattern')
      .execute();
    return [
      ...this.config.upstreamExclude.map((p) => ({
        pattern: normalizeGlob(p),
        source: 'config' as const,
      })),
      ...rows.map((r) => ({ pattern: r.pattern, source: 'admin' as const })),
    ];
  }

  async addExclude(actor: Actor, pattern: string): Promise<string> {
    if (!isSiteAdmin(actor.principal))
      throw forbidden('Only administrators can change the upstream exclude list');
    if (!isValidGlob(pattern))
      throw badRequest(
        `'${pattern}' is not a name glob (letters, digits, '.', '-', '_', '*', '?')`,
      );
    const glob = normalizeGlob(pattern);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('upstream_excludes')
        .values({ pattern: glob, added_by: null, created_at: Date.now() })
        .onConflict((oc) => oc.column('pattern').doNothing())
        .execute();
      await recordAudit(trx, actor, { action: 'upstream-exclude-add', details: { pattern: glob } });
    });
    return glob;
  }

  async removeExclude(actor: Actor, pattern: string): Promise<void> {
    if (!isSiteAdmin(actor.principal))
      throw forbidden('Only administrators can change the upstream exclude list');
    const glob = normalizeGlob(pattern);
    await this.db.transaction().execute(async (trx) => {
      const gone = await trx
        .deleteFrom('upstream_excludes')
        .where('pattern', '=', glob)
        .returning('pattern')
        .execute();
      if (gone.length === 0) throw notFound(`No run-time exclude '${glob}'`);
      await recordAudit(trx, actor, {
        action: 'upstream-exclude-remove',
        details: { pattern: glob },
      });
    });
  }

  /**
   * Whether `name` may ever be fetched from the upstream (the guard's name rule), over what the
   * database holds now (`proxyState`: the run-time exclude list and the reserved namespaces;
   * the configuration adds its excludes and allow-list).
   */
  mayFetch(name: string, state: ProxyStateRow): boolean {
    const exclude = [...this.configExcludes, ...spaceSeparated(state.excludes)];
    const reserved = spaceSeparated(state.reserved);
    return !isNeverFromUpstream(name, { exclude, allow: this.config.upstreamAllow }, (n) =>
      isInReservedNamespace(n, reserved),
    );
  }

  /**
   * Whether the upstream has a project of this name (for the guard's creation rule). An upstream
   * that cannot be asked answers nothing: the creation is refused, to be tried again.
   */
  async existsUpstream(name: string): Promise<boolean> {
    try {
      return (await this.page(name)) !== null;
    } catch (err) {
      if (err instanceof UpstreamError)
        throw new PierError(
          503,
          `Could not check whether '${name}' exists on the upstream index (${err.message}); try again`,
        );
      throw err;
    }
  }

  // --- pages --------------------------------------------------------------------------------

  /**
   * The upstream's page for a name pier does not host, or null when the upstream has none (or the
   * name may not come from it). Throws UpstreamError when it cannot be known.
   */
  async page(name: string): Promise<ProxiedPage | null> {
    const normalized = normalizeProjectName(name);
    if (!this.client) return null;
    // What the guard and the cache depend on, in one read (synchronous on SQLite).
    const state = await this.hot.proxyState(normalized);
    if (!this.mayFetch(normalized, state)) return null;
    // One lookup per name at a time: the stored row's read is part of it, so a request that
    // arrives while a fetched page is being written shares that fetch instead of reading the
    // row before the write and starting a second one. The lookup stays in flight until its
    // result is stored; the answer goes out as soon as it is known.
    // The state above may predate a lookup that finished while it was read (on PostgreSQL the
    // read is a round trip): the row is read again inside the flight, never taken from it.
    const inFlight = this.fetching.get(normalized);
    if (inFlight) return inFlight;
    const work = this.lookup(normalized);
    const pending = work.then((r) => r.answer);
    this.fetching.set(normalized, pending);
    const done = work
      .then(
        (r) => r.stored,
        () => undefined,
      )
      // A failed write leaves the cache as it was; the next request fetches again.
      .catch(() => undefined)
      .finally(() => {
        this.fetching.delete(normalized);
        this.writes.delete(done);
      });
    this.writes.add(done);
    return pending;
  }

  /** The stored answer while it is fresh (or the index is offline), else the upstream's. */
  private async lookup(
    normalized: string,
  ): Promise<{ answer: ProxiedPage | null; stored: Promise<void> }> {
    const row = await this.stored(normalized);
    const offline = this.config.upstreamOffline;
    if (row && isServableAsStored(row.found === 1, row.checked_at, Date.now(), offline)) {
      this.stats.pageHits++;
      return {
        answer: this.answer(normalized, row, offline ? 'offline' : 'hit'),
        stored: Promise.resolve(),
      };
    }
    if (offline) return { answer: null, stored: Promise.resolve() };
    return this.refresh(normalized, row);
  }

  private readonly writes = new Set<Promise<void>>();

  /** Waits for the cache writes still under way (before the database is closed). */
  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  private async stored(normalized: string) {
    return this.db
      .selectFrom('upstream_pages')
      .selectAll()
      .where('normalized_name', '=', normalized)
      .executeTakeFirst();
  }

  /** Stored files, parsed once per stored text (a cached page is read on every request). */
  private readonly parsed = new Map<string, { json: string; files: UpstreamFile[] }>();

  private parsedFiles(
    normalized: string,
    json: string,
    known?: readonly UpstreamFile[],
  ): UpstreamFile[] {
    const hit = this.parsed.get(normalized);
    if (hit && hit.json === json) return hit.files;
    // A page just fetched is not parsed back from the text it is stored as.
    const files = known ? [...known] : (JSON.parse(json) as UpstreamFile[]);
    this.parsed.delete(normalized);
    if (this.parsed.size >= 2000) {
      const oldest = this.parsed.keys().next().value;
      if (oldest !== undefined) this.parsed.delete(oldest);
    }
    this.parsed.set(normalized, { json, files });
    return files;
  }

  private answer(
    normalized: string,
    row: { found: number; files_json: string; etag: string | null; checked_at: number },
    state: CacheState,
  ): ProxiedPage | null {
    if (row.found !== 1) return null;
    const all = this.parsedFiles(normalized, row.files_json);
    const now = Date.now();
    const minAge = this.config.upstreamMinAge;
    return {
      name: normalized,
      files: offeredFiles(all, minAge, now),
      state,
      stamp: storedPageStamp(row.checked_at, row.etag, Buffer.byteLength(row.files_json)),
      changesAt: offeredFilesChangeAt(all, minAge, now),
    };
  }

  private async refresh(
    normalized: string,
    row: Awaited<ReturnType<ProxyService['stored']>>,
  ): Promise<{ answer: ProxiedPage | null; stored: Promise<void> }> {
    const client = this.client!;
    this.stats.pageMisses++;
    let result;
    let files: UpstreamFile[] | null = null;
    try {
      result = await client.page(normalized, row?.found === 1 ? row.etag : null);
      if (result.kind === 'page') {
        this.stats.upstreamBytes += result.body.length;
        files = parseProjectPage(result.body, result.contentType, result.url);
      }
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      this.stats.upstreamErrors++;
      await recordAudit(this.db, SYSTEM, {
        action: 'upstream-error',
        details: { name: normalized, code: err.code, reason: err.message },
      });
      // A page the upstream confirmed before is served as it was, marked stale.
      if (row?.found === 1)
        return { answer: this.answer(normalized, row, 'stale'), stored: Promise.resolve() };
      throw err;
    }
    const now = Date.now();
    if (result.kind === 'not-modified' && row) {
      const stored = afterTheAnswer().then(() =>
        this.db
          .updateTable('upstream_pages')
          .set({ checked_at: now })
          .where('normalized_name', '=', normalized)
          .execute()
          .then(() => undefined),
      );
      return {
        answer: this.answer(normalized, { ...row, checked_at: now }, 'revalidated'),
        stored,
      };
    }
    const values =
      result.kind === 'page'
        ? { found: 1, files_json: JSON.stringify(files), etag: result.etag, checked_at: now }
        : { found: 0, files_json: '[]', etag: null, checked_at: now };
    if (files) this.parsedFiles(normalized, values.files_json, files);
    // The page and its audit entry together, in one transaction, once the answer is on its way.
    const stored = afterTheAnswer().then(() =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('upstream_pages')
          .values({ normalized_name: normalized, ...values })
          .onConflict((oc) => oc.column('normalized_name').doUpdateSet(values))
          .execute();
        if (result.kind === 'page' && row?.files_json !== values.files_json)
          await recordAudit(trx, SYSTEM, {
            action: 'upstream-page-fetch',
            details: { name: normalized, files: files!.length },
          });
      }),
    );
    return { answer: this.answer(normalized, values, 'miss'), stored };
  }

  // --- files --------------------------------------------------------------------------------

  /**
   * A listed file's bytes (or, with `metadata`, its PEP 658 metadata file's), from the cache or
   * fetched now. A fetched file reaches the client only up to its last chunk until its SHA-256 is
   * confirmed: a mismatch ends the stream in an error (the client's download fails) and nothing
   * is kept.
   */
  async file(
    name: string,
    sha256: string,
    filename: string,
    metadata: boolean,
  ): Promise<ProxiedFile> {
    const page = await this.page(name);
    const listed = page?.files.find((f) => f.filename === filename && f.sha256 === sha256);
    if (!listed) throw notFound();
    const wanted = metadata ? listed.metadataSha256 : listed.sha256;
    if (!wanted) throw notFound();
    const cached = await this.db
      .selectFrom('upstream_blobs')
      .selectAll()
      .where('sha256', '=', wanted)
      .executeTakeFirst();
    if (cached) {
      this.stats.fileHits++;
      const body = await this.blobs.read(cached.blob_key);
      body.on('data', (c: Buffer) => (this.stats.servedBytes += c.length));
      return {
        size: Number(cached.size),
        state: page!.state === 'stale' ? 'stale' : 'hit',
        body,
        settled: Promise.resolve(),
      };
    }
    if (this.config.upstreamOffline)
      throw new UpstreamError(
        'offline',
        'not in the cache, and this index does not ask its upstream (offline mode)',
      );
    this.stats.fileMisses++;
    let upstream;
    try {
      upstream = await this.client!.file(metadata ? `${listed.url}.metadata` : listed.url);
    } catch (err) {
      if (err instanceof UpstreamError) this.stats.upstreamErrors++;
      throw err;
    }
    const declared = Number(upstream.headers['content-length']);
    const size = metadata
      ? Number.isFinite(declared)
        ? declared
        : null
      : (listed.size ?? (Number.isFinite(declared) ? declared : null));
    const check = new HashCheck(wanted, this.config.upstreamTimeout * 1000);
    const toStore = new PassThrough();
    const key = `up-${wanted}-${randomUUID()}`;
    const stored = this.blobs.put(key, toStore);
    upstream.on('data', (c: Buffer) => (this.stats.upstreamBytes += c.length));
    upstream.once('error', (err) => check.destroy(err));
    upstream.once('aborted', () =>
      check.destroy(new UpstreamError('unreachable', 'the upstream broke off the file')),
    );
    upstream.pipe(check);
    check.on('data', (c: Buffer) => (this.stats.servedBytes += c.length));
    // The stored copy sees every byte the upstream sent; it is kept only once the hash is confirmed.
    upstream.pipe(toStore);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    check.once('verified', () => {
      void stored
        .then(async (info) => {
          const inserted = await this.db
            .insertInto('upstream_blobs')
            .values({ sha256: wanted, blob_key: key, size: info.size, created_at: Date.now() })
            .onConflict((oc) => oc.column('sha256').doNothing())
            .returning('sha256')
            .execute();
          // Another process stored the same file meanwhile: one copy is enough.
          if (inserted.length === 0) await this.blobs.delete(key);
          else
            await recordAudit(this.db, SYSTEM, {
              action: 'upstream-file-cache',
              details: {
                name: page!.name,
                filename: metadata ? `${filename}.metadata` : filename,
                sha256: wanted,
                size: info.size,
              },
            });
        })
        .catch(() => undefined)
        .finally(settle);
    });
    check.once('error', (err) => {
      if (err instanceof UpstreamError && err.code === 'hash-mismatch') {
        this.stats.upstreamErrors++;
        void recordAudit(this.db, SYSTEM, {
          action: 'upstream-error',
          details: { name: page!.name, filename, code: err.code, reason: err.message },
        }).catch(() => undefined);
      }
    });
    // Ended without a confirmed hash — a mismatch, the upstream breaking off, or the client going
    // away: the upstream connection is dropped and the partial copy removed.
    let verified = false;
    check.once('verified', () => (verified = true));
    check.once('close', () => {
      if (verified) return;
      upstream.destroy();
      // Without an error: the store's pipeline may be done and have no listener left.
      toStore.destroy();
      void stored
        .catch(() => undefined)
        .then(() => this.blobs.delete(key).catch(() => undefined))
        .finally(settle);
    });
    return { size, state: 'miss', body: check, settled };
  }
}

/** A space-separated list as `proxyState` reads it. */
const spaceSeparated = (list: string) => (list === '' ? [] : list.split(' '));

/**
 * Resolves after the current turn of the event loop, once the request waiting for a fetched page
 * has been answered: storing the page (a transaction, and on SQLite a synchronous commit) would
 * otherwise run between the answer's own steps and delay it. The lookup stays in flight until the
 * page is stored, so no second fetch starts meanwhile.
 */
function afterTheAnswer(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Passes bytes through while computing their SHA-256, holding back the last chunk until the end:
 * when the digest is the expected one it is released and 'verified' emitted; otherwise the
 * stream fails, so a client never receives a whole file whose hash is wrong.
 */
class HashCheck extends Transform {
  private readonly hash = createHash('sha256');
  private held: Buffer | null = null;
  private idle: NodeJS.Timeout;

  constructor(
    private readonly expected: string,
    private readonly stallMs: number,
  ) {
    super();
    this.idle = this.arm();
  }

  private arm(): NodeJS.Timeout {
    const t = setTimeout(
      () => this.destroy(new UpstreamError('timeout', 'the upstream stalled while sending a file')),
      this.stallMs,
    );
    t.unref();
    return t;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    clearTimeout(this.idle);
    this.idle = this.arm();
    this.hash.update(chunk);
    if (this.held) this.push(this.held);
    this.held = chunk;
    done();
  }

  override _flush(done: TransformCallback): void {
    clearTimeout(this.idle);
    const got = this.hash.digest('hex');
    if (got !== this.expected)
      return done(
        new UpstreamError(
          'hash-mismatch',
          `the upstream's file has sha256 ${got}, expected ${this.expected}`,
        ),
      );
    if (this.held) this.push(this.held);
    this.emit('verified');
    done();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    clearTimeout(this.idle);
    cb(err);
  }
}
