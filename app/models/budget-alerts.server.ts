import type { Queryable } from "~/lib/db.server";

/** The shares of the daily limit that raise an alert, each once per organization per day. */
export const BUDGET_ALERT_THRESHOLDS = [80, 100] as const;
export type BudgetAlertThreshold = (typeof BUDGET_ALERT_THRESHOLDS)[number];

export interface BudgetAlert {
  id: string;
  organizationId: string;
  usageDate: string;
  thresholdPercent: BudgetAlertThreshold;
  costGbpMicros: number;
  limitGbpMicros: number;
  createdAt: Date;
}

/**
 * Records the thresholds the day's spend has now crossed for the first time, and returns them (none when each
 * was already raised, or nothing was spent). Call it in the transaction that added the spend: the unique key
 * (organization, day, threshold) makes concurrent settlements raise each alert once. Whatever should follow an
 * alert (an email) belongs in that same transaction, enqueued from what this returns.
 */
export async function raiseBudgetAlerts(
  sql: Queryable,
  input: { organizationId: string; usageDate: string },
): Promise<BudgetAlert[]> {
  return sql<BudgetAlert[]>`
    insert into budget_alerts (organization_id, usage_date, threshold_percent, cost_gbp_micros, limit_gbp_micros)
    select d.organization_id, d.usage_date, t.threshold, d.cost_gbp_micros, o.daily_cost_limit_gbp_micros
    from token_usage_daily d
    join organizations o on o.id = d.organization_id
    cross join unnest(${BUDGET_ALERT_THRESHOLDS as unknown as number[]}::smallint[]) as t(threshold)
    where d.organization_id = ${input.organizationId} and d.usage_date = ${input.usageDate}::date
      and d.cost_gbp_micros > 0
      and d.cost_gbp_micros * 100 >= o.daily_cost_limit_gbp_micros * t.threshold
    order by t.threshold
    on conflict (organization_id, usage_date, threshold_percent) do nothing
    returning id, organization_id, usage_date::text, threshold_percent, cost_gbp_micros, limit_gbp_micros, created_at`;
}

/** The alerts raised for one day of the organization, lowest threshold first: the in-app notice shows them. */
export async function listBudgetAlerts(sql: Queryable, organizationId: string, usageDate: string): Promise<BudgetAlert[]> {
  return sql<BudgetAlert[]>`
    select id, organization_id, usage_date::text, threshold_percent, cost_gbp_micros, limit_gbp_micros, created_at
    from budget_alerts
    where organization_id = ${organizationId} and usage_date = ${usageDate}::date
    order by threshold_percent`;
}
