import {
  applyProgress,
  claimNextGeneration,
  dispatchFailed,
  generateNow,
  publishGeneration,
  type ClaimedGeneration,
  type GenerationSettings,
} from "../../app/generation/lifecycle.server";
import type { Db } from "../../app/lib/db.server";
import { getEpisode, type EpisodeRow, type EpisodeSource, type GenerationStage } from "../../app/models/episodes.server";

/** Drives one episode through its lifecycle with the lifecycle's own functions, as a generator would. */

export const testSettings: GenerationSettings = {
  maxAttempts: 3,
  timeoutMs: 60_000,
  dispatchTimeoutMs: 1_000,
  retryBaseMs: 10,
  callbackUrl: "http://127.0.0.1:9/api/episodes/callback",
  maxCostGbpMicros: 1_000_000,
};

const meta = { ip: null, userAgent: null, requestId: null };

export interface Owner {
  userId: string;
  organizationId: string;
}

export async function insertOwner(db: Db, name = "Acme"): Promise<Owner> {
  const [org] = await db<{ id: string }[]>`insert into organizations (name) values (${name}) returning id`;
  const [user] = await db<{ id: string }[]>`
    insert into users (email, name, password_hash) values (${`owner-${org.id}@example.com`}, 'Owner', 'unused') returning id`;
  await db`insert into memberships (organization_id, user_id, role) values (${org.id}, ${user.id}, 'owner')`;
  return { userId: user.id, organizationId: org.id };
}

export async function insertProject(db: Db, owner: Owner, title = "Grid storage"): Promise<string> {
  const [project] = await db<{ id: string }[]>`
    insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
    values (${owner.organizationId}, ${owner.userId}, ${title}, 'Watch long-duration storage.', 'weekly', '{1}', ${new Date(Date.now() + 86_400_000)})
    returning id`;
  return project.id;
}

/** "Generate now" as the owner: a QUEUED episode. */
export async function queueEpisode(db: Db, owner: Owner, projectId: string): Promise<EpisodeRow> {
  const result = await generateNow(db, { ...owner, role: "owner", label: "owner" }, projectId, meta, testSettings);
  if (!result.ok) throw new Error(`not queued: ${result.reason}`);
  return result.episode;
}

/** The dispatcher's claim: the next due episode becomes GENERATING. */
export async function claimNext(db: Db): Promise<ClaimedGeneration> {
  const claimed = await claimNextGeneration(db, { owner: "test", leaseMs: 60_000, generatedBy: "builtin" }, testSettings);
  if (claimed.kind !== "claimed") throw new Error(`nothing claimed: ${claimed.kind}`);
  return claimed.claim;
}

export async function reportProgress(
  db: Db,
  claim: ClaimedGeneration,
  report: { stage: GenerationStage; percent: number; message: string; findings?: string[]; sources?: EpisodeSource[] },
): Promise<EpisodeRow> {
  const { episodeId, organizationId, attempt } = claim.request;
  await db.begin((sql) => applyProgress(sql, { episodeId, organizationId, attempt, ...report }));
  return (await getEpisode(db, organizationId, episodeId))!;
}

export async function publish(
  db: Db,
  claim: ClaimedGeneration,
  content: { title?: string; content?: string; sources?: EpisodeSource[]; qa?: { passed: boolean; notes: string } } = {},
): Promise<EpisodeRow> {
  const { episodeId, organizationId, attempt } = claim.request;
  const outcome = await db.begin((sql) =>
    publishGeneration(
      sql,
      {
        episodeId,
        organizationId,
        attempt,
        title: content.title ?? "Storage at scale",
        summary: "What changed this week.",
        content: content.content ?? "## What changed\n\nIron-air batteries reached their first grid contract.",
        sources: content.sources ?? [],
        qa: content.qa ?? { passed: true, notes: "" },
        tokenUsage: [],
      },
      { kind: "system", label: "test" },
    ),
  );
  if (!outcome.ok) throw new Error(`not published: ${outcome.reason}`);
  return (await getEpisode(db, organizationId, episodeId))!;
}

/** A failure nobody should retry automatically: the episode is FAILED with `reason`. */
export async function fail(db: Db, claim: ClaimedGeneration, reason: string): Promise<EpisodeRow> {
  const outcome = await dispatchFailed(db, claim, { reason, retryable: false }, testSettings);
  if (outcome !== "failed") throw new Error(`not failed: ${outcome}`);
  return (await getEpisode(db, claim.request.organizationId, claim.request.episodeId))!;
}

export async function waitFor<T>(read: () => T | Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Empties what generation and the budget write, so each test of a budget file starts from an unspent day. */
export async function resetGenerationAndBudget(db: Db): Promise<void> {
  await db`delete from episode_schedule_queue`;
  await db`delete from episodes`;
  await db`delete from projects`;
  await db`delete from generation_budget_reservations`;
  await db`delete from budget_alerts`;
  await db`delete from token_usage`;
  await db`delete from token_usage_daily`;
  await db`delete from user_events`;
  await db`delete from email_deliveries`;
}
