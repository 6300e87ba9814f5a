// The Simple API's pages, rendered once per change and served from memory. Every request still
// reads the project's row (its serial, visibility and status) from the database, and a page is
// reused only while its serial is the project's current one: a cache can be stale for no request.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Project } from '../db/schema.js';
import type { HotReads } from '../db/connect.js';
import { normalizeProjectName } from '../packaging/names.js';
import { loadProjectPage, type SimpleProjectPage } from './model.js';
import {
  renderIndexHtml,
  renderIndexJson,
  renderProjectHtml,
  renderProjectJson,
} from './render.js';
import type { Principal } from '../auth/principal.js';
import type { ProjectService } from '../registry/projects.js';
import type { NamespaceService } from '../namespaces/service.js';
import { indexSerial } from '../registry/journal.js';

export type ProjectHead = Pick<
  Project,
  'id' | 'name' | 'normalized_name' | 'last_serial' | 'private' | 'status'
>;

export interface RenderedPage {
  serial: number;
  html: Buffer;
  json: Buffer;
  htmlEtag: string;
  jsonEtag: string;
}

export function etagOf(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('base64url')}"`;
}

/** A project page in both formats, with their ETags (hosted and proxied pages alike). */
export function renderPage(model: SimpleProjectPage): RenderedPage {
  return rendered(model.serial, renderProjectHtml(model), renderProjectJson(model));
}

function rendered(serial: number, html: string, json: string): RenderedPage {
  const h = Buffer.from(html);
  const j = Buffer.from(json);
  return { serial, html: h, json: j, htmlEtag: etagOf(h), jsonEtag: etagOf(j) };
}

/** Least-recently-used pages, bounded by their total size. */
class PageCache {
  private readonly pages = new Map<number, RenderedPage>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}

  get(projectId: number, serial: number): RenderedPage | undefined {
    const page = this.pages.get(projectId);
    if (!page || page.serial !== serial) return undefined;
    this.pages.delete(projectId);
    this.pages.set(projectId, page);
    return page;
  }

  set(projectId: number, page: RenderedPage): void {
    this.delete(projectId);
    const size = page.html.length + page.json.length;
    if (size > this.maxBytes) return;
    while (this.bytes + size > this.maxBytes) {
      const oldest = this.pages.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
    this.pages.set(projectId, page);
    this.bytes += size;
  }

  private delete(projectId: number): void {
    const old = this.pages.get(projectId);
    if (old) {
      this.bytes -= old.html.length + old.json.length;
      this.pages.delete(projectId);
    }
  }
}

export class SimpleService {
  private readonly cache = new PageCache(64 * 1024 * 1024);
  private readonly building = new Map<string, Promise<RenderedPage>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hot: HotReads,
    private readonly projects: ProjectService,
    private readonly namespaces: NamespaceService,
    private readonly publicUrl: () => string,
  ) {}

  private readonly heads = new Map<
    string,
    ProjectHead | undefined | Promise<ProjectHead | undefined>
  >();
  private forgetScheduled = false;

  /**
   * The freshness check: one indexed read of the project's row, by a prepared statement. Requests
   * for the same project handled in the same turn of the event loop share one read: they had all
   * arrived before it was made (the turn began by collecting them), so it is current for each;
   * the next turn reads again. On SQLite the read is synchronous and so is the answer, and the
   * row itself is read again only when SQLite's WAL-index header shows a commit since the last
   * read, by any process (src/db/wal-index.ts).
   */
  head(name: string): ProjectHead | undefined | Promise<ProjectHead | undefined> {
    const normalized = normalizeProjectName(name);
    if (this.heads.has(normalized)) return this.heads.get(normalized);
    const head = this.hot.projectHead(normalized);
    this.heads.set(normalized, head);
    if (!this.forgetScheduled) {
      this.forgetScheduled = true;
      setImmediate(() => {
        this.heads.clear();
        this.forgetScheduled = false;
      });
    }
    return head;
  }

  /** The rendered page, if it is in memory and current (no I/O). */
  cachedPage(head: ProjectHead): RenderedPage | undefined {
    return this.cache.get(head.id, head.last_serial);
  }

  async page(head: ProjectHead): Promise<RenderedPage> {
    const cached = this.cache.get(head.id, head.last_serial);
    if (cached) return cached;
    const key = `${head.id}:${head.last_serial}`;
    let pending = this.building.get(key);
    if (!pending) {
      pending = (async () => {
        // A namespace change bumps the serial of every project it covers (src/namespaces), so
        // the page built for this serial shows the namespaces current at this serial.
        const namespaces = await this.namespaces.ofProject(head);
        const model = await loadProjectPage(this.db, head, this.publicUrl(), namespaces);
        const page = renderPage(model);
        this.cache.set(head.id, page);
        return page;
      })().finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  /**
   * The project list a principal may see (private projects only for those who may read them).
   * An index of 100,000 projects is megabytes of page: the list of projects is read again only
   * when its version (HotReads.projectListVersion: on SQLite read again only after a commit, on
   * PostgreSQL one aggregate read) has moved, and the page of
   * the public projects — what everyone sees who sees no private one — is rendered once per
   * version. Pages that show private projects are rendered for each request.
   */
  async index(p: Principal, readAccess: 'public' | 'authenticated'): Promise<RenderedPage> {
    const version = await this.hot.projectListVersion();
    let root = this.root;
    if (root?.version !== version) {
      const all = await this.projects.listAll();
      root = { version, all, publicCount: all.filter((pr) => pr.private !== 1).length, page: null };
      this.root = root;
    }
    const visible = await this.projects.filterReadable(p, root.all, readAccess);
    const publicOnly =
      visible.length === root.publicCount && !visible.some((pr) => pr.private === 1);
    if (publicOnly && root.page) return root.page;
    const page = this.renderIndex(visible);
    if (publicOnly) root.page = page;
    return page;
  }

  private root: {
    version: string;
    all: Project[];
    publicCount: number;
    /** The page of the public projects, once rendered. */
    page: RenderedPage | null;
  } | null = null;

  private renderIndex(visible: Project[]): RenderedPage {
    const serial = indexSerial(visible);
    // PEP 792: quarantined projects are left out of the list.
    const entries = visible
      .filter((pr) => pr.status !== 'quarantined')
      .map((pr) => ({ name: pr.name, normalized: pr.normalized_name, serial: pr.last_serial }));
    return rendered(
      serial,
      renderIndexHtml(entries, this.publicUrl()),
      renderIndexJson(entries, serial),
    );
  }
}
