// Trusted publishing settings: a project's publishers (owners only; add, list with a ready-to-copy
// workflow, remove) and the account's pending publishers for projects that do not exist yet —
// all through PublisherService, so the validation and the owner-id lookup are the CLI's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { forbidden, notFound, PierError } from '../../errors.js';
import { mayAdministerProject, mayCreateProjects } from '../../auth/permissions.js';
import { oidcAudience, trustedPublishingDisabledReason } from '../../oidc/audience.js';
import type { PublisherView } from '../../oidc/publishers.js';
import type { Project } from '../../db/schema.js';
import { html, type SafeHtml } from '../html.js';
import { checkbox, field, layout, postButton } from '../render/layout.js';
import { formatTime } from '../render/format.js';
import { workflowFor } from '../render/workflow.js';
import {
  isProviderKindValue,
  PROVIDER_FIELDS,
  providerFields,
  providerTabs,
  publisherForm,
  type PublisherFormState,
} from '../render/publisher-forms.js';
import { formBody, formBool, formString } from '../forms.js';
import { sendPage, setFlash, submitChange, webContext, type WebContext } from '../context.js';
import { idParam, requireUser } from '../guards.js';
import { projectPath } from './browse.js';

export function manageBase(project: Pick<Project, 'normalized_name'>): string {
  return `/manage/project/${encodeURIComponent(project.normalized_name)}`;
}

export function manageNav(
  project: Project,
  current: 'publishing' | 'collaborators' | 'audit' | 'releases' | 'staged',
) {
  const base = manageBase(project);
  const link = (key: typeof current, label: string) =>
    html`<a href="${base}/${key}/" ${key === current ? html` aria-current="page"` : ''}
      >${label}</a
    >`;
  return html`<p class="muted"><a href="${projectPath(project.name)}">← ${project.name}</a></p>
    <h1>${project.name}</h1>
    <nav class="manage-nav">
      ${link('releases', 'Releases and settings')}${link('publishing', 'Trusted publishing')}${link('staged', 'Staged releases')}${link('collaborators', 'Collaborators')}${link('audit', 'Audit log')}
    </nav>`;
}

/** The project, for its owners (and administrators) only. */
export async function ownedProject(
  s: Services,
  ctx: WebContext,
  request: FastifyRequest,
  name: string,
): Promise<Project> {
  requireUser(ctx, request);
  // A private project stays unknown to those who may not read it.
  const project = await s.projects.require(name, ctx.principal);
  if (!mayAdministerProject(ctx.principal, await s.projects.access(ctx.principal, project)))
    throw forbidden(`Only owners of '${project.name}' may manage it`);
  return project;
}

export function emptyState(kind: string | undefined): PublisherFormState {
  return {
    kind: kind && isProviderKindValue(kind) ? kind : 'github',
    values: {},
    errors: {},
    formError: null,
  };
}

/**
 * A refused registration, as errors next to fields (and the rest above the form). `extra`: the
 * page's own fields besides the provider's and the issuer.
 */
export function stateFromError(
  state: PublisherFormState,
  err: PierError,
  extra: readonly string[] = ['project_name'],
): PublisherFormState {
  const errors = (err.extra.errors ?? null) as Record<string, string> | null;
  if (!errors) return { ...state, formError: err.message };
  const known = new Set([...PROVIDER_FIELDS[state.kind].map((f) => f.name), 'issuer', ...extra]);
  const rest = Object.entries(errors).filter(([k]) => !known.has(k));
  return {
    ...state,
    errors,
    formError:
      rest.length > 0
        ? rest.map(([k, v]) => `${k}: ${v}`).join('; ')
        : 'The trusted publisher could not be registered: see the fields below.',
  };
}

/** The provider's fields, the issuer and the page's `extra` fields of a posted form. */
export function readState(
  request: FastifyRequest,
  extra: readonly string[] = ['project_name'],
): PublisherFormState {
  const body = formBody(request.body);
  const provider = formString(body, 'provider');
  if (!isProviderKindValue(provider)) throw new PierError(400, `Unknown provider '${provider}'`);
  const values = providerFields(provider, (n) => formString(body, n));
  values.issuer = formString(body, 'issuer');
  for (const name of extra) values[name] = formString(body, name);
  return { kind: provider, values, errors: {}, formError: null };
}

