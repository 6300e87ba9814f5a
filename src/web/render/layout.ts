// The page shell: header and navigation, the flash message, the content. Everything is
// server-rendered and works without JavaScript; /static/pier.js only adds the copy buttons.
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { CSRF_FIELD } from '../csrf.js';
import type { User } from '../../db/schema.js';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  /**
   * A token just created, shown once by the page the creation redirects to (Post/Redirect/Get:
   * a reload shows the list, it never creates a second token).
   */
  newToken?: FlashToken;
}

export interface FlashToken {
  id: number;
  token: string;
  name: string;
  scope: string;
  projects: string[];
  expiresAt: number | null;
}

export interface PageContext {
  user: User | null;
  /** Lazily issued: reading it may set the pre-session CSRF cookie. */
  csrf(): string;
  flash: Flash | null;
  mayCreateProjects: boolean;
  isAdmin: boolean;
  /** The path of the page, for the current navigation entry. */
  path: string;
  /** True while an administrator must enrol a second factor first. */
  mustEnrol2fa: boolean;
}

/** The hidden field every form carries. */
export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf()}" />`;
}

/** A one-button form that POSTs (sign out, revoke, remove …). */
export function postButton(
  ctx: PageContext,
  action: string,
  label: string,
  opts: { fields?: Record<string, string>; danger?: boolean } = {},
): SafeHtml {
  const fields = Object.entries(opts.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
  );
  return html`<form method="post" action="${action}" class="inline">
    ${csrfField(ctx)}${fields}<button
      type="submit"
      class="${opts.danger ? 'button danger small' : 'button secondary small'}"
    >
      ${label}
    </button>
  </form>`;
}

function navLink(ctx: PageContext, href: string, label: string, match = href): SafeHtml {
  const current = ctx.path === match || (match !== '/' && ctx.path.startsWith(match));
  return html`<a href="${href}" ${current ? html` aria-current="page"` : ''}>${label}</a>`;
}

export function layout(
  ctx: PageContext,
  title: string,
  content: HtmlValue,
  opts: { wide?: boolean } = {},
): SafeHtml {
  const user = ctx.user;
  const nav = ctx.mustEnrol2fa
    ? []
    : [
        navLink(ctx, '/', 'Projects', '/'),
        ctx.mayCreateProjects ? navLink(ctx, '/projects/new', 'New project') : '',
        user ? navLink(ctx, '/account/publishers', 'Pending publishers') : '',
        user ? navLink(ctx, '/account/tokens', 'API tokens') : '',
        ctx.isAdmin ? navLink(ctx, '/admin/users', 'Admin', '/admin/') : '',
      ];
  const account = user
    ? html`<a class="user" href="/account">${user.username}</a
        >${postButton(ctx, '/logout', 'Sign out')}`
    : html`<a class="button small" href="/login">Sign in</a>`;
  const flash = ctx.flash
    ? html`<div
        class="flash flash-${ctx.flash.kind}"
        role="${ctx.flash.kind === 'error' ? 'alert' : 'status'}"
      >
        ${ctx.flash.text}
      </div>`
    : '';
  return html`<!DOCTYPE html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · pier</title>
        <link rel="stylesheet" href="/static/pier.css" />
        <script src="/static/pier.js" defer></script>
      </head>
      <body>
        <header class="site">
          <div class="bar${opts.wide ? ' wide' : ''}">
            <a class="brand" href="/"><span class="logo" aria-hidden="true">◆</span> pier</a>
            <nav class="main-nav">${nav}</nav>
            <details class="site-menu">
              <summary>Menu</summary>
              <nav aria-label="Menu">${nav}</nav>
            </details>
            <div class="account">${account}</div>
          </div>
        </header>
        <main class="${opts.wide ? 'wide' : ''}">${flash} ${content}</main>
        <footer class="site">
          <div class="bar${opts.wide ? ' wide' : ''}">
            pier · a Python package index with trusted publishing
          </div>
        </footer>
      </body>
    </html> `;
}

