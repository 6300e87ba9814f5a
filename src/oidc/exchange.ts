// The trusted-publishing exchange (reference §1.3): a CI job's OIDC token in, a short-lived
// upload token scoped to the projects that trust the job out. Codes and shapes are PyPI's;
// descriptions are pier's own and say what did not match. The (iss, jti) record, the project a
// pending publisher creates and the minted token are written in one transaction, so two
// processes can never both mint from one token, and a failed exchange consumes nothing.
import type { Kysely } from 'kysely';
import type { Database, PublisherRow } from '../db/schema.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { hashToken, insertToken, isWellFormedToken } from '../auth/tokens.js';
import type { ProjectService } from '../registry/projects.js';
import { readStoredConfig } from './providers/index.js';
import type { Claims, Provider } from './providers/types.js';
import type { IssuerService } from './issuers.js';
import type { JwksCache } from './jwks.js';
import {
  ExchangeError,
  LEEWAY_SECONDS,
  identifyIssuer,
  singleUseKey,
  verifySignedToken,
} from './verify.js';
import { PendingConversion } from './pending-conversion.js';
import { providerOf, publisherActor, registrantOf, type PublisherService } from './publishers.js';
import { linkGrants } from '../auth/permissions.js';
import { orgWideCovers } from './org-wide.js';
import type { Provenance } from './provenance.js';

export interface ExchangeOptions {
  audience: () => string;
  /** null when enabled; else why trusted publishing is off. */
  disabledReason: () => string | null;
  tokenTtlSeconds: number;
}

export type ExchangeResponse =
  | { status: 200; body: { success: true; token: string; expires: number } }
  | {
      status: 422;
      body: { message: 'Token request failed'; errors: { code: string; description: string }[] };
    };

interface Candidate {
  row: PublisherRow;
  config: unknown;
}

/**
 * The publishers a token matches, among those sharing its lookup key: every real publisher whose
 * rules all pass (the token covers all their projects: no publisher, however specific, takes a
 * job's exchange from another), and at most one pending publisher. Pending publishers of
 * different registrants that match one token are never chosen between: the exchange fails
 * closed. When nothing matches, the description names what did not: with one real candidate
 * its failed rules (expected and got); with several only the claim names, so that no other
 * publisher's configuration is revealed.
 */
export type Match =
  | { ok: true; real: Candidate[]; pending: Candidate | null }
  | { ok: false; code: 'invalid-publisher' | 'invalid-pending-publisher'; description: string };

export function matchPublishers(
  pendingCandidates: Candidate[],
  realCandidates: Candidate[],
  provider: Provider<unknown>,
  claims: Claims,
  issuerUrl: string,
): Match {
  const passes = (c: Candidate) => provider.check(c.config, claims, issuerUrl).length === 0;
  const byId = (a: Candidate, b: Candidate) => a.row.id - b.row.id;
  const real = realCandidates.filter(passes).sort(byId);
  const pending = pendingCandidates.filter(passes);
  if (new Set(pending.map((c) => registrantOf(c.row))).size > 1)
    return {
      ok: false,
      code: 'invalid-pending-publisher',
      description:
        'valid token, but pending publishers of different users match it, so none may create a project: an administrator must remove the wrong one',
    };
  // One registrant's own pending publishers: the most specific, then the earliest.
  pending.sort(
    (a, b) => provider.specificity(b.config) - provider.specificity(a.config) || byId(a, b),
  );
  if (real.length > 0 || pending.length > 0) return { ok: true, real, pending: pending[0] ?? null };
  return {
    ok: false,
    code: 'invalid-publisher',
    description: `valid token, but no corresponding publisher (${noMatchDescription(realCandidates, provider, claims, issuerUrl)})`,
  };
}

