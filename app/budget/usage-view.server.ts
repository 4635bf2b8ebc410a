import type { BudgetNoticeData } from "~/components/budget-notice";
import type { Queryable } from "~/lib/db.server";
import { exactGbp, formatGbp } from "~/lib/money";
import type { Role } from "~/lib/roles";
import { formatInZone } from "~/lib/schedule.server";
import type { BudgetAlert } from "~/models/budget-alerts.server";
import { getUsageReport, type BudgetDay, type UsageReport } from "~/models/usage.server";

/**
 * The budget as pages and the API show it: the figures of models/usage.server's report, with every amount also
 * in words (£12.34) and the day's state in a sentence a person can act on.
 */

/** Today's figures in one sentence each: spent, set aside for what is running, the limit, and what is left. */
export function describeToday(day: BudgetDay) {
  const left = Math.max(0, day.limitGbpMicros - day.costGbpMicros - day.reservedGbpMicros);
  const stopped = day.dispatchStoppedAt !== null || day.costGbpMicros >= day.limitGbpMicros;
  return {
    usageDate: day.usageDate,
    timeZone: day.timeZone,
    spentLabel: formatGbp(day.costGbpMicros),
    reservedLabel: formatGbp(day.reservedGbpMicros),
    limitLabel: formatGbp(day.limitGbpMicros),
    leftLabel: formatGbp(left),
    leftGbpMicros: left,
    overshootLabel: day.overshootGbpMicros > 0 ? formatGbp(day.overshootGbpMicros) : null,
    resumesLabel: formatInZone(day.resumesAt, day.timeZone),
    status: stopped
      ? `Nothing more starts today: new episodes wait until ${formatInZone(day.resumesAt, day.timeZone)}.`
      : `${formatGbp(left)} is left today: episodes start while their estimated cost fits in it.`,
  };
}

export function budgetNotice(day: BudgetDay, alerts: BudgetAlert[]): BudgetNoticeData {
  return {
    alerts: alerts.map((alert) => ({
      thresholdPercent: alert.thresholdPercent,
      costLabel: formatGbp(alert.costGbpMicros),
      limitLabel: formatGbp(alert.limitGbpMicros),
    })),
    overshootLabel: day.overshootGbpMicros > 0 ? formatGbp(day.overshootGbpMicros) : null,
    resumesLabel: formatInZone(day.resumesAt, day.timeZone),
  };
}

function breakdownView(rows: NonNullable<UsageReport["details"]>["byProject"]) {
  return rows.map((row) => ({ ...row, costLabel: formatGbp(row.costGbpMicros) }));
}

/** What /usage renders. */
export async function usagePageView(sql: Queryable, actor: { organizationId: string; role: Role }, page: number) {
  const report = await getUsageReport(sql, actor, { page });
  const { today, days, details } = report;
  return {
    today: describeToday(today),
    days: days.map((day) => ({
      usageDate: day.usageDate,
      costGbpMicros: day.costGbpMicros,
      costLabel: formatGbp(day.costGbpMicros),
      overshootLabel: day.overshootGbpMicros > 0 ? formatGbp(day.overshootGbpMicros) : null,
    })),
    limitGbpMicros: today.limitGbpMicros,
    details: details
      ? {
          notice: budgetNotice(today, details.alerts),
          byProject: breakdownView(details.byProject),
          byModel: breakdownView(details.byModel),
          overshoots: details.overshoots.map((o) => ({
            ...o,
            reservedLabel: formatGbp(o.reservedGbpMicros),
            costLabel: formatGbp(o.costGbpMicros),
            overLabel: formatGbp(o.costGbpMicros - o.reservedGbpMicros),
          })),
          ledger: {
            page: details.ledger.page,
            pageCount: details.ledger.pageCount,
            total: details.ledger.total,
            rows: details.ledger.rows.map((row) => ({
              id: row.id,
              usageDate: row.usageDate,
              at: row.createdAt.toISOString(),
              projectTitle: row.projectTitle,
              episodeId: row.episodeId,
              agent: row.agent,
              model: row.model,
              promptTokens: row.promptTokens,
              completionTokens: row.completionTokens,
              costLabel: formatGbp(row.costGbpMicros),
              costGbp: exactGbp(row.costGbpMicros),
            })),
          },
        }
      : null,
  };
}

/** GET /api/usage: the same figures as /usage, amounts in integer micro-GBP beside their £ labels. */
export async function usageApiView(sql: Queryable, actor: { organizationId: string; role: Role }, page: number) {
  const { today, days, details } = await getUsageReport(sql, actor, { page });
  const described = describeToday(today);
  return {
    today: {
      usageDate: today.usageDate,
      timeZone: today.timeZone,
      spentGbpMicros: today.costGbpMicros,
      reservedGbpMicros: today.reservedGbpMicros,
      limitGbpMicros: today.limitGbpMicros,
      leftGbpMicros: described.leftGbpMicros,
      overshootGbpMicros: today.overshootGbpMicros,
      dispatchStopped: today.dispatchStoppedAt !== null,
      resumesAt: today.resumesAt.toISOString(),
      summary: described.status,
    },
    days: days.map((day) => ({ usageDate: day.usageDate, spentGbpMicros: day.costGbpMicros, overshootGbpMicros: day.overshootGbpMicros })),
    byProject: details?.byProject ?? null,
    byModel: details?.byModel ?? null,
    alerts: details ? details.alerts.map((a) => ({ thresholdPercent: a.thresholdPercent, raisedAt: a.createdAt.toISOString() })) : null,
    overshoots: details?.overshoots ?? null,
    ledger: details
      ? {
          page: details.ledger.page,
          pageCount: details.ledger.pageCount,
          total: details.ledger.total,
          rows: details.ledger.rows.map((row) => ({
            id: row.id,
            usageDate: row.usageDate,
            createdAt: row.createdAt.toISOString(),
            episodeId: row.episodeId,
            projectTitle: row.projectTitle,
            callId: row.callId,
            agent: row.agent,
            model: row.model,
            promptTokens: row.promptTokens,
            completionTokens: row.completionTokens,
            costGbpMicros: row.costGbpMicros,
          })),
        }
      : null,
  };
}
