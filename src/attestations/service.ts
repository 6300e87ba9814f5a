// Attestations at upload and after: who may attach them, the verification of each against a
// trusted publisher (in Warehouse's order: the uploader's identity, the list's shape, then per
// attestation the Sigstore verification, the publisher policy, the statement, the predicate type
// and duplicates), their rows, and the provenance document the Integrity API serves.
import type { Kysely } from 'kysely';
import type { Database, Project, Release } from '../db/schema.js';
import type { ProjectService } from '../registry/projects.js';
import { projectOffersFiles } from '../auth/permissions.js';
import { versionsEqual } from '../packaging/versions.js';
import { badRequest } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import { normalizeProjectName } from '../packaging/names.js';
import { provenanceForProject, type Provenance } from '../oidc/provenance.js';
import { isProviderKind } from '../oidc/issuers.js';
import { PROVIDERS, readStoredConfig } from '../oidc/providers/index.js';
import {
  attestationPublisher,
  checkIdentity,
  unsupportedKind,
  type AttestationPublisher,
  type PublisherIdentity,
} from './identity.js';
import { AttestationError, parseAttestations, verificationFailed } from './shape.js';
// sigstore-js is imported with the first upload that carries attestations, not at start.
import type { SignerIdentity, VerifiedSignature } from './sigstore.js';
import {
  checkPredicateType,
  checkStatement,
  type Distribution,
  type Statement,
} from './statement.js';
import type { TrustRoot } from './trust-root.js';
import {
  previousReleases,
  projectProvenance,
  provenanceStatus,
  type FileSources,
  type ProjectProvenance,
  type ProvenanceStatus,
} from './status.js';

/** Warehouse's prefix of every refusal (`Invalid attestations supplied during upload: …`). */
export const REFUSAL_PREFIX = 'Invalid attestations supplied during upload';

/** What the verification found for one attestation, kept with it. */
export interface VerifiedIdentity extends SignerIdentity {
  logIndex: string | null;
  logUrl: string | null;
  integratedAt: number | null;
}

export interface VerifiedAttestation {
  predicateType: string;
  raw: Record<string, unknown>;
  identity: VerifiedIdentity;
}

/** A file's attestations, all verified against one publisher. */
export interface VerifiedAttestations {
  publisherId: number;
  publisher: AttestationPublisher;
  /** One line naming the publisher (its provider's `describe`). */
  description: string;
  attestations: VerifiedAttestation[];
}

/** The provenance document of a file (PEP 740 / PyPI's Integrity API). */
/** One attestation of a file, as the web page shows it. */
export interface StoredAttestation {
  filename: string;
  predicateType: string;
  publisher: AttestationPublisher;
  identity: VerifiedIdentity;
}

export interface ProvenanceDocument {
  version: 1;
  attestation_bundles: { publisher: AttestationPublisher; attestations: unknown[] }[];
}

interface Candidate extends PublisherIdentity {
  id: number;
  description: string;
}

function refusal(message: string) {
  return badRequest(`${REFUSAL_PREFIX}: ${message}`);
}

