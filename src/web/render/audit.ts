// Audit log pages: the entries of src/audit/log.ts (queryAudit), filterable by kind, with the
// reason of every failed exchange in view.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { queryAudit, type AuditRecord } from '../../audit/log.js';
import { html, type SafeHtml } from '../html.js';
import { formatTime, isoTime } from './format.js';

export interface AuditKind {
  key: string;
  label: string;
  /** The audit actions of this kind; null for every action. */
  actions: readonly string[] | null;
  /** Only on the administrators' page. */
  adminOnly?: boolean;
}

export const AUDIT_KINDS: readonly AuditKind[] = [
  { key: 'all', label: 'All', actions: null },
  { key: 'exchanges', label: 'Token exchanges', actions: ['oidc-exchange', 'oidc-burn'] },
  { key: 'failed-exchanges', label: 'Failed exchanges', actions: ['oidc-exchange-failed'] },
  { key: 'uploads', label: 'Uploads', actions: ['upload', 'provenance-degraded'] },
  {
    key: 'publishers',
    label: 'Publisher changes',
    actions: [
      'publisher-add',
      'publisher-remove',
      'pending-publisher-add',
      'pending-publisher-remove',
      'org-publisher-add',
      'org-publisher-remove',
    ],
  },
  { key: 'tokens', label: 'Token changes', actions: ['token-create', 'token-revoke'] },
  {
    key: 'project',
    label: 'Project changes',
    actions: [
      'project-create',
      'project-change',
      'role-set',
      'role-remove',
      'yank',
      'unyank',
      'delete-release',
      'delete-file',
    ],
  },
  {
    key: 'users',
    label: 'Users',
    actions: ['user-add', 'user-change', 'user-password', 'user-2fa-enable', 'user-2fa-disable'],
    adminOnly: true,
  },
  { key: 'issuers', label: 'Issuers', actions: ['issuer-add', 'issuer-remove'], adminOnly: true },
];

export function auditKind(key: string | undefined): AuditKind {
  return AUDIT_KINDS.find((k) => k.key === key) ?? AUDIT_KINDS[0]!;
}

/** A page of entries of a kind, newest first, older than `beforeId`. */
export async function auditPage(
  db: Kysely<Database>,
  opts: { projectId?: number; kind: AuditKind; beforeId?: number; limit: number },
): Promise<AuditRecord[]> {
  const base = { projectId: opts.projectId, beforeId: opts.beforeId, limit: opts.limit };
  if (opts.kind.actions === null) return queryAudit(db, base);
  const lists = await Promise.all(
    opts.kind.actions.map((action) => queryAudit(db, { ...base, action })),
  );
  return lists
    .flat()
    .sort((a, b) => b.id - a.id)
    .slice(0, opts.limit);
}

function value(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function details(e: AuditRecord): SafeHtml {
  const d = e.details;
  const rows: SafeHtml[] = [];
  if (e.action === 'oidc-exchange-failed') {
    rows.push(html`<div class="reason">${value(d.code)}: ${value(d.description)}</div>`);
  }
  const claims = (d.claims ?? null) as Record<string, unknown> | null;
  const skip = new Set(['code', 'description', 'claims', 'trusted_publishing']);
  const entries = Object.entries(d).filter(([k, v]) => !skip.has(k) && v !== null && v !== '');
  if (entries.length > 0)
    rows.push(
      html`<dl class="kv">
        ${entries.map(
          ([k, v]) =>
            html`<dt>${k}</dt>
              <dd>${value(v)}</dd>`,
        )}
      </dl>`,
    );
  const tp = (d.trusted_publishing ?? null) as {
    publisher?: { description?: string };
    claims?: Record<string, unknown>;
  } | null;
  if (tp?.publisher?.description)
    rows.push(html`<div class="small">via trusted publisher ${tp.publisher.description}</div>`);
  const shownClaims = claims ?? tp?.claims ?? null;
  if (shownClaims && typeof shownClaims === 'object') {
    const list = Object.entries(shownClaims).filter(([, v]) => v !== null && v !== '');
    if (list.length > 0)
      rows.push(
        html`<details>
          <summary class="small">claims</summary>
          <dl class="kv">
            ${list.map(
              ([k, v]) =>
                html`<dt>${k}</dt>
                  <dd>${value(v)}</dd>`,
            )}
          </dl>
        </details>`,
      );
  }
  return html`${rows}`;
}

export function auditTable(
  events: AuditRecord[],
  opts: { base: string; kind: AuditKind; showProject: boolean; admin: boolean; limit: number },
): SafeHtml {
  const kinds = AUDIT_KINDS.filter((k) => opts.admin || !k.adminOnly);
  const last = events[events.length - 1];
  return html`<nav class="filters" aria-label="Kind">
      ${kinds.map(
        (k) =>
          html`<a
            href="${opts.base}?kind=${k.key}"
            ${k.key === opts.kind.key ? html` aria-current="page"` : ''}
            >${k.label}</a
          >`,
      )}
    </nav>
    ${
      events.length === 0
        ? html`<p class="muted">No entries.</p>`
        : html`<table class="audit">
            <thead>
              <tr>
                <th>When</th>
                <th>Action</th>
                <th>Who</th>
                ${opts.showProject ? html`<th>Project</th>` : ''}
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              ${events.map(
                (e) =>
                  html`<tr data-action="${e.action}">
                    <td class="num">
                      <time datetime="${isoTime(e.at)}">${formatTime(e.at)}</time>
                    </td>
                    <td class="action${e.action.endsWith('-failed') ? ' failed' : ''}">
                      ${e.action}
                    </td>
                    <td>${e.actor}${e.ip ? html`<div class="muted small">${e.ip}</div>` : ''}</td>
                    ${opts.showProject ? html`<td>${e.project ?? ''}</td>` : ''}
                    <td class="details">${details(e)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${events.length === opts.limit && last ? html`<p class="pager"><a href="${opts.base}?kind=${opts.kind.key}&before=${last.id}">Older entries →</a></p>` : ''}`;
}
