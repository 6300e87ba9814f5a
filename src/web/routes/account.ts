// The account page (password, sessions) and the TOTP second factor: enrol with an otpauth://
// URI and the secret as text, confirm with a code, disable with a code.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { PierError } from '../../errors.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field, formError, layout, postButton } from '../render/layout.js';
import { formatTime } from '../render/format.js';
import { formBody, formString } from '../forms.js';
import { sendPage, setFlash, webContext, type WebContext } from '../context.js';
import { idParam, requireUser } from '../guards.js';
import { totpEnabled, totpFor, totpIssuer } from '../totp.js';
import type { User } from '../../db/schema.js';

async function accountPage(
  s: Services,
  ctx: WebContext,
  user: User,
  errors: { password?: string; form?: string } = {},
): Promise<SafeHtml> {
  const sessions = await s.web.sessions.listOf(user.id);
  return layout(
    ctx,
    'Your account',
    html`<h1>${user.username}</h1>
      <p class="muted">
        ${user.is_admin === 1 ? html`<span class="badge">administrator</span> ` : ''}${user.may_create_projects === 1 ? html`<span class="badge">may create projects</span> ` : ''}Account
        created ${formatTime(user.created_at)}
      </p>
      <div class="grid-2">
        <section class="card">
          <h2>Two-factor authentication</h2>
          ${
            totpEnabled(user)
              ? html`<p>
                  <span class="badge badge-tp">enabled</span> Signing in asks for a code from your
                  authenticator app.
                </p>`
              : html`<p>
                  <span class="badge badge-off">off</span> Add a second factor: a code from an
                  authenticator app at every sign-in.
                </p>`
          }
          <p>
            <a class="button secondary" href="/account/2fa">Manage two-factor authentication</a>
          </p>
        </section>
        <section class="card">
          <h2>Change password</h2>
          ${formError(errors.form)}
          <form method="post" action="/account/password" id="password-form">
            ${csrfField(ctx)}
            ${field('current', 'Current password', { type: 'password', autocomplete: 'current-password', required: true })}
            ${field('password', 'New password', { type: 'password', autocomplete: 'new-password', required: true, error: errors.password })}
            <button type="submit">Change password</button>
          </form>
          <p class="muted small">Changing it signs out every other session.</p>
        </section>
      </div>
      <section class="card">
        <h2>Sessions</h2>
        <table>
          <thead>
            <tr>
              <th>Signed in</th>
              <th>Last seen</th>
              <th>From</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${sessions.map(
              (row) =>
                html`<tr>
                  <td>
                    ${formatTime(row.created_at)}${row.id === ctx.session?.id ? html` <span class="badge">this browser</span>` : ''}
                  </td>
                  <td>${formatTime(row.last_seen_at)}</td>
                  <td>
                    ${row.ip ?? ''}
                    <div class="muted small">${row.user_agent ?? ''}</div>
                  </td>
                  <td>
                    ${postButton(ctx, `/account/sessions/${row.id}/revoke`, 'Sign out', { danger: true })}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>`,
  );
}

function twoFactorPage(
  s: Services,
  ctx: WebContext,
  user: User,
  error: string | null = null,
): SafeHtml {
  let body: SafeHtml;
  if (totpEnabled(user)) {
    body = html`<p>
        <span class="badge badge-tp">enabled</span> since ${formatTime(user.totp_enabled_at)}.
      </p>
      <h2>Turn it off</h2>
      ${formError(error)}
      <form method="post" action="/account/2fa/disable" id="totp-disable-form">
        ${csrfField(ctx)}
        ${field('code', 'Current code', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true })}
        <button type="submit" class="danger">Disable two-factor authentication</button>
      </form>`;
  } else if (user.totp_secret !== null) {
    const uri = totpFor(user.totp_secret, totpIssuer(s.publicUrl()), user.username).toString();
    body = html`<ol class="steps">
        <li>
          1. Add this account to your authenticator app with the URI below (most apps accept it
          pasted, or as a link), or type in the secret.
        </li>
        <li>2. Enter the code the app shows, to confirm.</li>
      </ol>
      <div class="field">
        <label>Secret</label>
        <div class="secret" id="totp-secret">${user.totp_secret}</div>
      </div>
      <div class="field">
        <label>otpauth URI</label>
        <div class="codeblock">
          <pre id="totp-uri">${uri}</pre>
          <button type="button" class="small copy" data-copy-target="totp-uri" hidden>Copy</button>
        </div>
        <div class="hint">SHA-1, 6 digits, every 30 seconds.</div>
      </div>
      ${formError(error)}
      <form method="post" action="/account/2fa/confirm" id="totp-confirm-form">
        ${csrfField(ctx)}
        ${field('code', 'Code from the app', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true })}
        <button type="submit">Confirm and enable</button>
      </form>`;
  } else {
    body = html`<p>
        With two-factor authentication, signing in asks for a code from an authenticator app (any
        app that supports TOTP, RFC 6238) after your password.
      </p>
      ${formError(error)}
      <form method="post" action="/account/2fa/begin" id="totp-begin-form">
        ${csrfField(ctx)}<button type="submit">Set up two-factor authentication</button>
      </form>`;
  }
  return layout(
    ctx,
    'Two-factor authentication',
    html`<section class="card narrow medium">
      <h1>Two-factor authentication</h1>
      ${ctx.mustEnrol2fa ? html`<div class="form-error">This index requires administrators to use two-factor authentication: set it up to continue.</div>` : ''}
      ${body}
    </section>`,
  );
}

export function registerAccountRoutes(web: FastifyInstance, s: Services): void {
  web.get('/account', async (request, reply) => {
    const ctx = webContext(request);
    return sendPage(reply, await accountPage(s, ctx, requireUser(ctx, request)));
  });

  web.post('/account/password', async (request, reply) => {
    const ctx = webContext(request);
    const user = requireUser(ctx, request);
    const body = formBody(request.body);
    const check = await s.auth.authenticatePassword(
      user.username,
      formString(body, 'current'),
      request.ip ?? null,
    );
    if (!check.ok)
      return sendPage(
        reply,
        await accountPage(s, ctx, user, { form: 'The current password is not right.' }),
        400,
      );
    try {
      // Ends the user's other sessions too.
      await s.auth.setPassword(ctx.actor, user.username, formString(body, 'password'), {
        keepSessionId: ctx.session?.id,
      });
    } catch (err) {
      if (err instanceof PierError && err.status === 400)
        return sendPage(reply, await accountPage(s, ctx, user, { password: err.message }), 400);
      throw err;
    }
    setFlash(s, reply, { kind: 'ok', text: 'Your password was changed.' });
    return reply.redirect('/account', 303);
  });

  web.post<{ Params: { id: string } }>('/account/sessions/:id/revoke', async (request, reply) => {
    const ctx = webContext(request);
    const user = requireUser(ctx, request);
    const id = idParam(request.params.id, 'session');
    await s.web.sessions.revokeOwn(user.id, id);
    setFlash(s, reply, { kind: 'ok', text: 'The session was signed out.' });
    return reply.redirect(id === ctx.session?.id ? '/' : '/account', 303);
  });

  web.get('/account/2fa', async (request, reply) => {
    const ctx = webContext(request);
    return sendPage(reply, twoFactorPage(s, ctx, requireUser(ctx, request)));
  });

  web.post('/account/2fa/begin', async (request, reply) => {
    const ctx = webContext(request);
    const user = requireUser(ctx, request);
    if (!totpEnabled(user)) await s.web.twoFactor.begin(user);
    return reply.redirect('/account/2fa', 303);
  });

  web.post('/account/2fa/confirm', async (request, reply) => {
    const ctx = webContext(request);
    const user = requireUser(ctx, request);
    const code = formString(formBody(request.body), 'code');
    if (!(await s.web.twoFactor.confirm(ctx.actor, user, code)))
      return sendPage(
        reply,
        twoFactorPage(s, ctx, user, 'That code does not match: check the app and try again.'),
        400,
      );
    setFlash(s, reply, { kind: 'ok', text: 'Two-factor authentication is enabled.' });
    return reply.redirect('/account', 303);
  });

  web.post('/account/2fa/disable', async (request, reply) => {
    const ctx = webContext(request);
    const user = requireUser(ctx, request);
    if (!totpEnabled(user)) return reply.redirect('/account/2fa', 303);
    if (s.config.requireTwoFactorForAdmins && ctx.isAdmin)
      return sendPage(
        reply,
        twoFactorPage(
          s,
          ctx,
          user,
          'Administrators of this index must keep two-factor authentication.',
        ),
        403,
      );
    const code = formString(formBody(request.body), 'code');
    if (!(await s.web.twoFactor.verify(user, code)))
      return sendPage(reply, twoFactorPage(s, ctx, user, 'That code is not valid.'), 400);
    await s.web.twoFactor.disable(ctx.actor, user);
    setFlash(s, reply, { kind: 'ok', text: 'Two-factor authentication is off.' });
    return reply.redirect('/account', 303);
  });
}
