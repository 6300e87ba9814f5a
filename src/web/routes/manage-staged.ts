// A project's staged releases in the web interface (src/registry/staged.ts): each open one with
// its files and preview index, approved or rejected by an owner or maintainer — with the current
// TOTP code when they have two-factor authentication, as the REST API asks.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { forbidden } from '../../errors.js';
import { mayPreviewStaged } from '../../auth/permissions.js';
import type { Project } from '../../db/schema.js';
import { totpEnabled } from '../totp.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field, formError, layout } from '../render/layout.js';
import { formatTime } from '../render/format.js';
import { formBody, formString } from '../forms.js';
import { sendPage, submitChange, webContext, type WebContext } from '../context.js';
import { requireUser } from '../guards.js';
import { manageBase, manageNav } from './publishing.js';

/** The project, for its owners and maintainers (and administrators). */
async function teamProject(
  s: Services,
  ctx: WebContext,
  request: FastifyRequest,
  name: string,
): Promise<Project> {
  requireUser(ctx, request);
  const project = await s.projects.require(name, ctx.principal);
  if (!mayPreviewStaged(ctx.principal, await s.projects.access(ctx.principal, project)))
    throw forbidden(`Only owners and maintainers of '${project.name}' may see its staged releases`);
  return project;
}

async function stagedPage(
  s: Services,
  ctx: WebContext,
  project: Project,
  error: string | null = null,
): Promise<SafeHtml> {
  const list = await s.staged.list(ctx.actor, project.name);
  const open = list.filter((v) => v.state === 'open');
  const decided = list.filter((v) => v.state !== 'open').slice(0, 20);
  const base = `${manageBase(project)}/staged/`;
  const needsCode = ctx.user !== null && totpEnabled(ctx.user);
  const decide = (version: string, action: 'approve' | 'reject', label: string) =>
    html`<form method="post" action="${base}${action}" class="staged-${action}">
      ${csrfField(ctx)}<input type="hidden" name="version" value="${version}" />
      ${needsCode ? field('totp', 'Two-factor code', { value: '', required: true }) : ''}
      <button
        type="submit"
        class="${action === 'approve' ? 'button small' : 'button danger small'}"
      >
        ${label}
      </button>
    </form>`;
  return layout(
    ctx,
    `Staged releases · ${project.name}`,
    html`${manageNav(project, 'staged')}
      <section class="card" id="staged">
        <h2>Awaiting approval</h2>
        ${formError(error)}
        ${
          open.length === 0
            ? html`<p class="muted">No staged release.</p>`
            : open.map(
                (v) =>
                  html`<article class="staged-release" data-version="${v.version}">
                    <h3>${v.version}</h3>
                    <p class="muted small">
                      Staged by ${v.staged_by}, ${formatTime(v.created_at)}; expires
                      ${formatTime(v.expires_at)}.
                    </p>
                    <ul class="manage-files">
                      ${v.files.map((f) => html`<li><code>${f.filename}</code></li>`)}
                    </ul>
                    <p>Preview index: <code class="preview-url">${v.preview_url ?? ''}</code></p>
                    ${decide(v.version, 'approve', 'Approve and publish')}
                    ${decide(v.version, 'reject', 'Reject')}
                  </article>`,
              )
        }
      </section>
      <section class="card">
        <h2>Decided</h2>
        ${
          decided.length === 0
            ? html`<p class="muted">None yet.</p>`
            : html`<ul>
                ${decided.map(
                  (v) =>
                    html`<li data-version="${v.version}">
                      ${v.version}: ${v.state}${v.decided_by ? html` by ${v.decided_by}` : ''},
                      ${v.decided_at ? formatTime(v.decided_at) : ''}
                    </li>`,
                )}
              </ul>`
        }
      </section>`,
  );
}

export function registerStagedManageRoutes(web: FastifyInstance, s: Services): void {
  type P = { Params: { name: string } };

  web.get<P>('/manage/project/:name/staged/', async (request, reply) => {
    const ctx = webContext(request);
    const project = await teamProject(s, ctx, request, request.params.name);
    return sendPage(reply, await stagedPage(s, ctx, project));
  });

  for (const action of ['approve', 'reject'] as const)
    web.post<P>(`/manage/project/:name/staged/${action}`, async (request, reply) => {
      const ctx = webContext(request);
      const project = await teamProject(s, ctx, request, request.params.name);
      const body = formBody(request.body);
      const version = formString(body, 'version');
      const totp = formString(body, 'totp') || undefined;
      return submitChange(
        s,
        reply,
        async () => {
          const r =
            action === 'approve'
              ? await s.staged.approve(ctx.actor, project.name, version, totp)
              : await s.staged.reject(ctx.actor, project.name, version, totp);
          return {
            text:
              action === 'approve'
                ? `${r.project} ${r.version} is published: ${r.files.join(', ')}.`
                : `${r.project} ${r.version} was rejected; its files are deleted.`,
            to: `${manageBase(project)}/staged/`,
          };
        },
        (err) => stagedPage(s, ctx, project, err.message),
      );
    });
}
