// Browsing: the project list with search, and each project's page (description, releases,
// files with sizes, hashes, upload times, yanked markers and trusted-publishing provenance).
// The project page shows what the JSON API serves (the same service), and only to those who may
// read the project (private projects: `mayReadProject`).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Services } from '../../services.js';
import type { Project } from '../../db/schema.js';
import { notFound } from '../../errors.js';
import { mayAdministerProject, mayReadIndex } from '../../auth/permissions.js';
import { normalizeProjectName } from '../../packaging/names.js';
import { compareVersions } from '../../packaging/versions.js';
import { byCodePoint } from '../../registry/projects.js';
import { html, linkOrText, type SafeHtml } from '../html.js';
import { layout } from '../render/layout.js';
import { DescriptionRenderer } from '../render/descriptions.js';
import { formatSize, formatTime, isoTime } from '../render/format.js';
import { isProvenance, renderProvenance } from '../render/provenance.js';
import {
  renderAttestations,
  renderProjectProvenance,
  renderProvenanceStatus,
} from '../render/attestations.js';
import type { StoredAttestation } from '../../attestations/service.js';
import type { ProjectProvenance, ProvenanceStatus } from '../../attestations/status.js';
import { uploadersOf } from '../render/uploader.js';
import { sendPage, webContext, type WebContext } from '../context.js';
import { loginRedirect } from '../guards.js';

const PAGE_SIZE = 50;

/** A file as the JSON API shows it (src/simple/json-api.ts). */
interface JsonFile {
  filename: string;
  packagetype: string;
  python_version: string;
  comment_text: string;
  size: number;
  url: string;
  digests: { md5: string; sha256: string; blake2b_256: string };
  upload_time_iso_8601: string;
  requires_python: string | null;
  yanked: boolean;
  yanked_reason: string | null;
  provenance: unknown;
}

interface JsonInfo {
  name: string;
  version: string | null;
  summary?: string | null;
  description?: string;
  description_content_type?: string | null;
  keywords?: string | null;
  license?: string | null;
  license_expression?: string | null;
  classifiers?: string[];
  author?: string | null;
  author_email?: string | null;
  maintainer?: string | null;
  maintainer_email?: string | null;
  requires_python?: string | null;
  requires_dist?: string[] | null;
  provides_extra?: string[] | null;
  platform?: string | null;
  home_page?: string | null;
  download_url?: string | null;
  project_urls?: Record<string, string> | null;
  yanked?: boolean;
  yanked_reason?: string | null;
}

interface JsonDocument {
  info: JsonInfo;
  urls: JsonFile[];
  releases?: Record<string, JsonFile[]>;
  ownership: { roles: { role: string; user: string }[] };
}

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function projectPath(name: string): string {
  return `/project/${encodeURIComponent(normalizeProjectName(name))}/`;
}

async function readableProject(
  s: Services,
  ctx: WebContext,
  request: FastifyRequest,
  name: string,
): Promise<Project> {
  if (!mayReadIndex(ctx.principal, s.config.readAccess)) throw loginRedirect(request);
  return s.projects.require(name, ctx.principal);
}

function homePage(
  s: Services,
  ctx: WebContext,
  opts: {
    q: string;
    page: number;
    total: number;
    items: {
      project: Project;
      version: string | null;
      summary: string | null;
      at: number | null;
    }[];
  },
): SafeHtml {
  const base = s.publicUrl();
  const pages = Math.max(1, Math.ceil(opts.total / PAGE_SIZE));
  const qs = (page: number) =>
    `/?${new URLSearchParams({ ...(opts.q ? { q: opts.q } : {}), page: String(page) }).toString()}`;
  return layout(
    ctx,
    'Projects',
    html`<div class="hero">
        <div>
          <h1>Projects</h1>
          <p class="meta">
            ${opts.total}
            ${opts.total === 1 ? 'project' : 'projects'}${opts.q ? html` matching <strong>${opts.q}</strong>` : ''}
          </p>
        </div>
        <div class="card small quick-help">
          <div>
            <strong>Install</strong> <code>pip install --index-url ${base}/simple/ PACKAGE</code>
          </div>
          <div>
            <strong>Upload</strong>
            <code>twine upload --repository-url ${base}/legacy/ dist/*</code>
          </div>
        </div>
      </div>
      <form class="search" method="get" action="/" role="search">
        <input
          type="search"
          name="q"
          value="${opts.q}"
          placeholder="Search projects by name or summary"
          aria-label="Search projects"
        />
        <button type="submit">Search</button>
      </form>
      ${
        opts.items.length === 0
          ? html`<p class="muted">${opts.q ? 'No project matches.' : 'No projects yet.'}</p>`
          : html`<ul class="projects">
              ${opts.items.map(
                (i) =>
                  html`<li>
                    <div>
                      <a class="name" href="${projectPath(i.project.name)}">${i.project.name}</a
                      >${i.version ? html`<span class="version">${i.version}</span>` : ''}
                      ${i.project.private === 1 ? html` <span class="badge badge-private">private</span>` : ''}
                      ${i.project.status !== 'active' ? html` <span class="badge badge-off">${i.project.status}</span>` : ''}
                      <div class="summary">${i.summary ?? ''}</div>
                    </div>
                    <div class="when">
                      ${i.at ? html`<time datetime="${isoTime(i.at)}">${formatTime(i.at)}</time>` : html`no releases`}
                    </div>
                  </li>`,
              )}
            </ul>`
      }
      ${
        pages > 1
          ? html`<p class="pager">
              ${opts.page > 1 ? html`<a href="${qs(opts.page - 1)}">← Previous</a> ` : ''}Page
              ${opts.page} of
              ${pages}${opts.page < pages ? html` <a href="${qs(opts.page + 1)}">Next →</a>` : ''}
            </p>`
          : ''
      }`,
  );
}

