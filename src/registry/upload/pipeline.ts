// The legacy upload (POST /legacy/), as one session per request. The rules run in the order of
// reference §2.3 (Warehouse's forklift): the form's checks when the file part begins, so that a
// bad upload is refused before its bytes are read; then the file is streamed to a fresh blob
// while its digests are computed; then the checks on the stored bytes; then one transaction
// makes the file visible. A failure at any point deletes the blob and changes nothing.
import { orgWideCovers } from '../../oidc/org-wide.js';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { Database, Project, Release, User } from '../../db/schema.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { badRequest, conflict, forbidden, PierError } from '../../errors.js';
import { recordAudit, type Actor } from '../../audit/log.js';
import {
  mayCreateProjects,
  mayUpload,
  mayUploadAtAll,
  projectTakesUploadsFrom,
  projectAcceptsUploads,
  uploadIsStaged,
} from '../../auth/permissions.js';
import { principalUser } from '../../auth/principal.js';
import { normalizeProjectName } from '../../packaging/names.js';
import { versionsEqual } from '../../packaging/versions.js';
import { parseCoreMetadata } from '../../packaging/core-metadata.js';
import {
  metadataFromUploadForm,
  validateUploadMetadata,
  type UploadMetadata,
} from '../../packaging/upload-metadata.js';
import {
  recordedMetadataSource,
  validateFileMetadata,
  type DistributionKind,
} from '../../packaging/recorded-metadata.js';
import {
  byteSourceFromBuffer,
  InvalidArchiveError,
  inspectSdist,
  inspectWheel,
} from '../../packaging/archive.js';
import { bumpSerial } from '../journal.js';
import { provenanceForProject } from '../../oidc/provenance.js';
import { isUniqueViolation } from '../../db/errors.js';
import { creatorOf, type ProjectService } from '../projects.js';
import { DigestStream, FileTooLargeError, digestBuffer, type Digests } from './digests.js';
import {
  UploadFields,
  checkAction,
  checkProtocolVersion,
  fileFieldError,
  validateForm,
  type ValidForm,
} from './form.js';
import {
  checkFilenameBasics,
  checkFilenameNamesProject,
  checkSdistFilename,
  checkWheelFilename,
  projectNamedByFilename,
} from './filename-rules.js';
import { withHelp } from '../../help.js';
import type { AttestationService, VerifiedAttestations } from '../../attestations/service.js';
import { DEGRADED, STATUS_TEXT, type ProvenanceStatus } from '../../attestations/status.js';
import type { StagedService } from '../staged.js';
import { releaseRow } from '../release-row.js';

export interface UploadOptions {
  maxUploadSize: number;
  anyUserMayCreateProjects: boolean;
  allowLocalVersions: boolean;
}

/**
 * What an import (`pier import`) tells the pipeline about a file it brings over from another
 * index; a fresh upload has none of it. The file goes through every step of an upload, with
 * these differences only: the rules of today that older files predate are relaxed when `legacy`
 * is set (`FilenameRules`, `metadataVersionAge`), the file keeps the time it was first uploaded
 * and its release's yank, a new project gets `owner`, and the audit log records an import.
 */
export interface ImportFacts {
  legacy: boolean;
  /** When the file was first uploaded, in ms since the epoch. */
  uploadedAt: number;
  /** The release's yank at the index it comes from; null when not yanked. */
  yanked: { reason: string | null } | null;
  owner: User;
  /** Where it came from, for the audit log: `pypiserver`, `devpi` or `folder`. */
  source: string;
}

export interface UploadResult {
  /** True when the same file was already there: nothing changed. */
  identical: boolean;
  filename: string;
  project: string;
  version: string;
  size: number;
  digests: Digests;
  /** When the file was staged (docs/trusted-publishing.md): the staged release's id and preview. */
  staged: { id: string; previewUrl: string } | null;
}

