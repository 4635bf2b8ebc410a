import type { Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { recordAudit } from "./audit.server";

export type EpisodeStatus = "DRAFT" | "QUEUED" | "GENERATING" | "PUBLISHED" | "FAILED";
export type GenerationStage = "research" | "writing" | "review";
export const GENERATION_STAGES: readonly GenerationStage[] = ["research", "writing", "review"];

export interface EpisodeSource {
  title: string;
  url: string;
  publisher?: string | null;
  publishedAt?: string | null;
}

export interface EpisodeRow {
  id: string;
  organizationId: string;
  projectId: string;
  status: EpisodeStatus;
  title: string | null;
  content: string | null;
  summary: string | null;
  sources: EpisodeSource[];
  scheduledFor: Date;
  publishedAt: Date | null;
  readingMinutes: number | null;
  generationStage: GenerationStage | null;
  generationAttempts: number;
  generationErrors: { at: string; attempt: number; reason: string }[];
  generationPercent: number;
  generationMessage: string | null;
  generationFindings: string[];
  generationSources: EpisodeSource[];
  generationStartedAt: Date | null;
  failureReason: string | null;
  qaPassed: boolean | null;
  qaNotes: string | null;
  generatedBy: "n8n" | "builtin" | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface EpisodeSummary {
  id: string;
  title: string | null;
  status: EpisodeStatus;
  scheduledFor: Date;
  publishedAt: Date | null;
  generationStage: GenerationStage | null;
}

/** Who changed an episode: a person (from a request) or the system (scheduler, dispatcher, n8n, the pipeline). */
export type EpisodeActor =
  | { kind: "person"; userId: string; label: string; meta: RequestMeta }
  | { kind: "system"; label: string };

/** The channel every episode change is announced on, once its transaction commits. */
export const EPISODE_CHANNEL = "episode_status";

export interface EpisodeAnnouncement {
  episodeId: string;
  organizationId: string;
  projectId: string;
  status: EpisodeStatus;
  version: number;
}

const NO_META: RequestMeta = { ip: null, userAgent: null, requestId: null };

/**
 * NOTIFY inside the change's transaction: PostgreSQL delivers it at commit, so a rolled-back change is never
 * announced. The payload names the episode; listeners re-read its state (payloads are capped at 8 kB).
 */
async function announce(sql: Queryable, episode: EpisodeRow): Promise<void> {
  const payload: EpisodeAnnouncement = {
    episodeId: episode.id,
    organizationId: episode.organizationId,
    projectId: episode.projectId,
    status: episode.status,
    version: episode.version,
  };
  await sql`select pg_notify(${EPISODE_CHANNEL}, ${JSON.stringify(payload)})`;
}

async function audit(sql: Queryable, actor: EpisodeActor, action: string, before: EpisodeRow | null, after: EpisodeRow): Promise<void> {
  await recordAudit(
    sql,
    {
      organizationId: after.organizationId,
      actorUserId: actor.kind === "person" ? actor.userId : null,
      actorLabel: actor.label,
      action,
      targetType: "episode",
      targetId: after.id,
      before: before ? { status: before.status, attempt: before.generationAttempts } : undefined,
      after: { status: after.status, attempt: after.generationAttempts, reason: after.failureReason ?? undefined },
    },
    actor.kind === "person" ? actor.meta : NO_META,
  );
}

/** A project's episodes, newest slot first, a page at a time. */
export async function listEpisodes(
  sql: Queryable,
  organizationId: string,
  projectId: string,
  options: { limit?: number; before?: Date } = {},
): Promise<EpisodeSummary[]> {
  return sql<EpisodeSummary[]>`
    select id, title, status, scheduled_for, published_at, generation_stage
    from episodes
    where organization_id = ${organizationId} and project_id = ${projectId}
      and (${options.before ?? null}::timestamptz is null or scheduled_for < ${options.before ?? null})
    order by scheduled_for desc
    limit ${options.limit ?? 50}`;
}

export async function getEpisode(sql: Queryable, organizationId: string, episodeId: string): Promise<EpisodeRow | undefined> {
  const [episode] = await sql<EpisodeRow[]>`
    select * from episodes where organization_id = ${organizationId} and id = ${episodeId}`;
  return episode;
}

/** The titles and summaries of a project's last published episodes, newest first: context for the next one. */
export async function recentPublishedEpisodes(
  sql: Queryable,
  organizationId: string,
  projectId: string,
  limit = 5,
): Promise<{ title: string; summary: string | null; publishedAt: Date }[]> {
  return sql<{ title: string; summary: string | null; publishedAt: Date }[]>`
    select title, summary, published_at from episodes
    where organization_id = ${organizationId} and project_id = ${projectId} and status = 'PUBLISHED'
    order by published_at desc
    limit ${limit}`;
}

/** Whether the project has an episode waiting or being made: "Generate now" then has nothing to add. */
export async function hasEpisodeInFlight(sql: Queryable, organizationId: string, projectId: string): Promise<boolean> {
  const [row] = await sql<{ inFlight: boolean }[]>`
    select exists (
      select 1 from episodes
      where organization_id = ${organizationId} and project_id = ${projectId} and status in ('QUEUED', 'GENERATING')
    ) as in_flight`;
  return row.inFlight;
}

/**
 * DRAFT → QUEUED for a project's slot, creating the episode when the slot has none. A slot already queued or
 * beyond returns nothing, so repeating it is harmless.
 */
export async function queueEpisodeForSlot(
  sql: Queryable,
  input: { organizationId: string; projectId: string; slot: Date },
  actor: EpisodeActor,
): Promise<EpisodeRow | undefined> {
  const [episode] = await sql<EpisodeRow[]>`
    insert into episodes (organization_id, project_id, scheduled_for, status, generation_message)
    values (${input.organizationId}, ${input.projectId}, ${input.slot}, 'QUEUED', 'Waiting for a free researcher')
    on conflict (project_id, scheduled_for) do update
      set status = 'QUEUED', generation_message = excluded.generation_message, version = episodes.version + 1
      where episodes.status = 'DRAFT' and episodes.organization_id = excluded.organization_id
    returning *`;
  if (!episode) return undefined;
  await audit(sql, actor, "episode.queued", null, episode);
  await announce(sql, episode);
  return episode;
}

/** FAILED → QUEUED: a person asks for another try. */
export async function requeueFailedEpisode(
  sql: Queryable,
  organizationId: string,
  episodeId: string,
  actor: EpisodeActor,
): Promise<EpisodeRow | undefined> {
  const [episode] = await sql<EpisodeRow[]>`
    update episodes set status = 'QUEUED', generation_message = 'Waiting for a free researcher', version = version + 1
    where organization_id = ${organizationId} and id = ${episodeId} and status = 'FAILED'
    returning *`;
  if (!episode) return undefined;
  await audit(sql, actor, "episode.retried", null, episode);
  await announce(sql, episode);
  return episode;
}

// QUEUED → GENERATING happens in the dispatcher's claim, one statement for a batch of jobs: `claim_generation_jobs`
// (sql/0010), called by generation-jobs' claimDueJobs, writes the same audit row and announcement as the functions here.

export interface ProgressReport {
  stage: GenerationStage;
  percent: number;
  message: string;
  findings?: string[];
  sources?: EpisodeSource[];
}

/**
 * Progress of the current attempt of a GENERATING episode. Anything else (a final state, an older attempt) is
 * ignored: reports can arrive late or out of order. Findings and sources replace what was there when given.
 */
export async function recordProgress(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; attempt: number } & ProgressReport,
): Promise<EpisodeRow | undefined> {
  const [episode] = await sql<EpisodeRow[]>`
    update episodes set
      generation_stage = ${input.stage},
      generation_percent = greatest(generation_percent, ${Math.round(input.percent)}),
      generation_message = ${input.message},
      generation_findings = coalesce(${input.findings ? sql.json(input.findings) : null}::jsonb, generation_findings),
      generation_sources = coalesce(${input.sources ? sql.json(input.sources as never) : null}::jsonb, generation_sources),
      version = version + 1
    where organization_id = ${input.organizationId} and id = ${input.episodeId}
      and status = 'GENERATING' and generation_attempts = ${input.attempt}
    returning *`;
  if (episode) await announce(sql, episode);
  return episode;
}

export interface PublishedContent {
  title: string;
  summary: string;
  content: string;
  sources: EpisodeSource[];
  qa: { passed: boolean; notes: string };
}

/** About 200 words a minute, never less than one. */
export function readingMinutes(markdown: string): number {
  const words = markdown.split(/\s+/).filter(Boolean).length;
  return Math.max(1, Math.ceil(words / 200));
}

/** GENERATING → PUBLISHED for the given attempt. Returns nothing when that attempt is not the one running. */
export async function publishEpisode(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; attempt: number } & PublishedContent,
  actor: EpisodeActor,
): Promise<EpisodeRow | undefined> {
  const [episode] = await sql<EpisodeRow[]>`
    update episodes set
      status = 'PUBLISHED',
      title = ${input.title},
      summary = ${input.summary},
      content = ${input.content},
      sources = ${sql.json(input.sources as never)},
      published_at = now(),
      reading_minutes = ${readingMinutes(input.content)},
      generation_stage = null,
      generation_percent = 100,
      generation_message = 'Published',
      qa_passed = ${input.qa.passed},
      qa_notes = ${input.qa.notes || null},
      version = version + 1
    where organization_id = ${input.organizationId} and id = ${input.episodeId}
      and status = 'GENERATING' and generation_attempts = ${input.attempt}
    returning *`;
  if (!episode) return undefined;
  await audit(sql, actor, "episode.published", null, episode);
  await announce(sql, episode);
  return episode;
}

