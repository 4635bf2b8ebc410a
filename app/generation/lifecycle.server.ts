import { enqueueBudgetAlertEmails, enqueueGenerationFailedEmails } from "~/email/notifications.server";
import { absoluteUrl } from "~/lib/app-url.server";
import { getConfig, type Config } from "~/lib/config.server";
import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import type { Role } from "~/lib/roles";
import { nextScheduledAt } from "~/lib/schedule.server";
import {
  endAttempt,
  failQueuedEpisode,
  getEpisode,
  hasEpisodeInFlight,
  publishEpisode,
  queueEpisodeForSlot,
  recentPublishedEpisodes,
  recordProgress,
  requeueFailedEpisode,
  type EpisodeActor,
  type EpisodeRow,
} from "~/models/episodes.server";
import { enqueueEpisodeDeliveries } from "~/models/email-deliveries.server";
import { trackEvent } from "~/models/events.server";
import {
  acknowledgeDispatches as acknowledgeJobs,
  claimDueJobs,
  completeJob,
  enqueueJob,
  lockExpiredLeases,
  releaseJob,
  renewLease,
  type ClaimedJob,
  type GenerationJob,
} from "~/models/generation-jobs.server";
import { advanceSchedule, cadenceOf, ensureNextDraft, getProject, lockNextDueProject, lockProject } from "~/models/projects.server";
import { raiseBudgetAlerts, type BudgetAlert } from "~/models/budget-alerts.server";
import { budgetDayFor, releaseReservation, settleReservation, type Settlement } from "~/models/budget.server";
import { gbpToMicros, recordModelCalls, type ModelCall } from "~/models/usage.server";
import type { CompletedMessage, FailedMessage, GenerationRequest, ProgressMessage } from "./contract";
import { estimateGenerationCostGbpMicros } from "./cost.server";

/**
 * The episode lifecycle as the product runs it: the scheduler and "Generate now" queue episodes, dispatchers
 * claim them, generators (n8n or the built-in pipeline) report progress and results, the reaper recovers what
 * was lost. Each step is one transaction that changes the episode, its queue row, the audit trail and the
 * announcement together.
 */

export interface GenerationSettings {
  maxAttempts: number;
  /** How long an attempt may take from dispatch to its final report. */
  timeoutMs: number;
  dispatchTimeoutMs: number;
  retryBaseMs: number;
  callbackUrl: string;
  /** The most one generation may cost: reserved from the daily budget at dispatch, and sent to n8n as maxCostGBP. */
  maxCostGbpMicros: number;
}

export function generationSettings(config: Config = getConfig()): GenerationSettings {
  return {
    maxAttempts: config.GENERATION_MAX_ATTEMPTS,
    timeoutMs: config.GENERATION_TIMEOUT,
    dispatchTimeoutMs: config.GENERATION_DISPATCH_TIMEOUT_MS,
    retryBaseMs: config.GENERATION_RETRY_BASE_MS,
    callbackUrl: absoluteUrl("/api/episodes/callback", config),
    maxCostGbpMicros: estimateGenerationCostGbpMicros(config),
  };
}

const SCHEDULER: EpisodeActor = { kind: "system", label: "scheduler" };
const DISPATCHER: EpisodeActor = { kind: "system", label: "dispatcher" };
const REAPER: EpisodeActor = { kind: "system", label: "reaper" };

/** Exponential backoff with jitter: base · 2^(attempt−1), capped at ten minutes, then 50–100 % of that. */
export function retryDelayMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 10 * 60_000);
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

// ——— Queueing ———

/**
 * One scheduler pass: each due project, one transaction each, becomes a QUEUED episode for its slot (its DRAFT,
 * or a new one) with a pending job, and its schedule moves to the next slot. A slot missed while nothing ran is
 * generated once, and the schedule resumes from now. Safe with several schedulers: projects are locked with
 * SKIP LOCKED and the slot is unique per project.
 */
export async function queueDueProjects(db: Db, settings: GenerationSettings, limit = 500): Promise<number> {
  let queued = 0;
  for (let i = 0; i < limit; i++) {
    const done = await db.begin(async (sql) => {
      const project = await lockNextDueProject(sql);
      if (!project) return true;
      const slot = project.nextScheduledAt!;
      const episode = await queueEpisodeForSlot(sql, { organizationId: project.organizationId, projectId: project.id, slot }, SCHEDULER);
      if (episode) {
        await enqueueJob(sql, { organizationId: project.organizationId, episodeId: episode.id, maxAttempts: settings.maxAttempts });
        queued++;
      }
      const now = new Date();
      await advanceSchedule(sql, project, nextScheduledAt(cadenceOf(project), slot > now ? slot : now));
      return false;
    });
    if (done) break;
  }
  return queued;
}