export class AttestationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projects: ProjectService,
    private readonly trustRoot: () => TrustRoot,
  ) {}

  /**
   * The publishers an upload's attestations may be verified against: a trusted-publishing
   * token's own publisher (the one that granted this project), or, for an API token, each
   * trusted publisher of the project. Throws the refusal when there is none.
   */
  private async candidates(
    principal: Principal,
    project: Project | null,
    name: string,
  ): Promise<Candidate[]> {
    if (principal.kind !== 'token')
      throw refusal(
        'Attestations are only supported when using Trusted Publishing, or an API token of a project with trusted publishers',
      );
    let ids: number[];
    if (principal.token.publisher_id !== null) {
      const recorded = provenanceForProject(
        principal.token.claims_json,
        normalizeProjectName(name),
      );
      const id = recorded
        ? (JSON.parse(recorded) as Provenance).publisher.id
        : principal.token.publisher_id;
      ids = [id];
    } else {
      if (project === null)
        throw refusal(
          `Attestations with an API token are verified against the project's trusted publishers, and '${name}' is a new project with none`,
        );
      const rows = await this.db
        .selectFrom('publisher_projects')
        .select('publisher_id')
        .where('project_id', '=', project.id)
        .orderBy('publisher_id')
        .execute();
      ids = rows.map((r) => r.publisher_id);
      if (ids.length === 0)
        throw refusal(
          `Attestations with an API token are verified against the project's trusted publishers, and '${project.name}' has none`,
        );
    }
    const rows = await this.db
      .selectFrom('publishers')
      .select(['id', 'kind', 'issuer_url', 'config_json'])
      .where('id', 'in', ids)
      .where('pending_name', 'is', null)
      .orderBy('id')
      .execute();
    if (rows.length === 0)
      throw refusal("the trusted publisher of this upload's token no longer exists");
    const candidates: Candidate[] = [];
    for (const row of rows) {
      if (!isProviderKind(row.kind)) continue;
      const config = readStoredConfig(PROVIDERS[row.kind], row.config_json);
      candidates.push({
        id: Number(row.id),
        kind: row.kind,
        issuerUrl: row.issuer_url,
        config,
        description: PROVIDERS[row.kind].describe(config as never),
      });
    }
    const supported = candidates.filter((c) => unsupportedKind(c.kind) === null);
    if (supported.length === 0)
      throw refusal(unsupportedKind(candidates[0]?.kind ?? 'activestate')!);
    return supported;
  }

  /**
   * The upload's `attestations` field, verified against the uploaded file (its name and the
   * sha256 pier computed). Throws the 400 refusal, with Warehouse's words, on the first failure.
   */
  async verifyUpload(
    principal: Principal,
    project: Project | null,
    projectName: string,
    dist: Distribution,
    field: string,
  ): Promise<VerifiedAttestations> {
    let candidates = await this.candidates(principal, project, projectName);
    try {
      const attestations = parseAttestations(field);
      const root = this.trustRoot();
      const { verifySignature } = await import('./sigstore.js');
      const seen = new Set<string>();
      const verified: VerifiedAttestation[] = [];
      for (const attestation of attestations) {
        let statement: Statement;
        let signature: VerifiedSignature;
        try {
          signature = verifySignature(attestation, root);
          const failures = candidates.map((c) => checkIdentity(c, signature.identity));
          const matching = candidates.filter((_, i) => failures[i] === null);
          if (matching.length === 0)
            throw verificationFailed(
              candidates.length === 1
                ? failures[0]!
                : `the attestation matches none of the project's trusted publishers: ${candidates.map((c, i) => `${c.description}: ${failures[i]}`).join('; ')}`,
            );
          candidates = matching;
          statement = checkStatement(signature.payload, dist);
        } catch (err) {
          if (err instanceof AttestationError) throw err;
          throw new AttestationError(
            `Unknown error while trying to verify included attestations: ${(err as Error).message}`,
          );
        }
        checkPredicateType(statement.predicateType);
        if (seen.has(statement.predicateType))
          throw new AttestationError(
            `Multiple attestations for the same file with the same predicate type (${statement.predicateType}) are not supported`,
          );
        seen.add(statement.predicateType);
        verified.push({
          predicateType: statement.predicateType,
          raw: attestation.raw,
          identity: {
            ...signature.identity,
            logIndex: signature.logIndex,
            logUrl: signature.logUrl,
            integratedAt: signature.integratedAt,
          },
        });
      }
      const chosen = candidates[0]!;
      return {
        publisherId: chosen.id,
        publisher: attestationPublisher(chosen)!,
        description: chosen.description,
        attestations: verified,
      };
    } catch (err) {
      if (err instanceof AttestationError) throw refusal(err.message);
      throw err;
    }
  }

  /** The rows of a file's verified attestations (inside the upload's transaction). */
  async store(
    trx: Kysely<Database>,
    fileId: number,
    verified: VerifiedAttestations,
  ): Promise<void> {
    const now = Date.now();
    let position = 0;
    for (const a of verified.attestations)
      await trx
        .insertInto('file_attestations')
        .values({
          file_id: fileId,
          position: position++,
          predicate_type: a.predicateType,
          publisher_id: verified.publisherId,
          publisher_json: JSON.stringify(verified.publisher),
          identity_json: JSON.stringify(a.identity),
          attestation_json: JSON.stringify(a.raw),
          created_at: now,
        })
        .execute();
  }

  /**
   * The provenance of `filename` of `project` `version`, for the Integrity API. A project the
   * reader may not read answers as a file that does not exist (the read rule of every page).
   * `shared`: whether caches shared between users may keep the answer.
   */
  async provenanceOf(
    principal: Principal,
    projectName: string,
    version: string,
    filename: string,
  ): Promise<FileProvenance> {
    const project = await this.projects.find(projectName);
    if (
      !project ||
      !projectOffersFiles(project) ||
      !(await this.projects.mayRead(principal, project))
    )
      return { found: false, reason: 'no-file' };
    const file = await this.db
      .selectFrom('files')
      .innerJoin('releases', 'releases.id', 'files.release_id')
      .select(['files.id', 'releases.version'])
      .where('files.project_id', '=', project.id)
      .where('files.filename', '=', filename)
      .executeTakeFirst();
    if (!file || !versionsEqual(file.version, version)) return { found: false, reason: 'no-file' };
    const document = await this.provenance(Number(file.id));
    if (document === null) return { found: false, reason: 'no-provenance' };
    return { found: true, document, shared: project.private !== 1 };
  }

  /** Each file of a release with the sources (publisher documents) that attested it. */
  /** The sources of each file of the given releases (all of the project's when none are given). */
  private async sourcesByRelease(
    db: Kysely<Database>,
    projectId: number,
    releaseIds?: readonly number[],
  ): Promise<Map<number, FileSources[]>> {
    let query = db
      .selectFrom('files')
      .leftJoin('file_attestations', 'file_attestations.file_id', 'files.id')
      .select(['files.release_id', 'files.filename', 'file_attestations.publisher_json'])
      .where('files.project_id', '=', projectId);
    if (releaseIds !== undefined) {
      if (releaseIds.length === 0) return new Map();
      query = query.where('files.release_id', 'in', [...releaseIds]);
    }
    const byRelease = new Map<number, Map<string, Set<string>>>();
    for (const r of await query.execute()) {
      const files = byRelease.get(Number(r.release_id)) ?? new Map<string, Set<string>>();
      const sources = files.get(r.filename) ?? new Set<string>();
      if (r.publisher_json !== null) sources.add(r.publisher_json);
      files.set(r.filename, sources);
      byRelease.set(Number(r.release_id), files);
    }
    return new Map(
      [...byRelease].map(([id, files]) => [
        id,
        [...files].map(([filename, sources]) => ({ filename, sources: [...sources] })),
      ]),
    );
  }

  /** A project's releases, with the one each is compared with (status.ts `previousReleases`). */
  private async releaseOrder(db: Kysely<Database>, projectId: number) {
    const releases = await db
      .selectFrom('releases')
      .select(['id', 'created_at', 'version'])
      .where('project_id', '=', projectId)
      .execute();
    const order = releases.map((r) => ({
      id: Number(r.id),
      createdAt: Number(r.created_at),
      version: r.version,
    }));
    return { releases: order, previous: previousReleases(order) };
  }

  /** The status of release `id` given each release's sources and its previous release. */
  private statusFrom(
    id: number,
    previous: Map<number, number | null>,
    sources: Map<number, FileSources[]>,
  ): ProvenanceStatus {
    const before = previous.get(id) ?? null;
    const previousSources =
      before === null ? null : (sources.get(before) ?? []).flatMap((f) => f.sources);
    return provenanceStatus(sources.get(id) ?? [], previousSources);
  }

  /**
   * A release's provenance status (src/attestations/status.ts): its files' sources against
   * those of the project's previous release (`previousReleases`).
   */
  async releaseStatus(
    db: Kysely<Database>,
    release: Pick<Release, 'id' | 'project_id' | 'created_at'>,
  ): Promise<ProvenanceStatus> {
    const id = Number(release.id);
    // The candidates for its previous release, without reading every release (this runs at each
    // upload): the two latest created at or before it. One of them is the release itself or the
    // other release `previousReleases` chooses, which dominates every release not read.
    const candidates = await db
      .selectFrom('releases')
      .select(['id', 'created_at'])
      .where('project_id', '=', release.project_id)
      .where('created_at', '<=', release.created_at)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(2)
      .execute();
    const order = [
      { id, createdAt: Number(release.created_at) },
      ...candidates
        .map((r) => ({ id: Number(r.id), createdAt: Number(r.created_at) }))
        .filter((r) => r.id !== id),
    ];
    const previous = previousReleases(order);
    const before = previous.get(id) ?? null;
    const sources = await this.sourcesByRelease(
      db,
      release.project_id,
      before === null ? [id] : [id, before],
    );
    return this.statusFrom(id, previous, sources);
  }

  /** The provenance status of a project's release `version`, or null when there is no such release. */
  async versionStatus(projectId: number, version: string): Promise<ProvenanceStatus | null> {
    const release = (await this.releaseOrder(this.db, projectId)).releases.find((r) =>
      versionsEqual(r.version, version),
    );
    return release
      ? this.releaseStatus(this.db, {
          id: release.id,
          project_id: projectId,
          created_at: release.createdAt,
        })
      : null;
  }

  /**
   * A project's provenance (status.ts `projectProvenance`): from each release's status, in the
   * order the releases were created — three queries whatever the number of releases.
   */
  async projectStatus(projectId: number): Promise<ProjectProvenance> {
    const { releases, previous } = await this.releaseOrder(this.db, projectId);
    const sources = await this.sourcesByRelease(this.db, projectId);
    const statuses = [...releases]
      .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)
      .map((r) => ({ version: r.version, status: this.statusFrom(r.id, previous, sources) }));
    return projectProvenance(statuses);
  }

  /** Every attestation of a project's files, in upload order (for its web page). */
  async ofProject(projectId: number): Promise<StoredAttestation[]> {
    const rows = await this.db
      .selectFrom('file_attestations')
      .innerJoin('files', 'files.id', 'file_attestations.file_id')
      .select([
        'files.filename',
        'file_attestations.predicate_type',
        'file_attestations.publisher_json',
        'file_attestations.identity_json',
      ])
      .where('files.project_id', '=', projectId)
      .orderBy('file_attestations.file_id')
      .orderBy('file_attestations.position')
      .execute();
    return rows.map((r) => ({
      filename: r.filename,
      predicateType: r.predicate_type,
      publisher: JSON.parse(r.publisher_json) as AttestationPublisher,
      identity: JSON.parse(r.identity_json) as VerifiedIdentity,
    }));
  }

  /** The provenance document of a file, or null when it has no attestation. */
  async provenance(fileId: number): Promise<ProvenanceDocument | null> {
    const rows = await this.db
      .selectFrom('file_attestations')
      .select(['publisher_json', 'attestation_json'])
      .where('file_id', '=', fileId)
      .orderBy('position')
      .execute();
    if (rows.length === 0) return null;
    const bundles = new Map<string, ProvenanceDocument['attestation_bundles'][number]>();
    for (const row of rows) {
      let bundle = bundles.get(row.publisher_json);
      if (!bundle) {
        bundle = {
          publisher: JSON.parse(row.publisher_json) as AttestationPublisher,
          attestations: [],
        };
        bundles.set(row.publisher_json, bundle);
      }
      bundle.attestations.push(JSON.parse(row.attestation_json) as unknown);
    }
    return { version: 1, attestation_bundles: [...bundles.values()] };
  }
}

/** What the Integrity API answers for a file: its provenance, or why there is none. */
export type FileProvenance =
  | { found: true; document: ProvenanceDocument; shared: boolean }
  | { found: false; reason: 'no-file' | 'no-provenance' };
