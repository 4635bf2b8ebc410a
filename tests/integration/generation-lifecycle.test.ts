import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GenerationError, type Generator } from "../../app/generation/generator.server";
import {
  applyFailure,
  applyProgress,
  claimNextGeneration,
  generateNow,
  publishGeneration,
  queueDueProjects,
  reapExpiredLeases,
  retryDelayMs,
  retryEpisode,
} from "../../app/generation/lifecycle.server";
import { builtinGenerator } from "../../app/generation/pipeline.server";
import { generationDispatcher } from "../../app/jobs/generation.server";
import { createLogger } from "../../app/lib/logger.server";
import { getEpisode } from "../../app/models/episodes.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertOwner, testSettings } from "../support/episodes";

const settings = testSettings;
const meta = { ip: null, userAgent: null, requestId: null };
const logger = createLogger("silent");

let database: TestDatabase;
let organizationId: string;
let userId: string;

async function makeProject(title = "Grid storage", options: { due?: boolean } = {}): Promise<string> {
  const [project] = await database.db<{ id: string }[]>`
    insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
    values (${organizationId}, ${userId}, ${title}, 'Watch long-duration storage.', 'weekly', '{1}',
            ${options.due ? new Date(Date.now() - 60_000) : new Date(Date.now() + 86_400_000)})
    returning id`;
  return project.id;
}

const owner = () => ({ userId, organizationId, role: "owner" as const, label: "owner@example.com" });

async function auditActions(episodeId: string): Promise<string[]> {
  const rows = await database.db<{ action: string }[]>`
    select action from audit_log where target_type = 'episode' and target_id = ${episodeId} order by created_at, id`;
  return rows.map((row) => row.action);
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  ({ organizationId, userId } = await insertOwner(database.db));
});
afterAll(() => database.drop());
beforeEach(async () => {
  await database.db`delete from episode_schedule_queue`;
  await database.db`delete from episodes`;
  await database.db`delete from projects`;
});

