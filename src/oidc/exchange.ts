// The trusted-publishing exchange (reference §1.3): a CI job's OIDC token in, a short-lived
// upload token scoped to the projects that trust the job out. Codes and shapes are PyPI's;
// descriptions are pier's own and say what did not match. The (iss, jti) record, the project a
// pending publisher creates and the minted token are written in one transaction, so two
// processes can never both mint from one token, and a failed exchange consumes nothing.
import type { Kysely } from 'kysely';
import type { Database, PublisherRow, User } from '../db/schema.js';
import { PierError } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import {
  generateToken,
  hashToken,
  isWellFormedToken,
  tokenDisplayPrefix,
} from '../auth/token-format.js';
import type { ProjectService } from '../registry/projects.js';
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
import { pendingExpiry, providerOf, type PublisherService } from './publishers.js';

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

/** What a minted token carries and every file it uploads shows: who published, from which run. */
export interface Provenance {
  publisher: { id: number; kind: string; issuer: string; description: string; url: string | null };
  claims: Record<string, string | null>;
}

type Choice = { ok: true; candidate: Candidate } | { ok: false; description: string };

/**
 * Among publishers that share the token's lookup key, the one whose every rule passes, the most
 * specific first. When none does, the description names what did not match: with one candidate
 * its failed rules (expected and got); with several only the claim names, so that no other
 * publisher's configuration is revealed.
 */
export function choosePublisher(
  candidates: Candidate[],
  provider: Provider<unknown>,
  claims: Claims,
  issuerUrl: string,
): Choice {
  if (candidates.length === 0)
    return { ok: false, description: 'Publisher with matching claims was not found' };
  const results = candidates.map((c) => ({
    c,
    failures: provider.check(c.config, claims, issuerUrl),
  }));
  const matching = results.filter((r) => r.failures.length === 0);
  if (matching.length > 0) {
    matching.sort(
      (a, b) =>
        provider.specificity(b.c.config) - provider.specificity(a.c.config) ||
        a.c.row.id - b.c.row.id,
    );
    return { ok: true, candidate: matching[0]!.c };
  }
  if (results.length === 1)
    return { ok: false, description: results[0]!.failures.map((f) => f.message).join('; ') };
  const claimNames = [...new Set(results.flatMap((r) => r.failures.map((f) => `'${f.claim}'`)))];
  return {
    ok: false,
    description: `Publisher with matching claims was not found: ${results.length} publishers trust this source, and none accepts this token's ${claimNames.join(', ')}`,
  };
}

const DAY = 86_400_000;

export class ExchangeService {
  private lastJtiSweep = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuers: IssuerService,
    private readonly jwks: JwksCache,
    private readonly publishers: PublisherService,
    private readonly projects: ProjectService,
    private readonly options: ExchangeOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get audience(): string {
    return this.options.audience();
  }

  get disabledReason(): string | null {
    return this.options.disabledReason();
  }