function list(items: (string | SafeHtml)[] | null | undefined): SafeHtml | '' {
  if (!items || items.length === 0) return '';
  return html`<ul>
    ${items.map((i) => html`<li>${i}</li>`)}
  </ul>`;
}

function sidebarSection(title: string, body: SafeHtml | string | null | undefined): SafeHtml | '' {
  if (body === null || body === undefined || body === '') return '';
  return html`<h3>${title}</h3>
    ${body}`;
}

function fileRow(
  f: JsonFile,
  uploader: string | undefined,
  attestations: readonly StoredAttestation[],
): SafeHtml {
  return html`<tr id="file-${f.filename}">
    <td>
      <a class="filename" href="${f.url}">${f.filename}</a>
      <div class="muted small">
        ${f.packagetype === 'sdist' ? 'Source' : 'Wheel'}${f.python_version && f.python_version !== 'source' ? html` · ${f.python_version}` : ''}${f.requires_python ? html` · Requires-Python ${f.requires_python}` : ''}
      </div>
      ${f.comment_text ? html`<div class="muted small">${f.comment_text}</div>` : ''}
      <dl class="hashes">
        <dt>SHA256</dt>
        <dd class="sha256">${f.digests.sha256}</dd>
        <dt>BLAKE2b-256</dt>
        <dd>${f.digests.blake2b_256}</dd>
        <dt>MD5</dt>
        <dd>${f.digests.md5}</dd>
      </dl>
      ${isProvenance(f.provenance) ? renderProvenance(f.provenance) : ''}
      ${renderAttestations(attestations.filter((a) => a.filename === f.filename))}
      ${uploader !== undefined ? html`<div class="muted small uploader">Uploaded by ${uploader}</div>` : ''}
    </td>
    <td class="num">
      ${formatSize(f.size)}
      <div class="muted small">${f.size.toLocaleString('en')} bytes</div>
    </td>
    <td class="num">
      <time datetime="${f.upload_time_iso_8601}">${formatTime(f.upload_time_iso_8601)}</time>
    </td>
  </tr>`;
}

