import type { Queryable } from "~/lib/db.server";

export type EpisodeStatus = "DRAFT" | "QUEUED" | "GENERATING" | "PUBLISHED" | "FAILED";

export interface EpisodeSummary {
  id: string;
  title: string | null;
  status: EpisodeStatus;
  scheduledFor: Date;
  publishedAt: Date | null;
}

/** A project's episodes, newest slot first, a page at a time. */
export async function listEpisodes(
  sql: Queryable,
  organizationId: string,
  projectId: string,
  options: { limit?: number; before?: Date } = {},
): Promise<EpisodeSummary[]> {
  return sql<EpisodeSummary[]>`
    select id, title, status, scheduled_for, published_at
    from episodes
    where organization_id = ${organizationId} and project_id = ${projectId}
      and (${options.before ?? null}::timestamptz is null or scheduled_for < ${options.before ?? null})
    order by scheduled_for desc
    limit ${options.limit ?? 50}`;
}
