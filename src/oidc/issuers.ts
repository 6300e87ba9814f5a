// OIDC issuers: the four built in, and those an administrator adds (GitHub Enterprise Server,
// GitHub Enterprise Cloud with a customized issuer, self-managed GitLab, Forgejo/Codeberg …).
// Issuer URLs are exact strings: the token's `iss` must equal one, character for character.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { isSiteAdmin } from '../auth/permissions.js';
import { BUILTIN_ISSUERS, PROVIDERS } from './providers/index.js';
import type { ProviderKind } from './providers/types.js';

export interface Issuer {
  url: string;
  kind: ProviderKind;
  builtin: boolean;
  /** A plain-HTTP loopback issuer, allowed for development and tests only. */
  insecure: boolean;
  /** Base URL of the provider's REST API (owner-id lookups). */
  apiUrl: string | null;
}

export function isProviderKind(kind: string): kind is ProviderKind {
  return Object.prototype.hasOwnProperty.call(PROVIDERS, kind);
}

const BUILTINS: Issuer[] = (Object.entries(BUILTIN_ISSUERS) as [ProviderKind, string][]).map(
  ([kind, url]) => ({
    url,
    kind,
    builtin: true,
    insecure: false,
    apiUrl: kind === 'github' ? 'https://api.github.com' : null,
  }),
);

