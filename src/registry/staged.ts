// Staged releases (docs/trusted-publishing.md "Staged releases"): uploads that land in a release
// installers do not see, until an owner or maintainer approves it and every file appears at once,
// or rejects it and the files are gone. Shaped as PEP 694's publishing sessions (draft): one
// session per project and version, named by a random token, with a preview index for the team.
//
// The rules this module keeps:
// - a staged file is stored as any upload's blob, but in `staged_files`, which nothing lists
//   except the preview; its filename is recorded in `filename_registry` when it is staged, so
//   the rule that filenames are never reused (src/registry/upload/pipeline.ts checkDuplicates)
//   holds for it after a rejection or expiry without a second copy of that rule;
// - approval moves every file into `releases`/`files` in one transaction that also bumps the
//   project's serial (what every cache of a page compares): readers see all files or none;
// - a decision happens once: the state moves from `open` in one guarded UPDATE, so two approvals
//   racing (in any processes) cannot both publish.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type {
  Database,
  Project,
  StagedFileRow,
  StagedReleaseRow,
  StagedState,
  User,
} from '../db/schema.js';
import type { BlobStore } from '../storage/blob-store.js';
import { badRequest, conflict, forbidden, notFound, PierError } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import {
  decisionNeedsSecondFactor,
  mayDecideStaged,
  mayPreviewStaged,
} from '../auth/permissions.js';
import { describePrincipal, principalUser, type Principal } from '../auth/principal.js';
import { parseVersion } from '../packaging/versions.js';
import type { UploadMetadata } from '../packaging/upload-metadata.js';
import { bumpSerial } from './journal.js';
import { releaseRow } from './release-row.js';
import type { StagedApproval } from '../oidc/provenance.js';
import type { ProjectService } from './projects.js';
import type { AttestationService, VerifiedAttestations } from '../attestations/service.js';

export const STAGED_STATES: readonly StagedState[] = ['open', 'approved', 'rejected', 'expired'];

/** Checks a user's TOTP code once (src/web/totp.ts TwoFactorService.verify). */
export type SecondFactorCheck = (user: User, code: unknown) => Promise<boolean>;

/** What an upload hands over to be staged, inside the upload's transaction. */
export interface StagedFileInput {
  filename: string;
  packagetype: string;
  python_version: string;
  requires_python: string | null;
  size: number;
  md5: string;
  sha256: string;
  blake2_256: string;
  blob_key: string;
  metadata_sha256: string | null;
  metadata_blake2_256: string | null;
  metadata_content: Buffer | null;
  comment: string | null;
  uploader_user_id: number | null;
  uploader_token_id: number | null;
  provenance_json: string | null;
  metadata: UploadMetadata;
  attestations: VerifiedAttestations | null;
}

/** A staged release as the API and the CLI show it. */
export interface StagedView {
  id: string;
  project: string;
  version: string;
  state: StagedState;
  staged_by: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  files: { filename: string; size: number; sha256: string }[];
  /** The preview's Simple index (PEP 503/691), for the project's team; null once decided. */
  preview_url: string | null;
}

const STAGE_HELP =
  'approve it (pier staged approve, or POST /api/projects/<name>/staged/<version>/approve) or reject it first';