/** A publisher with its fields, its ready-to-copy pipeline file and a remove button. */
export function publisherCard(
  s: Services,
  ctx: WebContext,
  p: PublisherView,
  removeAction: string,
  extra: SafeHtml | '' = '',
): SafeHtml {
  const wf = workflowFor(p, {
    publicUrl: s.publicUrl(),
    audience: oidcAudience(s.config.oidcAudience, s.publicUrl()),
    actionRef: s.config.actionRef,
  });
  const configEntries = Object.entries(p.config).filter(([, v]) => v !== '');
  return html`<article class="publisher" id="publisher-${p.id}" data-publisher-id="${p.id}">
    <div class="publisher-head">
      <div><span class="badge">${p.kind}</span> <span class="title">${p.description}</span></div>
      ${postButton(ctx, removeAction, 'Remove', { danger: true })}
    </div>
    <dl class="kv">
      <dt>issuer</dt>
      <dd>${p.issuer}</dd>
      ${configEntries.map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd>${v}</dd>`,
      )}
      ${
        p.pending
          ? html`<dt>creates</dt>
              <dd>${p.pending.project}</dd>
              <dt>expires</dt>
              <dd>${formatTime(p.pending.expiresAt)}</dd>`
          : ''
      }
      ${
        p.readOnly.length > 0
          ? html`<dt>read only</dt>
              <dd class="read-only">${p.readOnly.join(', ')} (trusted access for installs)</dd>`
          : ''
      }
      ${
        p.stageOnly.length > 0
          ? html`<dt>stage only</dt>
              <dd class="stage-only">${p.stageOnly.join(', ')} (uploads wait for approval)</dd>`
          : ''
      }
      ${extra}
      <dt>added</dt>
      <dd>${formatTime(p.createdAt)}</dd>
    </dl>
    <details class="workflow" ${p.kind !== 'activestate' ? html` open` : ''}>
      <summary>${wf.path ? html`Ready-to-copy <code>${wf.path}</code>` : 'How to publish'}</summary>
      ${wf.unreachable ? html`<p class="yanked-note unreachable">${wf.unreachable}</p>` : ''}
      <div class="codeblock">
        <pre id="workflow-${p.id}" class="workflow-text">${wf.text}</pre>
        <button type="button" class="small copy" data-copy-target="workflow-${p.id}" hidden>
          Copy
        </button>
      </div>
    </details>
  </article>`;
}

/**
 * Other projects (and pending publishers) trusting the same sources as this project's
 * publishers: a job they match also gets an upload token for those projects.
 */
function sameSourceNotice(
  others: { publisher: string; project: string | null; pending: boolean; createdAt: string }[],
): SafeHtml | string {
  if (others.length === 0) return '';
  return html`<section class="card same-source" id="same-source">
    <h2>Other projects trust the same source</h2>
    <p class="muted">
      A job these publishers match also gets an upload token for these projects (a pending publisher
      creates its project on the first exchange). If you did not expect one, check who controls the
      repository or workflow.
    </p>
    <ul>
      ${others.map(
        (o) =>
          html`<li>
            ${o.publisher}:
            ${
              o.pending
                ? html`pending publisher for <strong>${o.project ?? ''}</strong>`
                : o.project === null
                  ? 'a private project'
                  : html`<strong>${o.project}</strong>`
            }
            <span class="muted">(added ${formatTime(o.createdAt)})</span>
          </li>`,
      )}
    </ul>
  </section>`;
}

/** Organisation-wide publishers covering the project: shown, managed by an administrator. */
function orgWideNotice(publishers: PublisherView[]): SafeHtml | string {
  if (publishers.length === 0) return '';
  return html`<section class="card org-wide" id="org-wide-publishers">
    <h2>Organisation-wide publishers</h2>
    <p class="muted">
      These publishers trust a job for every project of the organisation whose name matches their
      pattern, this one included. An administrator manages them.
    </p>
    <ul>
      ${publishers.map(
        (p) =>
          html`<li>
            ${p.description} (${p.issuer}):
            <strong>${p.organizationWide?.organization ?? ''}</strong> projects matching
            <code>${p.organizationWide?.projects ?? ''}</code>
            <span class="muted">(added ${formatTime(p.createdAt)})</span>
          </li>`,
      )}
    </ul>
  </section>`;
}

async function projectPublishingPage(
  s: Services,
  ctx: WebContext,
  project: Project,
  state: PublisherFormState,
): Promise<SafeHtml> {
  const publishers = await s.publishers.listForProject(ctx.actor, project.name);
  const sameSource = await s.publishers.sameSource(ctx.actor, project.name);
  const orgWide = await s.publishers.organizationWideFor(ctx.actor, project.name);
  const issuers = await s.issuers.list();
  const base = `${manageBase(project)}/publishing/`;
  const disabled = trustedPublishingDisabledReason(s.publicUrl());
  return layout(
    ctx,
    `Trusted publishing · ${project.name}`,
    html`${manageNav(project, 'publishing')}
      ${disabled ? html`<div class="form-error">Trusted publishing is off on this index: ${disabled}.</div>` : ''}
      <p class="muted">
        A trusted publisher is a CI job allowed to publish <strong>${project.name}</strong> without
        any stored secret: it trades its OIDC token at
        <code>${s.publicUrl()}/_/oidc/mint-token</code> for an upload token that lives
        ${Math.round(s.config.tokenTtl / 60)} minutes. Enter every field carefully: a wrong one is
        as bad as a leaked token.
      </p>
      <section>
        <h2>Publishers</h2>
        ${
          publishers.length === 0
            ? html`<p class="muted" id="no-publishers">No trusted publisher yet.</p>`
            : publishers.map((p) => publisherCard(s, ctx, p, `${base}${p.id}/remove`))
        }
      </section>
      ${orgWideNotice(orgWide)} ${sameSourceNotice(sameSource)}
      <section class="card">
        <h2>Add a trusted publisher</h2>
        ${providerTabs(base, state.kind)}
        ${publisherForm(
          ctx,
          base,
          state,
          issuers,
          checkbox(
            'stage_only',
            'Stage only: its uploads wait for an owner’s or maintainer’s approval (staged releases)',
          ),
        )}
      </section>`,
  );
}

async function pendingPage(
  s: Services,
  ctx: WebContext,
  state: PublisherFormState,
): Promise<SafeHtml> {
  const pending = await s.publishers.listPending(ctx.actor);
  const issuers = await s.issuers.list();
  const base = '/account/publishers';
  const mayCreate = mayCreateProjects(ctx.principal, s.config.anyUserMayCreateProjects);
  return layout(
    ctx,
    'Pending trusted publishers',
    html`<h1>Pending trusted publishers</h1>
      <p class="muted">
        A pending publisher lets a CI job create a project that does not exist yet: its first
        successful exchange creates the project, owned by you. Pending publishers expire after 30
        days, and are dropped when someone else creates the project first.
      </p>
      <section>
        <h2>Yours</h2>
        ${
          pending.length === 0
            ? html`<p class="muted">None.</p>`
            : pending.map((p) => publisherCard(s, ctx, p, `${base}/${p.id}/remove`))
        }
      </section>
      <section class="card">
        <h2>Add a pending publisher</h2>
        ${mayCreate ? '' : html`<p class="form-error">You may not create projects on this index, so you cannot register pending publishers.</p>`}
        ${providerTabs(base, state.kind)}
        ${publisherForm(
          ctx,
          base,
          state,
          issuers,
          field('project_name', 'Project name', {
            value: state.values.project_name ?? '',
            error: state.errors.project_name,
            hint: 'The project the first publish will create.',
          }),
        )}
      </section>`,
  );
}

export function registerPublishingRoutes(web: FastifyInstance, s: Services): void {
  type P = { Params: { name: string }; Querystring: { provider?: string } };

  web.get<P>('/manage/project/:name/publishing/', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    return sendPage(
      reply,
      await projectPublishingPage(s, ctx, project, emptyState(request.query.provider)),
    );
  });

  web.post<P>('/manage/project/:name/publishing/', async (request, reply) => {
    const ctx = webContext(request);
    const project = await ownedProject(s, ctx, request, request.params.name);
    const state = readState(request);
    const { issuer, project_name: _ignored, ...fields } = state.values;
    return submitChange(
      s,
      reply,
      async () => {
        const added = await s.publishers.add(ctx.actor, project.name, {
          kind: state.kind,
          fields,
          issuerUrl: issuer || undefined,
          stageOnly: formBool(formBody(request.body), 'stage_only'),
        });
        return {
          text: `Added ${added.description} as a trusted publisher of ${project.name}.`,
          to: `${manageBase(project)}/publishing/#publisher-${added.id}`,
        };
      },
      (err) => projectPublishingPage(s, ctx, project, stateFromError(state, err)),
    );
  });

  web.post<{ Params: { name: string; id: string } }>(
    '/manage/project/:name/publishing/:id/remove',
    async (request, reply) => {
      const ctx = webContext(request);
      const project = await ownedProject(s, ctx, request, request.params.name);
      const id = idParam(request.params.id, 'publisher');
      const view = await s.publishers.view(id, ctx.principal).catch(() => null);
      await s.publishers.remove(ctx.actor, id, project.name);
      setFlash(s, reply, {
        kind: 'ok',
        text: `Removed ${view?.description ?? `publisher ${id}`} from ${project.name}.`,
      });
      return reply.redirect(`${manageBase(project)}/publishing/`, 303);
    },
  );

  web.get<{ Querystring: { provider?: string } }>('/account/publishers', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    return sendPage(reply, await pendingPage(s, ctx, emptyState(request.query.provider)));
  });

  web.post('/account/publishers', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    const state = readState(request);
    const { issuer, project_name: projectName, ...fields } = state.values;
    return submitChange(
      s,
      reply,
      async () => {
        if (!projectName?.trim())
          throw new PierError(400, 'Specify project name', {
            errors: { project_name: 'Specify project name' },
          });
        const added = await s.publishers.addPending(ctx.actor, projectName.trim(), {
          kind: state.kind,
          fields,
          issuerUrl: issuer || undefined,
        });
        return {
          text: `Added ${added.description} as a pending publisher of ${projectName.trim()}.`,
          to: `/account/publishers#publisher-${added.id}`,
        };
      },
      (err) => pendingPage(s, ctx, stateFromError(state, err)),
    );
  });

  web.post<{ Params: { id: string } }>('/account/publishers/:id/remove', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    const id = idParam(request.params.id, 'publisher');
    // Only pending publishers here: a project's publisher is removed from its project's page.
    const view = await s.publishers.view(id, ctx.principal);
    if (view.pending === null) throw notFound(`No pending publisher with id ${id}`);
    await s.publishers.remove(ctx.actor, id);
    setFlash(s, reply, { kind: 'ok', text: 'The pending publisher was removed.' });
    return reply.redirect('/account/publishers', 303);
  });
}
