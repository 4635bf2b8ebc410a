import fs from "node:fs/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateNow } from "../../app/generation/lifecycle.server";
import { setDb } from "../../app/lib/db.server";
import { getEpisode } from "../../app/models/episodes.server";
import { startAppProcess, type AppProcess } from "../support/app-process";
import { startEdgeApp, type EdgeApp } from "../support/edge";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertOwner } from "../support/episodes";
import { completedMessage, newWebhookSecret, startFakeN8n, type FakeN8n } from "../support/fake-n8n";

/**
 * Worker processes of the built server (APP_ROLE=worker) sharing one database, dispatching to a fake n8n that
 * calls the built app's callback route back. What a crash or a crowd does to the queue, with real processes.
 */

// Starting a server process takes a second on an idle machine and far longer on a busy one: the limit is for
// hangs, not for speed.
const PROCESS_TEST_TIMEOUT_MS = 120_000;

const secret = newWebhookSecret();
process.env.LOG_LEVEL = "silent";
process.env.GENERATION_WEBHOOK_SECRET = secret;

let database: TestDatabase;
let app: EdgeApp;
let fake: FakeN8n;
let organizationId: string;
let userId: string;
const workers: AppProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  // This file's own database, thrown away afterwards: commits need not wait for the disk.
  await database.db.unsafe(`alter database ${database.name} set synchronous_commit = off`);
  setDb(database.db);
  app = await startEdgeApp();
  ({ organizationId, userId } = await insertOwner(database.db));
});
afterAll(async () => {
  await app.close();
  await database.drop();
});
beforeEach(async () => {
  fake = await startFakeN8n(secret);
});
afterEach(async () => {
  const stopping = workers.splice(0);
  await Promise.all(stopping.map((worker) => worker.stop()));
  await Promise.all(stopping.map((worker) => fs.rm(worker.dataDir, { recursive: true, force: true })));
  await fake.idle();
  await fake.close();
});

async function startWorker(env: Record<string, string> = {}): Promise<AppProcess> {
  const worker = await startAppProcess({
    env: {
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: "4",
      APP_ROLE: "worker",
      APP_URL: app.baseUrl,
      GENERATION_WEBHOOK_URL: fake.url,
      GENERATION_WEBHOOK_SECRET: secret,
      GENERATION_RETRY_BASE_MS: "50",
      QUEUE_POLL_INTERVAL_MS: "100",
      ...env,
    },
    waitFor: /worker process started/,
  });
  workers.push(worker);
  return worker;
}

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

async function auditActions(episodeId: string): Promise<string[]> {
  const rows = await database.db<{ action: string }[]>`
    select action from audit_log where target_type = 'episode' and target_id = ${episodeId} order by created_at, id`;
  return rows.map((row) => row.action);
}

