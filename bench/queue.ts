// The generation queue against graphile-worker 0.16.6 on the same PostgreSQL: claim→dispatch throughput and
// enqueue→dispatch latency. Ours runs the real dispatcher and the real n8n generator against a local no-op
// webhook; graphile-worker runs no-op tasks, non-batched, in a database of its own.
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { openNotificationListener, type NotificationListener } from "../app/lib/notifications.server";
import { run as runGraphileWorker, runMigrations as migrateGraphileWorker, Logger as GraphileLogger, type Runner } from "graphile-worker";
import { createDb, type Db } from "../app/lib/db.server";
import { createLogger } from "../app/lib/logger.server";
import type { GenerationSettings } from "../app/generation/lifecycle.server";
import { n8nGenerator } from "../app/generation/n8n.server";
import { generationDispatcher } from "../app/jobs/generation.server";
import type { RunningWorker, WorkerContext } from "../app/jobs/workers.server";
import { enqueueJob } from "../app/models/generation-jobs.server";
import { gbpToMicros } from "../app/models/usage.server";
import { databaseUrl } from "../tests/support/postgres-server";

export interface BenchPostgres {
  adminUrl: string;
  templateDatabase: string;
}

export interface ThroughputResult {
  system: "many-futures" | "graphile-worker";
  /** How the work was shared: dispatcher processes × attempts in hand each, or graphile-worker's concurrency. */
  shape: string;
  concurrency: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

export interface LatencyResult {
  system: "many-futures" | "graphile-worker";
  samples: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const silentLogger = createLogger("silent");
const silentGraphileLogger = new GraphileLogger(() => () => {});
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)] * 100) / 100;
}

function settings(): GenerationSettings {
  return {
    maxAttempts: 5,
    timeoutMs: 10 * 60_000,
    dispatchTimeoutMs: 15_000,
    retryBaseMs: 5_000,
    callbackUrl: "http://127.0.0.1:9/api/episodes/callback",
    maxCostGbpMicros: gbpToMicros(1),
  };
}