/**
 * Ends the current attempt: back to QUEUED when another try will follow, or FAILED with a reason a person can
 * act on. `attempt` guards against an old attempt's report ending a newer one.
 */
export async function endAttempt(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; attempt: number; outcome: "retry" | "failed"; reason: string },
  actor: EpisodeActor,
): Promise<EpisodeRow | undefined> {
  const status = input.outcome === "retry" ? "QUEUED" : "FAILED";
  const error = { at: new Date().toISOString(), attempt: input.attempt, reason: input.reason };
  const [episode] = await sql<EpisodeRow[]>`
    update episodes set
      status = ${status},
      generation_stage = null,
      generation_message = ${input.outcome === "retry" ? "Trying again shortly" : "Generation failed"},
      failure_reason = ${input.reason.slice(0, 1000)},
      generation_errors = (generation_errors || ${sql.json([error])}::jsonb),
      version = version + 1
    where organization_id = ${input.organizationId} and id = ${input.episodeId}
      and status = 'GENERATING' and generation_attempts = ${input.attempt}
    returning *`;
  if (!episode) return undefined;
  await audit(sql, actor, input.outcome === "retry" ? "episode.retry_scheduled" : "episode.failed", null, episode);
  await announce(sql, episode);
  return episode;
}

/** QUEUED → FAILED: the job can no longer run (its attempts ran out before it started). */
export async function failQueuedEpisode(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; reason: string },
  actor: EpisodeActor,
): Promise<EpisodeRow | undefined> {
  const [episode] = await sql<EpisodeRow[]>`
    update episodes set status = 'FAILED', failure_reason = ${input.reason.slice(0, 1000)},
      generation_message = 'Generation failed', version = version + 1
    where organization_id = ${input.organizationId} and id = ${input.episodeId} and status = 'QUEUED'
    returning *`;
  if (!episode) return undefined;
  await audit(sql, actor, "episode.failed", null, episode);
  await announce(sql, episode);
  return episode;
}
