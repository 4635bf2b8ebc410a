import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { recordAudit } from "./audit.server";
import { trackEvent } from "./events.server";

/**
 * Leaving a project's email list from a signed link: no sign-in, since the link itself proves the reader holds
 * the mailbox. (Managing subscribers as a whole lives with the subscriber pages.)
 */

export interface UnsubscribeTarget {
  organizationId: string;
  projectId: string;
  subscriberId: string;
}

export interface ListMembership {
  email: string;
  status: "pending" | "confirmed" | "unsubscribed" | "bounced" | "complained";
  projectTitle: string;
}

/** The subscriber a link names, with its project's title; undefined when they or the project are gone. */
export async function findListMembership(sql: Queryable, target: UnsubscribeTarget): Promise<ListMembership | undefined> {
  const [row] = await sql<ListMembership[]>`
    select s.email, s.status, p.title as project_title
    from subscribers s join projects p on p.id = s.project_id and p.organization_id = s.organization_id
    where s.organization_id = ${target.organizationId} and s.project_id = ${target.projectId} and s.id = ${target.subscriberId}`;
  return row;
}

export type UnsubscribeResult = { ok: true; membership: ListMembership; changed: boolean } | { ok: false; reason: "not_found" };

/**
 * Unsubscribes at once: status, audit row, event and the cancelling of episode emails not yet sent, in one
 * transaction. A repeat (a second click, the mail client and the page both) changes nothing and still succeeds.
 */
export async function unsubscribe(db: Db, target: UnsubscribeTarget, meta: RequestMeta, via: "one_click" | "page"): Promise<UnsubscribeResult> {
  return db.begin(async (sql) => {
    const membership = await findListMembership(sql, target);
    if (!membership) return { ok: false, reason: "not_found" } as const;
    const [changed] = await sql<{ email: string }[]>`
      update subscribers set status = 'unsubscribed', unsubscribed_at = now(), version = version + 1
      where organization_id = ${target.organizationId} and project_id = ${target.projectId} and id = ${target.subscriberId}
        and status in ('pending', 'confirmed')
      returning email`;
    if (!changed) return { ok: true, membership, changed: false } as const;
    await sql`
      update email_deliveries set status = 'cancelled', last_error = 'The subscriber unsubscribed.'
      where organization_id = ${target.organizationId} and subscriber_id = ${target.subscriberId}
        and kind = 'episode' and status = 'pending' and attempts = 0`;
    await recordAudit(
      sql,
      {
        organizationId: target.organizationId,
        actorUserId: null,
        actorLabel: membership.email,
        action: "subscriber.unsubscribed",
        targetType: "subscriber",
        targetId: target.subscriberId,
        before: { status: membership.status },
        after: { status: "unsubscribed", via },
      },
      meta,
    );
    await trackEvent(sql, {
      organizationId: target.organizationId,
      userId: null,
      type: "subscriber_unsubscribed",
      data: { projectId: target.projectId, subscriberId: target.subscriberId, via },
    });
    return { ok: true, membership: { ...membership, status: "unsubscribed" }, changed: true } as const;
  });
}
