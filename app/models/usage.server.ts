import type { Queryable } from "~/lib/db.server";
import { canManageBudget, type Role } from "~/lib/roles";
import { listBudgetAlerts, type BudgetAlert } from "./budget-alerts.server";

export type UsageAgent = "research" | "writer" | "qa" | "futura";

/** One model call as reported by n8n or the built-in pipeline. Cost is integer micro-GBP. */
export interface ModelCall {
  callId: string;
  agent: UsageAgent;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costGbpMicros: number;
}

/** Pounds (as reported, possibly fractional pennies) to integer micro-GBP, the only unit stored. */
export function gbpToMicros(gbp: number): number {
  return Math.round(gbp * 1_000_000);
}

/**
 * Writes the ledger rows for an episode's model calls and adds the newly recorded ones to the roll-up of
 * `usageDate` (the organization's day the attempt's reservation was made: see budget.server's budgetDayFor).
 * Idempotent per call id: a call reported twice is counted once. Call it inside the publishing transaction.
 */
export async function recordModelCalls(
  sql: Queryable,
  input: { organizationId: string; episodeId: string | null; usageDate: string; calls: ModelCall[] },
): Promise<{ recorded: number; costGbpMicros: number }> {
  if (!input.calls.length) return { recorded: 0, costGbpMicros: 0 };
  const { usageDate } = input;
  const rows = input.calls.map((call) => ({
    organization_id: input.organizationId,
    episode_id: input.episodeId,
    call_id: call.callId,
    agent: call.agent,
    model: call.model,
    prompt_tokens: call.promptTokens,
    completion_tokens: call.completionTokens,
    cost_gbp_micros: call.costGbpMicros,
    usage_date: usageDate,
  }));
  const [totals] = await sql<{ recorded: number; promptTokens: number; completionTokens: number; costGbpMicros: number }[]>`
    with inserted as (
      insert into token_usage ${sql(rows)}
      on conflict (organization_id, call_id) do nothing
      returning prompt_tokens, completion_tokens, cost_gbp_micros
    )
    select count(*)::int as recorded,
      coalesce(sum(prompt_tokens), 0)::bigint as prompt_tokens,
      coalesce(sum(completion_tokens), 0)::bigint as completion_tokens,
      coalesce(sum(cost_gbp_micros), 0)::bigint as cost_gbp_micros
    from inserted`;
  if (totals.recorded > 0) {
    await sql`
      insert into token_usage_daily (organization_id, usage_date, prompt_tokens, completion_tokens, cost_gbp_micros)
      values (${input.organizationId}, ${usageDate}, ${totals.promptTokens}, ${totals.completionTokens}, ${totals.costGbpMicros})
      on conflict (organization_id, usage_date) do update set
        prompt_tokens = token_usage_daily.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = token_usage_daily.completion_tokens + excluded.completion_tokens,
        cost_gbp_micros = token_usage_daily.cost_gbp_micros + excluded.cost_gbp_micros`;
  }
  return { recorded: totals.recorded, costGbpMicros: totals.costGbpMicros };
}

/** The organization's day as the budget sees it: what is spent, set aside, and allowed. */
export interface BudgetDay {
  usageDate: string;
  timeZone: string;
  limitGbpMicros: number;
  costGbpMicros: number;
  reservedGbpMicros: number;
  overshootGbpMicros: number;
  dispatchStoppedAt: Date | null;
  /** The next local midnight: when a refused generation may start. */
  resumesAt: Date;
}

