import net from "node:net";
import type { Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";

/** Who an audit row names: a person in an organization, a person outside any, or the system itself. */
export interface AuditActor {
  userId: string | null;
  organizationId: string | null;
  /** Kept when the person is deleted: their email or name, or "system". */
  label: string;
}

export interface AuditEntry {
  organizationId: string | null;
  actorUserId: string | null;
  actorLabel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
}

/** Background work, such as the sweepers. */
export const SYSTEM_ACTOR: AuditActor = { userId: null, organizationId: null, label: "system" };
export const NO_REQUEST: RequestMeta = { ip: null, userAgent: null, requestId: null };

/** The one way an audit record is built: from the actor, what they did, to what, and what it changed. */
export function auditFor(
  actor: AuditActor,
  action: string,
  target: { type: string; id: string } | null,
  change: { before?: unknown; after?: unknown; organizationId?: string | null } = {},
): AuditEntry {
  return {
    organizationId: change.organizationId === undefined ? actor.organizationId : change.organizationId,
    actorUserId: actor.userId,
    actorLabel: actor.label.slice(0, 320),
    action,
    targetType: target?.type ?? null,
    targetId: target?.id.slice(0, 200) ?? null,
    before: change.before,
    after: change.after,
  };
}

/** Writes one audit row. Call it with the transaction's `sql` so the row commits with the change it records. */
export async function recordAudit(sql: Queryable, entry: AuditEntry, meta: RequestMeta): Promise<void> {
  await sql`
    insert into audit_log
      (organization_id, actor_user_id, actor_label, action, target_type, target_id, before, after, ip, user_agent, request_id)
    values (
      ${entry.organizationId}, ${entry.actorUserId}, ${entry.actorLabel}, ${entry.action},
      ${entry.targetType}, ${entry.targetId},
      ${entry.before === undefined ? null : sql.json(entry.before as never)},
      ${entry.after === undefined ? null : sql.json(entry.after as never)},
      ${meta.ip && net.isIP(meta.ip) ? meta.ip : null},
      ${meta.userAgent?.slice(0, 1000) ?? null},
      ${meta.requestId?.slice(0, 200) ?? null}
    )`;
}
