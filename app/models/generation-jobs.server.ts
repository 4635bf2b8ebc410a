import type { Queryable } from "~/lib/db.server";
import type { EpisodeRow } from "./episodes.server";

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

/** A claimed job: leased, its episode GENERATING, with what the generator's request is built from. */
export interface ClaimedJob {
  job: GenerationJob;
  episode: EpisodeRow;
  projectTitle: string | null;
  projectBrief: string | null;
  planningNotes: string[];
  recentEpisodes: { title: string; summary: string | null; publishedAt: string }[];
}

type ClaimRow = EpisodeRow & {
  jobId: string;
  jobStatus: GenerationJob["status"];
  jobRunAt: Date;
  jobAttempts: number;
  jobMaxAttempts: number;
  jobLockedAt: Date | null;
  jobLockedBy: string | null;
  jobLockedUntil: Date | null;
  jobLastError: string | null;
  projectTitle: string | null;
  projectBrief: string | null;
  planningNotes: string[];
  recentEpisodes: { title: string; summary: string | null; publishedAt: string }[];
};

/** Dispatches n8n acknowledged since the last claim, recorded by the next one (see acknowledgeDispatches). */
export interface Acknowledgements {
  jobIds: string[];
  /** How long each lease then lasts: until the generation timeout. */
  leaseMs: number;
}

/**
 * Claims up to `limit` due jobs in one statement (`claim_generation_jobs`, sql/0010), after recording `acknowledged`
 * (so a busy dispatcher commits once per batch, not once more per dispatch): each job locked with SKIP LOCKED,
 * asked of the budget (a refused one waits, unleased and without spending an attempt), leased to `owner` for
 * `leaseMs`, its episode moved QUEUED → GENERATING with its audit row and announcement. Fewer than `limit` (or none)
 * means nothing else is due.
 */
export async function claimDueJobs(
  sql: Queryable,
  input: {
    owner: string;
    leaseMs: number;
    limit: number;
    generatedBy: "n8n" | "builtin";
    estimateGbpMicros: number;
    acknowledged?: Acknowledgements;
  },
): Promise<ClaimedJob[]> {
  const acknowledged = input.acknowledged ?? { jobIds: [], leaseMs: 0 };
  const rows = await sql<ClaimRow[]>`
    select (c.episode).*,
      (c.job).id as job_id, (c.job).status as job_status, (c.job).run_at as job_run_at, (c.job).attempts as job_attempts,
      (c.job).max_attempts as job_max_attempts, (c.job).locked_at as job_locked_at, (c.job).locked_by as job_locked_by,
      (c.job).locked_until as job_locked_until, (c.job).last_error as job_last_error,
      c.project_title, c.project_brief, c.planning_notes, c.recent_episodes
    from claim_generation_jobs(
      ${input.owner}, ${Math.round(input.leaseMs)}, ${input.limit}, ${input.generatedBy}, ${input.estimateGbpMicros},
      ${acknowledged.jobIds}::uuid[], ${Math.round(acknowledged.leaseMs)}
    ) c`;
  return rows.map(
    ({
      jobId, jobStatus, jobRunAt, jobAttempts, jobMaxAttempts, jobLockedAt, jobLockedBy, jobLockedUntil, jobLastError,
      projectTitle, projectBrief, planningNotes, recentEpisodes, ...episode
    }) => ({
      job: {
        id: jobId,
        organizationId: episode.organizationId,
        episodeId: episode.id,
        status: jobStatus,
        runAt: jobRunAt,
        attempts: jobAttempts,
        maxAttempts: jobMaxAttempts,
        lockedAt: jobLockedAt,
        lockedBy: jobLockedBy,
        lockedUntil: jobLockedUntil,
        dispatchedAt: null,
        lastError: jobLastError,
      },
      episode,
      projectTitle,
      projectBrief,
      planningNotes,
      recentEpisodes: recentEpisodes.map((recent) => ({ ...recent, publishedAt: new Date(recent.publishedAt).toISOString() })),
    }),
  );
}

/**
 * n8n has these jobs: each lease now lasts `leaseMs` (until the generation timeout), waiting for the final
 * callback. For acknowledgements no claim is about to carry; a job whose lease `owner` lost is left alone.
 */
export async function acknowledgeDispatches(sql: Queryable, input: { owner: string } & Acknowledgements): Promise<number> {
  if (!input.jobIds.length) return 0;
  const rows = await sql`
    update episode_schedule_queue set
      locked_until = now() + make_interval(secs => ${input.leaseMs / 1000}), dispatched_at = now()
    where id = any(${input.jobIds}::uuid[]) and status = 'processing' and locked_by = ${input.owner}`;
  return rows.count;
}

/** Extends the lease while its owner still holds it (the built-in pipeline's heartbeat). False when it was lost. */
export async function renewLease(sql: Queryable, input: { jobId: string; owner: string; leaseMs: number }): Promise<boolean> {
  const rows = await sql`
    update episode_schedule_queue set locked_until = now() + make_interval(secs => ${input.leaseMs / 1000})
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
