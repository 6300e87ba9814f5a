// A project's releases and settings for its owners: yank (with a reason) and unyank, delete a
// file or a release (after a confirmation that says the filenames can never be used again),
// private or public, and the PEP 792 status — through ManageService and ProjectService, which
// hold the rules and the permissions, as the CLI and the REST API do.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { PierError, badRequest } from '../../errors.js';
import { compareVersions } from '../../packaging/versions.js';
import { PROJECT_STATUSES, type ProjectStatus } from '../../registry/projects.js';
import type { Project } from '../../db/schema.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field, layout, postButton, select } from '../render/layout.js';
import { formBody, formString } from '../forms.js';
import { sendPage, setFlash, webContext, type WebContext } from '../context.js';
import { manageBase, manageNav, ownedProject } from './publishing.js';

interface ReleaseView {
  version: string;
  yanked: boolean;
  reason: string | null;
  files: string[];
}

async function releasesOf(s: Services, project: Project): Promise<ReleaseView[]> {
  const releases = await s.db.kysely
    .selectFrom('releases')
    .select(['id', 'version', 'yanked', 'yanked_reason'])
    .where('project_id', '=', project.id)
    .execute();
  const files = await s.db.kysely
    .selectFrom('files')
    .select(['release_id', 'filename'])
    .where('project_id', '=', project.id)
    .orderBy('filename')
    .execute();
  return releases
    .map((r) => ({
      version: r.version,
      yanked: r.yanked === 1,
      reason: r.yanked_reason,
      files: files.filter((f) => f.release_id === r.id).map((f) => f.filename),
    }))
    .sort((a, b) => compareVersions(b.version, a.version));
}

const STATUS_OPTIONS = PROJECT_STATUSES.map((v) => ({ value: v, label: v }));
const UPLOADS_OPTIONS = [
  { value: 'any', label: 'its trusted publishers, and its owners’ and maintainers’ API tokens' },
  { value: 'trusted-publishers', label: 'its trusted publishers only (trusted-publishing-only)' },
];

const STAGING_OPTIONS = [
  { value: 'publish', label: 'are published at once' },
  { value: 'stage', label: 'are staged until an owner or maintainer approves them' },
];

async function releasesPage(s: Services, ctx: WebContext, project: Project): Promise<SafeHtml> {
  const base = `${manageBase(project)}/releases/`;
  const releases = await releasesOf(s, project);
  const deleteLink = (version: string, filename?: string) =>
    html`<a
      class="button danger small"
      href="${base}delete?version=${encodeURIComponent(version)}${filename ? `&filename=${encodeURIComponent(filename)}` : ''}"
      >Delete…</a
    >`;
  return layout(
    ctx,
    `Releases · ${project.name}`,
    html`${manageNav(project, 'releases')}
      <section class="card" id="settings">
        <h2>Settings</h2>
        <form method="post" action="${base}settings" id="settings-form">
          ${csrfField(ctx)}
          <div class="grid-2">
            ${select(
              'visibility',
              'Visibility',
              [
                { value: 'public', label: 'public — anyone who may read the index' },
                { value: 'private', label: 'private — its owners and maintainers only' },
              ],
              { value: project.private === 1 ? 'private' : 'public' },
            )}
            ${select('status', 'Status (PEP 792)', STATUS_OPTIONS, { value: project.status })}
            ${select('uploads', 'Who may upload', UPLOADS_OPTIONS, {
              value: project.trusted_publishing_only === 1 ? 'trusted-publishers' : 'any',
            })}
            ${select('staging', 'Uploads', STAGING_OPTIONS, {
              value: project.stage_uploads === 1 ? 'stage' : 'publish',
            })}
          </div>
          <button type="submit">Save</button>
        </form>
      </section>
      <section class="card" id="releases">
        <h2>Releases</h2>
        ${
          releases.length === 0
            ? html`<p class="muted">No releases.</p>`
            : releases.map(
                (r) =>
                  html`<article class="release-manage" data-version="${r.version}">
                    <h3>
                      ${r.version}
                      ${r.yanked ? html`<span class="badge badge-yanked">yanked</span>` : ''}
                    </h3>
                    ${r.yanked && r.reason ? html`<p class="yanked-note">Reason: ${r.reason}</p>` : ''}
                    ${
                      r.yanked
                        ? postButton(ctx, `${base}unyank`, 'Unyank', {
                            fields: { version: r.version },
                          })
                        : html`<form method="post" action="${base}yank" class="yank-form">
                            ${csrfField(ctx)}<input
                              type="hidden"
                              name="version"
                              value="${r.version}"
                            />
                            ${field('reason', 'Yank reason (optional)', { value: '' })}
                            <button type="submit" class="button secondary small">Yank</button>
                          </form>`
                    }
                    ${deleteLink(r.version)}
                    <ul class="manage-files">
                      ${r.files.map(
                        (f) => html`<li><code>${f}</code> ${deleteLink(r.version, f)}</li>`,
                      )}
                    </ul>
                  </article>`,
              )
        }
      </section>`,
  );
}

