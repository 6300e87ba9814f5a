// Organisation-wide trusted publishers on the web (docs/organizations.md "Organisation-wide
// publishers"): the page where a site administrator lists an organisation's publishers that
// trust a job for every project it owns (or those whose names match a glob), adds one with any
// provider's registration fields from the registry, and removes one. Each form is one
// PublisherService call, the CLI's and the REST API's, so the rules are theirs: administrators
// only (`mayManageOrganizationPublishers` in src/auth/permissions.ts), the provider's field
// validation and owner-id lookup, the pattern's rule (src/oidc/org-wide.ts). CSRF and the
// administrators' second factor are the web interface's hooks (src/web/context.ts), as for every
// form. Someone who may not see the organisation gets 404, as on its page; anyone else who is not
// an administrator gets 403 before the form is read, and nothing changes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { forbidden } from '../../errors.js';
import { mayManageOrganizationPublishers } from '../../auth/permissions.js';
import { matchesOrgWidePattern } from '../../oidc/org-wide.js';
import type { PublisherView } from '../../oidc/publishers.js';
import { normalizeProjectName } from '../../packaging/names.js';
import { html, type SafeHtml } from '../html.js';
import { field, layout } from '../render/layout.js';
import { providerTabs, publisherForm, type PublisherFormState } from '../render/publisher-forms.js';
import { sendPage, setFlash, submitChange, webContext, type WebContext } from '../context.js';
import { idParam, requireUser } from '../guards.js';
import { emptyState, publisherCard, readState, stateFromError } from './publishing.js';

/** The form's own field besides the provider's: the glob of project names. */
const PATTERN_FIELD = 'projects';

export const orgPublishersPath = (org: string) => `/orgs/${encodeURIComponent(org)}/publishers`;

/** What the card of a publisher says it covers: its pattern, and the projects it covers now. */
function coverage(p: PublisherView, projects: readonly string[]): SafeHtml {
  const pattern = p.organizationWide?.projects ?? '';
  const now = projects.filter((name) => matchesOrgWidePattern(pattern, normalizeProjectName(name)));
  return html`<dt>projects</dt>
    <dd class="org-wide-pattern"><code>${pattern}</code></dd>
    <dt>covers now</dt>
    <dd class="covers">${now.length > 0 ? now.join(', ') : 'no project yet'}</dd>`;
}

async function page(
  s: Services,
  ctx: WebContext,
  org: string,
  state: PublisherFormState,
): Promise<SafeHtml> {
  const view = await s.orgs.view(ctx.actor, org);
  const publishers = await s.publishers.listOrganizationWide(ctx.actor, view.name);
  const issuers = await s.issuers.list();
  const base = orgPublishersPath(view.name);
  return layout(
    ctx,
    `Organisation-wide publishers · ${view.name}`,
    html`<p class="muted"><a href="/orgs/${encodeURIComponent(view.name)}">← ${view.name}</a></p>
      <h1>Organisation-wide trusted publishers of ${view.name}</h1>
      <p class="muted">
        Each publisher trusts a CI job for every project ${view.name} owns whose normalized name
        matches its pattern, at each exchange: a project moved into ${view.name} later is covered
        too, one moved out no longer is. Only administrators register them, since they reach
        projects nobody linked to them.
      </p>
      <section>
        <h2>Publishers</h2>
        ${
          publishers.length === 0
            ? html`<p class="muted" id="no-publishers">No organisation-wide publisher.</p>`
            : publishers.map((p) =>
                publisherCard(s, ctx, p, `${base}/${p.id}/remove`, coverage(p, view.projects)),
              )
        }
      </section>
      <section class="card">
        <h2>Add an organisation-wide publisher</h2>
        ${providerTabs(base, state.kind)}
        ${publisherForm(
          ctx,
          base,
          state,
          issuers,
          field(PATTERN_FIELD, 'Projects (optional)', {
            value: state.values[PATTERN_FIELD] ?? '',
            error: state.errors[PATTERN_FIELD],
            placeholder: `${view.name}-*`,
            hint: html`A glob of project names (<code>*</code> any run, <code>?</code> one
              character), compared as names are normalized; empty: every project of ${view.name}.`,
          }),
        )}
      </section>`,
    { wide: true },
  );
}

export function registerOrganizationPublisherRoutes(web: FastifyInstance, s: Services): void {
  type P = { Params: { org: string }; Querystring: { provider?: string } };

  /** The organisation's name for a signed-in administrator: 404 if unseen, else 403. */
  async function administered(ctx: WebContext, request: FastifyRequest, org: string) {
    requireUser(ctx, request);
    const found = await s.orgs.require(org, ctx.principal);
    if (!mayManageOrganizationPublishers(ctx.principal))
      throw forbidden('Only administrators may manage organisation-wide trusted publishers');
    return found.name;
  }

  web.get<P>('/orgs/:org/publishers', async (request, reply) => {
    const ctx = webContext(request);
    const org = await administered(ctx, request, request.params.org);
    return sendPage(reply, await page(s, ctx, org, emptyState(request.query.provider)));
  });

  web.post<P>('/orgs/:org/publishers', async (request, reply) => {
    const ctx = webContext(request);
    const org = await administered(ctx, request, request.params.org);
    const state = readState(request, [PATTERN_FIELD]);
    const { issuer, [PATTERN_FIELD]: pattern, ...fields } = state.values;
    return submitChange(
      s,
      reply,
      async () => {
        const added = await s.publishers.addOrganizationWide(
          ctx.actor,
          org,
          { kind: state.kind, fields, issuerUrl: issuer || undefined },
          // An empty field is the form's way of saying "every project".
          pattern?.trim() ? pattern : undefined,
        );
        return {
          text: `Added ${added.description} as an organisation-wide publisher of ${org} for projects matching '${added.organizationWide?.projects ?? ''}'.`,
          to: `${orgPublishersPath(org)}#publisher-${added.id}`,
        };
      },
      (err) => page(s, ctx, org, stateFromError(state, err, [PATTERN_FIELD])),
    );
  });

  web.post<{ Params: { org: string; id: string } }>(
    '/orgs/:org/publishers/:id/remove',
    async (request, reply) => {
      const ctx = webContext(request);
      const org = await administered(ctx, request, request.params.org);
      const id = idParam(request.params.id, 'publisher');
      const removed = (await s.publishers.listOrganizationWide(ctx.actor, org)).find(
        (p) => p.id === id,
      );
      await s.publishers.removeOrganizationWide(ctx.actor, org, id);
      setFlash(s, reply, {
        kind: 'ok',
        text: `Removed ${removed?.description ?? `publisher ${id}`} from ${org}'s organisation-wide publishers.`,
      });
      return reply.redirect(orgPublishersPath(org), 303);
    },
  );
}