/** A labelled input with its error next to it. */
export function field(
  name: string,
  label: string,
  opts: {
    value?: string;
    error?: string;
    type?: string;
    hint?: HtmlValue;
    placeholder?: string;
    required?: boolean;
    autocomplete?: string;
    inputmode?: string;
  } = {},
): SafeHtml {
  const id = `f-${name}`;
  const errorId = `${id}-error`;
  return html`<div class="field${opts.error ? ' has-error' : ''}">
    <label for="${id}">${label}</label>
    <input
      id="${id}"
      name="${name}"
      type="${opts.type ?? 'text'}"
      value="${opts.value ?? ''}"
      ${opts.placeholder ? html` placeholder="${opts.placeholder}"` : ''}${opts.required ? html` required` : ''}${opts.autocomplete ? html` autocomplete="${opts.autocomplete}"` : ''}${opts.inputmode ? html` inputmode="${opts.inputmode}"` : ''}${opts.error ? html` aria-invalid="true" aria-describedby="${errorId}"` : ''}
    />
    ${opts.hint ? html`<div class="hint">${opts.hint}</div>` : ''}
    ${opts.error ? html`<div class="error" id="${errorId}" data-field="${name}">${opts.error}</div>` : ''}
  </div>`;
}

export function select(
  name: string,
  label: string,
  options: { value: string; label: string }[],
  opts: { value?: string; error?: string; hint?: HtmlValue } = {},
): SafeHtml {
  const id = `f-${name}`;
  return html`<div class="field${opts.error ? ' has-error' : ''}">
    <label for="${id}">${label}</label>
    <select id="${id}" name="${name}">
      ${options.map(
        (o) =>
          html`<option value="${o.value}" ${o.value === opts.value ? html` selected` : ''}>
            ${o.label}
          </option>`,
      )}
    </select>
    ${opts.hint ? html`<div class="hint">${opts.hint}</div>` : ''}
    ${opts.error ? html`<div class="error" data-field="${name}">${opts.error}</div>` : ''}
  </div>`;
}

export function checkbox(name: string, label: string, checked = false): SafeHtml {
  return html`<div class="field checkbox">
    <label
      ><input type="checkbox" name="${name}" value="1" ${checked ? html` checked` : ''} />
      ${label}</label
    >
  </div>`;
}

/** A form-level error (not tied to one field). */
export function formError(message: string | null | undefined): SafeHtml | '' {
  return message ? html`<div class="form-error" role="alert">${message}</div>` : '';
}

/**
 * A card holding one form: its title, an optional note, the form-level error, then the form with
 * its CSRF field, its fields and its submit button.
 */
export function formCard(
  ctx: PageContext,
  form: {
    title: HtmlValue;
    action: string;
    id: string;
    submit: string;
    note?: HtmlValue;
    error?: HtmlValue;
  },
  fields: HtmlValue,
): SafeHtml {
  return html`<section class="card">
    <h2>${form.title}</h2>
    ${form.note ? html`<p class="muted">${form.note}</p>` : ''} ${form.error ?? ''}
    <form method="post" action="${form.action}" id="${form.id}">
      ${csrfField(ctx)} ${fields}
      <button type="submit">${form.submit}</button>
    </form>
  </section>`;
}

export function errorPage(ctx: PageContext, status: number, message: string): SafeHtml {
  const titles: Record<number, string> = {
    400: 'Bad request',
    403: 'Forbidden',
    404: 'Not found',
    409: 'Conflict',
    429: 'Too many requests',
  };
  const title = titles[status] ?? 'Error';
  return layout(
    ctx,
    title,
    html`<section class="card narrow">
      <h1>${title}</h1>
      <p class="error-message">${message}</p>
      <p><a href="/">Back to the projects</a></p>
    </section>`,
  );
}
