// Administration of PEP 752 namespaces: the reserved prefixes and their owners; reserve, grant,
// revoke and release, each one NamespaceService call (src/namespaces).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Services } from '../../services.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field, formCard, formError, layout, postButton } from '../render/layout.js';
import { dataTable } from '../render/table.js';
import { formatTime } from '../render/format.js';
import { formBody, formString } from '../forms.js';
import { sendPage, submitChange, webContext, type WebContext } from '../context.js';
import { requireAdmin } from '../guards.js';
import { adminNav } from './admin.js';

async function namespacesPage(
  s: Services,
  ctx: WebContext,
  opts: { error?: string | null; values?: { name: string; owner: string } } = {},
): Promise<SafeHtml> {
  const namespaces = await s.namespaces.list();
  const v = opts.values ?? { name: '', owner: '' };
  const base = (name: string) => `/admin/namespaces/${encodeURIComponent(name)}`;
  return layout(
    ctx,
    'Namespaces',
    html`${adminNav('namespaces')}
      <section class="card">
        <p class="muted">
          A reserved namespace (PEP 752) keeps new project names for its owners:
          <code>acme</code> covers <code>acme</code> and every <code>acme-*</code>. Projects that
          existed before keep working; names in a namespace are never taken from an upstream index.
        </p>
        ${formError(opts.error)}
        ${dataTable(
          'namespaces',
          ['Namespace', 'Owners', 'Reserved', ''],
          html`${namespaces.map(
            (n) =>
              html`<tr id="namespace-${n.name}">
                <td>
                  <code>${n.name}</code
                  >${n.display_name !== n.name ? html` <span class="muted">(${n.display_name})</span>` : ''}
                </td>
                <td>
                  ${n.owners.map(
                    (o) =>
                      html`<span class="owner">${o}</span>
                        ${n.owners.length > 1 ? postButton(ctx, `${base(n.name)}/revoke`, `Revoke ${o}`, { fields: { user: o }, danger: true }) : ''}`,
                  )}
                  <form method="post" action="${base(n.name)}/grant" class="inline">
                    ${csrfField(ctx)}
                    <input
                      name="user"
                      aria-label="User to grant ${n.name} to"
                      placeholder="user"
                      required
                    />
                    <button type="submit" class="button secondary small">Grant</button>
                  </form>
                </td>
                <td>${formatTime(Date.parse(n.created_at))}</td>
                <td>${postButton(ctx, `${base(n.name)}/release`, 'Release', { danger: true })}</td>
              </tr>`,
          )}`,
        )}
      </section>
      ${formCard(
        ctx,
        {
          title: 'Reserve a namespace',
          action: '/admin/namespaces',
          id: 'reserve-namespace-form',
          submit: 'Reserve',
        },
        html`<div class="grid-2">
          ${field('name', 'Namespace', { value: v.name, placeholder: 'acme', required: true })}
          ${field('owner', 'First owner', { value: v.owner, placeholder: 'user name', required: true })}
        </div>`,
      )}`,
    { wide: true },
  );
}

export function registerNamespaceAdminRoutes(web: FastifyInstance, s: Services): void {
  /** Runs one change; a refusal shows the page again with its reason and status. */
  const change = (
    ctx: WebContext,
    reply: FastifyReply,
    run: () => Promise<string>,
    values?: { name: string; owner: string },
  ) =>
    submitChange(
      s,
      reply,
      async () => ({ text: await run(), to: '/admin/namespaces' }),
      (err) => namespacesPage(s, ctx, { error: err.message, values }),
    );

  web.get('/admin/namespaces', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    return sendPage(reply, await namespacesPage(s, ctx));
  });

  web.post('/admin/namespaces', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    const body = formBody(request.body);
    const values = {
      name: formString(body, 'name').trim(),
      owner: formString(body, 'owner').trim(),
    };
    return change(
      ctx,
      reply,
      async () => {
        const view = await s.namespaces.reserve(ctx.actor, values.name, values.owner);
        return `Reserved ${view.name} for ${values.owner}.`;
      },
      values,
    );
  });

  web.post<{ Params: { name: string } }>(
    '/admin/namespaces/:name/grant',
    async (request, reply) => {
      const ctx = webContext(request);
      requireAdmin(ctx, request);
      const user = formString(formBody(request.body), 'user').trim();
      return change(ctx, reply, async () => {
        const view = await s.namespaces.grant(ctx.actor, request.params.name, user);
        return `Granted ${view.name} to ${user}.`;
      });
    },
  );

  web.post<{ Params: { name: string } }>(
    '/admin/namespaces/:name/revoke',
    async (request, reply) => {
      const ctx = webContext(request);
      requireAdmin(ctx, request);
      const user = formString(formBody(request.body), 'user').trim();
      return change(ctx, reply, async () => {
        const view = await s.namespaces.revoke(ctx.actor, request.params.name, user);
        return `Revoked the grant of ${user} for ${view.name}.`;
      });
    },
  );

  web.post<{ Params: { name: string } }>(
    '/admin/namespaces/:name/release',
    async (request, reply) => {
      const ctx = webContext(request);
      requireAdmin(ctx, request);
      return change(ctx, reply, async () => {
        await s.namespaces.release(ctx.actor, request.params.name);
        return `Released ${request.params.name}.`;
      });
    },
  );
}