function noMatchDescription(
  candidates: Candidate[],
  provider: Provider<unknown>,
  claims: Claims,
  issuerUrl: string,
): string {
  if (candidates.length === 0) return 'Publisher with matching claims was not found';
  const failures = candidates.map((c) => provider.check(c.config, claims, issuerUrl));
  if (failures.length === 1) return failures[0]!.map((f) => f.message).join('; ');
  const claimNames = [...new Set(failures.flatMap((f) => f.map((x) => `'${x.claim}'`)))];
  return `Publisher with matching claims was not found: ${candidates.length} publishers trust this source, and none accepts this token's ${claimNames.join(', ')}`;
}

const DAY = 86_400_000;

/** What a minted token may do: upload (PyPI's exchange) or read (trusted access for installs). */
export type MintScope = 'upload' | 'read';

export class ExchangeService {
  private lastJtiSweep = 0;
  private readonly pending: PendingConversion;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuers: IssuerService,
    private readonly jwks: JwksCache,
    private readonly publishers: PublisherService,
    private readonly projects: ProjectService,
    private readonly options: ExchangeOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.pending = new PendingConversion(db, publishers, projects, now);
  }

  get audience(): string {
    return this.options.audience();
  }

  get disabledReason(): string | null {
    return this.options.disabledReason();
  }

  /**
   * POST /_/oidc/mint-token (`scope` upload) and /_/oidc/mint-read-token (`scope` read: trusted
   * access for installs). `body` is the raw request body. A read token covers the projects of
   * every matching publisher; an upload token only those whose link allows uploads. A read
   * exchange never turns a pending publisher into a project.
   */
  async mint(
    body: string,
    ip: string | null,
    scope: MintScope = 'upload',
  ): Promise<ExchangeResponse> {
    const context: FailureContext = { issuer: null, claims: null, projects: [] };
    try {
      const raw = parsePayload(body);
      const { issuer } = await identifyIssuer(raw, this.issuers);
      context.issuer = issuer.url;
      const disabled = this.disabledReason;
      if (disabled !== null)
        throw new ExchangeError(
          'not-enabled',
          `${issuer.kind} trusted publishing functionality not enabled: ${disabled}`,
        );
      const provider = providerOf(issuer.kind);
      const claims = await verifySignedToken(raw, issuer, this.jwks, this.audience, this.now, {
        list: provider.audienceList === true,
        fixed: provider.fixedAudience,
      });
      context.claims = provider.provenance(claims);
      const jti = singleUseKey(raw, claims);
      if (await this.jtiUsed(issuer.url, jti))
        throw new ExchangeError('invalid-reuse-token', 'invalid token: already used');

      const lookup = provider.lookupKeyOfClaims(claims);
      if (!lookup.ok)
        throw new ExchangeError(
          'invalid-publisher',
          `valid token, but no corresponding publisher (${lookup.failure.message})`,
        );
      const keys = 'keys' in lookup ? lookup.keys : [lookup.key];
      const find = (pending: boolean) => this.candidates(issuer.url, issuer.kind, keys, pending);
      const realCandidates = await find(false);
      context.projects = await this.projectsOf(realCandidates.map((c) => c.row.id));
      const pendingCandidates = scope === 'upload' ? await find(true) : [];
      const match = matchPublishers(
        pendingCandidates,
        realCandidates,
        provider,
        claims,
        issuer.url,
      );
      if (!match.ok) throw new ExchangeError(match.code, match.description);

      const exp = typeof claims.exp === 'number' ? claims.exp : this.now() / 1000;
      const minted = await this.db.transaction().execute(async (trx) => {
        // The single-use record: a unique (issuer, jti), committed with the minted token or not at all.
        try {
          await trx
            .insertInto('oidc_jtis')
            .values({ issuer_url: issuer.url, jti, expires_at: (exp + LEEWAY_SECONDS + 5) * 1000 })
            .execute();
        } catch {
          throw new ExchangeError('invalid-reuse-token', 'invalid token: already used');
        }
        const publishers = match.real.map((c) => c.row);
        if (match.pending) {
          const reified = await this.pending.convertIfUsable(
            trx,
            match.pending.row,
            provider,
            claims,
            ip,
            match.real.map((c) => c.row.id),
          );
          if (reified && !publishers.some((p) => p.id === reified.id)) publishers.push(reified);
        }
        return this.mintFor(trx, publishers, provider, claims, ip, scope);
      });
      await this.sweepJtis();
      return { status: 200, body: { success: true, token: minted.token, expires: minted.expires } };
    } catch (err) {
      if (!(err instanceof ExchangeError)) throw err;
      await err.afterwards?.();
      // Only a verified token's failure is worth a row of its own; anyone can send the others.
      if (context.claims === null) await this.countUnverifiedFailure(err, context);
      else await this.auditFailure(err, context, ip);
      return {
        status: 422,
        body: {
          message: 'Token request failed',
          errors: [{ code: err.code, description: err.message }],
        },
      };
    }
  }

  /** POST /_/oidc/burn-token: revokes a minted token. Always 202, as PyPI answers. */
  async burn(body: string, ip: string | null): Promise<void> {
    let token: string;
    try {
      token = parsePayload(body);
    } catch {
      return;
    }
    if (!isWellFormedToken(token)) return;
    const row = await this.db
      .selectFrom('tokens')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row || row.publisher_id === null || row.revoked_at !== null) return;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('tokens')
        .set({ revoked_at: this.now() })
        .where('id', '=', row.id)
        .execute();
      await recordAudit(
        trx,
        { principal: { kind: 'anonymous' }, ip, name: `trusted publisher ${row.publisher_id}` },
        {
          action: 'oidc-burn',
          details: { token_id: row.id, publisher_id: row.publisher_id },
        },
      );
    });
  }

  private async jtiUsed(issuerUrl: string, jti: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('oidc_jtis')
      .select('jti')
      .where('issuer_url', '=', issuerUrl)
      .where('jti', '=', jti)
      .where('expires_at', '>', this.now())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Forgets (iss, jti) records once their token could no longer be accepted; at most once a minute. */
  private async sweepJtis(): Promise<void> {
    if (this.now() - this.lastJtiSweep < 60_000) return;
    this.lastJtiSweep = this.now();
    await this.db.deleteFrom('oidc_jtis').where('expires_at', '<=', this.now()).execute();
  }

  private async candidates(
    issuerUrl: string,
    kind: string,
    lookupKeys: readonly string[],
    pending: boolean,
  ): Promise<Candidate[]> {
    if (lookupKeys.length === 0) return [];
    let q = this.db
      .selectFrom('publishers')
      .selectAll()
      .where('issuer_url', '=', issuerUrl)
      .where('kind', '=', kind)
      .where('lookup_key', 'in', [...lookupKeys]);
    q = pending
      ? q.where('pending_name', 'is not', null).where('created_at', '>', this.now() - 30 * DAY)
      : q.where('pending_name', 'is', null);
    const rows = await q.orderBy('id').execute();
    return rows.map((row) => ({
      row,
      config: readStoredConfig(providerOf(row.kind), row.config_json),
    }));
  }

  private async projectsOf(publisherIds: number[]): Promise<{ id: number; name: string }[]> {
    if (publisherIds.length === 0) return [];
    return this.db
      .selectFrom('publisher_projects')
      .innerJoin('projects', 'projects.id', 'publisher_projects.project_id')
      .select(['projects.id', 'projects.name'])
      .where('publisher_projects.publisher_id', 'in', publisherIds)
      .distinct()
      .execute();
  }

  /**
   * Mints one token for the projects of all `publishers` (ordered: the first is the token's
   * `publisher_id`). Each project records the publisher that granted it, so that removing that
   * publisher from it takes effect on the token, and a file uploaded to it names that publisher.
   */
  private async mintFor(
    trx: Kysely<Database>,
    publishers: PublisherRow[],
    provider: Provider<unknown>,
    claims: Claims,
    ip: string | null,
    scope: MintScope,
  ): Promise<{ token: string; expires: number }> {
    const allLinks =
      publishers.length === 0
        ? []
        : await trx
            .selectFrom('publisher_projects')
            .innerJoin('projects', 'projects.id', 'publisher_projects.project_id')
            .select([
              'publisher_projects.publisher_id',
              'publisher_projects.access',
              'projects.id',
              'projects.name',
              'projects.normalized_name',
            ])
            .where(
              'publisher_projects.publisher_id',
              'in',
              publishers.map((p) => p.id),
            )
            .orderBy('projects.normalized_name')
            .execute();
    // Organisation-wide publishers link no project: they cover, now and inside this
    // transaction, each project of their organisation whose name matches their pattern.
    const orgWide = publishers.filter((p) => p.org_wide_pattern !== null);
    const orgProjects =
      orgWide.length === 0
        ? []
        : await trx
            .selectFrom('projects')
            .select(['id', 'name', 'normalized_name', 'organization_id'])
            .where(
              'organization_id',
              'in',
              orgWide.map((p) => p.organization_id!),
            )
            .orderBy('normalized_name')
            .execute();
    const orgLinks = orgWide.flatMap((p) =>
      orgProjects
        .filter((project) => orgWideCovers(p, project))
        .map((project) => ({
          publisher_id: p.id,
          access: 'upload',
          id: project.id,
          name: project.name,
          normalized_name: project.normalized_name,
        })),
    );
    const links = [...allLinks, ...orgLinks].filter((l) => linkGrants(l.access, scope));
    // Each project once, granted by the first of the publishers that trust it.
    const grants: { project: { id: number; name: string; normalized: string }; by: number }[] = [];
    for (const publisher of publishers)
      for (const l of links)
        if (l.publisher_id === publisher.id && !grants.some((g) => g.project.id === l.id))
          grants.push({
            project: { id: l.id, name: l.name, normalized: l.normalized_name },
            by: publisher.id,
          });
    const granting = publishers.filter((p) => grants.some((g) => g.by === p.id));
    if (granting.length === 0 && orgWide.length > 0 && allLinks.length === 0)
      throw new ExchangeError(
        'invalid-publisher',
        `valid token, but no corresponding publisher (${await this.orgWideNothing(trx, orgWide)})`,
      );
    if (granting.length === 0)
      throw new ExchangeError(
        'invalid-publisher',
        allLinks.length > 0
          ? 'valid token, but no corresponding publisher (its projects trust this job to read them only: use /_/oidc/mint-read-token)'
          : 'valid token, but no corresponding publisher (it trusts no project)',
      );
    const entries = granting.map((publisher) => {
      const config = readStoredConfig(provider, publisher.config_json);
      return {
        id: publisher.id,
        kind: provider.kind,
        issuer: publisher.issuer_url,
        description: provider.describe(config),
        url: provider.url(config, publisher.issuer_url, claims),
        projects: grants.filter((g) => g.by === publisher.id).map((g) => g.project.normalized),
      };
    });
    const { projects: _first, ...first } = entries[0]!;
    const provenance: Provenance = {
      publisher: first,
      claims: provider.provenance(claims),
      publishers: entries,
    };
    const now = this.now();
    const expiresAt = now + this.options.tokenTtlSeconds * 1000;
    const others = entries.length - 1;
    const token = await insertToken(trx, {
      userId: null,
      publisherId: first.id,
      name: `${scope === 'read' ? 'trusted access (read)' : 'trusted publishing'}: ${first.description}${others > 0 ? ` (and ${others} more)` : ''}`,
      scope,
      projects: grants.map((g) => ({ projectId: g.project.id, publisherId: g.by })),
      createdAt: now,
      expiresAt,
      claimsJson: JSON.stringify(provenance),
    });
    const byId = new Map(granting.map((p) => [p.id, p]));
    for (const g of grants)
      await recordAudit(trx, publisherActor(provider, byId.get(g.by)!, ip), {
        action: 'oidc-exchange',
        project: { id: g.project.id, name: g.project.name },
        details: {
          token_id: token.id,
          scope,
          publisher_id: g.by,
          publisher: entries.find((e) => e.id === g.by)!.description,
          issuer: first.issuer,
          projects: grants.map((x) => x.project.name),
          publishers: entries.map((e) => ({ id: e.id, publisher: e.description })),
          expires: new Date(expiresAt).toISOString(),
          claims: provenance.claims,
        },
      });
    return { token: token.raw, expires: Math.floor(expiresAt / 1000) };
  }

  /** Why organisation-wide publishers matching a job cover nothing: their patterns, named. */
  private async orgWideNothing(trx: Kysely<Database>, orgWide: PublisherRow[]): Promise<string> {
    const orgs = await trx
      .selectFrom('organizations')
      .select(['id', 'name'])
      .where(
        'id',
        'in',
        orgWide.map((p) => p.organization_id!),
      )
      .execute();
    const parts = orgWide.map(
      (p) =>
        `the organisation-wide publisher ${p.id} of '${orgs.find((o) => o.id === p.organization_id)?.name ?? '?'}' covers no project: none of the organisation's projects matches '${p.org_wide_pattern}'`,
    );
    return parts.join('; ');
  }

  /**
   * Failed exchanges of tokens that were not verified (anyone may send them) are counted per
   * registered issuer and code, in one row each, so they never grow the database.
   */
  private async countUnverifiedFailure(err: ExchangeError, context: FailureContext): Promise<void> {
    const now = this.now();
    await this.db
      .insertInto('oidc_exchange_failures')
      .values({ issuer_url: context.issuer ?? '', code: err.code, count: 1, last_at: now })
      .onConflict((oc) =>
        oc.columns(['issuer_url', 'code']).doUpdateSet((eb) => ({
          count: eb(eb.ref('oidc_exchange_failures.count'), '+', 1),
          last_at: now,
        })),
      )
      .execute();
  }

  /** The counts of failed exchanges of unverified tokens, per issuer ('' = unknown) and code. */
  async unverifiedFailures(): Promise<{ issuer: string; code: string; count: number }[]> {
    const rows = await this.db
      .selectFrom('oidc_exchange_failures')
      .selectAll()
      .orderBy('issuer_url')
      .orderBy('code')
      .execute();
    return rows.map((r) => ({ issuer: r.issuer_url, code: r.code, count: Number(r.count) }));
  }

  private async auditFailure(
    err: ExchangeError,
    context: FailureContext,
    ip: string | null,
  ): Promise<void> {
    const actor: Actor = {
      principal: { kind: 'anonymous' },
      ip,
      name: `oidc ${context.issuer ?? '(unknown issuer)'}`,
    };
    const details = {
      code: err.code,
      description: err.message,
      issuer: context.issuer,
      claims: context.claims,
    };
    const targets = context.projects.length > 0 ? context.projects : [null];
    await this.db.transaction().execute(async (trx) => {
      for (const project of targets)
        await recordAudit(trx, actor, { action: 'oidc-exchange-failed', project, details });
    });
  }
}

interface FailureContext {
  issuer: string | null;
  claims: Record<string, string | null> | null;
  projects: { id: number; name: string }[];
}

/** The request body: exactly a JSON object whose `token` is a string (other keys are ignored). */
export function parsePayload(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ExchangeError(
      'invalid-payload',
      'the request body is not JSON: send {"token": "<OIDC token>"}',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ExchangeError(
      'invalid-payload',
      'the request body must be a JSON object: {"token": "<OIDC token>"}',
    );
  const token = (parsed as { token?: unknown }).token;
  if (token === undefined) throw new ExchangeError('invalid-payload', "field 'token' is required");
  if (typeof token !== 'string')
    throw new ExchangeError(
      'invalid-payload',
      `field 'token' must be a string, got ${token === null ? 'null' : Array.isArray(token) ? 'an array' : typeof token}`,
    );
  return token;
}