describe("generation across worker processes", () => {
  it("a worker killed while it holds the lease: another recovers the episode, which is published exactly once", async () => {
    const [project] = await database.db<{ id: string }[]>`
      insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
      values (${organizationId}, ${userId}, 'Grid storage', 'Watch storage.', 'weekly', '{1}', now() + interval '1 day')
      returning id`;
    const queued = await generateNow(database.db, { userId, organizationId, role: "owner", label: "owner" }, project.id, {
      ip: null,
      userAgent: null,
      requestId: null,
    });
    if (!queued.ok) throw new Error(queued.reason);
    const episodeId = queued.episode.id;
    // n8n holds the first dispatch open: the worker is mid-dispatch, its lease (dispatch timeout + 5 s) held.
    fake.behave((_request, index) => (index === 0 ? { kind: "hang" } : { kind: "complete" }));
    // A short timeout makes the surviving worker's reaper look every second.
    const env = { GENERATION_DISPATCH_TIMEOUT_MS: "2000", GENERATION_TIMEOUT: "4s" };

    const doomed = await startWorker(env);
    await until(() => fake.dispatches.length === 1);
    expect(await doomed.stop("SIGKILL")).toBeNull();
    const [held] = await database.db`select status, attempts, locked_by from episode_schedule_queue where episode_id = ${episodeId}`;
    expect(held).toMatchObject({ status: "processing", attempts: 1, lockedBy: expect.stringContaining(`:${doomed.child.pid}:`) });
    expect((await getEpisode(database.db, organizationId, episodeId))!.status).toBe("GENERATING");

    const survivor = await startWorker(env);
    await until(async () => (await getEpisode(database.db, organizationId, episodeId))!.status === "PUBLISHED");
    await fake.idle();

    expect(fake.dispatches.map((d) => [d.request.attempt, d.answered])).toEqual([
      [1, false],
      [2, true],
    ]);
    // The dead worker's attempt, reporting late, changes nothing.
    const late = await fake.send(`${app.baseUrl}/api/episodes/callback`, completedMessage(fake.dispatches[0].request));
    expect(late).toEqual({ status: 200, body: { result: "already_published", duplicate: false } });

    const episode = await getEpisode(database.db, organizationId, episodeId);
    expect(episode).toMatchObject({ status: "PUBLISHED", generationAttempts: 2 });
    expect(episode!.generationErrors.map((e) => [e.attempt, e.reason])).toEqual([[1, "The generator stopped before finishing."]]);
    expect(await auditActions(episodeId)).toEqual([
      "episode.queued",
      "episode.generating",
      "episode.retry_scheduled",
      "episode.generating",
      "episode.published",
    ]);
    const ledger = await database.db<{ callId: string }[]>`select call_id from token_usage where episode_id = ${episodeId} order by call_id`;
    expect(ledger.map((row) => row.callId)).toEqual([`${episodeId}:2:qa`, `${episodeId}:2:research`, `${episodeId}:2:writer`]);
    expect(survivor.output.some((line) => line.includes("recovered generation jobs whose lease expired"))).toBe(true);
  }, PROCESS_TEST_TIMEOUT_MS);

  it("three worker processes on one database dispatch 300 due episodes, each exactly once", async () => {
    // n8n takes each job and keeps it: nothing but a second dispatch could touch an episode again.
    fake.behave(() => ({ kind: "silent" }));
    const env = { SCHEDULER_INTERVAL_MS: "200", GENERATION_CONCURRENCY: "8" };
    const processes = await Promise.all([startWorker(env), startWorker(env), startWorker(env)]);
    // An organization of its own, so nothing from another test is counted.
    const [crowd] = await database.db<{ id: string }[]>`insert into organizations (name) values ('Crowd') returning id`;
    const organizationId = crowd.id;
    // Due only once all three are running, so they compete: their schedulers queue, their dispatchers claim.
    await database.db`
      insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
      select ${organizationId}, ${userId}, 'Project ' || n, 'Watch things.', 'weekly', '{1}', now() - interval '1 minute'
      from generate_series(1, 300) as n`;

    // Settled: all 300 queued, none waiting and none mid-dispatch (acknowledged jobs wait for n8n's callback).
    await until(async () => {
      const [row] = await database.db`
        select count(*)::int as total,
          count(*) filter (where status = 'pending' or (status = 'processing' and dispatched_at is null))::int as unsettled
        from episode_schedule_queue where organization_id = ${organizationId}`;
      return row.total === 300 && row.unsettled === 0;
    });

    const perAttempt = new Map<string, number>();
    for (const dispatch of fake.dispatches) {
      const key = `${dispatch.request.episodeId}#${dispatch.request.attempt}`;
      perAttempt.set(key, (perAttempt.get(key) ?? 0) + 1);
    }
    expect(fake.dispatches).toHaveLength(300);
    expect(perAttempt.size).toBe(300);
    expect([...perAttempt.values()].every((count) => count === 1)).toBe(true);
    expect(fake.dispatches.every((d) => d.request.attempt === 1)).toBe(true);

    const [jobs] = await database.db`
      select count(*)::int as total, count(*) filter (where status = 'processing' and attempts = 1)::int as once
      from episode_schedule_queue where organization_id = ${organizationId}`;
    expect(jobs).toEqual({ total: 300, once: 300 });
    const [generating] = await database.db`
      select count(*)::int as n from audit_log where organization_id = ${organizationId} and action = 'episode.generating'`;
    expect(generating.n).toBe(300);

    // Each process says which episodes it dispatched: together exactly the 300, and all three took part.
    const dispatchedBy = processes.map((worker) =>
      worker.output.filter((line) => line.includes('"msg":"episode dispatched"')).map((line) => JSON.parse(line).episodeId as string),
    );
    expect(dispatchedBy.flat().sort()).toEqual([...new Set(fake.dispatches.map((d) => d.request.episodeId))].sort());
    expect(dispatchedBy.every((ids) => ids.length > 0)).toBe(true);
  }, PROCESS_TEST_TIMEOUT_MS);
});
