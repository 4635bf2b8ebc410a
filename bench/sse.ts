// Callback→SSE delivery: the built app (its realtime hub, one LISTEN per process) with N signed-in event streams
// open from client processes; progress is recorded in a transaction (→ NOTIFY at commit) and every client's
// arrival time is compared with the commit. Memory per client is the app's RSS growth divided by N, each RSS read
// after a full garbage collection.
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";
import { createDb, type Db } from "../app/lib/db.server";
import { recordProgress } from "../app/models/episodes.server";
import { createSession } from "../app/models/sessions.server";
import { startAppProcess } from "../tests/support/app-process";
import { databaseUrl } from "../tests/support/postgres-server";
import { percentile, type BenchPostgres } from "./queue";

export interface SseResult {
  clients: number;
  episodes: number;
  clientProcesses: number;
  events: number;
  /** Client arrivals measured (clients × events). */
  deliveries: number;
  missed: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  connectSeconds: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  memoryPerClientKiB: number;
}

const CLIENTS_PER_PROCESS = 2_500;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The app's resident memory after a full garbage collection (see collect-garbage-on-signal.cjs). */
async function rssBytes(pid: number): Promise<number> {
  process.kill(pid, "SIGUSR2");
  await sleep(1_000);
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

async function seed(db: Db, episodes: number): Promise<{ cookie: string; organizationId: string; episodeIds: string[] }> {
  const [organization] = await db<{ id: string }[]>`insert into organizations (name) values ('SSE bench') returning id`;
  const [user] = await db<{ id: string }[]>`insert into users (email, name, password_hash) values ('sse-bench@example.com', 'Bench', 'unused') returning id`;
  await db`insert into memberships (organization_id, user_id, role) values (${organization.id}, ${user.id}, 'owner')`;
  const [project] = await db<{ id: string }[]>`
    insert into projects (organization_id, title, onboarding_brief, timezone, next_scheduled_at)
    values (${organization.id}, 'Watched project', '## Focus', 'Europe/London', now() + interval '30 days') returning id`;
  await db`
    insert into episodes (organization_id, project_id, status, scheduled_for)
    select ${organization.id}, ${project.id}, 'QUEUED', date_trunc('minute', now()) + (e || ' days')::interval
    from generate_series(1, ${episodes}) e`;
  await db`
    update episodes set status = 'GENERATING', generation_attempts = 1, generation_stage = 'research',
      generation_message = 'Starting research', generation_started_at = now(), generated_by = 'n8n', version = version + 1
    where organization_id = ${organization.id}`;
  const session = await createSession(db, { userId: user.id, organizationId: organization.id, ttlDays: 1, meta: { ip: null, userAgent: "bench", requestId: null } });
  const rows = await db<{ id: string }[]>`select id from episodes where organization_id = ${organization.id} order by scheduled_for`;
  return {
    cookie: `mf_session=${encodeURIComponent(btoa(JSON.stringify(session.token)))}`,
    organizationId: organization.id,
    episodeIds: rows.map((r) => r.id),
  };
}

function request<T>(child: ChildProcess, message: unknown, reply: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (answer: { type: string; message?: string }) => {
      if (answer.type === "error") reject(new Error(answer.message));
      if (answer.type !== reply) return;
      child.off("message", onMessage);
      resolve(answer as T);
    };
    child.on("message", onMessage);
    child.send(message as never);
  });
}