export interface PersonActor {
  userId: string;
  organizationId: string;
  role: Role;
  label: string;
}

/** Who may ask for an episode now or again: owners and admins (each one spends the organization's budget). */
export function canRequestGeneration(role: Role): boolean {
  return role === "owner" || role === "admin";
}

export type GenerationRequestResult =
  | { ok: true; episode: EpisodeRow }
  | { ok: false; reason: "forbidden" | "not_found" | "archived" | "in_flight" | "not_failed" };

/** "Generate now": a QUEUED episode for an unscheduled slot (now), unless one is already on its way. */
export async function generateNow(
  db: Db,
  actor: PersonActor,
  projectId: string,
  meta: RequestMeta,
  settings: GenerationSettings = generationSettings(),
): Promise<GenerationRequestResult> {
  if (!canRequestGeneration(actor.role)) return { ok: false, reason: "forbidden" };
  return db.begin(async (sql) => {
    const project = await lockProject(sql, actor.organizationId, projectId);
    if (!project) return { ok: false, reason: "not_found" } as const;
    if (project.status !== "ACTIVE") return { ok: false, reason: "archived" } as const;
    if (await hasEpisodeInFlight(sql, actor.organizationId, projectId)) return { ok: false, reason: "in_flight" } as const;
    const [{ now }] = await sql<{ now: Date }[]>`select date_trunc('milliseconds', now()) as now`;
    const episode = await queueEpisodeForSlot(
      sql,
      { organizationId: actor.organizationId, projectId, slot: now },
      { kind: "person", userId: actor.userId, label: actor.label, meta },
    );
    if (!episode) return { ok: false, reason: "in_flight" } as const;
    await enqueueJob(sql, { organizationId: actor.organizationId, episodeId: episode.id, maxAttempts: settings.maxAttempts });
    await trackEvent(sql, {
      organizationId: actor.organizationId,
      userId: actor.userId,
      type: "episode_generation_requested",
      data: { projectId, episodeId: episode.id },
    });
    return { ok: true, episode } as const;
  });
}

/** "Try again" on a FAILED episode: queued once more with a fresh set of attempts. */
export async function retryEpisode(
  db: Db,
  actor: PersonActor,
  episodeId: string,
  meta: RequestMeta,
  settings: GenerationSettings = generationSettings(),
): Promise<GenerationRequestResult> {
  if (!canRequestGeneration(actor.role)) return { ok: false, reason: "forbidden" };
  return db.begin(async (sql) => {
    const current = await getEpisode(sql, actor.organizationId, episodeId);
    if (!current) return { ok: false, reason: "not_found" } as const;
    const episode = await requeueFailedEpisode(sql, actor.organizationId, episodeId, {
      kind: "person",
      userId: actor.userId,
      label: actor.label,
      meta,
    });
    if (!episode) return { ok: false, reason: "not_failed" } as const;
    await enqueueJob(sql, { organizationId: actor.organizationId, episodeId, maxAttempts: settings.maxAttempts });
    await trackEvent(sql, {
      organizationId: actor.organizationId,
      userId: actor.userId,
      type: "episode_generation_requested",
      data: { projectId: episode.projectId, episodeId, retry: true },
    });
    return { ok: true, episode } as const;
  });
}

// ——— Dispatch ———

/** A claimed attempt: the job under lease, the episode now GENERATING, and the request for the generator. */
export interface ClaimedGeneration {
  job: GenerationJob;
  episode: EpisodeRow;
  owner: string;
  request: GenerationRequest;
}

function requestFor(claimed: ClaimedJob, settings: GenerationSettings): GenerationRequest {
  const { episode } = claimed;
  return {
    episodeId: episode.id,
    projectId: episode.projectId,
    organizationId: episode.organizationId,
    attempt: episode.generationAttempts,
    brief: `# ${claimed.projectTitle ?? "Project"}\n\n${claimed.projectBrief ?? ""}`.trim(),
    planningNotes: claimed.planningNotes,
    recentEpisodes: claimed.recentEpisodes,
    callbackUrl: settings.callbackUrl,
    maxCostGBP: settings.maxCostGbpMicros / 1_000_000,
  };
}

