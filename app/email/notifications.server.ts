import { absoluteUrl } from "~/lib/app-url.server";
import type { Queryable } from "~/lib/db.server";
import { canManageBudget, type Role } from "~/lib/roles";
import type { BudgetAlert } from "~/models/budget-alerts.server";
import { enqueueEmail, type EmailKind, type EmailPayloads, type EnqueueEmailInput } from "~/models/email-deliveries.server";
import type { EpisodeRow } from "~/models/episodes.server";
import { getOrganization, listMembers } from "~/models/organizations.server";
import { getProject } from "~/models/projects.server";

/**
 * Notifications to the people who run an organization, queued in the transaction of the change they report.
 */

/** One email of `kind` to each member whose role `notified` picks; returns how many were queued (not suppressed). */
async function enqueueForMembers<K extends EmailKind>(
  sql: Queryable,
  input: { organizationId: string; kind: K; notified: (role: Role) => boolean; payload: EmailPayloads[K]; projectId?: string; episodeId?: string },
): Promise<number> {
  const members = (await listMembers(sql, input.organizationId)).filter((member) => input.notified(member.role) && member.email);
  let enqueued = 0;
  for (const member of members) {
    const result = await enqueueEmail(sql, {
      organizationId: input.organizationId,
      kind: input.kind,
      toEmail: member.email!,
      userId: member.userId,
      projectId: input.projectId,
      episodeId: input.episodeId,
      payload: input.payload,
      // One kind with its own payload: TypeScript cannot see that through the generic.
    } as EnqueueEmailInput);
    if (result.enqueued) enqueued += 1;
  }
  return enqueued;
}

/** An episode reached FAILED: its organization's owners get an email with a link to try again. */
export async function enqueueGenerationFailedEmails(sql: Queryable, episode: EpisodeRow): Promise<number> {
  const project = await getProject(sql, episode.organizationId, episode.projectId);
  return enqueueForMembers(sql, {
    organizationId: episode.organizationId,
    kind: "generation_failed",
    notified: (role) => role === "owner",
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
}

/**
 * The day's spend crossed 80 % or 100 % of the limit (raised once per threshold per day, see budget-alerts): the
 * owners and admins, who may change the limit, get an email with a link to where it is set.
 */
export async function enqueueBudgetAlertEmails(sql: Queryable, alert: BudgetAlert): Promise<number> {
  const organization = await getOrganization(sql, alert.organizationId);
  return enqueueForMembers(sql, {
    organizationId: alert.organizationId,
    kind: "budget_alert",
    notified: canManageBudget,
    payload: {
      organizationName: organization?.name ?? "your organization",
      level: alert.thresholdPercent >= 100 ? "reached" : "warning",
      spentGbpMicros: alert.costGbpMicros,
      limitGbpMicros: alert.limitGbpMicros,
      day: alert.usageDate,
      settingsUrl: absoluteUrl("/organization"),
    },
  });
}
