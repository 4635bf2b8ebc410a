import type { Db, Queryable } from "~/lib/db.server";
import type { Answers, QuestionKey } from "~/lib/futura";
import type { RequestMeta } from "~/lib/http.server";
import { auditFor, NO_REQUEST, recordAudit, SYSTEM_ACTOR } from "./audit.server";
import { trackEvent } from "./events.server";
import type { Actor } from "./organizations.server";

export interface ConversationRow {
  id: string;
  organizationId: string;
  userId: string;
  status: "active" | "completed" | "abandoned";
  answers: Answers;
  projectId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Drafts untouched this long are abandoned by the sweeper. */
export const STALE_AFTER_DAYS = 7;

export async function getActiveConversation(sql: Queryable, actor: Pick<Actor, "organizationId" | "userId">) {
  const [conversation] = await sql<ConversationRow[]>`
    select * from project_conversations
    where organization_id = ${actor.organizationId} and user_id = ${actor.userId} and status = 'active'
    order by updated_at desc
    limit 1`;
  return conversation;
}

/** Stores one answer, starting the conversation if there is none. Answers may be changed until confirmed. */
export async function saveAnswer(
  db: Db,
  actor: Actor,
  key: QuestionKey,
  answer: string,
  meta: RequestMeta,
): Promise<{ ok: true; conversation: ConversationRow }> {
  return db.begin(async (sql) => {
    const existing = await getActiveConversation(sql, actor);
    const [conversation] = existing
      ? await sql<ConversationRow[]>`
          update project_conversations
          set answers = answers || ${sql.json({ [key]: answer })}, version = version + 1
          where id = ${existing.id} and organization_id = ${actor.organizationId}
          returning *`
      : await sql<ConversationRow[]>`
          insert into project_conversations (organization_id, user_id, answers)
          values (${actor.organizationId}, ${actor.userId}, ${sql.json({ [key]: answer })})
          returning *`;
    await recordAudit(
      sql,
      auditFor(actor, "conversation.answered", { type: "project_conversation", id: conversation.id }, {
        before: existing ? { [key]: existing.answers[key] ?? null } : undefined,
        after: { [key]: answer },
      }),
      meta,
    );
    return { ok: true, conversation } as const;
  });
}

async function abandon(sql: Queryable, conversation: ConversationRow, reason: "started_over" | "stale") {
  await sql`
    update project_conversations set status = 'abandoned', version = version + 1
    where id = ${conversation.id} and organization_id = ${conversation.organizationId}`;
  await trackEvent(sql, {
    organizationId: conversation.organizationId,
    userId: conversation.userId,
    type: "conversation_abandoned",
    data: { conversationId: conversation.id, reason, answered: Object.keys(conversation.answers).length },
  });
}

/** "Start over": the current draft is abandoned and the next answer begins a new one. */
export async function startOver(db: Db, actor: Actor, meta: RequestMeta): Promise<{ ok: true }> {
  return db.begin(async (sql) => {
    const conversation = await getActiveConversation(sql, actor);
    if (!conversation) return { ok: true } as const;
    await abandon(sql, conversation, "started_over");
    await recordAudit(sql, auditFor(actor, "conversation.abandoned", { type: "project_conversation", id: conversation.id }), meta);
    return { ok: true } as const;
  });
}

/** Abandons drafts nobody has touched for STALE_AFTER_DAYS; run by the background sweeper. */
export async function abandonStaleConversations(db: Db, now = new Date()): Promise<number> {
  return db.begin(async (sql) => {
    const stale = await sql<ConversationRow[]>`
      select * from project_conversations
      where status = 'active' and updated_at < ${now}::timestamptz - make_interval(days => ${STALE_AFTER_DAYS})
      order by updated_at
      limit 500
      for update skip locked`;
    for (const conversation of stale) {
      await abandon(sql, conversation, "stale");
      await recordAudit(
        sql,
        auditFor(SYSTEM_ACTOR, "conversation.abandoned", { type: "project_conversation", id: conversation.id }, {
          organizationId: conversation.organizationId,
          after: { reason: "stale" },
        }),
        NO_REQUEST,
      );
    }
    return stale.length;
  });
}
