import type { Queryable } from "~/lib/db.server";

export type ProductEventType =
  | "project_created"
  | "project_updated"
  | "settings_updated"
  | "planning_note_added"
  | "conversation_abandoned"
  | "episode_generation_requested"
  | "episode_published"
  | "episode_failed"
  | "episode_opened"
  | "feedback_submitted"
  | "subscriber_unsubscribed";

/** A product event, for understanding use; written in the same transaction as the change it describes. */
export async function trackEvent(
  sql: Queryable,
  event: { organizationId: string; userId: string | null; type: ProductEventType; data?: Record<string, unknown> },
): Promise<void> {
  await sql`
    insert into user_events (organization_id, user_id, event_type, event_data)
    values (${event.organizationId}, ${event.userId}, ${event.type}, ${sql.json((event.data ?? {}) as never)})`;
}