function projectPage(
  s: Services,
  ctx: WebContext,
  project: Project,
  doc: JsonDocument,
  all: JsonDocument,
  isOwner: boolean,
  description: SafeHtml,
  uploaders: Map<string, string>,
  provenance: {
    attestations: StoredAttestation[];
    status: ProvenanceStatus | null;
    project: ProjectProvenance;
  },
): SafeHtml {
  const info = doc.info;
  const version = info.version;
  const base = s.publicUrl();
  const releases = Object.entries(all.releases ?? {}).sort(([a], [b]) => compareVersions(b, a));
  const path = projectPath(project.name);
  const urls = Object.entries(info.project_urls ?? {});
  const people = (name?: string | null, email?: string | null) =>
    [name, email].filter((x): x is string => typeof x === 'string' && x !== '').join(' · ');
  const install = `pip install --index-url ${base}/simple/ ${project.name}${version ? `==${version}` : ''}`;
  const releaseDate = (files: JsonFile[]) =>
    files.map((f) => f.upload_time_iso_8601).sort()[0] ?? null;
  return layout(
    ctx,
    version ? `${project.name} ${version}` : project.name,
    html`<div class="hero">
        <div>
          <h1>
            <span class="project-name">${project.name}</span>
            ${version ? html`<span class="muted release-version">${version}</span>` : ''}
            ${project.private === 1 ? html`<span class="badge badge-private">private</span>` : ''}
            ${project.status !== 'active' ? html`<span class="badge badge-off">${project.status}</span>` : ''}
            ${info.yanked ? html`<span class="badge badge-yanked">yanked</span>` : ''}
          </h1>
          <p class="summary">${info.summary ?? ''}</p>
        </div>
        ${
          isOwner
            ? html`<div class="manage-nav">
                <a href="/manage/project/${encodeURIComponent(project.normalized_name)}/publishing/"
                  >Publishing</a
                >
                <a
                  href="/manage/project/${encodeURIComponent(project.normalized_name)}/collaborators/"
                  >Collaborators</a
                >
                <a href="/manage/project/${encodeURIComponent(project.normalized_name)}/audit/"
                  >Audit log</a
                >
              </div>`
            : ''
        }
      </div>
      <div class="install">
        <code id="install-command">${install}</code
        ><button type="button" class="small" data-copy-target="install-command" hidden>Copy</button>
      </div>
      ${renderProjectProvenance(
        provenance.project,
        // Owners are told where the provenance-degraded event is; everyone sees the warning.
        isOwner ? `/manage/project/${encodeURIComponent(project.normalized_name)}/audit/` : null,
      )}
      ${info.yanked ? html`<div class="yanked-note"><strong>This release is yanked.</strong> ${info.yanked_reason ? html`Reason: <span class="yanked-reason">${info.yanked_reason}</span>` : 'No reason was given.'}</div>` : ''}
      <div class="layout-2 spaced">
        <div>
          <section class="card">
            <h2>Description</h2>
            ${description}
          </section>
          <section class="card" id="files">
            <h2>Files${version ? html` of ${version}` : ''}</h2>
            ${renderProvenanceStatus(provenance.status)}
            ${
              doc.urls.length === 0
                ? html`<p class="muted">No files.</p>`
                : html`<table class="files">
                    <thead>
                      <tr>
                        <th>File</th>
                        <th>Size</th>
                        <th>Uploaded</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${doc.urls.map((f) =>
                        fileRow(f, uploaders.get(f.filename), provenance.attestations),
                      )}
                    </tbody>
                  </table>`
            }
          </section>
        </div>
        <aside class="sidebar card">
          <h3>Releases</h3>
          ${
            releases.length === 0
              ? html`<p class="muted">None yet.</p>`
              : html`<ul class="releases">
                  ${releases.map(([v, files]) => {
                    const yanked = files.some((f) => f.yanked);
                    const reason = files.find((f) => f.yanked)?.yanked_reason ?? null;
                    const date = releaseDate(files);
                    return html`<li class="${v === version ? 'current' : ''}">
                      <span
                        ><a class="v" href="${path}${encodeURIComponent(v)}/">${v}</a
                        >${yanked ? html` <span class="badge badge-yanked" title="${reason ?? 'yanked'}">yanked</span>` : ''}
                        ${yanked && reason ? html`<div class="muted small">${reason}</div>` : ''}</span
                      >
                      <span class="muted small">${date ? formatTime(date).slice(0, 10) : ''}</span>
                    </li>`;
                  })}
                </ul>`
          }
          ${sidebarSection(
            'Project links',
            list([
              ...(info.home_page ? [linkOrText(info.home_page, 'Homepage')] : []),
              ...(info.download_url ? [linkOrText(info.download_url, 'Download')] : []),
              ...urls.map(([label, url]) => html`${linkOrText(url, label)}`),
            ]),
          )}
          ${sidebarSection('License', info.license_expression ?? info.license ?? null)}
          ${sidebarSection('Requires Python', info.requires_python ?? null)}
          ${sidebarSection('Author', people(info.author, info.author_email) || null)}
          ${sidebarSection('Maintainer', people(info.maintainer, info.maintainer_email) || null)}
          ${sidebarSection('Keywords', info.keywords ?? null)}
          ${sidebarSection('Platform', info.platform ?? null)}
          ${sidebarSection('Dependencies', list(info.requires_dist))}
          ${sidebarSection('Extras', list(info.provides_extra))}
          ${sidebarSection('Classifiers', list(info.classifiers))}
          ${sidebarSection(
            'Owners and maintainers',
            list(
              doc.ownership.roles.map(
                (r) => html`${r.user} <span class="muted small">${r.role}</span>`,
              ),
            ),
          )}
          <h3>API</h3>
          <ul>
            <li>
              <a href="/simple/${encodeURIComponent(project.normalized_name)}/">Simple index</a>
            </li>
            <li><a href="/pypi/${encodeURIComponent(project.normalized_name)}/json">JSON</a></li>
          </ul>
        </aside>
      </div>`,
    { wide: true },
  );
}