/**
 * Claims up to `limit` due jobs at once (one statement: record the dispatches n8n `acknowledged` since the last
 * claim, lock with SKIP LOCKED, ask the budget, lease, move each episode QUEUED → GENERATING with its audit row
 * and announcement) and builds each generator's request. A job the
 * budget refuses waits, unleased and without spending an attempt, until the budget allows. Fewer than `limit`
 * means nothing else is due now.
 */
export async function claimGenerations(
  db: Queryable,
  input: { owner: string; leaseMs: number; generatedBy: "n8n" | "builtin"; limit: number; acknowledged?: string[] },
  settings: GenerationSettings,
): Promise<ClaimedGeneration[]> {
  const claimed = await claimDueJobs(db, {
    ...input,
    estimateGbpMicros: settings.maxCostGbpMicros,
    acknowledged: { jobIds: input.acknowledged ?? [], leaseMs: settings.timeoutMs },
  });
  return claimed.map((job) => ({ job: job.job, episode: job.episode, owner: input.owner, request: requestFor(job, settings) }));
}

export type ClaimResult = { kind: "claimed"; claim: ClaimedGeneration } | { kind: "empty" };

/** One claim, as a dispatcher with a single free slot makes it. */
export async function claimNextGeneration(
  db: Queryable,
  input: { owner: string; leaseMs: number; generatedBy: "n8n" | "builtin" },
  settings: GenerationSettings,
): Promise<ClaimResult> {
  const [claim] = await claimGenerations(db, { ...input, limit: 1 }, settings);
  return claim ? { kind: "claimed", claim } : { kind: "empty" };
}

/** n8n has these attempts and no claim is about to say so: their leases now last until the generation timeout. */
export async function acknowledgeDispatches(db: Queryable, owner: string, jobIds: string[], settings: GenerationSettings): Promise<number> {
  return acknowledgeJobs(db, { owner, jobIds, leaseMs: settings.timeoutMs });
}

/** The built-in pipeline's heartbeat: false when the lease was lost (reaped), so the run should stop. */
export async function heartbeat(db: Db, claim: ClaimedGeneration, leaseMs: number): Promise<boolean> {
  return renewLease(db, { jobId: claim.job.id, owner: claim.owner, leaseMs });
}

/**
 * Ends an attempt that did not finish: retried after a backoff while attempts remain and the failure is worth
 * retrying, otherwise FAILED with `reason`. Guarded by the attempt number, so a late report of an old attempt
 * changes nothing. Returns what happened.
 */
async function endAttemptWithJob(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; attempt: number; reason: string; retryable: boolean },
  actor: EpisodeActor,
  settings: GenerationSettings,
): Promise<"retry" | "failed" | "stale"> {
  const [job] = await sql<GenerationJob[]>`
    select * from episode_schedule_queue
    where organization_id = ${input.organizationId} and episode_id = ${input.episodeId}
    for update`;
  const attemptsLeft = !!job && job.attempts < job.maxAttempts;
  const outcome = input.retryable && attemptsLeft ? "retry" : "failed";
  const episode = await endAttempt(sql, { ...input, outcome }, actor);
  if (!episode) return "stale";
  const runAt = new Date(Date.now() + retryDelayMs(job?.attempts ?? 1, settings.retryBaseMs));
  // What this attempt held goes back now; a retry reserves afresh for its own attempt when it is claimed.
  await releaseReservation(sql, { organizationId: input.organizationId, episodeId: input.episodeId, attempt: input.attempt });
  await releaseJob(sql, { organizationId: input.organizationId, episodeId: input.episodeId, outcome, error: input.reason, runAt });
  if (outcome === "failed") {
    await enqueueGenerationFailedEmails(sql, episode);
    await trackEvent(sql, {
      organizationId: input.organizationId,
      userId: null,
      type: "episode_failed",
      data: { episodeId: input.episodeId, attempt: input.attempt, reason: input.reason },
    });
  }
  return outcome;
}