async function measure(pg: BenchPostgres, clients: number, events: number, episodeCount: number): Promise<SseResult> {
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
  const database = `mf_bench_sse_${Date.now()}`;
  await admin.unsafe(`create database ${database} template ${pg.templateDatabase}`);
  const url = databaseUrl(pg.adminUrl, database);
  const db = createDb(url, { max: 8 });
  const episodes = Math.min(clients, episodeCount);
  const { cookie, organizationId, episodeIds } = await seed(db, episodes);
  const app = await startAppProcess({
    env: { LOG_LEVEL: "warn", DATABASE_URL: url, APP_ROLE: "web" },
    command: [process.execPath, "--expose-gc", "--require", path.resolve("bench/collect-garbage-on-signal.cjs"), path.resolve("build/server.js")],
  });
  const children: ChildProcess[] = [];
  try {
    const port = Number(new URL(app.baseUrl).port);
    // Warm the route (JIT, pools) with a few streams, so the "before" figure is the app at work, not at rest.
    const warm = fork(path.resolve("bench/sse-clients.ts"), { execArgv: ["--import", "tsx"], stdio: "inherit" });
    await request(warm, { type: "start", port, cookie, episodes: episodeIds.slice(0, 20) }, "started");
    warm.send({ type: "close" });
    await sleep(2_000);
    const rssBefore = await rssBytes(app.child.pid!);

    const processes = Math.ceil(clients / CLIENTS_PER_PROCESS);
    const assignment = Array.from({ length: clients }, (_, i) => episodeIds[i % episodes]);
    const connectStarted = nowMs();
    for (let p = 0; p < processes; p++) {
      children.push(fork(path.resolve("bench/sse-clients.ts"), { execArgv: ["--import", "tsx"], stdio: "inherit" }));
    }
    await Promise.all(
      children.map((child, p) =>
        request(child, { type: "start", port, cookie, episodes: assignment.filter((_, i) => i % processes === p) }, "started"),
      ),
    );
    const connectSeconds = (nowMs() - connectStarted) / 1000;
    await sleep(3_000);
    const rssAfter = await rssBytes(app.child.pid!);

    const latencies: number[] = [];
    let missed = 0;
    for (let round = 1; round <= events; round++) {
      // One progress report per episode, each its own transaction, all at once.
      const committing = new Map<string, number>();
      const versions: Record<string, number> = {};
      await Promise.all(
        episodeIds.map((episodeId) =>
          db.begin(async (sql) => {
            const row = await recordProgress(sql, {
              organizationId,
              episodeId,
              attempt: 1,
              stage: "research",
              percent: round,
              message: `Reading source ${round}`,
              findings: [`Finding ${round} for the bench`],
            });
            if (!row) throw new Error("progress was not recorded");
            versions[episodeId] = row.version;
            committing.set(episodeId, nowMs());
          }),
        ),
      );
      const answers = await Promise.all(
        children.map((child) =>
          request<{ arrivals: { episodeId: string; at: number | null }[] }>(child, { type: "collect", versions }, "collected"),
        ),
      );
      for (const { arrivals } of answers) {
        for (const arrival of arrivals) {
          if (arrival.at === null) missed++;
          else latencies.push(arrival.at - committing.get(arrival.episodeId)!);
        }
      }
      await sleep(500);
    }
    latencies.sort((a, b) => a - b);
    return {
      clients,
      episodes,
      clientProcesses: processes,
      events,
      deliveries: latencies.length,
      missed,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.round((latencies[latencies.length - 1] ?? NaN) * 100) / 100,
      connectSeconds: Math.round(connectSeconds * 10) / 10,
      rssBeforeMiB: Math.round((rssBefore / 2 ** 20) * 10) / 10,
      rssAfterMiB: Math.round((rssAfter / 2 ** 20) * 10) / 10,
      memoryPerClientKiB: Math.round(((rssAfter - rssBefore) / clients / 1024) * 100) / 100,
    };
  } finally {
    children.forEach((child) => child.connected && child.send({ type: "close" }));
    await app.stop();
    await fs.rm(app.dataDir, { recursive: true, force: true });
    await db.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end({ timeout: 5 });
  }
}

/**
 * Clients are spread over `episodeCount` episodes (a few episodes, many watchers each: the hub reads a changed
 * episode once and fans it out to all of them); each event is one progress report per episode, all at once.
 */
export async function sseDelivery(pg: BenchPostgres, clientCounts: number[], events: number, episodeCount: number): Promise<SseResult[]> {
  const results: SseResult[] = [];
  for (const clients of clientCounts) {
    console.log(`callback→SSE delivery: ${clients} clients`);
    results.push(await measure(pg, clients, events, episodeCount));
  }
  return results;
}
