import type { Db, Queryable } from "~/lib/db.server";
import { trackEvent } from "./events.server";

/** Readers' ratings of episodes, given from the links in the episode email. */

export interface FeedbackTarget {
  organizationId: string;
  episodeId: string;
  subscriberId: string;
}

export interface FeedbackContext {
  episodeTitle: string;
  projectTitle: string;
  email: string;
  /** What this reader said before, if anything: the form starts from it. */
  current: { rating: number; comment: string } | null;
}

/** The episode and reader a feedback link names, when the reader subscribes to the episode's project. */
export async function findFeedbackContext(sql: Queryable, target: FeedbackTarget): Promise<FeedbackContext | undefined> {
  const [row] = await sql<{ episodeTitle: string | null; projectTitle: string; email: string; rating: number | null; comment: string | null }[]>`
    select e.title as episode_title, p.title as project_title, s.email, f.rating, f.comment
    from episodes e
    join projects p on p.id = e.project_id and p.organization_id = e.organization_id
    join subscribers s on s.project_id = e.project_id and s.organization_id = e.organization_id and s.id = ${target.subscriberId}
    left join episode_feedback f on f.episode_id = e.id and f.subscriber_id = s.id and f.organization_id = e.organization_id
    where e.organization_id = ${target.organizationId} and e.id = ${target.episodeId} and e.status = 'PUBLISHED'`;
  if (!row) return undefined;
  return {
    episodeTitle: row.episodeTitle ?? "Untitled episode",
    projectTitle: row.projectTitle,
    email: row.email,
    current: row.rating === null ? null : { rating: row.rating, comment: row.comment ?? "" },
  };
}

export type FeedbackResult = { ok: true; context: FeedbackContext } | { ok: false; reason: "not_found" };

/** One rating per reader per episode: a second submission replaces the first. Recorded with its event. */
export async function submitFeedback(
  db: Db,
  target: FeedbackTarget,
  input: { rating: number; comment: string },
): Promise<FeedbackResult> {
  return db.begin(async (sql) => {
    const context = await findFeedbackContext(sql, target);
    if (!context) return { ok: false, reason: "not_found" } as const;
    await sql`
      insert into episode_feedback (organization_id, episode_id, subscriber_id, rating, comment)
      values (${target.organizationId}, ${target.episodeId}, ${target.subscriberId}, ${input.rating}, ${input.comment})
      on conflict (episode_id, subscriber_id) do update set rating = excluded.rating, comment = excluded.comment`;
    await trackEvent(sql, {
      organizationId: target.organizationId,
      userId: null,
      type: "feedback_submitted",
      data: { episodeId: target.episodeId, subscriberId: target.subscriberId, rating: input.rating, changed: context.current !== null },
    });
    return { ok: true, context: { ...context, current: input } } as const;
  });
}

/** Whether the subscriber is on the list of the project this episode belongs to, in that organization. */
export async function isSubscriberOfEpisode(
  sql: Queryable,
  input: { organizationId: string; subscriberId: string; episodeId: string },
): Promise<boolean> {
  const [row] = await sql`
    select 1 from subscribers s join episodes e on e.project_id = s.project_id and e.organization_id = s.organization_id
    where s.organization_id = ${input.organizationId} and s.id = ${input.subscriberId} and e.id = ${input.episodeId}`;
  return !!row;
}

/** Someone opened the episode's web page: a subscriber from their email link, or a signed-in member. */
export async function recordEpisodeOpened(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; subscriberId?: string; userId?: string },
): Promise<void> {
  await trackEvent(sql, {
    organizationId: input.organizationId,
    userId: input.userId ?? null,
    type: "episode_opened",
    data: { episodeId: input.episodeId, ...(input.subscriberId ? { subscriberId: input.subscriberId, via: "email" } : { via: "web" }) },
  });
}