describe("the episode lifecycle", () => {
  it("the scheduler queues each due project's slot once, however often it runs, and moves the schedule on", async () => {
    const projectId = await makeProject("Due", { due: true });
    await makeProject("Not due");
    const [before] = await database.db<{ nextScheduledAt: Date }[]>`select next_scheduled_at from projects where id = ${projectId}`;

    const counts = await Promise.all([queueDueProjects(database.db, settings), queueDueProjects(database.db, settings)]);
    expect(counts[0] + counts[1]).toBe(1);
    expect(await queueDueProjects(database.db, settings)).toBe(0);

    const episodes = await database.db<{ status: string; scheduledFor: Date }[]>`
      select status, scheduled_for from episodes where project_id = ${projectId} order by scheduled_for`;
    expect(episodes.map((e) => e.status)).toEqual(["QUEUED", "DRAFT"]);
    expect(episodes[0].scheduledFor.getTime()).toBe(before.nextScheduledAt.getTime());
    const [after] = await database.db<{ nextScheduledAt: Date }[]>`select next_scheduled_at from projects where id = ${projectId}`;
    expect(after.nextScheduledAt.getTime()).toBe(episodes[1].scheduledFor.getTime());
    expect(after.nextScheduledAt.getTime()).toBeGreaterThan(Date.now());
    const [job] = await database.db`select status, attempts, max_attempts from episode_schedule_queue`;
    expect(job).toMatchObject({ status: "pending", attempts: 0, maxAttempts: 3 });
  });

  it("Generate now queues one episode for owners and admins, refuses members, and refuses a second while one is in flight", async () => {
    const projectId = await makeProject();
    expect(await generateNow(database.db, { ...owner(), role: "member" }, projectId, meta, settings)).toEqual({ ok: false, reason: "forbidden" });
    const results = await Promise.all([
      generateNow(database.db, owner(), projectId, meta, settings),
      generateNow(database.db, owner(), projectId, meta, settings),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: "in_flight" });
    expect(await generateNow(database.db, owner(), "00000000-0000-4000-8000-000000000000", meta, settings)).toEqual({
      ok: false,
      reason: "not_found",
    });
  });

  it("the database refuses an illegal status change", async () => {
    const projectId = await makeProject();
    const result = await generateNow(database.db, owner(), projectId, meta, settings);
    if (!result.ok) throw new Error("not queued");
    await expect(database.db`update episodes set status = 'PUBLISHED' where id = ${result.episode.id}`).rejects.toThrow(/cannot go from QUEUED to PUBLISHED/);
    await expect(database.db`update episodes set status = 'DRAFT' where id = ${result.episode.id}`).rejects.toThrow(/cannot go from QUEUED to DRAFT/);
  });

  it("the built-in pipeline takes a queued episode through research, writing and review to PUBLISHED", async () => {
    const projectId = await makeProject();
    const queued = await generateNow(database.db, owner(), projectId, meta, settings);
    if (!queued.ok) throw new Error("not queued");
    const notifications: string[] = [];
    const listener = await database.db.listen("episode_status", (payload) => notifications.push(JSON.parse(payload).status));

    const dispatcher = await generationDispatcher({
      generator: builtinGenerator({ GENERATION_OFFLINE_STAGE_MS: 0 }),
      settings,
      concurrency: 2,
      pollIntervalMs: 50,
    }).start({ db: database.db, directUrl: database.url, logger });
    const episode = await waitFor(() => getEpisode(database.db, organizationId, queued.episode.id), (e) => e?.status === "PUBLISHED");
    await dispatcher.stop();
    await listener.unlisten();

    expect(episode).toMatchObject({ status: "PUBLISHED", generationAttempts: 1, generatedBy: "builtin", qaPassed: true });
    expect(episode!.content).toContain("Offline preview");
    expect(episode!.readingMinutes).toBeGreaterThanOrEqual(1);
    expect(await auditActions(queued.episode.id)).toEqual(["episode.queued", "episode.generating", "episode.published"]);
    expect(notifications[0]).toBe("GENERATING");
    expect(notifications).toContain("PUBLISHED");
    const [job] = await database.db`select status from episode_schedule_queue where episode_id = ${queued.episode.id}`;
    expect(job.status).toBe("completed");
  });

  it("retries a failing generator with backoff, then fails with its reason; Try again starts afresh", async () => {
    const projectId = await makeProject();
    const queued = await generateNow(database.db, owner(), projectId, meta, settings);
    if (!queued.ok) throw new Error("not queued");
    let calls = 0;
    const failing: Generator = {
      kind: "n8n",
      leaseMs: 5_000,
      async run() {
        calls++;
        throw new GenerationError("n8n refused the connection", true);
      },
    };
    const dispatcher = await generationDispatcher({ generator: failing, settings, concurrency: 1, pollIntervalMs: 20 }).start({
      db: database.db,
      directUrl: database.url,
      logger,
    });
    const failed = await waitFor(() => getEpisode(database.db, organizationId, queued.episode.id), (e) => e?.status === "FAILED");
    await dispatcher.stop();
    expect(calls).toBe(3);
    expect(failed).toMatchObject({ status: "FAILED", generationAttempts: 3, failureReason: "n8n refused the connection" });
    expect(failed!.generationErrors).toHaveLength(3);
    const [job] = await database.db`select status, attempts from episode_schedule_queue where episode_id = ${queued.episode.id}`;
    expect(job).toMatchObject({ status: "failed", attempts: 3 });

    const retried = await retryEpisode(database.db, owner(), queued.episode.id, meta, settings);
    expect(retried.ok).toBe(true);
    const [again] = await database.db`select status, attempts from episode_schedule_queue where episode_id = ${queued.episode.id}`;
    expect(again).toMatchObject({ status: "pending", attempts: 0 });
    expect(await retryEpisode(database.db, owner(), queued.episode.id, meta, settings)).toEqual({ ok: false, reason: "not_failed" });
  });

  it("backoff doubles per attempt with jitter between half and all of it", () => {
    expect(retryDelayMs(1, 1000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, () => 1)).toBe(4000);
    expect(retryDelayMs(3, 1000, () => 0)).toBe(2000);
    expect(retryDelayMs(30, 1000, () => 1)).toBe(600_000);
  });

  it("reports apply to the running attempt only: progress after publication is ignored, a second completion is a no-op", async () => {
    const projectId = await makeProject();
    const queued = await generateNow(database.db, owner(), projectId, meta, settings);
    if (!queued.ok) throw new Error("not queued");
    const claimed = await claimNextGeneration(database.db, { owner: "test", leaseMs: 10_000, generatedBy: "n8n" }, settings);
    if (claimed.kind !== "claimed") throw new Error("nothing claimed");
    const ids = { episodeId: queued.episode.id, organizationId, attempt: 1 };

    expect(await database.db.begin((sql) => applyProgress(sql, { ...ids, attempt: 2, stage: "research", percent: 5, message: "x" }))).toEqual({
      ok: false,
      reason: "stale_attempt",
    });
    expect(
      await database.db.begin((sql) =>
        applyProgress(sql, { ...ids, stage: "research", percent: 30, message: "Found three signals", findings: ["Sodium-ion pilots"] }),
      ),
    ).toEqual({ ok: true, result: "applied" });
    const completed = {
      ...ids,
      title: "Storage week",
      summary: "What moved.",
      content: "## Signals\n\nSodium-ion pilots grew.",
      sources: [{ title: "Report", url: "https://example.com/report" }],
      qa: { passed: true, notes: "" },
      tokenUsage: [
        { callId: "c1", agent: "research" as const, model: "m", promptTokens: 100, completionTokens: 50, costGBP: 0.0123 },
        { callId: "c2", agent: "writer" as const, model: "m", promptTokens: 200, completionTokens: 80, costGBP: 0.02 },
      ],
    };
    const actor = { kind: "system" as const, label: "n8n" };
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => database.db.begin((sql) => publishGeneration(sql, completed, actor))));
    expect(outcomes.filter((o) => o.ok && o.result === "applied")).toHaveLength(1);
    expect(outcomes.filter((o) => o.ok && o.result === "already_published")).toHaveLength(4);
    expect(await database.db.begin((sql) => applyProgress(sql, { ...ids, stage: "review", percent: 95, message: "late" }))).toEqual({
      ok: true,
      result: "ignored",
    });
    expect(await database.db.begin((sql) => applyFailure(sql, { ...ids, error: "late", retryable: false }, actor, settings))).toEqual({
      ok: true,
      result: "ignored",
    });

    const usage = await database.db`select call_id, cost_gbp_micros from token_usage where episode_id = ${queued.episode.id} order by call_id`;
    expect(usage).toEqual([
      { callId: "c1", costGbpMicros: 12_300 },
      { callId: "c2", costGbpMicros: 20_000 },
    ]);
    const [daily] = await database.db`select prompt_tokens, completion_tokens, cost_gbp_micros from token_usage_daily where organization_id = ${organizationId}`;
    expect(daily).toEqual({ promptTokens: 300, completionTokens: 130, costGbpMicros: 32_300 });
    const episode = await getEpisode(database.db, organizationId, queued.episode.id);
    expect(episode).toMatchObject({ status: "PUBLISHED", title: "Storage week", generationFindings: ["Sodium-ion pilots"] });
  });

  it("the reaper retries an attempt whose lease ran out, and fails it once attempts are spent", async () => {
    const projectId = await makeProject();
    const queued = await generateNow(database.db, owner(), projectId, meta, { ...settings, maxAttempts: 2 });
    if (!queued.ok) throw new Error("not queued");
    for (const expected of ["QUEUED", "FAILED"]) {
      await database.db`update episode_schedule_queue set run_at = now() where status = 'pending'`;
      const claimed = await claimNextGeneration(database.db, { owner: "dead", leaseMs: 1, generatedBy: "n8n" }, settings);
      expect(claimed.kind).toBe("claimed");
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await reapExpiredLeases(database.db, settings)).toBe(1);
      const episode = await getEpisode(database.db, organizationId, queued.episode.id);
      expect(episode!.status).toBe(expected);
    }
    const episode = await getEpisode(database.db, organizationId, queued.episode.id);
    expect(episode!.failureReason).toBe("The generator stopped before finishing.");
    expect(await reapExpiredLeases(database.db, settings)).toBe(0);
  });
});
