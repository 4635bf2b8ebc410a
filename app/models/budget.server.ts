import type { Queryable } from "~/lib/db.server";

/**
 * The daily budget's reservations (sql/0011): the claim reserves each generation's estimated maximum cost
 * (`reserve_generation_budget`, inside `claim_generation_jobs`); these settle or release it, each exactly once.
 */

export const BUDGET_REFUSAL_REASON = "Daily budget reached — resumes tomorrow";

export interface Settlement {
  /** The organization's local day the reservation was made, which the spend belongs to. */
  usageDate: string;
  reservedGbpMicros: number;
  /** What the attempt cost beyond its reservation. */
  overshootGbpMicros: number;
}

/** The day an attempt's spend is booked to: its reservation's day, or the organization's today without one. */
export async function budgetDayFor(
  sql: Queryable,
  input: { organizationId: string; episodeId: string | null; attempt: number | null },
): Promise<string> {
  const [row] = await sql<{ usageDate: string }[]>`
    select (case when ${input.episodeId}::uuid is null or ${input.attempt}::int is null
      then organization_usage_date(${input.organizationId}, now())
      else generation_budget_day(${input.organizationId}, ${input.episodeId}, ${input.attempt}) end)::text as usage_date`;
  return row.usageDate;
}

/**
 * The attempt's reservation becomes spend of `costGbpMicros` (already in the ledger and the day's cost): it leaves
 * the day's reserved sum, and a cost above it is recorded as an overshoot that stops dispatch for that day. Null
 * when the attempt holds nothing (already settled or released, or never reserved).
 */
export async function settleReservation(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; attempt: number; costGbpMicros: number },
): Promise<Settlement | null> {
  const [row] = await sql<{ usageDate: string | null; reservedGbpMicros: number | null; overshootGbpMicros: number | null }[]>`
    select usage_date::text, reserved_gbp_micros, overshoot_gbp_micros
    from settle_generation_budget(${input.organizationId}, ${input.episodeId}, ${input.attempt}, ${input.costGbpMicros})`;
  if (!row.usageDate) return null;
  return { usageDate: row.usageDate, reservedGbpMicros: row.reservedGbpMicros ?? 0, overshootGbpMicros: row.overshootGbpMicros ?? 0 };
}

/**
 * Gives back what an attempt still holds (every attempt of the episode when `attempt` is null), waking jobs that
 * wait on the budget. Returns the amount freed: zero when there was nothing held, so repeating it is harmless.
 */
export async function releaseReservation(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; attempt: number | null },
): Promise<number> {
  const [row] = await sql<{ freed: number }[]>`
    select release_generation_budget(${input.organizationId}, ${input.episodeId}, ${input.attempt}::int) as freed`;
  return row.freed;
}

/** Jobs turned away for the budget are due again now: the limit was raised, or budget was freed. */
export async function wakeBudgetWaitingJobs(sql: Queryable, organizationId: string): Promise<number> {
  const [row] = await sql<{ woken: number }[]>`select wake_budget_waiting_jobs(${organizationId}) as woken`;
  return row.woken;
}