export async function getBudgetDay(sql: Queryable, organizationId: string): Promise<BudgetDay> {
  const [day] = await sql<BudgetDay[]>`
    select today.usage_date::text, o.time_zone, o.daily_cost_limit_gbp_micros as limit_gbp_micros,
      coalesce(d.cost_gbp_micros, 0)::bigint as cost_gbp_micros,
      coalesce(d.reserved_gbp_micros, 0)::bigint as reserved_gbp_micros,
      coalesce(d.overshoot_gbp_micros, 0)::bigint as overshoot_gbp_micros,
      d.dispatch_stopped_at,
      ((today.usage_date + 1)::timestamp at time zone o.time_zone) as resumes_at
    from organizations o
    cross join lateral (select (now() at time zone o.time_zone)::date as usage_date) today
    left join token_usage_daily d on d.organization_id = o.id and d.usage_date = today.usage_date
    where o.id = ${organizationId}`;
  return day;
}

export interface UsageByDay {
  usageDate: string;
  costGbpMicros: number;
  reservedGbpMicros: number;
  overshootGbpMicros: number;
}

/** The last `days` local days, oldest first, each present even with nothing spent. */
export async function listUsageByDay(sql: Queryable, organizationId: string, days = 30): Promise<UsageByDay[]> {
  return sql<UsageByDay[]>`
    select day::date::text as usage_date,
      coalesce(d.cost_gbp_micros, 0)::bigint as cost_gbp_micros,
      coalesce(d.reserved_gbp_micros, 0)::bigint as reserved_gbp_micros,
      coalesce(d.overshoot_gbp_micros, 0)::bigint as overshoot_gbp_micros
    from organizations o
    cross join lateral generate_series(
      (now() at time zone o.time_zone)::date - ${days - 1}::int, (now() at time zone o.time_zone)::date, interval '1 day'
    ) as day
    left join token_usage_daily d on d.organization_id = o.id and d.usage_date = day::date
    where o.id = ${organizationId}
    order by day`;
}

export interface UsageBreakdown {
  key: string;
  label: string;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costGbpMicros: number;
}

/** Spend per project since `since` (a local date), largest first; usage of deleted episodes is kept apart. */
export async function usageByProject(sql: Queryable, organizationId: string, since: string): Promise<UsageBreakdown[]> {
  return sql<UsageBreakdown[]>`
    select coalesce(p.id::text, 'none') as key, coalesce(p.title, 'Deleted episodes') as label,
      count(*)::int as calls, sum(u.prompt_tokens)::bigint as prompt_tokens,
      sum(u.completion_tokens)::bigint as completion_tokens, sum(u.cost_gbp_micros)::bigint as cost_gbp_micros
    from token_usage u
    left join episodes e on e.organization_id = u.organization_id and e.id = u.episode_id
    left join projects p on p.organization_id = e.organization_id and p.id = e.project_id
    where u.organization_id = ${organizationId} and u.usage_date >= ${since}::date
    group by p.id, p.title
    order by cost_gbp_micros desc, label`;
}

/** Spend per model since `since` (a local date), largest first. */
export async function usageByModel(sql: Queryable, organizationId: string, since: string): Promise<UsageBreakdown[]> {
  return sql<UsageBreakdown[]>`
    select u.model as key, u.model as label, count(*)::int as calls, sum(u.prompt_tokens)::bigint as prompt_tokens,
      sum(u.completion_tokens)::bigint as completion_tokens, sum(u.cost_gbp_micros)::bigint as cost_gbp_micros
    from token_usage u
    where u.organization_id = ${organizationId} and u.usage_date >= ${since}::date
    group by u.model
    order by cost_gbp_micros desc, label`;
}

/** A recorded model call, with where and when it was booked. */
export interface LedgerRow extends ModelCall {
  id: string;
  usageDate: string;
  createdAt: Date;
  episodeId: string | null;
  projectTitle: string | null;
}

export const LEDGER_PAGE_SIZE = 50;