  /** POST /_/oidc/mint-token. `body` is the raw request body. */
  async mint(body: string, ip: string | null): Promise<ExchangeResponse> {
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
      const claims = await verifySignedToken(raw, issuer, this.jwks, this.audience, this.now);
      const provider = providerOf(issuer.kind);
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
      const find = (pending: boolean) =>
        this.candidates(issuer.url, issuer.kind, lookup.key, pending);

      const pendingChoice = choosePublisher(await find(true), provider, claims, issuer.url);
      const realCandidates = await find(false);
      context.projects = await this.projectsOf(realCandidates.map((c) => c.row.id));
      const choice = pendingChoice.ok
        ? null
        : choosePublisher(realCandidates, provider, claims, issuer.url);
      if (!pendingChoice.ok && choice && !choice.ok)
        throw new ExchangeError(
          'invalid-publisher',
          `valid token, but no corresponding publisher (${choice.description})`,
        );

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
        const publisher = pendingChoice.ok
          ? await this.reify(trx, pendingChoice.candidate, provider, claims, ip)
          : (choice as { ok: true; candidate: Candidate }).candidate.row;
        return this.mintFor(trx, publisher, provider, claims, ip);
      });
      await this.sweepJtis();
      return { status: 200, body: { success: true, token: minted.token, expires: minted.expires } };
    } catch (err) {
      if (!(err instanceof ExchangeError)) throw err;
      await err.afterwards?.();
      await this.auditFailure(err, context, ip);
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
    lookupKey: string,
    pending: boolean,
  ): Promise<Candidate[]> {
    let q = this.db
      .selectFrom('publishers')
      .selectAll()
      .where('issuer_url', '=', issuerUrl)
      .where('kind', '=', kind)
      .where('lookup_key', '=', lookupKey);
    q = pending
      ? q.where('pending_name', 'is not', null).where('created_at', '>', this.now() - 30 * DAY)
      : q.where('pending_name', 'is', null);
    const rows = await q.orderBy('id').execute();
    return rows.map((row) => ({ row, config: JSON.parse(row.config_json) as unknown }));
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

  private actorFor(provider: Provider<unknown>, row: PublisherRow, ip: string | null): Actor {
    return {
      principal: { kind: 'anonymous' },
      ip,
      name: `trusted publisher ${row.id} (${provider.describe(JSON.parse(row.config_json))})`,
    };
  }

  /**
   * A pending publisher's first exchange: creates its project (owned by whoever registered it)
   * and turns it into a real publisher (or links the identical one that exists already).
   */
  private async reify(
    trx: Kysely<Database>,
    candidate: Candidate,
    provider: Provider<unknown>,
    claims: Claims,
    ip: string | null,
  ): Promise<PublisherRow> {
    const pending = candidate.row;
    const name = pending.pending_name!;
    if (pendingExpiry(pending) <= this.now())
      throw new ExchangeError(
        'invalid-pending-publisher',
        'valid token, but the pending publisher has expired',
      );
    if (await this.projects.find(name, trx)) {
      // The project was created another way since: this pending publisher is of no use, and is
      // removed once this (failed) transaction is over.
      const error = new ExchangeError(
        'invalid-pending-publisher',
        'valid token, but project already exists',
      );
      error.afterwards = async () => {
        await this.db.deleteFrom('publishers').where('id', '=', pending.id).execute();
      };
      throw error;
    }
    const owner: User | null =
      pending.added_by_user_id === null
        ? null
        : ((await trx
            .selectFrom('users')
            .selectAll()
            .where('id', '=', pending.added_by_user_id)
            .executeTakeFirst()) ?? null);
    const actor = this.actorFor(provider, pending, ip);
    let project;
    try {
      project = await this.projects.insert(trx, actor, name, owner);
    } catch (err) {
      if (err instanceof PierError) throw new ExchangeError('invalid-payload', err.message);
      throw err;
    }
    const existing = await trx
      .selectFrom('publishers')
      .selectAll()
      .where('identity_key', '=', pending.identity_key)
      .where('pending_name', 'is', null)
      .executeTakeFirst();
    let publisher: PublisherRow;
    if (existing) {
      await trx.deleteFrom('publishers').where('id', '=', pending.id).execute();
      publisher = existing;
    } else {
      publisher = await trx
        .updateTable('publishers')
        .set({ pending_name: null, pending_normalized_name: null })
        .where('id', '=', pending.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    await trx
      .insertInto('publisher_projects')
      .values({ publisher_id: publisher.id, project_id: project.id, created_at: this.now() })
      .execute();
    await recordAudit(trx, actor, {
      action: 'publisher-add',
      project: { id: project.id, name: project.name },
      details: {
        publisher_id: publisher.id,
        publisher: provider.describe(JSON.parse(publisher.config_json)),
        reified_from_pending_publisher: true,
        claims: provider.provenance(claims),
      },
    });
    return publisher;
  }

  private async mintFor(
    trx: Kysely<Database>,
    publisher: PublisherRow,
    provider: Provider<unknown>,
    claims: Claims,
    ip: string | null,
  ): Promise<{ token: string; expires: number }> {
    const projects = await trx
      .selectFrom('publisher_projects')
      .innerJoin('projects', 'projects.id', 'publisher_projects.project_id')
      .select(['projects.id', 'projects.name', 'projects.normalized_name'])
      .where('publisher_projects.publisher_id', '=', publisher.id)
      .execute();
    if (projects.length === 0)
      throw new ExchangeError(
        'invalid-publisher',
        'valid token, but no corresponding publisher (it trusts no project)',
      );
    const config = JSON.parse(publisher.config_json) as unknown;
    const provenance: Provenance = {
      publisher: {
        id: publisher.id,
        kind: provider.kind,
        issuer: publisher.issuer_url,
        description: provider.describe(config),
        url: provider.url(config, publisher.issuer_url, claims),
      },
      claims: provider.provenance(claims),
    };
    const now = this.now();
    const expiresAt = now + this.options.tokenTtlSeconds * 1000;
    const raw = generateToken();
    const token = await trx
      .insertInto('tokens')
      .values({
        user_id: null,
        publisher_id: publisher.id,
        name: `trusted publishing: ${provenance.publisher.description}`,
        token_hash: hashToken(raw),
        display_prefix: tokenDisplayPrefix(raw),
        scope: 'upload',
        project_limited: 1,
        created_at: now,
        expires_at: expiresAt,
        revoked_at: null,
        last_used_at: null,
        claims_json: JSON.stringify(provenance),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const project of projects)
      await trx
        .insertInto('token_projects')
        .values({ token_id: token.id, project_id: project.id })
        .execute();
    const actor = this.actorFor(provider, publisher, ip);
    for (const project of projects)
      await recordAudit(trx, actor, {
        action: 'oidc-exchange',
        project: { id: project.id, name: project.name },
        details: {
          token_id: token.id,
          publisher_id: publisher.id,
          publisher: provenance.publisher.description,
          issuer: publisher.issuer_url,
          projects: projects.map((p) => p.name),
          expires: new Date(expiresAt).toISOString(),
          claims: provenance.claims,
        },
      });
    return { token: raw, expires: Math.floor(expiresAt / 1000) };
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
