// The audit log: every change to the index, who made it, when and from where. Entries are
// written in the same transaction as the change they describe, so neither exists without the other.
import type { Kysely } from 'kysely';
import type { AuditEvent, Database } from '../db/schema.js';
import { describePrincipal, principalUser, type Principal } from '../auth/principal.js';

export interface Actor {
  principal: Principal;
  /** Client address (X-Forwarded-For only from trusted proxies), null for the CLI. */
  ip: string | null;
  /** How to name the actor when the principal alone cannot (e.g. a trusted publisher). */
  name?: string;
}

export interface AuditEntry {
  action: string;
  project?: { id: number; name: string } | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(
  db: Kysely<Database>,
  actor: Actor,
  entry: AuditEntry,
): Promise<void> {
  const p = actor.principal;
  await db
    .insertInto('audit_events')
    .values({
      at: Date.now(),
      action: entry.action,
      actor: actor.name ?? describePrincipal(p),
      actor_user_id: principalUser(p)?.id ?? null,
      actor_token_id: p.kind === 'token' ? p.token.id : null,
      project_id: entry.project?.id ?? null,
      project_name: entry.project?.name ?? null,
      ip: actor.ip,
      details_json: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

export interface AuditQuery {
  projectId?: number;
  action?: string;
  limit?: number;
  beforeId?: number;
}

export interface AuditRecord {
  id: number;
  at: string;
  action: string;
  actor: string;
  project: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export function toAuditRecord(e: AuditEvent): AuditRecord {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    action: e.action,
    actor: e.actor,
    project: e.project_name,
    ip: e.ip,
    details: JSON.parse(e.details_json) as Record<string, unknown>,
  };
}

export async function queryAudit(db: Kysely<Database>, q: AuditQuery): Promise<AuditRecord[]> {
  let query = db
    .selectFrom('audit_events')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(q.limit ?? 100);
  if (q.projectId !== undefined) query = query.where('project_id', '=', q.projectId);
  if (q.action !== undefined) query = query.where('action', '=', q.action);
  if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
  return (await query.execute()).map(toAuditRecord);
}
