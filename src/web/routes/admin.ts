// Administration: users (add, make admin, allow creating projects, disable, reset the second
// factor), OIDC issuers (add, list, remove), the whole audit log; and creating a project (for
// administrators and users allowed to), all through the services.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { PierError } from '../../errors.js';
import { html, type SafeHtml } from '../html.js';
import {
  checkbox,
  csrfField,
  field,
  formCard,
  formError,
  layout,
  postButton,
  select,
} from '../render/layout.js';
import { dataTable } from '../render/table.js';
import { formatTime } from '../render/format.js';
import { auditKind, auditPage, auditTable } from '../render/audit.js';
import { formBody, formBool, formString } from '../forms.js';
import { sendPage, setFlash, submitChange, webContext, type WebContext } from '../context.js';
import { requireAdmin, requireUser } from '../guards.js';
import { totpEnabled } from '../totp.js';
import { PROVIDER_KINDS, PROVIDER_LABELS } from '../render/publisher-forms.js';
import { registerUpstreamAdminRoutes } from './admin-upstream.js';

export function adminNav(
  current: 'users' | 'issuers' | 'namespaces' | 'audit' | 'upstream',
): SafeHtml {
  const link = (key: typeof current, label: string) =>
    html`<a href="/admin/${key}" ${key === current ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<h1>Administration</h1>
    <nav class="manage-nav">
      ${link('users', 'Users')}${link('issuers', 'OIDC issuers')}${link('namespaces', 'Namespaces')}${link('audit', 'Audit log')}${link('upstream', 'Upstream')}
    </nav>`;
}

/** The user changes the users page offers, each one AuthService.updateUser call. */
export const USER_CHANGES: Record<
  string,
  { admin?: boolean; mayCreateProjects?: boolean; disabled?: boolean }
> = {
  'make-admin': { admin: true },
  'remove-admin': { admin: false },
  'allow-create': { mayCreateProjects: true },
  'disallow-create': { mayCreateProjects: false },
  disable: { disabled: true },
  enable: { disabled: false },
};

interface AddUserForm {
  username: string;
  admin: boolean;
  mayCreateProjects: boolean;
}

async function usersPage(
  s: Services,
  ctx: WebContext,
  opts: {
    error?: string | null;
    form?: AddUserForm;
    created?: { username: string; password: string | null };
  } = {},
): Promise<SafeHtml> {
  const users = await s.auth.listUsers();
  const form = opts.form ?? { username: '', admin: false, mayCreateProjects: false };
  const action = (username: string) => `/admin/users/${encodeURIComponent(username)}`;
  const button = (username: string, change: string, label: string, danger = false) =>
    postButton(ctx, action(username), label, { fields: { change }, danger });
  return layout(
    ctx,
    'Users',
    html`${adminNav('users')}
      ${
        opts.created
          ? html`<section class="card" id="new-user">
              <h2>Added ${opts.created.username}</h2>
              ${
                opts.created.password
                  ? html`<p>The generated password, shown only now:</p>
                      <div class="codeblock">
                        <pre id="new-user-password">${opts.created.password}</pre>
                        <button
                          type="button"
                          class="small copy"
                          data-copy-target="new-user-password"
                          hidden
                        >
                          Copy
                        </button>
                      </div>`
                  : html`<p>With the password you gave.</p>`
              }
            </section>`
          : ''
      }
      <section class="card">
        ${dataTable(
          'users',
          ['User', 'Roles', 'Two-factor', 'Created', ''],
          html`${users.map(
            (u) =>
              html`<tr data-user="${u.username}" class="${u.disabled === 1 ? 'disabled' : ''}">
                <td>
                  <strong>${u.username}</strong
                  >${u.disabled === 1 ? html` <span class="badge badge-off">disabled</span>` : ''}
                </td>
                <td>
                  ${u.is_admin === 1 ? html`<span class="badge">admin</span> ` : ''}${u.may_create_projects === 1 ? html`<span class="badge">creates projects</span>` : ''}
                </td>
                <td>
                  ${totpEnabled(u) ? html`<span class="badge badge-tp">on</span>` : html`<span class="muted">off</span>`}
                </td>
                <td>${formatTime(u.created_at)}</td>
                <td>
                  ${u.is_admin === 1 ? button(u.username, 'remove-admin', 'Remove admin') : button(u.username, 'make-admin', 'Make admin')}
                  ${u.may_create_projects === 1 ? button(u.username, 'disallow-create', 'Disallow creating projects') : button(u.username, 'allow-create', 'Allow creating projects')}
                  ${u.disabled === 1 ? button(u.username, 'enable', 'Enable') : button(u.username, 'disable', 'Disable', true)}
                  ${totpEnabled(u) ? button(u.username, 'reset-2fa', 'Reset two-factor', true) : ''}
                </td>
              </tr>`,
          )}`,
        )}
      </section>
      ${formCard(
        ctx,
        {
          title: 'Add a user',
          action: '/admin/users',
          id: 'add-user-form',
          submit: 'Add user',
          error: formError(opts.error),
        },
        html`<div class="grid-2">
            ${field('username', 'User name', { value: form.username, required: true })}
            ${field('password', 'Password (optional)', { type: 'password', autocomplete: 'new-password', hint: 'Leave empty to generate one, shown once.' })}
          </div>
          ${checkbox('admin', 'Administrator', form.admin)}
          ${checkbox('may_create_projects', 'May create projects', form.mayCreateProjects)}`,
      )}`,
    { wide: true },
  );
}

