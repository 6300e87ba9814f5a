// Yank, unyank and delete (PEP 592; PyPI's deletion semantics, reference §5). Yanking is per
// release, as on PyPI. Deleting removes rows; the filename registry keeps every name, so a
// deleted file's name (and its exact bytes) can never be uploaded again.
import type { Kysely } from 'kysely';
import type { Database, Project, Release } from '../db/schema.js';
import type { BlobStore } from '../storage/blob-store.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { recordAudit, type Actor } from '../audit/log.js';
import { mayAdministerProject, mayYank } from '../auth/permissions.js';
import { parseVersion } from '../packaging/versions.js';
import { bumpSerial } from './journal.js';
import type { ProjectService } from './projects.js';

export class ManageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly blobs: BlobStore,
    private readonly projects: ProjectService,
  ) {}

  private async release(project: Project, version: string): Promise<Release> {
    const parsed = parseVersion(version);
    if (!parsed) throw badRequest(`'${version}' is not a valid version`);
    const release = await this.db
      .selectFrom('releases')
      .selectAll()
      .where('project_id', '=', project.id)
      .where('canonical_version', '=', parsed.canonical)
      .executeTakeFirst();
    if (!release) throw notFound(`Project '${project.name}' has no release ${version}`);
    return release;
  }

  async setYanked(
    actor: Actor,
    projectName: string,
    version: string,
    yanked: boolean,
    reason?: string | null,
  ) {
    const project = await this.projects.require(projectName, actor.principal);
    if (!mayYank(actor.principal, await this.projects.access(actor.principal, project)))
      throw forbidden(`You may not yank releases of '${project.name}'`);
    const release = await this.release(project, version);
    const cleanReason = yanked ? (reason ?? '').trim() || null : null;
    if (cleanReason !== null && (cleanReason.length > 1000 || /[\x00-\x1f\x7f]/.test(cleanReason)))
      throw badRequest('A yank reason is one line of at most 1000 characters');
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('releases')
        .set({ yanked: yanked ? 1 : 0, yanked_reason: cleanReason })
        .where('id', '=', release.id)
        .execute();
      await bumpSerial(trx, project.id, yanked ? 'yank release' : 'unyank release');
      await recordAudit(trx, actor, {
        action: yanked ? 'yank' : 'unyank',
        project: { id: project.id, name: project.name },
        details: { version: release.version, ...(yanked ? { reason: cleanReason } : {}) },
      });
    });
    return { project: project.name, version: release.version, yanked, reason: cleanReason };
  }

  /** Deletes a whole release, or one of its files when `filename` is given. */
  async delete(actor: Actor, projectName: string, version: string, filename?: string) {
    const project = await this.projects.require(projectName, actor.principal);
    if (
      !mayAdministerProject(actor.principal, await this.projects.access(actor.principal, project))
    )
      throw forbidden(`Only owners may delete from '${project.name}'`);
    const release = await this.release(project, version);
    let files = await this.db
      .selectFrom('files')
      .select(['id', 'filename', 'blob_key'])
      .where('release_id', '=', release.id)
      .execute();
    if (filename !== undefined) {
      files = files.filter((f) => f.filename === filename);
      if (files.length === 0)
        throw notFound(`Release ${release.version} of '${project.name}' has no file '${filename}'`);
    }
    await this.db.transaction().execute(async (trx) => {
      for (const f of files) await trx.deleteFrom('files').where('id', '=', f.id).execute();
      if (filename === undefined)
        await trx.deleteFrom('releases').where('id', '=', release.id).execute();
      await bumpSerial(trx, project.id, filename === undefined ? 'remove release' : 'remove file');
      await recordAudit(trx, actor, {
        action: filename === undefined ? 'delete-release' : 'delete-file',
        project: { id: project.id, name: project.name },
        details: { version: release.version, files: files.map((f) => f.filename) },
      });
    });
    // The rows are gone, so nothing lists these blobs any more; reclaim the space.
    for (const f of files) await this.blobs.delete(f.blob_key).catch(() => undefined);
    return {
      project: project.name,
      version: release.version,
      deleted: files.map((f) => f.filename),
    };
  }
}
