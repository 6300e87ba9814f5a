// API tokens: create (name, scope, projects, expiry; the token is shown once), list, revoke —
// through AuthService, whose rules say what a credential may create.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { PierError } from '../../errors.js';
import { ConfigError, parseDuration } from '../../config.js';
import { isScope } from '../../auth/principal.js';
import type { NewToken } from '../../auth/service.js';
import { html, type SafeHtml } from '../html.js';
import {
  csrfField,
  field,
  formError,
  layout,
  postButton,
  select,
  type FlashToken,
} from '../render/layout.js';
import { formatTime } from '../render/format.js';
import { formBody, formString } from '../forms.js';
import { sendPage, setFlash, webContext, type WebContext } from '../context.js';
import { idParam, requireUser } from '../guards.js';
import type { User } from '../../db/schema.js';

export const EXPIRY_CHOICES = [
  { value: '30d', label: '30 days' },
  { value: '1d', label: '1 day' },
  { value: '7d', label: '7 days' },
  { value: '90d', label: '90 days' },
  { value: '365d', label: '1 year' },
  { value: 'never', label: 'Never' },
];

interface TokenForm {
  name: string;
  scope: string;
  projects: string;
  expires: string;
}

async function tokensPage(
  s: Services,
  ctx: WebContext,
  user: User,
  opts: { form?: TokenForm; error?: string | null } = {},
): Promise<SafeHtml> {
  const tokens = (await s.auth.listTokens({ userId: user.id })).reverse();
  const form = opts.form ?? { name: '', scope: 'upload', projects: '', expires: '30d' };
  // The token created by the POST that redirected here, in this one response's flash.
  const created = ctx.flash?.newToken;
  return layout(
    ctx,
    'API tokens',
    html`<h1>API tokens</h1>
      <p class="muted">
        Tokens authenticate pip, twine and the API as you (user name <code>__token__</code>, the
        token as password). They are stored hashed: a token is shown only when it is created.
      </p>
      ${
        created
          ? html`<section class="card" id="new-token">
              <h2>Your new token “${created.name}”</h2>
              <p>Copy it now: it will not be shown again.</p>
              <div class="codeblock">
                <pre id="new-token-value">${created.token}</pre>
                <button type="button" class="small copy" data-copy-target="new-token-value" hidden>
                  Copy
                </button>
              </div>
              <p class="muted small">
                Scope
                ${created.scope}${created.projects.length ? html`, limited to ${created.projects.join(', ')}` : ''}${created.expiresAt ? html`, expires ${formatTime(created.expiresAt)}` : ', never expires'}.
              </p>
            </section>`
          : ''
      }
      <section class="card">
        <h2>Create a token</h2>
        ${formError(opts.error)}
        <form method="post" action="/account/tokens" id="token-form">
          ${csrfField(ctx)}
          <div class="grid-2">
            ${field('name', 'Name', { value: form.name, placeholder: 'e.g. release CI', hint: 'To recognise it in this list.' })}
            ${select(
              'scope',
              'Scope',
              [
                { value: 'upload', label: 'upload — read and upload' },
                { value: 'read', label: 'read — install only' },
                { value: 'admin', label: 'admin — everything you can do' },
              ],
              { value: form.scope },
            )}
            ${field('projects', 'Limit to projects (optional)', { value: form.projects, placeholder: 'project-a, project-b', hint: 'Comma-separated; empty means every project you can reach.' })}
            ${select('expires', 'Expires in', EXPIRY_CHOICES, { value: form.expires })}
          </div>
          <button type="submit">Create token</button>
        </form>
      </section>
      <section class="card">
        <h2>Your tokens</h2>
        ${
          tokens.length === 0
            ? html`<p class="muted">No tokens yet.</p>`
            : html`<table class="tokens">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Scope</th>
                    <th>Projects</th>
                    <th>Created</th>
                    <th>Expires</th>
                    <th>Last used</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${tokens.map(
                    (t) =>
                      html`<tr id="token-${t.id}" class="${t.revokedAt ? 'revoked' : ''}">
                        <td>
                          <strong>${t.name}</strong>
                          <div class="muted small"><code>${t.prefix}…</code></div>
                        </td>
                        <td>${t.scope}</td>
                        <td>
                          ${t.projects ? t.projects.join(', ') : html`<span class="muted">all</span>`}
                        </td>
                        <td>${formatTime(t.createdAt)}</td>
                        <td>
                          ${t.expiresAt ? formatTime(t.expiresAt) : html`<span class="muted">never</span>`}
                        </td>
                        <td>
                          ${t.lastUsedAt ? formatTime(t.lastUsedAt) : html`<span class="muted">never</span>`}
                        </td>
                        <td>
                          ${
                            t.revokedAt
                              ? html`<span class="badge badge-off">revoked</span>`
                              : html`<a
                                  class="button danger small"
                                  href="/account/tokens/${t.id}/revoke"
                                  >Revoke…</a
                                >`
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>`,
  );
}

function flashTokenOf(t: NewToken): FlashToken {
  return {
    id: t.id,
    token: t.token,
    name: t.name,
    scope: t.scope,
    projects: t.projects,
    expiresAt: t.expiresAt,
  };
}

export function registerTokenRoutes(web: FastifyInstance, s: Services): void {
  web.get('/account/tokens', async (request, reply) => {
    const ctx = webContext(request);
    return sendPage(reply, await tokensPage(s, ctx, requireUser(ctx, request)));
  });

  web.post('/account/tokens', async (request, reply) => {
    const ctx = webContext(request);
    const user = requireUser(ctx, request);
    const body = formBody(request.body);
    const form: TokenForm = {
      name: formString(body, 'name'),
      scope: formString(body, 'scope') || 'upload',
      projects: formString(body, 'projects'),
      expires: formString(body, 'expires') || 'never',
    };
    try {
      if (!isScope(form.scope))
        throw new PierError(400, `Unknown scope '${form.scope}': use read, upload or admin`);
      const created = await s.auth.createToken(ctx.actor, {
        username: user.username,
        name: form.name,
        scope: form.scope,
        projects: form.projects
          .split(/[\s,]+/)
          .map((p) => p.trim())
          .filter(Boolean),
        expiresInSeconds: form.expires === 'never' ? null : parseDuration(form.expires, 'Expiry'),
      });
      setFlash(s, reply, {
        kind: 'ok',
        text: `Token “${created.name}” was created.`,
        newToken: flashTokenOf(created),
      });
      return reply.redirect('/account/tokens', 303);
    } catch (err) {
      if (err instanceof PierError || err instanceof ConfigError)
        return sendPage(
          reply,
          await tokensPage(s, ctx, user, { form, error: err.message }),
          err instanceof PierError ? err.status : 400,
        );
      throw err;
    }
  });

  // Revoking asks first: the list links to this page, whose button does it.
  web.get<{ Params: { id: string } }>('/account/tokens/:id/revoke', async (request, reply) => {
    const ctx = webContext(request);
    const user = requireUser(ctx, request);
    const id = idParam(request.params.id, 'token');
    const token = (await s.auth.listTokens({ userId: user.id })).find(
      (t) => t.id === id && !t.revokedAt,
    );
    if (!token) throw new PierError(404, `No active token ${id} of yours`);
    return sendPage(
      reply,
      layout(
        ctx,
        'Revoke token',
        html`<section class="card narrow medium" id="confirm-revoke">
          <h1>Revoke “${token.name}”?</h1>
          <p>
            Every client using <code>${token.prefix}…</code> (scope ${token.scope}) is refused from
            its next request. This cannot be undone.
          </p>
          <div class="actions">
            ${postButton(ctx, `/account/tokens/${id}/revoke`, 'Revoke', { danger: true })}
            <a class="button secondary small" href="/account/tokens">Cancel</a>
          </div>
        </section>`,
      ),
    );
  });

  web.post<{ Params: { id: string } }>('/account/tokens/:id/revoke', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    const id = idParam(request.params.id, 'token');
    await s.auth.revokeToken(ctx.actor, id);
    setFlash(s, reply, { kind: 'ok', text: `Token ${id} was revoked.` });
    return reply.redirect('/account/tokens', 303);
  });
}
