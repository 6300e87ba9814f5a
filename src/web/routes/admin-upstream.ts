// Administration of the upstream proxy (src/proxy): the names never taken from the upstream —
// those of the configuration, shown, and the run-time list, added to and removed from here.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { html, type SafeHtml } from '../html.js';
import { field, formCard, formError, layout, postButton } from '../render/layout.js';
import { dataTable } from '../render/table.js';
import { formBody, formString } from '../forms.js';
import { sendPage, submitChange, webContext, type WebContext } from '../context.js';
import { requireAdmin } from '../guards.js';

async function upstreamPage(
  s: Services,
  ctx: WebContext,
  nav: SafeHtml,
  opts: { error?: string | null; pattern?: string } = {},
): Promise<SafeHtml> {
  const excludes = await s.proxy.excludes();
  const upstream = s.config.upstreamUrl;
  return layout(
    ctx,
    'Upstream index',
    html`${nav}
      <section class="card">
        <p class="muted">
          ${
            upstream
              ? html`Names this index does not host are answered from
                  <code>${upstream}</code
                  >${s.config.upstreamOffline ? ' (offline: from the cache only)' : ''}. Names
                  matching one of these globs are never taken from it, whether or not a project of
                  that name exists here yet.`
              : html`No upstream index is configured (<code>PIER_UPSTREAM_URL</code>): the list
                below takes effect once one is.`
          }
        </p>
        ${dataTable(
          'excludes',
          ['Glob', 'From', ''],
          html`${excludes.map(
            (e) =>
              html`<tr data-pattern="${e.pattern}">
                <td><code>${e.pattern}</code></td>
                <td>${e.source === 'config' ? 'configuration' : 'administrators'}</td>
                <td>
                  ${
                    e.source === 'admin'
                      ? postButton(ctx, '/admin/upstream/remove', 'Remove', {
                          fields: { pattern: e.pattern },
                          danger: true,
                        })
                      : ''
                  }
                </td>
              </tr>`,
          )}`,
        )}
      </section>
      ${formCard(
        ctx,
        {
          title: 'Never take from the upstream',
          action: '/admin/upstream',
          id: 'add-exclude-form',
          submit: 'Add',
          error: formError(opts.error),
        },
        field('pattern', 'Name glob', {
          value: opts.pattern ?? '',
          placeholder: 'acme-*',
          required: true,
        }),
      )}`,
  );
}

export function registerUpstreamAdminRoutes(
  web: FastifyInstance,
  s: Services,
  nav: () => SafeHtml,
): void {
  web.get('/admin/upstream', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    return sendPage(reply, await upstreamPage(s, ctx, nav()));
  });

  web.post('/admin/upstream', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    const pattern = formString(formBody(request.body), 'pattern').trim();
    return submitChange(
      s,
      reply,
      async () => {
        const stored = await s.proxy.addExclude(ctx.actor, pattern);
        return { text: `'${stored}' is never taken from the upstream.`, to: '/admin/upstream' };
      },
      (err) => upstreamPage(s, ctx, nav(), { error: err.message, pattern }),
    );
  });

  web.post('/admin/upstream/remove', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    const pattern = formString(formBody(request.body), 'pattern');
    return submitChange(
      s,
      reply,
      async () => {
        await s.proxy.removeExclude(ctx.actor, pattern);
        return { text: `Removed '${pattern}'.`, to: '/admin/upstream' };
      },
      (err) => upstreamPage(s, ctx, nav(), { error: err.message }),
    );
  });
}