interface CheckedForm {
  form: ValidForm;
  metadata: UploadMetadata;
  /** The existing project, or null when this upload creates it. */
  project: Project | null;
  /** The name messages use: the project's, or the form's for a new project. */
  displayName: string;
  filename: string;
}

interface StoredFile {
  key: string;
  digests: Digests;
  size: number;
  /** The file's bytes when it was small enough to keep (SMALL_UPLOAD); else read from storage. */
  bytes: Buffer | null;
}

interface Inspected {
  /** The wheel's METADATA (PEP 658); null for sdists. */
  metadataFile: Buffer | null;
  /** What the release and the file record: the file's own metadata (`recorded-metadata.ts`). */
  metadata: UploadMetadata;
}

function formatLimit(bytes: number): string {
  const MiB = 1024 * 1024;
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

const NO_UPLOAD_RIGHT = "The given token isn't allowed to upload: it has the read scope only.";

/** A refusal under the rule that filenames are never reused: it links to the help page. */
const reuse = (message: string) => withHelp(badRequest(message), 'file-name-reuse');

export class UploadService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly blobs: BlobStore,
    private readonly projects: ProjectService,
    private readonly attestations: AttestationService,
    private readonly options: UploadOptions,
    private readonly staged: StagedService,
  ) {}

  /** Refuses at once a credential that may upload nothing, before any of the form is read. */
  begin(actor: Actor, queryAction?: string, imported: ImportFacts | null = null): UploadSession {
    if (!mayUploadAtAll(actor.principal)) throw forbidden(NO_UPLOAD_RIGHT);
    return new UploadSession(
      this.db,
      this.blobs,
      this.projects,
      this.attestations,
      this.options,
      actor,
      queryAction,
      imported,
      this.staged,
    );
  }
}