/** One page of the ledger, newest first, and how many rows there are in all. */
export async function listLedger(
  sql: Queryable,
  organizationId: string,
  page: number,
): Promise<{ rows: LedgerRow[]; total: number; page: number; pageCount: number }> {
  const [{ total }] = await sql<{ total: number }[]>`
    select count(*)::int as total from token_usage where organization_id = ${organizationId}`;
  const pageCount = Math.max(1, Math.ceil(total / LEDGER_PAGE_SIZE));
  const shown = Math.min(Math.max(1, page), pageCount);
  const rows = await sql<LedgerRow[]>`
    select u.id, u.usage_date::text, u.created_at, u.episode_id, p.title as project_title, u.call_id, u.agent, u.model,
      u.prompt_tokens, u.completion_tokens, u.cost_gbp_micros
    from token_usage u
    left join episodes e on e.organization_id = u.organization_id and e.id = u.episode_id
    left join projects p on p.organization_id = e.organization_id and p.id = e.project_id
    where u.organization_id = ${organizationId}
    order by u.created_at desc, u.id desc
    limit ${LEDGER_PAGE_SIZE} offset ${(shown - 1) * LEDGER_PAGE_SIZE}`;
  return { rows, total, page: shown, pageCount };
}

/** The whole ledger, oldest first, `batch` rows at a time from a cursor: for the CSV export, which streams. */
export function ledgerBatches(sql: Queryable, organizationId: string, batch = 500): AsyncIterable<LedgerRow[]> {
  return sql<LedgerRow[]>`
    select u.id, u.usage_date::text, u.created_at, u.episode_id, p.title as project_title, u.call_id, u.agent, u.model,
      u.prompt_tokens, u.completion_tokens, u.cost_gbp_micros
    from token_usage u
    left join episodes e on e.organization_id = u.organization_id and e.id = u.episode_id
    left join projects p on p.organization_id = e.organization_id and p.id = e.project_id
    where u.organization_id = ${organizationId}
    order by u.created_at, u.id`.cursor(batch);
}

export interface Overshoot {
  episodeId: string;
  attempt: number;
  usageDate: string;
  reservedGbpMicros: number;
  costGbpMicros: number;
}

/** Attempts that cost more than they reserved, since `since`, newest first. */
export async function listOvershoots(sql: Queryable, organizationId: string, since: string): Promise<Overshoot[]> {
  return sql<Overshoot[]>`
    select episode_id, attempt, usage_date::text, amount_gbp_micros as reserved_gbp_micros, settled_gbp_micros as cost_gbp_micros
    from generation_budget_reservations
    where organization_id = ${organizationId} and status = 'settled' and settled_gbp_micros > amount_gbp_micros
      and usage_date >= ${since}::date
    order by usage_date desc, closed_at desc
    limit 50`;
}

export interface UsageReport {
  today: BudgetDay;
  days: UsageByDay[];
  /** Owners and admins only (members see the totals): null for members. */
  details: {
    byProject: UsageBreakdown[];
    byModel: UsageBreakdown[];
    ledger: Awaited<ReturnType<typeof listLedger>>;
    overshoots: Overshoot[];
    alerts: BudgetAlert[];
  } | null;
}

export const USAGE_DAYS = 30;

/** What /usage and GET /api/usage show: the day and the last 30 days for everyone; the details for owners and admins. */
export async function getUsageReport(
  sql: Queryable,
  actor: { organizationId: string; role: Role },
  options: { page?: number } = {},
): Promise<UsageReport> {
  const [today, days] = await Promise.all([getBudgetDay(sql, actor.organizationId), listUsageByDay(sql, actor.organizationId, USAGE_DAYS)]);
  if (!canManageBudget(actor.role)) return { today, days, details: null };
  const since = days[0].usageDate;
  const [byProject, byModel, ledger, overshoots, alerts] = await Promise.all([
    usageByProject(sql, actor.organizationId, since),
    usageByModel(sql, actor.organizationId, since),
    listLedger(sql, actor.organizationId, options.page ?? 1),
    listOvershoots(sql, actor.organizationId, since),
    listBudgetAlerts(sql, actor.organizationId, today.usageDate),
  ]);
  return { today, days, details: { byProject, byModel, ledger, overshoots, alerts } };
}