export function registerBrowseRoutes(web: FastifyInstance, s: Services): void {
  // Descriptions are rendered once per process, in a worker, within a bound (descriptions.ts).
  const descriptions = new DescriptionRenderer();
  web.addHook('onClose', () => descriptions.close());

  web.get<{ Querystring: { q?: string; page?: string } }>('/', async (request, reply) => {
    const ctx = webContext(request);
    if (!mayReadIndex(ctx.principal, s.config.readAccess)) throw loginRedirect(request);
    const q = (request.query.q ?? '').trim().slice(0, 200);
    const page = Math.max(1, Math.floor(Number(request.query.page ?? 1)) || 1);
    let projects = await s.projects.listVisible(ctx.principal, s.config.readAccess);
    if (q !== '') {
      const key = normalizeProjectName(q);
      const bySummary = new Set(
        (
          await s.db.kysely
            .selectFrom('releases')
            .select('project_id')
            .distinct()
            .where(sql<boolean>`lower(summary) like ${likePattern(q)} escape '\\'`)
            .execute()
        ).map((r) => r.project_id),
      );
      projects = projects.filter((p) => p.normalized_name.includes(key) || bySummary.has(p.id));
    }
    const shown = projects.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    const latest = new Map<number, { version: string; summary: string | null; at: number }>();
    if (shown.length > 0) {
      const rows = await s.db.kysely
        .selectFrom('releases')
        .select(['project_id', 'version', 'summary', 'created_at'])
        .where(
          'project_id',
          'in',
          shown.map((p) => p.id),
        )
        .execute();
      // The most recent release of each project (by when it was first uploaded).
      for (const r of rows) {
        const seen = latest.get(r.project_id);
        if (!seen || r.created_at > seen.at)
          latest.set(r.project_id, { version: r.version, summary: r.summary, at: r.created_at });
      }
    }
    return sendPage(
      reply,
      homePage(s, ctx, {
        q,
        page,
        total: projects.length,
        items: shown
          .sort((a, b) => byCodePoint(a.normalized_name, b.normalized_name))
          .map((project) => {
            const l = latest.get(project.id);
            return {
              project,
              version: l?.version ?? null,
              summary: l?.summary ?? null,
              at: l?.at ?? null,
            };
          }),
      }),
    );
  });

  const showProject = async (
    request: FastifyRequest<{ Params: { name: string; version?: string } }>,
  ): Promise<{ page: SafeHtml } | { redirect: string }> => {
    const ctx = webContext(request);
    const { name, version } = request.params;
    const project = await readableProject(s, ctx, request, name);
    if (name !== project.normalized_name)
      return {
        redirect: `${projectPath(project.name)}${version ? `${encodeURIComponent(version)}/` : ''}`,
      };
    const all = (await s.jsonApi.document(project)) as JsonDocument | null;
    if (!all) throw notFound(`No project named '${name}'`);
    let doc = all;
    if (version !== undefined) {
      const one = (await s.jsonApi.document(project, version)) as JsonDocument | null;
      if (!one) throw notFound(`Project '${project.name}' has no release ${version}`);
      doc = one;
    }
    const isOwner = mayAdministerProject(
      ctx.principal,
      await s.projects.access(ctx.principal, project),
    );
    const description = await descriptions.render(
      doc.info.description,
      doc.info.description_content_type,
    );
    // Who uploaded each file is for those who manage the project (token names are theirs).
    const uploaders = isOwner
      ? await uploadersOf(s.db.kysely, project.id)
      : new Map<string, string>();
    const provenance = {
      attestations: await s.attestations.ofProject(project.id),
      status:
        doc.info.version === null
          ? null
          : await s.attestations.versionStatus(project.id, doc.info.version),
      project: await s.attestations.projectStatus(project.id),
    };
    return {
      page: projectPage(s, ctx, project, doc, all, isOwner, description, uploaders, provenance),
    };
  };

  web.get<{ Params: { name: string } }>('/project/:name/', async (request, reply) => {
    const r = await showProject(request);
    return 'redirect' in r ? reply.redirect(r.redirect, 301) : sendPage(reply, r.page);
  });
  web.get<{ Params: { name: string; version: string } }>(
    '/project/:name/:version/',
    async (request, reply) => {
      const r = await showProject(request);
      return 'redirect' in r ? reply.redirect(r.redirect, 301) : sendPage(reply, r.page);
    },
  );
}
