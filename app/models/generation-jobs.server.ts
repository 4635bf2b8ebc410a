import type { Queryable } from "~/lib/db.server";

/**
 * The generation queue: one row per episode in `episode_schedule_queue`. A row is `pending` until its `run_at`,
 * `processing` under a lease (`locked_by` until `locked_until`), then `completed` or `failed`. Claims use
 * FOR UPDATE SKIP LOCKED, so any number of dispatchers in any number of processes share it safely.
 */
export interface GenerationJob {
  id: string;
  organizationId: string;
  episodeId: string;
  status: "pending" | "processing" | "completed" | "failed";
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  lockedAt: Date | null;
  lockedBy: string | null;
  lockedUntil: Date | null;
  dispatchedAt: Date | null;
  lastError: string | null;
}

/** Wakes dispatchers when a job becomes due now; they also poll, so a lost wake-up only delays. */
export const QUEUE_CHANNEL = "generation_queue";

async function wakeDispatchers(sql: Queryable): Promise<void> {
  await sql`select pg_notify(${QUEUE_CHANNEL}, '')`;
}

/**
 * A pending job for the episode. An episode that ran before (completed or failed) gets its row back with a
 * fresh count of attempts; a job already pending or processing is left as it is.
 */
export async function enqueueJob(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; maxAttempts: number; runAt?: Date },
): Promise<GenerationJob | undefined> {
  const [job] = await sql<GenerationJob[]>`
    insert into episode_schedule_queue (organization_id, episode_id, max_attempts, run_at)
    values (${input.organizationId}, ${input.episodeId}, ${input.maxAttempts}, coalesce(${input.runAt ?? null}::timestamptz, now()))
    on conflict (episode_id) do update set
      status = 'pending', attempts = 0, max_attempts = excluded.max_attempts, run_at = excluded.run_at,
      locked_at = null, locked_by = null, locked_until = null, dispatched_at = null, last_error = null
    where episode_schedule_queue.status in ('completed', 'failed')
      and episode_schedule_queue.organization_id = excluded.organization_id
    returning *`;
  if (job) await wakeDispatchers(sql);
  return job;
}

/** The next due pending job, locked for this transaction; other dispatchers skip it. */
export async function lockNextDueJob(sql: Queryable): Promise<GenerationJob | undefined> {
  const [job] = await sql<GenerationJob[]>`
    select * from episode_schedule_queue
    where status = 'pending' and run_at <= now()
    order by run_at
    limit 1
    for update skip locked`;
  return job;
}

/** Takes a locked pending job: one more attempt, leased to `owner` for `leaseMs`. */
export async function leaseJob(sql: Queryable, jobId: string, owner: string, leaseMs: number): Promise<GenerationJob> {
  const [job] = await sql<GenerationJob[]>`
    update episode_schedule_queue set
      status = 'processing', attempts = attempts + 1, locked_at = now(), locked_by = ${owner},
      locked_until = now() + make_interval(secs => ${leaseMs / 1000}), dispatched_at = null
    where id = ${jobId} and status = 'pending'
    returning *`;
  return job;
}

/** Leaves a locked pending job waiting until `runAt` without spending an attempt (a budget wait, say). */
export async function deferJob(sql: Queryable, jobId: string, runAt: Date, reason: string): Promise<void> {
  await sql`
    update episode_schedule_queue set run_at = ${runAt}, last_error = ${reason}
    where id = ${jobId} and status = 'pending'`;
}

/**
 * Extends the lease while its owner still holds it (the built-in pipeline's heartbeat, or n8n's acknowledgement
 * turning the dispatch lease into the wait for the callback). False when the lease was lost.
 */
export async function renewLease(
  sql: Queryable,
  input: { jobId: string; owner: string; leaseMs: number; dispatched?: boolean },
): Promise<boolean> {
  const rows = await sql`
    update episode_schedule_queue set
      locked_until = now() + make_interval(secs => ${input.leaseMs / 1000}),
      dispatched_at = case when ${input.dispatched ?? false} then now() else dispatched_at end
    where id = ${input.jobId} and status = 'processing' and locked_by = ${input.owner}`;
  return rows.count === 1;
}

/** Ends the attempt in hand: another one after `runAt`, or none (`failed`). */
export async function releaseJob(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; outcome: "retry" | "failed"; error: string; runAt?: Date },
): Promise<GenerationJob | undefined> {
  const [job] = await sql<GenerationJob[]>`
    update episode_schedule_queue set
      status = ${input.outcome === "retry" ? "pending" : "failed"},
      run_at = coalesce(${input.runAt ?? null}::timestamptz, run_at),
      locked_at = null, locked_by = null, locked_until = null,
      last_error = ${input.error.slice(0, 2000)}
    where organization_id = ${input.organizationId} and episode_id = ${input.episodeId} and status = 'processing'
    returning *`;
  if (job && input.outcome === "retry" && (!input.runAt || input.runAt <= new Date())) await wakeDispatchers(sql);
  return job;
}

export async function completeJob(sql: Queryable, organizationId: string, episodeId: string): Promise<void> {
  await sql`
    update episode_schedule_queue set status = 'completed', locked_at = null, locked_by = null, locked_until = null
    where organization_id = ${organizationId} and episode_id = ${episodeId} and status in ('pending', 'processing')`;
}

export async function findJob(sql: Queryable, organizationId: string, episodeId: string): Promise<GenerationJob | undefined> {
  const [job] = await sql<GenerationJob[]>`
    select * from episode_schedule_queue where organization_id = ${organizationId} and episode_id = ${episodeId}`;
  return job;
}

/** Processing jobs whose lease ran out (their process died, or n8n never called back), locked for reaping. */
export async function lockExpiredLeases(sql: Queryable, limit: number): Promise<GenerationJob[]> {
  return sql<GenerationJob[]>`
    select * from episode_schedule_queue
    where status = 'processing' and locked_until < now()
    order by locked_until
    limit ${limit}
    for update skip locked`;
}

/** When the next pending job falls due, for a dispatcher deciding how long it may sleep. */
export async function nextDueAt(sql: Queryable): Promise<Date | null> {
  const [row] = await sql<{ runAt: Date | null }[]>`
    select min(run_at) as run_at from episode_schedule_queue where status = 'pending'`;
  return row.runAt;
}
