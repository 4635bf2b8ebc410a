import type { Queryable } from "~/lib/db.server";

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
