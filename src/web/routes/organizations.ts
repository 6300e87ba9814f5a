// Organisations on the web (docs/organizations.md): an organisation's page (members, teams,
// projects), a team's page (members and where they come from, project roles, groups), and
// moving a project into the organisation. Each is one OrganizationService call (src/orgs).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Services } from '../../services.js';
import { PierError } from '../../errors.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field, formError, layout } from '../render/layout.js';
import { formBody, formString } from '../forms.js';
import { sendPage, setFlash, webContext, type WebContext } from '../context.js';
import { requireUser } from '../guards.js';
import type { OrganizationView, TeamView } from '../../orgs/service.js';

const orgBase = (name: string) => `/orgs/${encodeURIComponent(name)}`;

function teamSummary(org: string, t: TeamView): SafeHtml {
  return html`<tr id="team-${t.name}">
    <td><a href="${orgBase(org)}/teams/${encodeURIComponent(t.name)}">${t.name}</a></td>
    <td>${t.members.map((m) => m.user).join(', ')}</td>
    <td>${t.projects.map((p) => `${p.project} (${p.role})`).join(', ')}</td>
  </tr>`;
}

function orgPage(
  ctx: WebContext,
  v: OrganizationView,
  opts: { error?: string | null; project?: string } = {},
): SafeHtml {
  return layout(
    ctx,
    `Organisation · ${v.name}`,
    html`<section class="card">
        <h1>${v.name}</h1>
        <h2>Members</h2>
        <table class="members">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
            </tr>
          </thead>
          <tbody>
            ${v.members.map(
              (m) =>
                html`<tr>
                  <td>${m.user}</td>
                  <td>${m.role}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2>Teams</h2>
        <table class="teams">
          <thead>
            <tr>
              <th>Team</th>
              <th>Members</th>
              <th>Projects</th>
            </tr>
          </thead>
          <tbody>
            ${v.teams.map((t) => teamSummary(v.name, t))}
          </tbody>
        </table>
        <h2>Projects</h2>
        <ul class="projects">
          ${v.projects.map(
            (p) => html`<li><a href="/project/${encodeURIComponent(p)}/">${p}</a></li>`,
          )}
        </ul>
      </section>
      <section class="card">
        <h2>Transfer a project to ${v.name}</h2>
        <p class="muted">
          Takes an owner of both the project and the organisation. Its people keep their roles; the
          organisation's owners own it too.
        </p>
        ${formError(opts.error)}
        <form method="post" action="${orgBase(v.name)}/transfer" id="transfer-form">
          ${csrfField(ctx)}
          ${field('project', 'Project', { value: opts.project ?? '', required: true })}
          <button type="submit">Transfer</button>
        </form>
      </section>`,
    { wide: true },
  );
}

function teamPage(ctx: WebContext, org: string, t: TeamView): SafeHtml {
  return layout(
    ctx,
    `Team · ${org}/${t.name}`,
    html`<section class="card">
      <h1><a href="${orgBase(org)}">${org}</a> / ${t.name}</h1>
      <h2>Members</h2>
      <table class="members">
        <thead>
          <tr>
            <th>User</th>
            <th>From</th>
          </tr>
        </thead>
        <tbody>
          ${t.members.map(
            (m) =>
              html`<tr>
                <td>${m.user}</td>
                <td>${m.sources.join(', ')}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Projects</h2>
      <table class="roles">
        <tbody>
          ${t.projects.map(
            (p) =>
              html`<tr>
                <td>${p.project}</td>
                <td>${p.role}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Identity-provider groups</h2>
      <ul class="groups">
        ${t.groups.map((g) => html`<li><code>${g.provider}</code>: <code>${g.group}</code></li>`)}
      </ul>
    </section>`,
  );
}

export function registerOrganizationWebRoutes(web: FastifyInstance, s: Services): void {
  type P = { Params: { org: string } };

  web.get<P>('/orgs/:org', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    return sendPage(reply, orgPage(ctx, await s.orgs.view(ctx.actor, request.params.org)));
  });

  web.get<{ Params: { org: string; team: string } }>(
    '/orgs/:org/teams/:team',
    async (request, reply) => {
      const ctx = webContext(request);
      requireUser(ctx, request);
      const { org, team } = request.params;
      const view = await s.orgs.teamDetail(ctx.actor, org, team);
      const name = (await s.orgs.view(ctx.actor, org)).name;
      return sendPage(reply, teamPage(ctx, name, view));
    },
  );

  web.post<P>('/orgs/:org/transfer', async (request, reply: FastifyReply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    const project = formString(formBody(request.body), 'project').trim();
    const { org } = request.params;
    try {
      if (project === '') throw new PierError(400, 'Enter the project to transfer');
      await s.orgs.transferProject(ctx.actor, project, org);
    } catch (err) {
      if (!(err instanceof PierError) || err.status >= 500 || err.status === 404) throw err;
      const view = await s.orgs.view(ctx.actor, org);
      return sendPage(reply, orgPage(ctx, view, { error: err.message, project }), err.status);
    }
    setFlash(s, reply, { kind: 'ok', text: `${project} now belongs to ${org}.` });
    return reply.redirect(orgBase(org), 303);
  });
}
