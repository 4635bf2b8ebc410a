import { absoluteUrl } from "~/lib/app-url.server";
import type { Queryable } from "~/lib/db.server";
import { canManageBudget } from "~/lib/roles";
import type { BudgetAlert } from "~/models/budget-alerts.server";
import { enqueueEmail } from "~/models/email-deliveries.server";
import type { EpisodeRow } from "~/models/episodes.server";
import { getOrganization, listMembers } from "~/models/organizations.server";
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

/**
 * The day's spend crossed 80 % or 100 % of the limit (raised once per threshold per day, see budget-alerts): the
 * owners and admins, who may change the limit, get an email with a link to where it is set.
 */
export async function enqueueBudgetAlertEmails(sql: Queryable, alert: BudgetAlert): Promise<number> {
  const organization = await getOrganization(sql, alert.organizationId);
  const managers = (await listMembers(sql, alert.organizationId)).filter((member) => canManageBudget(member.role) && member.email);
  let enqueued = 0;
  for (const manager of managers) {
    const result = await enqueueEmail(sql, {
      organizationId: alert.organizationId,
      kind: "budget_alert",
      toEmail: manager.email!,
      userId: manager.userId,
      payload: {
        organizationName: organization?.name ?? "your organization",
        level: alert.thresholdPercent >= 100 ? "reached" : "warning",
        spentGbpMicros: alert.costGbpMicros,
        limitGbpMicros: alert.limitGbpMicros,
        day: alert.usageDate,
        settingsUrl: absoluteUrl("/organization"),
      },
    });
    if (result.enqueued) enqueued += 1;
  }
  return enqueued;
}
