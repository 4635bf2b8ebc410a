import net from "node:net";
import type { Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";

export interface AuditEntry {
  organizationId: string | null;
  actorUserId: string | null;
  actorLabel?: string;
  action: string;
  targetType?: string;
  targetId?: string;
  before?: unknown;
  after?: unknown;
}

/** Writes one audit row. Call it with the transaction's `sql` so the row commits with the change it records. */
export async function recordAudit(sql: Queryable, entry: AuditEntry, meta: RequestMeta): Promise<void> {
  await sql`
    insert into audit_log
      (organization_id, actor_user_id, actor_label, action, target_type, target_id, before, after, ip, user_agent, request_id)
    values (
      ${entry.organizationId}, ${entry.actorUserId}, ${entry.actorLabel ?? ""}, ${entry.action},
      ${entry.targetType ?? null}, ${entry.targetId ?? null},
      ${entry.before === undefined ? null : sql.json(entry.before as never)},
      ${entry.after === undefined ? null : sql.json(entry.after as never)},
      ${meta.ip && net.isIP(meta.ip) ? meta.ip : null},
      ${meta.userAgent?.slice(0, 1000) ?? null},
      ${meta.requestId?.slice(0, 200) ?? null}
    )`;
}
