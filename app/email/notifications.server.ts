import { absoluteUrl } from "~/lib/app-url.server";
import type { Queryable } from "~/lib/db.server";
import { enqueueEmail } from "~/models/email-deliveries.server";
import type { EpisodeRow } from "~/models/episodes.server";
import { listMembers } from "~/models/organizations.server";
import { getProject } from "~/models/projects.server";

/**
 * Notifications to the people who run an organization, queued in the transaction of the change they report.
 */

/** An episode reached FAILED: its organization's owners get an email with a link to try again. */
export async function enqueueGenerationFailedEmails(sql: Queryable, episode: EpisodeRow): Promise<number> {
  const project = await getProject(sql, episode.organizationId, episode.projectId);
  const owners = (await listMembers(sql, episode.organizationId)).filter((member) => member.role === "owner" && member.email);
  let enqueued = 0;
  for (const owner of owners) {
    const result = await enqueueEmail(sql, {
      organizationId: episode.organizationId,
      kind: "generation_failed",
      toEmail: owner.email!,
      userId: owner.userId,
      projectId: episode.projectId,
      episodeId: episode.id,
      payload: {
        projectName: project?.title ?? "your project",
        episodeTitle: episode.title,
        scheduledFor: episode.scheduledFor.toISOString(),
        reason: episode.failureReason ?? "The generator gave no reason.",
        retryUrl: absoluteUrl(`/episodes/${episode.id}`),
      },
    });
    if (result.enqueued) enqueued += 1;
  }
  return enqueued;
}