/** A dispatch that n8n refused, or a built-in run that threw. */
export async function dispatchFailed(
  db: Db,
  claim: ClaimedGeneration,
  failure: { reason: string; retryable: boolean },
  settings: GenerationSettings,
): Promise<"retry" | "failed" | "stale"> {
  return db.begin((sql) =>
    endAttemptWithJob(
      sql,
      {
        organizationId: claim.episode.organizationId,
        episodeId: claim.episode.id,
        attempt: claim.episode.generationAttempts,
        reason: failure.reason,
        retryable: failure.retryable,
      },
      DISPATCHER,
      settings,
    ),
  );
}

// ——— Spend ———

export interface BookedSpend {
  usageDate: string;
  costGbpMicros: number;
  settlement: Settlement | null;
  /** Thresholds of the daily limit crossed for the first time by this spend. */
  alerts: BudgetAlert[];
}

/**
 * An attempt's model calls as spend, inside the caller's transaction: ledger rows and the roll-up on the day its
 * reservation was made; with `settle`, the reservation turned into that spend (an overshoot recorded, stopping
 * the day's dispatch); then the 80 % and 100 % alerts it crossed. Without `settle` (a failed attempt's calls) the
 * reservation is left for the release that follows.
 */
export async function bookGenerationSpend(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; attempt: number; calls: ModelCall[] },
  options: { settle: boolean },
): Promise<BookedSpend> {
  const { organizationId, episodeId, attempt } = input;
  const usageDate = await budgetDayFor(sql, input);
  const recorded = await recordModelCalls(sql, { organizationId, episodeId, usageDate, calls: input.calls });
  const settlement = options.settle
    ? await settleReservation(sql, { organizationId, episodeId, attempt, costGbpMicros: recorded.costGbpMicros })
    : null;
  if (settlement && settlement.overshootGbpMicros > 0) {
    await trackEvent(sql, {
      organizationId: input.organizationId,
      userId: null,
      type: "budget_overshoot",
      data: {
        episodeId: input.episodeId,
        attempt: input.attempt,
        usageDate,
        reservedGbpMicros: settlement.reservedGbpMicros,
        costGbpMicros: recorded.costGbpMicros,
        overshootGbpMicros: settlement.overshootGbpMicros,
      },
    });
  }
  const alerts = recorded.recorded ? await raiseBudgetAlerts(sql, { organizationId: input.organizationId, usageDate }) : [];
  // The one place budget alerts are raised; each one's emails are queued in this same transaction.
  for (const alert of alerts) {
    await enqueueBudgetAlertEmails(sql, alert);
    await trackEvent(sql, {
      organizationId: input.organizationId,
      userId: null,
      type: "budget_alert",
      data: { usageDate, thresholdPercent: alert.thresholdPercent, costGbpMicros: alert.costGbpMicros, limitGbpMicros: alert.limitGbpMicros },
    });
  }
  return { usageDate, costGbpMicros: recorded.costGbpMicros, settlement, alerts };
}

// ——— Reports from the generator ———

export type ReportOutcome =
  | { ok: true; result: "applied" | "ignored" | "already_published" }
  | { ok: false; reason: "unknown_episode" | "stale_attempt" };

async function explainMismatch(sql: Queryable, input: { organizationId: string; episodeId: string }): Promise<EpisodeRow | undefined> {
  return getEpisode(sql, input.organizationId, input.episodeId);
}

/** A progress report: applied to the running attempt, ignored once the episode is final or for an old attempt. */
export async function applyProgress(sql: Queryable, message: Omit<ProgressMessage, "type">): Promise<ReportOutcome> {
  const episode = await recordProgress(sql, message);
  if (episode) return { ok: true, result: "applied" };
  const current = await explainMismatch(sql, message);
  if (!current) return { ok: false, reason: "unknown_episode" };
  if (message.attempt > current.generationAttempts) return { ok: false, reason: "stale_attempt" };
  return { ok: true, result: "ignored" };
}

/**
 * The one way an episode is published, by n8n's callback and by the built-in pipeline alike: content stored,
 * reading time computed, the model calls in the ledger and the day's roll-up (once per call id), the job
 * completed, the project's next DRAFT in place, one email per confirmed subscriber in the outbox, an event, an
 * audit row and the announcement — one transaction.
 * A second report for a PUBLISHED episode changes nothing.
 */