async function issuersPage(
  s: Services,
  ctx: WebContext,
  opts: { error?: string | null; values?: Record<string, string> } = {},
): Promise<SafeHtml> {
  const issuers = await s.issuers.list();
  const v = opts.values ?? {};
  return layout(
    ctx,
    'OIDC issuers',
    html`${adminNav('issuers')}
      <section class="card">
        <p class="muted">
          A token is considered only when its <code>iss</code> is exactly one of these URLs. The
          four public ones are built in; add GitHub Enterprise, self-managed GitLab or Forgejo here.
        </p>
        ${dataTable(
          'issuers',
          ['URL', 'Kind', 'API', ''],
          html`${issuers.map(
            (i) =>
              html`<tr data-issuer="${i.url}">
                <td>
                  <code>${i.url}</code
                  >${i.builtin ? html` <span class="badge">built in</span>` : ''}${i.insecure ? html` <span class="badge badge-yanked">insecure (loopback)</span>` : ''}
                </td>
                <td>${PROVIDER_LABELS[i.kind]}</td>
                <td>${i.apiUrl ?? ''}</td>
                <td>
                  ${i.builtin ? '' : postButton(ctx, '/admin/issuers/remove', 'Remove', { fields: { url: i.url }, danger: true })}
                </td>
              </tr>`,
          )}`,
        )}
      </section>
      ${formCard(
        ctx,
        {
          title: 'Add an issuer',
          action: '/admin/issuers',
          id: 'add-issuer-form',
          submit: 'Add issuer',
          error: formError(opts.error),
        },
        html`<div class="grid-2">
            ${select(
              'kind',
              'Kind',
              PROVIDER_KINDS.map((k) => ({ value: k, label: PROVIDER_LABELS[k] })),
              { value: v.kind ?? 'github' },
            )}
            ${field('url', 'Issuer URL', { value: v.url ?? '', placeholder: 'https://github.example.com/_services/token', required: true })}
            ${field('api_url', 'API URL (optional)', { value: v.api_url ?? '', placeholder: 'https://codeberg.org/api/v1', hint: "Where owner ids are looked up, when it cannot be derived from the issuer's URL." })}
          </div>
          ${checkbox('insecure', 'Plain HTTP on a loopback address (development and tests only)', v.insecure === '1')}`,
      )}`,
  );
}

function newProjectPage(
  ctx: WebContext,
  opts: { name?: string; error?: string | null; shadowChoice?: boolean; shadow?: boolean } = {},
) {
  return layout(
    ctx,
    'New project',
    html`<section class="card narrow">
      <h1>New project</h1>
      <p class="muted">
        You will be its owner. (Uploading the first file of a new name creates a project too.)
      </p>
      <form method="post" action="/projects/new" id="new-project-form">
        ${csrfField(ctx)}
        ${field('name', 'Project name', { value: opts.name ?? '', error: opts.error ?? undefined, required: true })}
        ${
          opts.shadowChoice
            ? html`${checkbox(
                  'shadow_upstream',
                  'Shadow the upstream project of this name',
                  opts.shadow ?? false,
                )}
                <p class="hint">
                  A name that exists on the upstream index is refused unless you choose this: the
                  project created here replaces the public one for everyone who installs from this
                  index.
                </p>`
            : ''
        }
        <button type="submit">Create project</button>
      </form>
    </section>`,
  );
}

