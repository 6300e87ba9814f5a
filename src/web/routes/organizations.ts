// Organisations on the web (docs/organizations.md): an organisation's page (members, teams,
// projects), a team's page (members and where they come from, project roles, groups), and, for
// those who may administer the organisation, the forms that change them. Each form is one
// OrganizationService call (src/orgs): the rules live there and in src/auth/permissions.ts, and a
// refusal is shown with the service's message, having changed nothing.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { PierError } from '../../errors.js';
import {
  mayManageOrganizationPublishers,
  type OrgRole,
  type Role,
} from '../../auth/permissions.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { field, formCard, formError, layout, postButton, select } from '../render/layout.js';
import { dataTable } from '../render/table.js';
import { formBody, formString, type FormBody } from '../forms.js';
import { sendPage, submitChange, webContext, type WebContext } from '../context.js';
import { requireUser } from '../guards.js';
import type { OrganizationView, TeamView } from '../../orgs/service.js';

const orgBase = (name: string) => `/orgs/${encodeURIComponent(name)}`;
const teamBase = (org: string, team: string) => `${orgBase(org)}/teams/${encodeURIComponent(team)}`;

const ORG_ROLE_OPTIONS = [
  { value: 'member', label: 'Member — sees the organisation; roles come from teams' },
  { value: 'owner', label: 'Owner — owns every project, manages members and teams' },
];
const TEAM_ROLE_OPTIONS = [
  { value: 'maintainer', label: 'Maintainer — uploads and yanks' },
  { value: 'owner', label: 'Owner — also publishers, collaborators, deletions' },
];

/** What a page shows besides its data: whether its forms are shown, and a refused form's state. */
interface PageState {
  admin: boolean;
  /** A site administrator: the organisation-wide publishers page is theirs (org-publishers.ts). */
  publishers?: boolean;
  /** The form that was refused (its id), the service's message, and what was typed. */
  refused?: { form: string; message: string; values: FormBody };
}

const errorFor = (st: PageState, form: string) =>
  formError(st.refused?.form === form ? st.refused.message : null);
const valueOf = (st: PageState, form: string, name: string, fallback = '') =>
  st.refused?.form === form ? formString(st.refused.values, name) || fallback : fallback;

/** One of the forms of a page, with the service's message when it was the one refused. */
const orgForm = (
  ctx: WebContext,
  st: PageState,
  form: Omit<Parameters<typeof formCard>[1], 'error'>,
  fields: HtmlValue,
) => formCard(ctx, { ...form, error: errorFor(st, form.id) }, fields);

/** A refusal to someone without the forms (a POST they made by hand) still says why. */
const refusedNotice = (st: PageState) =>
  st.refused ? html`<section class="card">${formError(st.refused.message)}</section>` : '';

function teamSummary(org: string, t: TeamView): SafeHtml {
  return html`<tr id="team-${t.name}">
    <td><a href="${teamBase(org, t.name)}">${t.name}</a></td>
    <td>${t.members.map((m) => m.user).join(', ')}</td>
    <td>${t.projects.map((p) => `${p.project} (${p.role})`).join(', ')}</td>
  </tr>`;
}