export function registerReleaseManageRoutes(web: FastifyInstance, s: Services): void {
  type P = { Params: { name: string } };

  web.get<P>('/manage/project/:name/releases/', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    return sendPage(reply, await releasesPage(s, ctx, project));
  });

  web.post<P>('/manage/project/:name/releases/settings', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    const body = formBody(request.body);
    const visibility = formString(body, 'visibility');
    if (visibility !== 'public' && visibility !== 'private')
      throw badRequest(`Unknown visibility '${visibility}': use public or private`);
    const status = formString(body, 'status') as ProjectStatus;
    // A form from before the setting existed leaves it as it is.
    const uploads = formString(body, 'uploads') || undefined;
    if (uploads !== undefined && uploads !== 'any' && uploads !== 'trusted-publishers')
      throw badRequest(`Unknown upload setting '${uploads}': use any or trusted-publishers`);
    const changes: Parameters<Services['projects']['update']>[2] = {
      private: visibility === 'private',
    };
    if (status !== project.status) changes.status = status;
    if (uploads !== undefined) changes.trustedPublishingOnly = uploads === 'trusted-publishers';
    const staging = formString(body, 'staging') || undefined;
    if (staging !== undefined && staging !== 'publish' && staging !== 'stage')
      throw badRequest(`Unknown staging setting '${staging}': use publish or stage`);
    if (staging !== undefined) changes.stageUploads = staging === 'stage';
    const updated = await s.projects.update(ctx.actor, project.name, changes);
    const tpOnly =
      (updated.trusted_publishing_only === 1 ? ', trusted-publishing-only' : '') +
      (updated.stage_uploads === 1 ? ', uploads staged' : '');
    setFlash(s, reply, {
      kind: 'ok',
      text: `${project.name} is ${visibility}, ${status}${tpOnly}.`,
    });
    return reply.redirect(`${manageBase(project)}/releases/`, 303);
  });

  web.post<P>('/manage/project/:name/releases/yank', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    const body = formBody(request.body);
    const r = await s.manage.setYanked(
      ctx.actor,
      project.name,
      formString(body, 'version'),
      true,
      formString(body, 'reason'),
    );
    setFlash(s, reply, { kind: 'ok', text: `${r.project} ${r.version} was yanked.` });
    return reply.redirect(`${manageBase(project)}/releases/`, 303);
  });

  web.post<P>('/manage/project/:name/releases/unyank', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    const r = await s.manage.setYanked(
      ctx.actor,
      project.name,
      formString(formBody(request.body), 'version'),
      false,
    );
    setFlash(s, reply, { kind: 'ok', text: `${r.project} ${r.version} is no longer yanked.` });
    return reply.redirect(`${manageBase(project)}/releases/`, 303);
  });

  // Deleting asks first, and says what it costs: the filenames can never be uploaded again.
  web.get<P & { Querystring: { version?: string; filename?: string } }>(
    '/manage/project/:name/releases/delete',
    async (request, reply) => {
      const ctx = webContext(request);
      const project = await ownedProject(s, ctx, request, request.params.name);
      const version = request.query.version ?? '';
      const filename = request.query.filename ?? '';
      const release = (await releasesOf(s, project)).find((r) => r.version === version);
      if (!release || (filename !== '' && !release.files.includes(filename)))
        throw new PierError(404, `Project '${project.name}' has no such release or file`);
      const files = filename !== '' ? [filename] : release.files;
      return sendPage(
        reply,
        layout(
          ctx,
          `Delete · ${project.name}`,
          html`<section class="card narrow medium" id="confirm-delete">
            <h1>
              Delete
              ${filename !== '' ? html`<code>${filename}</code>` : html`${project.name} ${version}`}?
            </h1>
            <p class="yanked-note">
              A deleted filename can never be uploaded again, not even with the same contents: a fix
              needs a new version. Yanking keeps the files for those who pinned them.
            </p>
            <ul>
              ${files.map((f) => html`<li><code>${f}</code></li>`)}
            </ul>
            <div class="actions">
              ${postButton(ctx, `${manageBase(project)}/releases/delete`, 'Delete for ever', {
                danger: true,
                fields: { version, ...(filename !== '' ? { filename } : {}) },
              })}
              <a class="button secondary small" href="${manageBase(project)}/releases/">Cancel</a>
            </div>
          </section>`,
        ),
      );
    },
  );

  web.post<P>('/manage/project/:name/releases/delete', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    const body = formBody(request.body);
    const version = formString(body, 'version');
    const filename = formString(body, 'filename');
    await s.manage.delete(ctx.actor, project.name, version, filename !== '' ? filename : undefined);
    setFlash(s, reply, {
      kind: 'ok',
      text:
        filename !== '' ? `${filename} was deleted.` : `${project.name} ${version} was deleted.`,
    });
    return reply.redirect(`${manageBase(project)}/releases/`, 303);
  });
}