export class UploadSession {
  readonly fields: UploadFields;
  private checked: CheckedForm | null = null;
  private stored: StoredFile | null = null;
  private contentSeen = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly blobs: BlobStore,
    private readonly projects: ProjectService,
    private readonly attestations: AttestationService,
    private readonly options: UploadOptions,
    private readonly actor: Actor,
    private readonly queryAction: string | undefined,
    private readonly imported: ImportFacts | null = null,
    private readonly staged: StagedService | null = null,
  ) {
    this.fields = new UploadFields(queryAction);
  }

  private get legacy(): boolean {
    return this.imported?.legacy ?? false;
  }

  /** A plain form field. Fields must come before the file, as every client sends them. */
  addField(name: string, value: string): void {
    if (this.contentSeen)
      throw badRequest(
        `Form field '${name}' came after the file: send every field before 'content'.`,
      );
    this.fields.add(name, value);
  }

  /** A file part. Only `content` may be one (gpg_signature is accepted and ignored). */
  async receiveFile(
    field: string,
    filename: string,
    mimeType: string | undefined,
    stream: Readable,
  ): Promise<void> {
    if (field === 'gpg_signature') {
      stream.resume();
      return;
    }
    if (field !== 'content') throw fileFieldError(field);
    if (this.contentSeen) throw badRequest("The form has more than one 'content' file.");
    this.contentSeen = true;
    this.checked = await this.checkForm(filename);
    // Step 12: the part's own Content-Type. A missing one is fine (uv sends none).
    if (mimeType !== undefined && (mimeType === '' || mimeType.startsWith('image/')))
      throw badRequest('Invalid distribution file.');
    this.stored = await this.streamToBlob(stream);
  }

  /** Steps 1–11: everything that depends on the form alone. */
  private async checkForm(filename: string): Promise<CheckedForm> {
    checkAction(this.queryAction ?? this.fields.get(':action'));
    checkProtocolVersion(this.fields);
    const form = validateForm(this.fields);
    const result = validateUploadMetadata(metadataFromUploadForm(this.fields.asMap()), {
      allowLocalVersions: this.options.allowLocalVersions,
      legacy: this.legacy,
    });
    if (!result.ok) throw badRequest(result.message, { field: result.field });
    const metadata = result.metadata;

    let project = (await this.projects.find(form.name)) ?? null;
    if (project !== null && !(await this.projects.mayRead(this.actor.principal, project))) {
      // A project the uploader may not read is answered as a name that is taken, never as the
      // project it is: the same refusals, in the same order, as for a new name.
      this.checkMayCreate(form.name);
      throw withHelp(
        conflict(`The name '${form.name}' conflicts with an existing project.`),
        'project-name',
      );
    }
    if (project === null) {
      this.checkMayCreate(form.name);
      try {
        await this.projects.checkNewName(
          form.name,
          creatorOf(this.actor, principalUser(this.actor.principal)),
        );
        await this.projects.checkNotOnUpstream(this.actor, form.name);
      } catch (err) {
        // Another upload (here or at another process) may have just made this very project.
        if (!(err instanceof PierError && err.status === 409)) throw err;
        project = (await this.projects.find(form.name)) ?? null;
        if (project === null) throw err;
      }
    }
    if (project !== null) await this.checkMayUpload(project);
    checkFilenameBasics(filename, form.filetype);
    const displayName = project?.name ?? form.name;
    checkFilenameNamesProject(filename, displayName, form.name);
    return { form, metadata, project, displayName, filename };
  }

  private checkMayCreate(name: string): void {
    const p = this.actor.principal;
    if (p.kind === 'token' && p.token.publisher_id !== null)
      throw badRequest(
        `Non-user identities cannot create new projects. This was probably caused by successfully using a pending publisher but specifying the project name incorrectly (either in the publisher or in your project's metadata). Please ensure that both match.`,
      );
    if (p.kind === 'token' && p.projectIds !== null)
      throw forbidden(
        `The given token isn't allowed to create project '${name}': it is limited to existing projects.`,
      );
    if (!mayCreateProjects(p, this.options.anyUserMayCreateProjects)) {
      const who = principalUser(p)?.username ?? 'this identity';
      throw forbidden(
        `The user '${who}' isn't allowed to create new projects. Ask an administrator to create '${name}' and make you a maintainer.`,
      );
    }
  }

  private async checkMayUpload(project: Project, db: Kysely<Database> = this.db): Promise<void> {
    const p = this.actor.principal;
    if (!projectAcceptsUploads(project))
      throw forbidden(
        `Project '${project.name}' is ${project.status} and does not accept uploads.`,
      );
    if (!projectTakesUploadsFrom(project, p))
      throw forbidden(
        `Project '${project.name}' accepts uploads from its trusted publishers only: API tokens and passwords cannot upload to it. Publish from its CI job, or ask an owner to turn off trusted-publishing-only.`,
      );
    if (mayUpload(p, await this.projects.access(p, project, db))) return;
    if (p.kind === 'token')
      throw forbidden(`The given token isn't allowed to upload to project '${project.name}'.`);
    throw forbidden(
      `The user '${principalUser(p)?.username ?? '?'}' isn't allowed to upload to project '${project.name}'.`,
    );
  }

  /** Steps 13–14: stream to a new blob, computing digests and enforcing the size limit. */
  private async streamToBlob(stream: Readable): Promise<StoredFile> {
    const checked = this.checked!;
    const key = randomUUID();
    const hasher = await DigestStream.create(this.options.maxUploadSize);
    const results = await Promise.allSettled([
      pipeline(stream, hasher),
      this.blobs.put(key, hasher),
    ]);
    const failure = results.find((r) => r.status === 'rejected') as
      PromiseRejectedResult | undefined;
    if (failure) {
      await this.blobs.delete(key).catch(() => undefined);
      const tooLarge = results.some(
        (r) => r.status === 'rejected' && r.reason instanceof FileTooLargeError,
      );
      if (tooLarge || (stream as Readable & { truncated?: boolean }).truncated)
        throw badRequest(
          `File too large. Limit for project '${checked.displayName}' is ${formatLimit(this.options.maxUploadSize)}.`,
        );
      throw failure.reason;
    }
    const digests = hasher.digests();
    const stored = { key, digests, size: hasher.size, bytes: hasher.bytes() };
    const { form } = checked;
    const supplied: [string | null, string][] = [
      [form.md5Digest, digests.md5],
      [form.sha256Digest, digests.sha256],
      [form.blake2Digest, digests.blake2_256],
    ];
    for (const [given, actual] of supplied) {
      if (given !== null && given.toLowerCase() !== actual) {
        await this.blobs.delete(key).catch(() => undefined);
        throw badRequest(
          'The digest supplied does not match a digest calculated from the uploaded file.',
        );
      }
    }
    return stored;
  }

  /** Runs the remaining steps and commits. Call once the whole form has been read. */
  async finish(): Promise<UploadResult> {
    if (!this.contentSeen) {
      // The form's own errors come first, as they would have with a file.
      checkAction(this.queryAction ?? this.fields.get(':action'));
      checkProtocolVersion(this.fields);
      validateForm(this.fields);
      const result = validateUploadMetadata(metadataFromUploadForm(this.fields.asMap()), {
        allowLocalVersions: this.options.allowLocalVersions,
      });
      if (!result.ok) throw badRequest(result.message, { field: result.field });
      throw badRequest('Upload payload does not have a file.');
    }
    const checked = this.checked!;
    const stored = this.stored!;
    let committed = false;
    try {
      const duplicate = await this.checkDuplicates(checked, stored);
      if (duplicate) return duplicate;
      await this.checkOneSdist(checked);
      const inspected = await this.inspectArchive(checked, stored);
      const attested = await this.checkAttestations(checked, stored);
      const recorded: CheckedForm = { ...checked, metadata: inspected.metadata };
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await this.commit(recorded, stored, inspected, attested);
          committed = true;
          return result;
        } catch (err) {
          // A new project's name checks can also fail because another request just created it.
          const projectRaced =
            err instanceof PierError &&
            checked.project === null &&
            (await this.projects.find(checked.form.name)) !== undefined;
          if ((!isUniqueViolation(err) && !projectRaced) || attempt === 3) throw err;
          // Another request (in this process or another) made the same row first: the same
          // file (answered as any duplicate), an sdist of the release, or the project or the
          // release itself (then committing again links to them).
          const raced = await this.checkDuplicates(checked, stored);
          if (raced) return raced;
          await this.checkOneSdist(checked);
        }
      }
    } finally {
      if (!committed) await this.blobs.delete(stored.key).catch(() => undefined);
    }
  }

  /** Called when the request fails before finish(): removes the blob, if one was written. */
  async abort(): Promise<void> {
    if (this.stored) await this.blobs.delete(this.stored.key).catch(() => undefined);
  }

  private result(
    checked: CheckedForm,
    stored: StoredFile,
    identical: boolean,
    staged: UploadResult['staged'] = null,
  ): UploadResult {
    return {
      identical,
      staged,
      filename: checked.filename,
      project: checked.project?.name ?? checked.form.name,
      version: checked.metadata.version,
      size: stored.size,
      digests: stored.digests,
    };
  }

  /** Steps 15–16: an identical file is a no-op; any other clash, or a reused name, is refused. */
  private async checkDuplicates(
    checked: CheckedForm,
    stored: StoredFile,
  ): Promise<UploadResult | null> {
    const { filename } = checked;
    const { digests } = stored;
    // The registry first, then the files: a file's row and its registry row are committed
    // together, so a registry row whose file the second read does not find belongs to a deleted
    // file. Read the other way round, an identical upload committed by another request between
    // the two reads would look like a deleted file's name.
    const used = await this.db
      .selectFrom('filename_registry')
      .select(['filename', 'blake2_256'])
      .where((eb) =>
        eb.or([eb('filename', '=', filename), eb('blake2_256', '=', digests.blake2_256)]),
      )
      .execute();
    // A staged file (src/registry/staged.ts) is an existing file too: the same file again is
    // answered as a duplicate, another file of its name is refused.
    const existing = [
      ...(await this.db
        .selectFrom('files')
        .select(['filename', 'sha256', 'blake2_256'])
        .where((eb) =>
          eb.or([eb('filename', '=', filename), eb('blake2_256', '=', digests.blake2_256)]),
        )
        .execute()),
      ...(await this.db
        .selectFrom('staged_files')
        .select(['filename', 'sha256', 'blake2_256'])
        .where((eb) =>
          eb.or([eb('filename', '=', filename), eb('blake2_256', '=', digests.blake2_256)]),
        )
        .execute()),
    ];
    if (existing.length > 0) {
      if (
        existing.some(
          (f) =>
            f.filename === filename &&
            f.sha256 === digests.sha256 &&
            f.blake2_256 === digests.blake2_256,
        )
      )
        return this.result(checked, stored, true);
      throw reuse(
        `File already exists ('${filename}', with blake2_256 hash '${digests.blake2_256}').`,
      );
    }
    if (used.some((u) => u.filename === filename))
      throw reuse(
        `This filename was previously used by a file that has since been deleted. Use a different version.`,
      );
    if (used.length > 0) {
      // The earlier name is told only when it names this very project: another project's
      // filenames (a private one's, say) are not the uploader's to learn.
      const earlier = used[0]!.filename;
      const own = projectNamedByFilename(earlier) === normalizeProjectName(checked.form.name);
      throw reuse(
        own
          ? `This file's contents were previously uploaded as '${earlier}', which has since been deleted. Use a different version.`
          : `This file's contents were previously uploaded under another filename, which has since been deleted. Use a different version.`,
      );
    }
    return null;
  }

  /** Step 18: one sdist per release. */
  private async checkOneSdist(checked: CheckedForm, db: Kysely<Database> = this.db): Promise<void> {
    if (checked.form.filetype !== 'sdist') return;
    const project = checked.project ?? (await this.projects.find(checked.form.name, db));
    if (!project) return;
    const sdist = await db
      .selectFrom('files')
      .innerJoin('releases', 'releases.id', 'files.release_id')
      .select('files.id')
      .where('releases.project_id', '=', project.id)
      .where('releases.canonical_version', '=', checked.metadata.canonicalVersion)
      .where('files.packagetype', '=', 'sdist')
      .executeTakeFirst();
    if (sdist) throw badRequest('Only one sdist may be uploaded per release.');
  }

  /** Steps 19–21: the archive itself, then the filename rules of its kind. */
  private async inspectArchive(checked: CheckedForm, stored: StoredFile): Promise<Inspected> {
    const { filename, form, metadata, displayName } = checked;
    const source = stored.bytes
      ? byteSourceFromBuffer(stored.bytes)
      : await this.blobs.open(stored.key);
    const invalid = (err: unknown): never => {
      if (err instanceof InvalidArchiveError) throw badRequest(err.responseMessage);
      throw err;
    };
    if (form.filetype === 'bdist_wheel') {
      const parts = filename.slice(0, -'.whl'.length).split('-');
      if (parts.length < 5)
        throw badRequest(
          'Invalid distribution file. Unable to parse name and version from wheel filename',
        );
      const [rawName, rawVersion] = parts as [string, string];
      const wheelContents = await inspectWheel(source, filename, rawName, rawVersion).catch(
        invalid,
      );
      checkWheelFilename(filename, displayName, form.name, metadata.version, {
        legacy: this.legacy,
      });
      const distInfo = wheelContents.distInfoDir;
      if (!wheelContents.hasRecord)
        throw badRequest(
          `Wheel '${filename}' does not contain the required RECORD file: ${distInfo}/RECORD`,
        );
      const recorded = this.recordedMetadata(
        'wheel',
        wheelContents.metadata,
        filename,
        metadata,
        'METADATA',
      );
      for (const license of recorded.licenseFiles) {
        const path = `${distInfo}/licenses/${license}`;
        if (!wheelContents.members.includes(path))
          throw badRequest(
            `License-File ${license} does not exist in distribution file ${filename} at ${path}`,
          );
      }
      return { metadataFile: wheelContents.metadata, metadata: recorded };
    }
    if (filename.endsWith('.tar.gz')) {
      const sdist = await inspectSdist(source, filename).catch(invalid);
      checkSdistFilename(filename, displayName, metadata.version, { legacy: this.legacy });
      const recorded = this.recordedMetadata(
        'sdist',
        sdist.pkgInfo,
        filename,
        metadata,
        'PKG-INFO',
      );
      for (const license of recorded.licenseFiles) {
        const path = `${sdist.topLevel}/${license}`;
        if (!sdist.members.includes(path))
          throw badRequest(
            `License-File ${license} does not exist in distribution file ${filename} at ${path}`,
          );
      }
      return { metadataFile: null, metadata: recorded };
    }
    // A .zip sdist: PEP 625 allows only .tar.gz, which the filename rule says.
    checkSdistFilename(filename, displayName, metadata.version);
    return { metadataFile: null, metadata };
  }

  /**
   * Step 22 (PEP 740): the `attestations` field, verified against the stored file's name and
   * sha256 (src/attestations), after every check of the file itself, as Warehouse does; and the
   * project's policy that uploads carry attestations.
   */
  private async checkAttestations(
    checked: CheckedForm,
    stored: StoredFile,
  ): Promise<VerifiedAttestations | null> {
    const field = this.imported ? undefined : this.fields.get('attestations');
    const { project } = checked;
    if (field === undefined) {
      if (project !== null && project.require_attestations === 1 && !this.imported)
        throw badRequest(
          `Project '${project.name}' requires attestations: upload each file with a PEP 740 attestation signed by the CI job of one of its trusted publishers.`,
        );
      return null;
    }
    return this.attestations.verifyUpload(
      this.actor.principal,
      project,
      checked.displayName,
      { filename: checked.filename, sha256: stored.digests.sha256 },
      field,
    );
  }

  /**
   * The metadata the upload records: the archive's own (`recorded-metadata.ts`), validated as the
   * form was, or the form's for an sdist older than Metadata 2.2. Either way, the metadata inside
   * the archive must name the same project and version as the form and filename: installers (pip)
   * refuse a distribution whose metadata disagrees, so it could never install.
   */
  private recordedMetadata(
    kind: DistributionKind,
    bytes: Buffer,
    filename: string,
    form: UploadMetadata,
    file: string,
  ): UploadMetadata {
    const parsed = parseCoreMetadata(bytes);
    const { raw } = parsed;
    const name = typeof raw.name === 'string' ? raw.name : undefined;
    const version = typeof raw.version === 'string' ? raw.version : undefined;
    if (name === undefined || normalizeProjectName(name) !== normalizeProjectName(form.name))
      throw badRequest(
        `Invalid distribution file. The ${file} of '${filename}' names project '${name ?? ''}', not '${form.name}'.`,
      );
    if (version === undefined || !versionsEqual(version, form.version))
      throw badRequest(
        `Invalid distribution file. The ${file} of '${filename}' has version '${version ?? ''}', not '${form.version}'.`,
      );
    const declared =
      typeof raw['metadata-version'] === 'string' ? raw['metadata-version'] : undefined;
    if (recordedMetadataSource(kind, declared) === 'form') return form;
    const result = validateFileMetadata(parsed, {
      allowLocalVersions: this.options.allowLocalVersions,
      legacy: this.legacy,
    });
    if (!result.ok)
      throw badRequest(
        `Invalid distribution file. The ${file} of '${filename}' is not valid: ${result.message}`,
        {
          field: result.field,
        },
      );
    return result.metadata;
  }

  /**
   * When this file makes its release's provenance worse (partial, inconsistent, lost or changed
   * from the previous release's publisher), the project's audit log says so: owners see it on
   * the project's audit page.
   */
  private async noticeProvenance(
    trx: Kysely<Database>,
    project: Project,
    release: Pick<Release, 'id' | 'project_id' | 'created_at' | 'version'>,
    before: ProvenanceStatus | null,
    filename: string,
  ): Promise<void> {
    const after = await this.attestations.releaseStatus(trx, release);
    if (!DEGRADED.includes(after) || after === before) return;
    await recordAudit(trx, this.actor, {
      action: 'provenance-degraded',
      project: { id: project.id, name: project.name },
      details: {
        version: release.version,
        filename,
        status: after,
        previous_status: before,
        reason: STATUS_TEXT[after],
      },
    });
  }

  /** Step 23: one transaction makes the project (if new), the release and the file visible. */
  private async commit(
    checked: CheckedForm,
    stored: StoredFile,
    inspected: Inspected,
    attested: VerifiedAttestations | null,
  ): Promise<UploadResult> {
    const { form, metadata, filename } = checked;
    const actor = this.actor;
    const p = actor.principal;
    const imported = this.imported;
    const metadataDigests = inspected.metadataFile
      ? await digestBuffer(inspected.metadataFile)
      : null;
    // A file uploaded with a minted token records its publisher and the run's claims.
    const provenance =
      p.kind === 'token' && p.token.publisher_id !== null
        ? provenanceForProject(p.token.claims_json, normalizeProjectName(form.name))
        : null;
    let staged: UploadResult['staged'] = null;
    await this.db.transaction().execute(async (trx) => {
      let project = await this.projects.find(form.name, trx);
      if (!project) {
        this.checkMayCreate(form.name);
        const owner: User | null = this.imported?.owner ?? principalUser(p);
        project = await this.projects.insert(trx, actor, form.name, owner);
      } else {
        if (checked.project === null || checked.project.id !== project.id)
          await this.checkMayUpload(project, trx);
        if (project.name !== form.name) {
          await trx
            .updateTable('projects')
            .set({ name: form.name })
            .where('id', '=', project.id)
            .execute();
          project.name = form.name;
        }
      }
      // The file's columns, the same whether it is staged or listed at once.
      const fileColumns = {
        filename,
        packagetype: form.filetype,
        python_version: form.pyversion,
        requires_python: metadata.requiresPython,
        size: stored.size,
        md5: stored.digests.md5,
        sha256: stored.digests.sha256,
        blake2_256: stored.digests.blake2_256,
        blob_key: stored.key,
        metadata_sha256: metadataDigests?.sha256 ?? null,
        metadata_blake2_256: metadataDigests?.blake2_256 ?? null,
        comment: form.comment,
        uploader_user_id: principalUser(p)?.id ?? null,
        uploader_token_id: p.kind === 'token' ? p.token.id : null,
        provenance_json: provenance,
      };
      if (this.staged) {
        const link = await this.publisherLink(trx, project.id);
        if (uploadIsStaged(project, p, link)) {
          const session = await this.staged.stage(trx, actor, project, link?.publisher_id ?? null, {
            ...fileColumns,
            metadata_content: inspected.metadataFile,
            metadata,
            attestations: attested,
          });
          staged = { id: session.token, previewUrl: this.staged.previewUrl(session.token) };
          return;
        }
        await this.staged.refuseIfStaged(trx, project, metadata.canonicalVersion, metadata.version);
      }
      let release = await trx
        .selectFrom('releases')
        .selectAll()
        .where('project_id', '=', project.id)
        .where('canonical_version', '=', metadata.canonicalVersion)
        .executeTakeFirst();
      const releaseExisted = release !== undefined;
      if (!release) {
        release = await trx
          .insertInto('releases')
          .values(
            releaseRow(project.id, metadata, {
              createdAt: imported?.uploadedAt ?? Date.now(),
              yanked: imported?.yanked ?? null,
            }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
      } else {
        await this.checkOneSdist({ ...checked, project }, trx);
      }
      const statusBefore = releaseExisted
        ? await this.attestations.releaseStatus(trx, release)
        : null;
      const now = Date.now();
      const uploadedAt = imported?.uploadedAt ?? now;
      if (imported && release.created_at > uploadedAt) {
        // A release is as old as its oldest file, whatever order the files come in.
        await trx
          .updateTable('releases')
          .set({ created_at: uploadedAt })
          .where('id', '=', release.id)
          .execute();
      }
      const file = await trx
        .insertInto('files')
        .values({
          project_id: project.id,
          release_id: release.id,
          ...fileColumns,
          uploaded_at: uploadedAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('filename_registry')
        .values({ filename, blake2_256: stored.digests.blake2_256, created_at: now })
        .execute();
      if (inspected.metadataFile)
        await trx
          .insertInto('file_metadata')
          .values({ file_id: file.id, content: inspected.metadataFile })
          .execute();
      if (attested) await this.attestations.store(trx, file.id, attested);
      await this.noticeProvenance(trx, project, release, statusBefore, filename);
      await bumpSerial(trx, project.id, 'add file');
      await recordAudit(trx, actor, {
        action: imported ? 'import' : 'upload',
        project: { id: project.id, name: project.name },
        details: {
          filename,
          version: metadata.version,
          size: stored.size,
          sha256: stored.digests.sha256,
          ...(provenance ? { trusted_publishing: JSON.parse(provenance) as unknown } : {}),
          ...(attested
            ? {
                attestations: {
                  publisher_id: attested.publisherId,
                  publisher: attested.description,
                  predicate_types: attested.attestations.map((a) => a.predicateType),
                  log_indexes: attested.attestations.map((a) => a.identity.logIndex),
                },
              }
            : {}),
          ...(imported
            ? {
                imported_from: imported.source,
                uploaded_at: new Date(uploadedAt).toISOString(),
                legacy: imported.legacy,
              }
            : {}),
        },
      });
    });
    return this.result(checked, stored, false, staged);
  }

  /**
   * The link of the trusted publisher behind a minted token to `projectId` (whose `stage_only`
   * says whether its uploads are staged); null for any other credential.
   */
  private async publisherLink(
    trx: Kysely<Database>,
    projectId: number,
  ): Promise<{ publisher_id: number; stage_only: number } | null> {
    const p = this.actor.principal;
    if (p.kind !== 'token' || p.token.publisher_id === null) return null;
    const grant = await trx
      .selectFrom('token_projects')
      .select('publisher_id')
      .where('token_id', '=', p.token.id)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    const publisherId = grant?.publisher_id ?? p.token.publisher_id;
    const link = await trx
      .selectFrom('publisher_projects')
      .select(['publisher_id', 'stage_only'])
      .where('publisher_id', '=', publisherId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (link) return link;
    // An organisation-wide publisher links no project: its uploads are staged only by the
    // project's own policy (src/oidc/org-wide.ts: the token was checked to still cover it).
    const orgWide = await trx
      .selectFrom('publishers')
      .innerJoin('projects', (join) => join.on('projects.id', '=', projectId))
      .select([
        'publishers.organization_id as publisher_org',
        'publishers.org_wide_pattern',
        'projects.organization_id',
        'projects.normalized_name',
      ])
      .where('publishers.id', '=', publisherId)
      .executeTakeFirst();
    if (
      orgWide &&
      orgWideCovers(
        { organization_id: orgWide.publisher_org, org_wide_pattern: orgWide.org_wide_pattern },
        orgWide,
      )
    )
      return { publisher_id: publisherId, stage_only: 0 };
    // A link gone since the mint stages the upload: the safe side (the token is refused anyway).
    return { publisher_id: publisherId, stage_only: 1 };
  }
}