function orgPage(ctx: WebContext, v: OrganizationView, st: PageState): SafeHtml {
  const base = orgBase(v.name);
  const admin = st.admin;
  return layout(
    ctx,
    `Organisation · ${v.name}`,
    html`<section class="card">
        <h1>${v.name}</h1>
        <h2>Members</h2>
        ${admin ? errorFor(st, 'member-row') : ''}
        ${dataTable(
          'members',
          ['User', 'Role', ...(admin ? [''] : [])],
          html`${v.members.map(
            (m) =>
              html`<tr data-user="${m.user}">
                <td>${m.user}</td>
                <td>${m.role}</td>
                ${
                  admin
                    ? html`<td>
                        ${postButton(
                          ctx,
                          `${base}/members`,
                          m.role === 'owner' ? 'Make member' : 'Make owner',
                          {
                            fields: {
                              username: m.user,
                              role: m.role === 'owner' ? 'member' : 'owner',
                              form: 'member-row',
                            },
                          },
                        )}
                        ${postButton(ctx, `${base}/members/remove`, 'Remove', {
                          fields: { username: m.user, form: 'member-row' },
                          danger: true,
                        })}
                      </td>`
                    : ''
                }
              </tr>`,
          )}`,
        )}
        <h2>Teams</h2>
        ${dataTable('teams', ['Team', 'Members', 'Projects'], html`${v.teams.map((t) => teamSummary(v.name, t))}`)}
        <h2>Projects</h2>
        <ul class="projects">
          ${v.projects.map(
            (p) => html`<li><a href="/project/${encodeURIComponent(p)}/">${p}</a></li>`,
          )}
        </ul>
      </section>
      ${
        st.publishers
          ? html`<section class="card" id="org-wide-publishers">
              <h2>Organisation-wide trusted publishers</h2>
              <p class="muted">
                Publishers that trust a CI job for every project of ${v.name}, or those matching a
                name pattern (administrators only).
              </p>
              <p><a href="${base}/publishers">Manage the organisation-wide publishers</a></p>
            </section>`
          : ''
      }
      ${
        admin
          ? [
              orgForm(
                ctx,
                st,
                {
                  title: 'Add a member or change a role',
                  action: `${base}/members`,
                  id: 'member-form',
                  submit: 'Save',
                  note: html`Removing a member also takes them out of every team of ${v.name}. The
                  organisation keeps at least one owner.`,
                },
                html`<input type="hidden" name="form" value="member-form" />
                  <div class="grid-2">
                    ${field('username', 'User name', {
                      value: valueOf(st, 'member-form', 'username'),
                      required: true,
                    })}
                    ${select('role', 'Role', ORG_ROLE_OPTIONS, {
                      value: valueOf(st, 'member-form', 'role', 'member'),
                    })}
                  </div>`,
              ),
              orgForm(
                ctx,
                st,
                {
                  title: 'Create a team',
                  action: `${base}/teams`,
                  id: 'team-form',
                  submit: 'Create',
                },
                field('team', 'Team name', {
                  value: valueOf(st, 'team-form', 'team'),
                  required: true,
                }),
              ),
              orgForm(
                ctx,
                st,
                {
                  title: `Transfer a project to ${v.name}`,
                  action: `${base}/transfer`,
                  id: 'transfer-form',
                  submit: 'Transfer',
                  note: html`Takes an owner of both the project and the organisation. Its people
                  keep their roles; the organisation's owners own it too.`,
                },
                field('project', 'Project', {
                  value: valueOf(st, 'transfer-form', 'project'),
                  required: true,
                }),
              ),
            ]
          : refusedNotice(st)
      }`,
    { wide: true },
  );
}

function teamPage(ctx: WebContext, org: string, t: TeamView, st: PageState): SafeHtml {
  const base = teamBase(org, t.name);
  const admin = st.admin;
  return layout(
    ctx,
    `Team · ${org}/${t.name}`,
    html`<section class="card">
        <h1><a href="${orgBase(org)}">${org}</a> / ${t.name}</h1>
        <h2>Members</h2>
        ${admin ? errorFor(st, 'member-row') : ''}
        ${dataTable(
          'members',
          ['User', 'From', ...(admin ? [''] : [])],
          html`${t.members.map(
            (m) =>
              html`<tr data-user="${m.user}">
                <td>${m.user}</td>
                <td>${m.sources.join(', ')}</td>
                ${
                  admin
                    ? html`<td>
                        ${
                          m.sources.includes('manual')
                            ? postButton(ctx, `${base}/members/remove`, 'Remove', {
                                fields: { username: m.user, form: 'member-row' },
                                danger: true,
                              })
                            : ''
                        }
                      </td>`
                    : ''
                }
              </tr>`,
          )}`,
        )}
        <h2>Projects</h2>
        ${admin ? errorFor(st, 'role-row') : ''}
        <table class="roles">
          <tbody>
            ${t.projects.map(
              (p) =>
                html`<tr data-project="${p.project}">
                  <td>${p.project}</td>
                  <td>${p.role}</td>
                  ${
                    admin
                      ? html`<td>
                          ${postButton(ctx, `${base}/roles/remove`, 'Remove', {
                            fields: { project: p.project, form: 'role-row' },
                            danger: true,
                          })}
                        </td>`
                      : ''
                  }
                </tr>`,
            )}
          </tbody>
        </table>
        <h2>Identity-provider groups</h2>
        ${admin ? errorFor(st, 'group-row') : ''}
        <ul class="groups">
          ${t.groups.map(
            (g) =>
              html`<li>
                <code>${g.provider}</code>: <code>${g.group}</code>
                ${
                  admin
                    ? postButton(ctx, `${base}/groups/remove`, 'Remove', {
                        fields: { provider: g.provider, group: g.group, form: 'group-row' },
                        danger: true,
                      })
                    : ''
                }
              </li>`,
          )}
        </ul>
      </section>
      ${
        admin
          ? html`${orgForm(
                ctx,
                st,
                {
                  title: 'Add a member',
                  action: `${base}/members`,
                  id: 'team-member-form',
                  submit: 'Add',
                  note: html`Members from an identity provider's groups come and go with the groups
                  at sign-in.`,
                },
                field('username', 'User name', {
                  value: valueOf(st, 'team-member-form', 'username'),
                  required: true,
                }),
              )}
              ${orgForm(
                ctx,
                st,
                {
                  title: `Give the team a role in a project of ${org}`,
                  action: `${base}/roles`,
                  id: 'team-role-form',
                  submit: 'Save',
                },
                html`<div class="grid-2">
                  ${field('project', 'Project', {
                    value: valueOf(st, 'team-role-form', 'project'),
                    required: true,
                  })}
                  ${select('role', 'Role', TEAM_ROLE_OPTIONS, {
                    value: valueOf(st, 'team-role-form', 'role', 'maintainer'),
                  })}
                </div>`,
              )}
              ${orgForm(
                ctx,
                st,
                {
                  title: 'Map an identity-provider group to the team',
                  action: `${base}/groups`,
                  id: 'group-form',
                  submit: 'Map',
                  note: html`At each sign-in through the provider, a user whose groups claim holds
                  the value is put in the team (and taken out when it no longer does).`,
                },
                html`<div class="grid-2">
                  ${field('provider', 'Identity provider', {
                    value: valueOf(st, 'group-form', 'provider'),
                    required: true,
                  })}
                  ${field('group', 'Group', {
                    value: valueOf(st, 'group-form', 'group'),
                    required: true,
                  })}
                </div>`,
              )}
              <section class="card">
                <h2>Remove the team</h2>
                <p class="muted">Its members lose the roles it gave them; its group mappings go.</p>
                ${errorFor(st, 'remove-team')}
                ${postButton(ctx, `${base}/remove`, `Remove team ${t.name}`, {
                  fields: { form: 'remove-team' },
                  danger: true,
                })}
              </section>`
          : refusedNotice(st)
      }`,
  );
}

type OrgParams = { Params: { org: string } };
type TeamParams = { Params: { org: string; team: string } };

export function registerOrganizationWebRoutes(web: FastifyInstance, s: Services): void {
  const mayAdminister = async (ctx: WebContext, org: string) =>
    s.orgs.mayAdministerById(ctx.actor, (await s.orgs.require(org, ctx.principal)).id);

  async function orgPageFor(ctx: WebContext, org: string, st?: PageState['refused']) {
    const view = await s.orgs.view(ctx.actor, org);
    const admin = await mayAdminister(ctx, org);
    const publishers = mayManageOrganizationPublishers(ctx.principal);
    return orgPage(ctx, view, { admin, publishers, refused: st });
  }

  async function teamPageFor(
    ctx: WebContext,
    org: string,
    team: string,
    st?: PageState['refused'],
  ) {
    const view = await s.orgs.teamDetail(ctx.actor, org, team);
    const name = (await s.orgs.view(ctx.actor, org)).name;
    const admin = await mayAdminister(ctx, org);
    return teamPage(ctx, name, view, { admin, refused: st });
  }

  /**
   * One form: the organisation (and team) must be visible to the user, else 404 as on GET; then
   * (unless `administer` is false: moving a project in has its own rule, checked by the service)
   * the user must be one who may administer it, else 403 whatever the form holds; then `run`
   * makes the service call. A refusal (4xx) shows the page again with the service's
   * message next to the form; success redirects (POST-redirect-GET) with a flash message.
   */
  async function submit(
    request: FastifyRequest<{ Params: { org: string; team?: string } }>,
    reply: FastifyReply,
    form: string,
    run: (ctx: WebContext, body: FormBody) => Promise<{ text: string; to: string }>,
    administer = true,
  ) {
    const ctx = webContext(request);
    requireUser(ctx, request);
    const { org, team } = request.params;
    if (team === undefined) await s.orgs.require(org, ctx.principal);
    else await s.orgs.teamDetail(ctx.actor, org, team);
    const body = formBody(request.body);
    const refusedForm = formString(body, 'form') || form;
    return submitChange(
      s,
      reply,
      async () => {
        if (administer) await s.orgs.requireAdministrable(ctx.actor, org);
        return run(ctx, body);
      },
      (err) => {
        const refused = { form: refusedForm, message: err.message, values: body };
        return team === undefined
          ? orgPageFor(ctx, org, refused)
          : teamPageFor(ctx, org, team, refused);
      },
    );
  }

  const required = (body: FormBody, name: string, what: string): string => {
    const value = formString(body, name).trim();
    if (value === '') throw new PierError(400, `Enter ${what}`);
    return value;
  };

  web.get<OrgParams>('/orgs/:org', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    return sendPage(reply, await orgPageFor(ctx, request.params.org));
  });

  web.get<TeamParams>('/orgs/:org/teams/:team', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    return sendPage(reply, await teamPageFor(ctx, request.params.org, request.params.team));
  });

  web.post<OrgParams>('/orgs/:org/transfer', (request, reply) =>
    submit(
      request,
      reply,
      'transfer-form',
      async (ctx, body) => {
        const { org } = request.params;
        const project = required(body, 'project', 'the project to transfer');
        await s.orgs.transferProject(ctx.actor, project, org);
        return { text: `${project} now belongs to ${org}.`, to: orgBase(org) };
      },
      false,
    ),
  );

  web.post<OrgParams>('/orgs/:org/members', (request, reply) =>
    submit(request, reply, 'member-form', async (ctx, body) => {
      const { org } = request.params;
      const username = required(body, 'username', 'the user name');
      const role = formString(body, 'role');
      await s.orgs.setMember(ctx.actor, org, username, role as OrgRole);
      return { text: `${username} is now ${role} of ${org}.`, to: orgBase(org) };
    }),
  );

  web.post<OrgParams>('/orgs/:org/members/remove', (request, reply) =>
    submit(request, reply, 'member-row', async (ctx, body) => {
      const { org } = request.params;
      const username = required(body, 'username', 'the user name');
      await s.orgs.removeMember(ctx.actor, org, username);
      return { text: `${username} was removed from ${org}.`, to: orgBase(org) };
    }),
  );

  web.post<OrgParams>('/orgs/:org/teams', (request, reply) =>
    submit(request, reply, 'team-form', async (ctx, body) => {
      const { org } = request.params;
      const team = required(body, 'team', 'the team name');
      await s.orgs.createTeam(ctx.actor, org, team);
      return { text: `Team ${team} was created.`, to: teamBase(org, team) };
    }),
  );

  web.post<TeamParams>('/orgs/:org/teams/:team/remove', (request, reply) =>
    submit(request, reply, 'remove-team', async (ctx) => {
      const { org, team } = request.params;
      await s.orgs.removeTeam(ctx.actor, org, team);
      return { text: `Team ${team} was removed.`, to: orgBase(org) };
    }),
  );

  web.post<TeamParams>('/orgs/:org/teams/:team/members', (request, reply) =>
    submit(request, reply, 'team-member-form', async (ctx, body) => {
      const { org, team } = request.params;
      const username = required(body, 'username', 'the user name');
      await s.orgs.addTeamMember(ctx.actor, org, team, username);
      return { text: `${username} is now in team ${team}.`, to: teamBase(org, team) };
    }),
  );

  web.post<TeamParams>('/orgs/:org/teams/:team/members/remove', (request, reply) =>
    submit(request, reply, 'member-row', async (ctx, body) => {
      const { org, team } = request.params;
      const username = required(body, 'username', 'the user name');
      await s.orgs.removeTeamMember(ctx.actor, org, team, username);
      return { text: `${username} was removed from team ${team}.`, to: teamBase(org, team) };
    }),
  );

  web.post<TeamParams>('/orgs/:org/teams/:team/roles', (request, reply) =>
    submit(request, reply, 'team-role-form', async (ctx, body) => {
      const { org, team } = request.params;
      const project = required(body, 'project', 'the project');
      const role = formString(body, 'role');
      await s.orgs.setTeamRole(ctx.actor, org, team, project, role as Role);
      return { text: `Team ${team} is now ${role} of ${project}.`, to: teamBase(org, team) };
    }),
  );

  web.post<TeamParams>('/orgs/:org/teams/:team/roles/remove', (request, reply) =>
    submit(request, reply, 'role-row', async (ctx, body) => {
      const { org, team } = request.params;
      const project = required(body, 'project', 'the project');
      await s.orgs.removeTeamRole(ctx.actor, org, team, project);
      return { text: `Team ${team} has no role in ${project} any more.`, to: teamBase(org, team) };
    }),
  );

  web.post<TeamParams>('/orgs/:org/teams/:team/groups', (request, reply) =>
    submit(request, reply, 'group-form', async (ctx, body) => {
      const { org, team } = request.params;
      const provider = formString(body, 'provider').trim();
      const group = formString(body, 'group');
      await s.orgs.mapGroup(ctx.actor, org, team, provider, group);
      return {
        text: `Group ${group} of ${provider} now maps to team ${team}.`,
        to: teamBase(org, team),
      };
    }),
  );

  web.post<TeamParams>('/orgs/:org/teams/:team/groups/remove', (request, reply) =>
    submit(request, reply, 'group-row', async (ctx, body) => {
      const { org, team } = request.params;
      const provider = formString(body, 'provider');
      const group = formString(body, 'group');
      await s.orgs.unmapGroup(ctx.actor, org, team, provider, group);
      return {
        text: `Group ${group} of ${provider} no longer maps to team ${team}.`,
        to: teamBase(org, team),
      };
    }),
  );
}