export async function publishGeneration(
  sql: Queryable,
  message: Omit<CompletedMessage, "type">,
  actor: EpisodeActor,
): Promise<ReportOutcome> {
  const episode = await publishEpisode(sql, message, actor);
  if (!episode) {
    const current = await explainMismatch(sql, message);
    if (!current) return { ok: false, reason: "unknown_episode" };
    if (current.status === "PUBLISHED") return { ok: true, result: "already_published" };
    return { ok: false, reason: "stale_attempt" };
  }
  await bookGenerationSpend(
    sql,
    {
      organizationId: episode.organizationId,
      episodeId: episode.id,
      attempt: message.attempt,
      calls: message.tokenUsage.map((call) => ({
        callId: call.callId,
        agent: call.agent,
        model: call.model,
        promptTokens: call.promptTokens,
        completionTokens: call.completionTokens,
        costGbpMicros: gbpToMicros(call.costGBP),
      })),
    },
    { settle: true },
  );
  await completeJob(sql, episode.organizationId, episode.id);
  await enqueueEpisodeDeliveries(sql, { organizationId: episode.organizationId, episodeId: episode.id, projectId: episode.projectId });
  const project = await getProject(sql, episode.organizationId, episode.projectId);
  if (project) await ensureNextDraft(sql, project);
  await trackEvent(sql, {
    organizationId: episode.organizationId,
    userId: null,
    type: "episode_published",
    data: { episodeId: episode.id, projectId: episode.projectId, attempt: message.attempt, qaPassed: message.qa.passed },
  });
  return { ok: true, result: "applied" };
}

/** A generator's own report of failure. */
export async function applyFailure(
  sql: Queryable,
  message: Omit<FailedMessage, "type">,
  actor: EpisodeActor,
  settings: GenerationSettings,
): Promise<ReportOutcome> {
  const outcome = await endAttemptWithJob(
    sql,
    {
      organizationId: message.organizationId,
      episodeId: message.episodeId,
      attempt: message.attempt,
      reason: message.error,
      retryable: message.retryable,
    },
    actor,
    settings,
  );
  if (outcome !== "stale") return { ok: true, result: "applied" };
  const current = await explainMismatch(sql, message);
  if (!current) return { ok: false, reason: "unknown_episode" };
  if (message.attempt > current.generationAttempts) return { ok: false, reason: "stale_attempt" };
  return { ok: true, result: "ignored" };
}

// ——— Recovery ———

/**
 * Recovers jobs whose lease ran out: the process that held them died, or n8n never sent its final callback
 * within the generation timeout. Each episode still GENERATING is retried while attempts remain, else FAILED; a
 * job whose episode already reached a final state is closed to match.
 */
export async function reapExpiredLeases(db: Db, settings: GenerationSettings, limit = 100): Promise<number> {
  return db.begin(async (sql) => {
    const jobs = await lockExpiredLeases(sql, limit);
    for (const job of jobs) {
      const episode = await getEpisode(sql, job.organizationId, job.episodeId);
      // An attempt that is not running any more holds nothing (a GENERATING one is released as its attempt ends).
      if (episode?.status !== "GENERATING") {
        await releaseReservation(sql, { organizationId: job.organizationId, episodeId: job.episodeId, attempt: null });
      }
      if (episode?.status === "GENERATING") {
        const minutes = Math.round(settings.timeoutMs / 60_000);
        const reason = job.dispatchedAt
          ? `No result arrived within ${minutes} minute${minutes === 1 ? "" : "s"}.`
          : "The generator stopped before finishing.";
        await endAttemptWithJob(
          sql,
          { organizationId: job.organizationId, episodeId: job.episodeId, attempt: episode.generationAttempts, reason, retryable: true },
          REAPER,
          settings,
        );
      } else if (episode?.status === "PUBLISHED") {
        await completeJob(sql, job.organizationId, job.episodeId);
      } else if (episode?.status === "QUEUED" && job.attempts < job.maxAttempts) {
        await releaseJob(sql, { organizationId: job.organizationId, episodeId: job.episodeId, outcome: "retry", error: "lease expired" });
      } else {
        await releaseJob(sql, { organizationId: job.organizationId, episodeId: job.episodeId, outcome: "failed", error: "lease expired" });
        if (episode?.status === "QUEUED") {
          const failed = await failQueuedEpisode(
            sql,
            { organizationId: job.organizationId, episodeId: job.episodeId, reason: "Every attempt ran out of time." },
            REAPER,
          );
          if (failed) await enqueueGenerationFailedEmails(sql, failed);
        }
      }
    }
    return jobs.length;
  });
}