/** A literal loopback address: 127.0.0.0/8 or ::1 (not a name, which DNS could point anywhere). */
export function isLoopbackLiteral(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (h === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** The rules an issuer URL must follow. Returns the problem, or null. */
export function issuerUrlProblem(url: string, insecure: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `'${url}' is not a URL`;
  }
  if (parsed.username || parsed.password) return 'An issuer URL cannot contain credentials';
  if (parsed.search || parsed.hash) return 'An issuer URL cannot have a query or a fragment';
  if (url.endsWith('/')) return "An issuer URL does not end with '/' (tokens carry it without one)";
  if (parsed.href.replace(/\/$/, '') !== url)
    return `Write the issuer URL in its canonical form: '${parsed.href.replace(/\/$/, '')}'`;
  if (parsed.protocol === 'https:') {
    if (insecure) return '--insecure is only for plain-HTTP issuers on a loopback address';
    return null;
  }
  if (parsed.protocol === 'http:') {
    if (!isLoopbackLiteral(parsed.hostname))
      return 'Issuer URLs must use HTTPS (plain HTTP is allowed only for a literal loopback address such as 127.0.0.1, with --insecure)';
    if (!insecure)
      return 'A plain-HTTP issuer must be registered with --insecure (development and tests only)';
    return null;
  }
  return 'Issuer URLs must use HTTPS';
}

/**
 * The one-line refusal to remove an issuer that publishers still use, naming each (its id, and
 * its project or the project it is pending for), so the operator knows what to remove first.
 */
export function issuerInUseRefusal(
  url: string,
  rows: readonly { id: number; pending_name: string | null; project: string | null }[],
): string {
  const byId = new Map<number, string[]>();
  for (const r of rows) {
    const where = byId.get(r.id) ?? [];
    if (r.project !== null) where.push(r.project);
    else if (r.pending_name !== null) where.push(`pending ${r.pending_name}`);
    byId.set(r.id, where);
  }
  const named = [...byId].map(([id, where]) =>
    where.length ? `${id} (${where.join(', ')})` : String(id),
  );
  return `${named.length === 1 ? 'Publisher' : 'Publishers'} ${named.join(', ')} still ${named.length === 1 ? 'trusts' : 'trust'} ${url}; remove ${named.length === 1 ? 'it' : 'them'} first (pier publisher remove ID)`;
}

export class IssuerService {
  constructor(private readonly db: Kysely<Database>) {}

  /** The issuer whose URL is exactly `url`, without any network request. */
  async find(url: string): Promise<Issuer | null> {
    const builtin = BUILTINS.find((b) => b.url === url);
    if (builtin) return builtin;
    const row = await this.db
      .selectFrom('oidc_issuers')
      .selectAll()
      .where('url', '=', url)
      .executeTakeFirst();
    if (!row || !isProviderKind(row.kind)) return null;
    return {
      url: row.url,
      kind: row.kind,
      builtin: false,
      insecure: row.insecure === 1,
      apiUrl: row.api_url,
    };
  }

  async list(): Promise<Issuer[]> {
    const rows = await this.db.selectFrom('oidc_issuers').selectAll().orderBy('url').execute();
    return [
      ...BUILTINS,
      ...rows
        .filter((r) => isProviderKind(r.kind))
        .map((r) => ({
          url: r.url,
          kind: r.kind as ProviderKind,
          builtin: false,
          insecure: r.insecure === 1,
          apiUrl: r.api_url,
        })),
    ];
  }

  async add(
    actor: Actor,
    opts: { kind: string; url: string; insecure?: boolean; apiUrl?: string | null },
  ): Promise<Issuer> {
    if (!isSiteAdmin(actor.principal)) throw forbidden('Only administrators can add issuers');
    if (!isProviderKind(opts.kind))
      throw badRequest(
        `Unknown issuer kind '${opts.kind}': use ${Object.keys(PROVIDERS).join(', ')}`,
      );
    const insecure = opts.insecure === true;
    const problem =
      issuerUrlProblem(opts.url, insecure) ??
      PROVIDERS[opts.kind].issuerProblem?.(opts.url, insecure) ??
      null;
    if (problem) throw badRequest(problem);
    const builtin = BUILTINS.find((b) => b.url === opts.url);
    if (builtin)
      throw conflict(
        builtin.kind === opts.kind
          ? `${opts.url} is built in already (kind ${builtin.kind})`
          : `${opts.url} is the built-in ${builtin.kind} issuer; it cannot be registered as ${opts.kind}`,
      );
    if (opts.apiUrl) {
      const apiProblem = issuerUrlProblem(opts.apiUrl.replace(/\/+$/, ''), insecure);
      if (apiProblem) throw badRequest(`API URL: ${apiProblem}`);
    }
    const kind = opts.kind;
    await this.db.transaction().execute(async (trx) => {
      if (
        await trx
          .selectFrom('oidc_issuers')
          .select('id')
          .where('url', '=', opts.url)
          .executeTakeFirst()
      )
        throw conflict(`The issuer ${opts.url} is registered already`);
      await trx
        .insertInto('oidc_issuers')
        .values({
          url: opts.url,
          kind,
          insecure: insecure ? 1 : 0,
          api_url: opts.apiUrl ? opts.apiUrl.replace(/\/+$/, '') : null,
          created_at: Date.now(),
        })
        .execute();
      await recordAudit(trx, actor, {
        action: 'issuer-add',
        details: { url: opts.url, kind, insecure },
      });
    });
    return { url: opts.url, kind, builtin: false, insecure, apiUrl: opts.apiUrl ?? null };
  }

  async remove(actor: Actor, url: string): Promise<void> {
    if (!isSiteAdmin(actor.principal)) throw forbidden('Only administrators can remove issuers');
    if (BUILTINS.some((b) => b.url === url))
      throw badRequest(`${url} is built in and cannot be removed`);
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('oidc_issuers')
        .select('id')
        .where('url', '=', url)
        .executeTakeFirst();
      if (!row) throw notFound(`No issuer ${url}`);
      const used = await trx
        .selectFrom('publishers')
        .leftJoin('publisher_projects', 'publisher_projects.publisher_id', 'publishers.id')
        .leftJoin('projects', 'projects.id', 'publisher_projects.project_id')
        .select(['publishers.id', 'publishers.pending_name', 'projects.name as project'])
        .where('publishers.issuer_url', '=', url)
        .orderBy('publishers.id')
        .execute();
      if (used.length) throw conflict(issuerInUseRefusal(url, used));
      await trx.deleteFrom('oidc_issuers').where('id', '=', row.id).execute();
      await recordAudit(trx, actor, { action: 'issuer-remove', details: { url } });
    });
  }

  /** The built-in issuer of a kind (the default for publishers of that kind), if it has one. */
  static builtinFor(kind: ProviderKind): Issuer | null {
    return BUILTINS.find((b) => b.kind === kind) ?? null;
  }
}
