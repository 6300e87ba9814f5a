// A project's collaborators (owners and maintainers, through ProjectService.setRole/removeRole)
// and its audit log (owners).
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { PierError } from '../../errors.js';
import { ROLES, type Role } from '../../auth/permissions.js';
import type { Project } from '../../db/schema.js';
import { html, type SafeHtml } from '../html.js';
import { field, formCard, formError, layout, postButton, select } from '../render/layout.js';
import { dataTable } from '../render/table.js';
import { auditKind, auditPage, auditTable } from '../render/audit.js';
import { formBody, formString } from '../forms.js';
import { sendPage, submitChange, webContext, type WebContext } from '../context.js';
import { manageBase, manageNav, ownedProject } from './publishing.js';

const ROLE_OPTIONS = [
  { value: 'maintainer', label: 'Maintainer — uploads and yanks' },
  { value: 'owner', label: 'Owner — also publishers, collaborators, deletions' },
];

async function collaboratorsPage(
  s: Services,
  ctx: WebContext,
  project: Project,
  opts: { error?: string | null; username?: string; role?: string } = {},
): Promise<SafeHtml> {
  const roles = await s.projects.roles(project.id);
  const base = `${manageBase(project)}/collaborators/`;
  return layout(
    ctx,
    `Collaborators · ${project.name}`,
    html`${manageNav(project, 'collaborators')}
      <section class="card">
        <h2>Owners and maintainers</h2>
        ${dataTable(
          null,
          ['User', 'Role', ''],
          html`${roles.map(
            (r) =>
              html`<tr data-user="${r.user}">
                <td>
                  <strong>${r.user}</strong
                  >${r.user === ctx.user?.username ? html` <span class="muted small">(you)</span>` : ''}
                </td>
                <td>${r.role}</td>
                <td>
                  ${postButton(
                    ctx,
                    `${base}role`,
                    r.role === 'owner' ? 'Make maintainer' : 'Make owner',
                    {
                      fields: {
                        username: r.user,
                        role: r.role === 'owner' ? 'maintainer' : 'owner',
                      },
                    },
                  )}
                  ${postButton(ctx, `${base}remove`, 'Remove', { fields: { username: r.user }, danger: true })}
                </td>
              </tr>`,
          )}`,
        )}
      </section>
      ${formCard(
        ctx,
        {
          title: 'Add a collaborator',
          action: `${base}role`,
          id: 'collaborator-form',
          submit: 'Add',
          error: formError(opts.error),
        },
        html`<div class="grid-2">
          ${field('username', 'User name', { value: opts.username ?? '', required: true })}
          ${select('role', 'Role', ROLE_OPTIONS, { value: opts.role ?? 'maintainer' })}
        </div>`,
      )}`,
  );
}

export function registerProjectManageRoutes(web: FastifyInstance, s: Services): void {
  type P = { Params: { name: string } };

  web.get<P>('/manage/project/:name/collaborators/', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    return sendPage(reply, await collaboratorsPage(s, ctx, project));
  });

  web.post<P>('/manage/project/:name/collaborators/role', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    const body = formBody(request.body);
    const username = formString(body, 'username').trim();
    const role = formString(body, 'role');
    return submitChange(
      s,
      reply,
      async () => {
        if (!ROLES.includes(role as Role))
          throw new PierError(400, `Unknown role '${role}': use owner or maintainer`);
        if (username === '') throw new PierError(400, 'Enter the user name to add');
        await s.projects.setRole(ctx.actor, project.name, username, role as Role);
        return {
          text: `${username} is now ${role} of ${project.name}.`,
          to: `${manageBase(project)}/collaborators/`,
        };
      },
      (err) => collaboratorsPage(s, ctx, project, { error: err.message, username, role }),
    );
  });

  web.post<P>('/manage/project/:name/collaborators/remove', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    const username = formString(formBody(request.body), 'username').trim();
    return submitChange(
      s,
      reply,
      async () => {
        await s.projects.removeRole(ctx.actor, project.name, username);
        return {
          text: `${username} was removed from ${project.name}.`,
          to: `${manageBase(project)}/collaborators/`,
        };
      },
      (err) => collaboratorsPage(s, ctx, project, { error: err.message }),
    );
  });

  web.get<{ Params: { name: string }; Querystring: { kind?: string; before?: string } }>(
    '/manage/project/:name/audit/',
    async (request, reply) => {
      const ctx = webContext(request);
      const project = await ownedProject(s, ctx, request, request.params.name);
      const kind = auditKind(request.query.kind);
      const before = Number(request.query.before);
      const limit = 50;
      const events = await auditPage(s.db.kysely, {
        projectId: project.id,
        kind: kind.adminOnly ? auditKind('all') : kind,
        beforeId: Number.isSafeInteger(before) && before > 0 ? before : undefined,
        limit,
      });
      return sendPage(
        reply,
        layout(
          ctx,
          `Audit log · ${project.name}`,
          html`${manageNav(project, 'audit')}
            <section class="card">
              ${auditTable(events, {
                base: `${manageBase(project)}/audit/`,
                kind,
                showProject: false,
                admin: false,
                limit,
              })}
            </section>`,
          { wide: true },
        ),
      );
    },
  );
}