export function registerAdminRoutes(web: FastifyInstance, s: Services): void {
  /** Administrators of an index with an upstream may create a project that shadows a name there. */
  const shadowChoice = (ctx: WebContext) => ctx.isAdmin && s.proxy.enabled;
  registerUpstreamAdminRoutes(web, s, () => adminNav('upstream'));
  web.get('/admin/', async (request, reply) => {
    requireAdmin(webContext(request), request);
    return reply.redirect('/admin/users', 303);
  });

  web.get('/admin/users', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    return sendPage(reply, await usersPage(s, ctx));
  });

  web.post('/admin/users', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    const body = formBody(request.body);
    const form: AddUserForm = {
      username: formString(body, 'username').trim(),
      admin: formBool(body, 'admin'),
      mayCreateProjects: formBool(body, 'may_create_projects'),
    };
    const password = formString(body, 'password');
    try {
      const { user, generatedPassword } = await s.auth.addUser(ctx.actor, {
        username: form.username,
        password: password === '' ? null : password,
        admin: form.admin,
        mayCreateProjects: form.mayCreateProjects,
      });
      return sendPage(
        reply,
        await usersPage(s, ctx, {
          created: { username: user.username, password: generatedPassword },
        }),
        201,
      );
    } catch (err) {
      if (!(err instanceof PierError) || err.status >= 500) throw err;
      return sendPage(reply, await usersPage(s, ctx, { error: err.message, form }), err.status);
    }
  });

  web.post<{ Params: { name: string } }>('/admin/users/:name', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    const change = formString(formBody(request.body), 'change');
    const name = request.params.name;
    if (change === 'reset-2fa') {
      const user = await s.auth.requireUser(name);
      await s.web.twoFactor.disable(ctx.actor, user);
    } else {
      const changes = USER_CHANGES[change];
      if (!changes) throw new PierError(400, `Unknown change '${change}'`);
      await s.auth.updateUser(ctx.actor, name, changes);
    }
    setFlash(s, reply, { kind: 'ok', text: `${name}: done (${change}).` });
    return reply.redirect('/admin/users', 303);
  });

  web.get('/admin/issuers', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    return sendPage(reply, await issuersPage(s, ctx));
  });

  web.post('/admin/issuers', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    const body = formBody(request.body);
    const values = {
      kind: formString(body, 'kind'),
      url: formString(body, 'url').trim(),
      api_url: formString(body, 'api_url').trim(),
      insecure: formBool(body, 'insecure') ? '1' : '',
    };
    return submitChange(
      s,
      reply,
      async () => {
        await s.issuers.add(ctx.actor, {
          kind: values.kind,
          url: values.url,
          insecure: values.insecure === '1',
          apiUrl: values.api_url || null,
        });
        return { text: `Added the issuer ${values.url}.`, to: '/admin/issuers' };
      },
      (err) => issuersPage(s, ctx, { error: err.message, values }),
    );
  });

  web.post('/admin/issuers/remove', async (request, reply) => {
    const ctx = webContext(request);
    requireAdmin(ctx, request);
    const url = formString(formBody(request.body), 'url');
    return submitChange(
      s,
      reply,
      async () => {
        await s.issuers.remove(ctx.actor, url);
        return { text: `Removed the issuer ${url}.`, to: '/admin/issuers' };
      },
      (err) => issuersPage(s, ctx, { error: err.message }),
    );
  });

  web.get<{ Querystring: { kind?: string; before?: string } }>(
    '/admin/audit',
    async (request, reply) => {
      const ctx = webContext(request);
      requireAdmin(ctx, request);
      const kind = auditKind(request.query.kind);
      const before = Number(request.query.before);
      const limit = 50;
      const events = await auditPage(s.db.kysely, {
        kind,
        beforeId: Number.isSafeInteger(before) && before > 0 ? before : undefined,
        limit,
      });
      return sendPage(
        reply,
        layout(
          ctx,
          'Audit log',
          html`${adminNav('audit')}
            <section class="card">
              ${auditTable(events, {
                base: '/admin/audit',
                kind,
                showProject: true,
                admin: true,
                limit,
              })}
            </section>`,
          { wide: true },
        ),
      );
    },
  );

  web.get('/projects/new', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    return sendPage(reply, newProjectPage(ctx, { shadowChoice: shadowChoice(ctx) }));
  });

  web.post('/projects/new', async (request, reply) => {
    const ctx = webContext(request);
    requireUser(ctx, request);
    const body = formBody(request.body);
    const name = formString(body, 'name').trim();
    // The guard's explicit choice (src/registry/projects.ts refuses it to anyone but an admin).
    const shadow = formBool(body, 'shadow_upstream');
    return submitChange(
      s,
      reply,
      async () => {
        const project = await s.projects.create(ctx.actor, name, undefined, {
          shadowUpstream: shadow,
        });
        return {
          text: `Created ${project.name}. Add a trusted publisher to publish it from CI.`,
          to: `/manage/project/${encodeURIComponent(project.normalized_name)}/publishing/`,
        };
      },
      (err) =>
        newProjectPage(ctx, { name, error: err.message, shadowChoice: shadowChoice(ctx), shadow }),
    );
  });
}