/** The no-op n8n: answers every POST with 204 once its body has arrived, and tells who is waiting. */
async function startNoopWebhook(onPost?: (body: string) => void) {
  let received = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received++;
      onPost?.(Buffer.concat(chunks).toString());
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook/episode-generation`,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function withDatabase<T>(pg: BenchPostgres, name: string, fromTemplate: boolean, use: (url: string) => Promise<T>): Promise<T> {
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
  const database = `${name}_${Date.now()}`;
  await admin.unsafe(`create database ${database}${fromTemplate ? ` template ${pg.templateDatabase}` : ""}`);
  try {
    return await use(databaseUrl(pg.adminUrl, database));
  } finally {
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end({ timeout: 5 });
  }
}

/**
 * `episodes` QUEUED episodes, ten to a project, in one organization; with `enqueue`, each with a pending queue
 * row due now. Set-based, then vacuumed, so the measurement starts from a settled table.
 */
async function seedQueuedEpisodes(db: Db, episodes: number, enqueue: boolean): Promise<{ organizationId: string; episodeIds: string[] }> {
  // A limit the run cannot reach: every claim still reserves against it, so the budget's cost is in the figures.
  const [organization] = await db<{ id: string }[]>`
    insert into organizations (name, daily_cost_limit_gbp_micros) values ('Queue bench', ${Number.MAX_SAFE_INTEGER}) returning id`;
  const projects = Math.ceil(episodes / 10);
  await db`
    insert into projects (organization_id, title, onboarding_brief, timezone, next_scheduled_at)
    select ${organization.id}, 'Project ' || p, '## Focus' || chr(10) || chr(10) || 'Signals about topic ' || p || '.',
           'Europe/London', now() + interval '30 days'
    from generate_series(1, ${projects}) p`;
  await db`
    insert into episodes (organization_id, project_id, status, scheduled_for)
    select p.organization_id, p.id, 'QUEUED', date_trunc('minute', now()) + (e || ' days')::interval
    from projects p cross join generate_series(1, 10) e
    where p.organization_id = ${organization.id}
    limit ${episodes}`;
  if (enqueue) {
    await db`
      insert into episode_schedule_queue (organization_id, episode_id, max_attempts, run_at)
      select organization_id, id, 5, now() - interval '1 minute' from episodes where organization_id = ${organization.id}`;
  }
  await db`vacuum analyze`;
  const rows = await db<{ id: string }[]>`select id from episodes where organization_id = ${organization.id} order by scheduled_for, id`;
  return { organizationId: organization.id, episodeIds: rows.map((r) => r.id) };
}

function workerContext(db: Db, notifications: NotificationListener | undefined, directUrl: string): WorkerContext {
  return { db, directUrl, logger: silentLogger, notifications };
}

/** Our queue: `dispatchers` dispatchers, each with `perDispatcher` attempts in hand, until every job is dispatched. */
async function ourThroughput(pg: BenchPostgres, jobs: number, dispatchers: number, perDispatcher: number): Promise<ThroughputResult> {
  return withDatabase(pg, "mf_bench_queue", true, async (url) => {
    const concurrency = dispatchers * perDispatcher;
    const db = createDb(url, { max: concurrency + 4 });
    const listenSql = openNotificationListener({ directUrl: url, logger: silentLogger });
    const webhook = await startNoopWebhook();
    const running: RunningWorker[] = [];
    try {
      await seedQueuedEpisodes(db, jobs, true);
      const generator = n8nGenerator({ webhookUrl: webhook.url, secret: `whsec_${crypto.randomBytes(32).toString("base64")}`, dispatchTimeoutMs: 15_000 });
      const context = workerContext(db, listenSql, url);
      const started = nowMs();
      for (let i = 0; i < dispatchers; i++) {
        running.push(await generationDispatcher({ generator, settings: settings(), concurrency: perDispatcher, pollIntervalMs: 1_000 }).start(context));
      }
      // A run that stops moving (jobs refused, a dispatcher stuck) fails with what it reached instead of waiting forever.
      let progress = { dispatched: -1, at: nowMs() };
      for (;;) {
        const [{ dispatched }] = await db<{ dispatched: number }[]>`
          select count(*)::int as dispatched from episode_schedule_queue where dispatched_at is not null`;
        if (dispatched >= jobs) break;
        if (dispatched !== progress.dispatched) progress = { dispatched, at: nowMs() };
        else if (nowMs() - progress.at > 30_000) throw new Error(`the queue stalled at ${dispatched} of ${jobs} dispatched`);
        await sleep(50);
      }
      const seconds = (nowMs() - started) / 1000;
      const [{ failed }] = await db<{ failed: number }[]>`select count(*)::int as failed from episode_schedule_queue where last_error is not null`;
      if (failed) throw new Error(`${failed} dispatches failed during the throughput run`);
      return {
        system: "many-futures",
        shape: `${dispatchers} dispatcher${dispatchers > 1 ? "s" : ""} × ${perDispatcher} in hand`,
        concurrency,
        jobs,
        seconds: Math.round(seconds * 100) / 100,
        jobsPerSecond: Math.round(jobs / seconds),
      };
    } finally {
      await Promise.all(running.map((worker) => worker.stop()));
      await webhook.close();
      await listenSql.close();
      await db.end({ timeout: 5 });
    }
  });
}

async function graphileThroughput(url: string, jobs: number, concurrency: number): Promise<ThroughputResult> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let runner: Runner | undefined;
  try {
    await sql`select graphile_worker.add_job('noop', json_build_object('n', g)) from generate_series(1, ${jobs}) g`;
    await sql`vacuum analyze`;
    const started = nowMs();
    runner = await runGraphileWorker({
      connectionString: url,
      concurrency,
      maxPoolSize: concurrency + 2,
      noHandleSignals: true,
      pollInterval: 1_000,
      logger: silentGraphileLogger,
      taskList: { noop: async () => {} },
    });
    for (;;) {
      const [{ left }] = await sql<{ left: number }[]>`select count(*)::int as left from graphile_worker.jobs`;
      if (left === 0) break;
      await sleep(50);
    }
    const seconds = (nowMs() - started) / 1000;
    return {
      system: "graphile-worker",
      shape: `1 runner × concurrency ${concurrency}`,
      concurrency,
      jobs,
      seconds: Math.round(seconds * 100) / 100,
      jobsPerSecond: Math.round(jobs / seconds),
    };
  } finally {
    await runner?.stop();
    await sql.end({ timeout: 5 });
  }
}

/**
 * Throughput at each concurrency: ours as one dispatcher with that many attempts in hand (the production shape,
 * GENERATION_CONCURRENCY) and as that many dispatchers with one each (graphile-worker's shape: each worker
 * claims on its own), then graphile-worker with that concurrency. Interleaved, so load drift hits all alike.
 */
export async function queueThroughput(pg: BenchPostgres, jobs: number, concurrencies: number[]): Promise<ThroughputResult[]> {
  return withDatabase(pg, "gw_bench_queue", false, async (graphileUrl) => {
    await migrateGraphileWorker({ connectionString: graphileUrl, logger: silentGraphileLogger });
    const results: ThroughputResult[] = [];
    for (const concurrency of concurrencies) {
      console.log(`queue throughput: ${jobs} jobs at concurrency ${concurrency}`);
      results.push(await ourThroughput(pg, jobs, 1, concurrency));
      if (concurrency > 1) results.push(await ourThroughput(pg, jobs, concurrency, 1));
      results.push(await graphileThroughput(graphileUrl, jobs, concurrency));
    }
    return results;
  });
}

function summarize(system: LatencyResult["system"], latencies: number[]): LatencyResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    system,
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: Math.round(sorted[sorted.length - 1] * 100) / 100,
  };
}

/**
 * Enqueue→dispatch, one job at a time, the dispatcher idle and woken by NOTIFY (its poll fallback is a minute, so
 * it never fires): from the moment the enqueue transaction commits to the no-op webhook receiving the POST.
 */
async function ourLatency(pg: BenchPostgres, samples: number, warmUp: number): Promise<LatencyResult> {
  return withDatabase(pg, "mf_bench_latency", true, async (url) => {
    const db = createDb(url, { max: 4 });
    const listenSql = openNotificationListener({ directUrl: url, logger: silentLogger });
    let arrived: ((at: number, body: string) => void) | undefined;
    const webhook = await startNoopWebhook((body) => arrived?.(nowMs(), body));
    let dispatcher: RunningWorker | undefined;
    try {
      const { organizationId, episodeIds } = await seedQueuedEpisodes(db, samples + warmUp, false);
      const generator = n8nGenerator({ webhookUrl: webhook.url, secret: `whsec_${crypto.randomBytes(32).toString("base64")}`, dispatchTimeoutMs: 15_000 });
      dispatcher = await generationDispatcher({ generator, settings: settings(), concurrency: 1, pollIntervalMs: 60_000 }).start(
        workerContext(db, listenSql, url),
      );
      const latencies: number[] = [];
      for (const [index, episodeId] of episodeIds.entries()) {
        const post = new Promise<{ at: number; body: string }>((resolve) => (arrived = (at, body) => resolve({ at, body })));
        let committing = 0;
        await db.begin(async (sql) => {
          await enqueueJob(sql, { organizationId, episodeId, maxAttempts: 5 });
          committing = nowMs();
        });
        const { at, body } = await post;
        if ((JSON.parse(body) as { episodeId: string }).episodeId !== episodeId) throw new Error("the webhook received another episode");
        if (index >= warmUp) latencies.push(at - committing);
        // Idle again: the acknowledgement written and the dispatcher back asleep.
        for (;;) {
          const [job] = await db<{ dispatchedAt: Date | null }[]>`select dispatched_at from episode_schedule_queue where episode_id = ${episodeId}`;
          if (job.dispatchedAt) break;
          await sleep(2);
        }
        await sleep(20);
      }
      return summarize("many-futures", latencies);
    } finally {
      await dispatcher?.stop();
      await webhook.close();
      await listenSql.close();
      await db.end({ timeout: 5 });
    }
  });
}

/** graphile-worker's add→start, measured the same way: from the add transaction's commit to the task starting. */
async function graphileLatency(pg: BenchPostgres, samples: number, warmUp: number): Promise<LatencyResult> {
  return withDatabase(pg, "gw_bench_latency", false, async (url) => {
    await migrateGraphileWorker({ connectionString: url, logger: silentGraphileLogger });
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    let started: ((at: number, n: number) => void) | undefined;
    const runner = await runGraphileWorker({
      connectionString: url,
      concurrency: 1,
      noHandleSignals: true,
      pollInterval: 60_000,
      logger: silentGraphileLogger,
      taskList: {
        noop: async (payload) => {
          started?.(nowMs(), (payload as { n: number }).n);
        },
      },
    });
    try {
      const latencies: number[] = [];
      for (let n = 0; n < samples + warmUp; n++) {
        const start = new Promise<{ at: number; n: number }>((resolve) => (started = (at, job) => resolve({ at, n: job })));
        let committing = 0;
        await sql.begin(async (tx) => {
          await tx`select graphile_worker.add_job('noop', json_build_object('n', ${n}::int))`;
          committing = nowMs();
        });
        const { at, n: job } = await start;
        if (job !== n) throw new Error("graphile-worker started another job");
        if (n >= warmUp) latencies.push(at - committing);
        for (;;) {
          const [{ left }] = await sql<{ left: number }[]>`select count(*)::int as left from graphile_worker.jobs`;
          if (left === 0) break;
          await sleep(2);
        }
        await sleep(20);
      }
      return summarize("graphile-worker", latencies);
    } finally {
      await runner.stop();
      await sql.end({ timeout: 5 });
    }
  });
}

export async function queueLatency(pg: BenchPostgres, samples: number): Promise<LatencyResult[]> {
  const warmUp = 10;
  console.log(`enqueue→dispatch latency: ${samples} samples each`);
  return [await ourLatency(pg, samples, warmUp), await graphileLatency(pg, samples, warmUp)];
}