export class StagedService {
  /** The clock every expiry is measured with (tests move it instead of sleeping). */
  now: () => number = Date.now;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly blobs: BlobStore,
    private readonly projects: ProjectService,
    private readonly attestations: AttestationService,
    private readonly options: {
      ttlSeconds: number;
      publicUrl: () => string;
      secondFactor: SecondFactorCheck;
    },
  ) {}

  previewUrl(token: string): string {
    return `${this.options.publicUrl()}/_/staged/${token}/simple/`;
  }

  // ------------------------------------------------------------------ the upload's side

  /** The open staged release of a version, if any (expired ones are closed first). */
  async openFor(
    db: Kysely<Database>,
    projectId: number,
    canonicalVersion: string,
  ): Promise<StagedReleaseRow | undefined> {
    return db
      .selectFrom('staged_releases')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('canonical_version', '=', canonicalVersion)
      .where('state', '=', 'open')
      .executeTakeFirst();
  }

  /**
   * Refuses a direct (unstaged) upload to a version that is staged: the staged files would be
   * mixed with it, and the approval could no longer publish the release as it was reviewed.
   */
  async refuseIfStaged(
    db: Kysely<Database>,
    project: Pick<Project, 'id' | 'name'>,
    canonicalVersion: string,
    version: string,
  ): Promise<void> {
    const open = await this.openFor(db, project.id, canonicalVersion);
    if (open && open.expires_at > this.now())
      throw conflict(
        `Release ${version} of '${project.name}' is staged and awaiting approval: ${STAGE_HELP}.`,
      );
  }

  /**
   * Adds a file to the version's open staged release (creating it), in the upload's
   * transaction. A version already published is refused: a staged upload starts a release.
   */
  async stage(
    trx: Kysely<Database>,
    actor: Actor,
    project: Project,
    publisherId: number | null,
    file: StagedFileInput,
  ): Promise<StagedReleaseRow> {
    const { metadata } = file;
    const published = await trx
      .selectFrom('releases')
      .select('id')
      .where('project_id', '=', project.id)
      .where('canonical_version', '=', metadata.canonicalVersion)
      .executeTakeFirst();
    if (published)
      throw conflict(
        `Release ${metadata.version} of '${project.name}' is already published: uploads to '${project.name}' are staged, and a staged upload can only start a new release. Use a new version.`,
      );
    const now = this.now();
    let session = await this.openFor(trx, project.id, metadata.canonicalVersion);
    if (session && session.expires_at <= now)
      throw conflict(
        `The staged release ${metadata.version} of '${project.name}' has expired; it is being removed. Use a new version.`,
      );
    if (!session) {
      const p = actor.principal;
      session = await trx
        .insertInto('staged_releases')
        .values({
          token: randomBytes(24).toString('base64url'),
          project_id: project.id,
          version: metadata.version,
          canonical_version: metadata.canonicalVersion,
          state: 'open',
          staged_by: actor.name ?? describePrincipal(p),
          staged_by_token_id: p.kind === 'token' ? p.token.id : null,
          staged_by_publisher_id: publisherId,
          created_at: now,
          expires_at: now + this.options.ttlSeconds * 1000,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    if (file.packagetype === 'sdist') {
      const sdist = await trx
        .selectFrom('staged_files')
        .select('id')
        .where('staged_release_id', '=', session.id)
        .where('packagetype', '=', 'sdist')
        .executeTakeFirst();
      if (sdist) throw badRequest('Only one sdist may be uploaded per release.');
    }
    await trx
      .insertInto('staged_files')
      .values({
        staged_release_id: session.id,
        filename: file.filename,
        packagetype: file.packagetype,
        python_version: file.python_version,
        requires_python: file.requires_python,
        size: file.size,
        md5: file.md5,
        sha256: file.sha256,
        blake2_256: file.blake2_256,
        blob_key: file.blob_key,
        metadata_sha256: file.metadata_sha256,
        metadata_blake2_256: file.metadata_blake2_256,
        metadata_content: file.metadata_content,
        comment: file.comment,
        uploaded_at: now,
        uploader_user_id: file.uploader_user_id,
        uploader_token_id: file.uploader_token_id,
        provenance_json: file.provenance_json,
        release_metadata_json: JSON.stringify(metadata),
        attestations_json: file.attestations ? JSON.stringify(file.attestations) : null,
      })
      .execute();
    // The name is taken now: a rejected or expired file's name is never reusable.
    await trx
      .insertInto('filename_registry')
      .values({ filename: file.filename, blake2_256: file.blake2_256, created_at: now })
      .execute();
    await recordAudit(trx, actor, {
      action: 'stage-upload',
      project: { id: project.id, name: project.name },
      details: {
        staged_release: session.token,
        version: metadata.version,
        filename: file.filename,
        size: file.size,
        sha256: file.sha256,
        ...(file.provenance_json
          ? { trusted_publishing: JSON.parse(file.provenance_json) as unknown }
          : {}),
      },
    });
    return session;
  }

  // ------------------------------------------------------------------ reading

  private async views(rows: StagedReleaseRow[], projectName: string): Promise<StagedView[]> {
    if (rows.length === 0) return [];
    const files = await this.db
      .selectFrom('staged_files')
      .select(['staged_release_id', 'filename', 'size', 'sha256'])
      .where(
        'staged_release_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('filename')
      .execute();
    const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
    return rows.map((r) => {
      const own = files.filter((f) => Number(f.staged_release_id) === Number(r.id));
      const kept =
        r.state === 'open' || r.state === 'approved'
          ? own.map((f) => ({ filename: f.filename, size: Number(f.size), sha256: f.sha256 }))
          : (JSON.parse(r.filenames_json) as string[]).map((filename) => ({
              filename,
              size: 0,
              sha256: '',
            }));
      return {
        id: r.token,
        project: projectName,
        version: r.version,
        state: r.state,
        staged_by: r.staged_by,
        created_at: iso(r.created_at)!,
        expires_at: iso(r.expires_at)!,
        decided_at: iso(r.decided_at),
        decided_by: r.decided_by,
        files: kept,
        preview_url: r.state === 'open' ? this.previewUrl(r.token) : null,
      };
    });
  }

  /** A project's staged releases, newest first: its owners and maintainers may list them. */
  async list(actor: Actor, projectName: string, state?: string): Promise<StagedView[]> {
    if (state !== undefined && !(STAGED_STATES as readonly string[]).includes(state))
      throw badRequest(`Unknown state '${state}': use ${STAGED_STATES.join(', ')}`);
    await this.expireDue();
    const project = await this.projects.require(projectName, actor.principal);
    if (!mayPreviewStaged(actor.principal, await this.projects.access(actor.principal, project)))
      throw forbidden(
        `Only owners and maintainers of '${project.name}' may see its staged releases`,
      );
    let q = this.db
      .selectFrom('staged_releases')
      .selectAll()
      .where('project_id', '=', project.id)
      .orderBy('id', 'desc');
    if (state !== undefined) q = q.where('state', '=', state as StagedState);
    return this.views(await q.execute(), project.name);
  }

  /**
   * The open staged release behind a preview token and its files, for a principal who may
   * preview it; anyone else (and a token that names nothing open) gets a 404, so a preview URL
   * tells a stranger nothing.
   */
  async preview(
    p: Principal,
    token: string,
  ): Promise<{ session: StagedReleaseRow; project: Project; files: StagedFileRow[] }> {
    await this.expireDue();
    const session = await this.db
      .selectFrom('staged_releases')
      .selectAll()
      .where('token', '=', token)
      .where('state', '=', 'open')
      .executeTakeFirst();
    if (!session) throw notFound();
    const project = await this.db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', session.project_id)
      .executeTakeFirstOrThrow();
    if (!mayPreviewStaged(p, await this.projects.access(p, project))) throw notFound();
    const files = await this.db
      .selectFrom('staged_files')
      .selectAll()
      .where('staged_release_id', '=', session.id)
      .orderBy('filename')
      .execute();
    return { session, project, files };
  }

  // ------------------------------------------------------------------ decisions

  /** The open staged release of a version, for a principal who may decide on it. */
  private async decidable(
    actor: Actor,
    projectName: string,
    version: string,
    totp: unknown,
  ): Promise<{ project: Project; session: StagedReleaseRow }> {
    const parsed = parseVersion(version);
    if (!parsed) throw badRequest(`'${version}' is not a valid version`);
    const project = await this.projects.require(projectName, actor.principal);
    const p = actor.principal;
    if (!mayDecideStaged(p, await this.projects.access(p, project)))
      throw forbidden(
        `Only owners and maintainers of '${project.name}' may approve or reject its staged releases, with a credential of their own (admin scope); a trusted publisher's token never can.`,
      );
    await this.expireDue();
    const session = await this.db
      .selectFrom('staged_releases')
      .selectAll()
      .where('project_id', '=', project.id)
      .where('canonical_version', '=', parsed.canonical)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!session) throw notFound(`Project '${project.name}' has no staged release ${version}`);
    if (session.state !== 'open')
      throw conflict(
        `The staged release ${session.version} of '${project.name}' is ${session.state} already${session.decided_by ? ` (by ${session.decided_by})` : ''}: nothing changed.`,
      );
    if (decisionNeedsSecondFactor(p)) {
      if (totp === undefined || totp === null || totp === '')
        throw new PierError(
          403,
          `'${principalUser(p)!.username}' has two-factor authentication: give the current code ('totp') to approve or reject a staged release.`,
          { code: 'totp-required' },
        );
      if (!(await this.options.secondFactor(principalUser(p)!, totp)))
        throw new PierError(
          403,
          'The two-factor code is wrong or was used already: nothing changed.',
          { code: 'totp-invalid' },
        );
    }
    return { project, session };
  }

  /** Moves a session out of `open`, once: false when another decision came first. */
  private async close(
    trx: Kysely<Database>,
    actor: Actor,
    session: StagedReleaseRow,
    state: StagedState,
    filenames: string[],
  ): Promise<boolean> {
    const result = await trx
      .updateTable('staged_releases')
      .set({
        state,
        decided_at: this.now(),
        decided_by: state === 'expired' ? null : (actor.name ?? describePrincipal(actor.principal)),
        decided_by_user_id: principalUser(actor.principal)?.id ?? null,
        filenames_json: JSON.stringify(filenames),
      })
      .where('id', '=', session.id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Publishes every file of the staged release in one transaction: the release, its files,
   * their PEP 658 metadata and PEP 740 attestations, the serial and the audit entry. The files'
   * provenance records who approved.
   */
  async approve(actor: Actor, projectName: string, version: string, totp?: unknown) {
    const { project, session } = await this.decidable(actor, projectName, version, totp);
    const approver = actor.name ?? describePrincipal(actor.principal);
    const files = await this.db
      .selectFrom('staged_files')
      .selectAll()
      .where('staged_release_id', '=', session.id)
      .orderBy('id')
      .execute();
    if (files.length === 0) throw conflict(`The staged release ${session.version} has no files`);
    const now = this.now();
    const approval: StagedApproval = {
      by: approver,
      user: principalUser(actor.principal)?.username ?? null,
      at: new Date(now).toISOString(),
      staged_release: session.token,
      staged_by: session.staged_by,
    };
    await this.db.transaction().execute(async (trx) => {
      const filenames = files.map((f) => f.filename);
      if (!(await this.close(trx, actor, session, 'approved', filenames)))
        throw conflict(
          `The staged release ${session.version} of '${project.name}' was decided meanwhile: nothing changed.`,
        );
      const exists = await trx
        .selectFrom('releases')
        .select('id')
        .where('project_id', '=', project.id)
        .where('canonical_version', '=', session.canonical_version)
        .executeTakeFirst();
      if (exists)
        throw conflict(
          `Release ${session.version} of '${project.name}' was published meanwhile: nothing changed.`,
        );
      const metadata = JSON.parse(files[0]!.release_metadata_json) as UploadMetadata;
      const release = await trx
        .insertInto('releases')
        .values(releaseRow(project.id, metadata, { createdAt: now }))
        .returningAll()
        .executeTakeFirstOrThrow();
      for (const f of files) {
        const provenance = {
          ...(f.provenance_json ? (JSON.parse(f.provenance_json) as object) : {}),
          approval,
        };
        const file = await trx
          .insertInto('files')
          .values({
            project_id: project.id,
            release_id: release.id,
            filename: f.filename,
            packagetype: f.packagetype,
            python_version: f.python_version,
            requires_python: f.requires_python,
            size: f.size,
            md5: f.md5,
            sha256: f.sha256,
            blake2_256: f.blake2_256,
            blob_key: f.blob_key,
            metadata_sha256: f.metadata_sha256,
            metadata_blake2_256: f.metadata_blake2_256,
            comment: f.comment,
            uploaded_at: now,
            uploader_user_id: f.uploader_user_id,
            uploader_token_id: f.uploader_token_id,
            provenance_json: JSON.stringify(provenance),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        if (f.metadata_content)
          await trx
            .insertInto('file_metadata')
            .values({ file_id: file.id, content: f.metadata_content })
            .execute();
        if (f.attestations_json)
          await this.attestations.store(
            trx,
            file.id,
            JSON.parse(f.attestations_json) as VerifiedAttestations,
          );
      }
      await trx.deleteFrom('staged_files').where('staged_release_id', '=', session.id).execute();
      await bumpSerial(trx, project.id, 'approve staged release');
      await recordAudit(trx, actor, {
        action: 'staged-approve',
        project: { id: project.id, name: project.name },
        details: {
          staged_release: session.token,
          version: session.version,
          files: filenames,
          staged_by: session.staged_by,
        },
      });
    });
    return this.decided(project, session, 'approved', files, approver);
  }

  /** Rejects the staged release: its files are deleted, their names stay taken. */
  async reject(actor: Actor, projectName: string, version: string, totp?: unknown) {
    const { project, session } = await this.decidable(actor, projectName, version, totp);
    const files = await this.discard(actor, project, session, 'rejected');
    if (files === null)
      throw conflict(
        `The staged release ${session.version} of '${project.name}' was decided meanwhile: nothing changed.`,
      );
    return this.decided(
      project,
      session,
      'rejected',
      files,
      actor.name ?? describePrincipal(actor.principal),
    );
  }

  private decided(
    project: Project,
    session: StagedReleaseRow,
    state: StagedState,
    files: Pick<StagedFileRow, 'filename'>[],
    by: string,
  ) {
    return {
      id: session.token,
      project: project.name,
      version: session.version,
      state,
      decided_by: by,
      files: files.map((f) => f.filename),
    };
  }

  /** Closes a session as rejected or expired and deletes its files; null if it was not open. */
  private async discard(
    actor: Actor,
    project: Pick<Project, 'id' | 'name'>,
    session: StagedReleaseRow,
    state: 'rejected' | 'expired',
  ): Promise<StagedFileRow[] | null> {
    const files = await this.db
      .selectFrom('staged_files')
      .selectAll()
      .where('staged_release_id', '=', session.id)
      .execute();
    const closed = await this.db.transaction().execute(async (trx) => {
      if (
        !(await this.close(
          trx,
          actor,
          session,
          state,
          files.map((f) => f.filename),
        ))
      )
        return false;
      await trx.deleteFrom('staged_files').where('staged_release_id', '=', session.id).execute();
      await recordAudit(trx, actor, {
        action: state === 'rejected' ? 'staged-reject' : 'staged-expire',
        project: { id: project.id, name: project.name },
        details: {
          staged_release: session.token,
          version: session.version,
          files: files.map((f) => f.filename),
          staged_by: session.staged_by,
        },
      });
      return true;
    });
    if (!closed) return null;
    // The rows are gone: nothing refers to these blobs any more.
    for (const f of files) await this.blobs.delete(f.blob_key).catch(() => undefined);
    return files;
  }

  /**
   * Expires every open staged release past its time: its files are deleted as a rejection's
   * are. Called before each read or decision (so the clock alone decides, in every process) and
   * periodically by the server. Returns how many expired.
   */
  async expireDue(): Promise<number> {
    const due = await this.db
      .selectFrom('staged_releases')
      .innerJoin('projects', 'projects.id', 'staged_releases.project_id')
      .selectAll('staged_releases')
      .select('projects.name as project_name')
      .where('staged_releases.state', '=', 'open')
      .where('staged_releases.expires_at', '<=', this.now())
      .execute();
    let count = 0;
    const system: Actor = { principal: { kind: 'operator', name: 'expiry' }, ip: null };
    for (const row of due) {
      const { project_name, ...session } = row;
      const files = await this.discard(
        { ...system, name: 'pier (expiry)' },
        { id: session.project_id, name: project_name },
        session,
        'expired',
      );
      if (files !== null) count++;
    }
    return count;
  }
}
