// `npm run bench`: on one fresh PostgreSQL, measures the built app's HTTP latency and throughput, the generation
// queue against graphile-worker (throughput and enqueue→dispatch latency), callback→SSE delivery, and email
// (render time per episode email; sending an outbox of 10,000 to a local Resend under its 2 requests/s limit).
// BENCH_ONLY=http,queue,latency,sse,email runs some sections only. Prints a table and writes
// bench/results/<timestamp>.json (and latest.json).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { createDb } from "../app/lib/db.server";
import { startAppProcess } from "../tests/support/app-process";
import { databaseUrl, startTestPostgres } from "../tests/support/postgres-server";
import { outboxThroughput, renderTiming } from "./email";
import { runLoad, type LoadResult } from "./load";
import { queueLatency, queueThroughput, type LatencyResult, type ThroughputResult } from "./queue";
import { seedListViews } from "./seed";
import { sseDelivery, type SseResult } from "./sse";

const SECTIONS = ["http", "queue", "latency", "sse", "email"] as const;
type Section = (typeof SECTIONS)[number];
const only = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const unknownSections = only.filter((s) => !SECTIONS.includes(s as Section));
if (unknownSections.length) throw new Error(`BENCH_ONLY: unknown section ${unknownSections.join(", ")} (known: ${SECTIONS.join(", ")})`);
const runs = (section: Section) => !only.length || only.includes(section);

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SIZE = {
  organizations: Number(process.env.BENCH_ORGANIZATIONS ?? 1_000),
  projectsPerOrganization: 10,
  episodesPerProject: 100,
};
const QUEUE_JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 5_000);
const QUEUE_CONCURRENCIES = (process.env.BENCH_QUEUE_CONCURRENCY ?? "1,4,16").split(",").map(Number);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
const SSE_CLIENTS = (process.env.BENCH_SSE_CLIENTS ?? "1000,10000").split(",").map(Number);
const SSE_EVENTS = Number(process.env.BENCH_SSE_EVENTS ?? 5);
const SSE_EPISODES = Number(process.env.BENCH_SSE_EPISODES ?? 10);
const EMAIL_RENDER_SAMPLES = Number(process.env.BENCH_EMAIL_RENDER_SAMPLES ?? 500);
const EMAIL_SUBSCRIBERS = Number(process.env.BENCH_EMAIL_SUBSCRIBERS ?? 10_000);
/** Issue 10's target: an episode email renders in 10 ms or less (p50 and p95). */
const EMAIL_RENDER_TARGET_MS = 10;
/** The list views' target: p95 at or under this many milliseconds. */
const LIST_VIEW_P95_TARGET_MS = 15;
/** Issue 8's targets and the anchors they are read against (../shared/notes/stack-facts.md, "Queue anchors"). */
const QUEUE_RATIO_TARGET = 1.0;
const SSE_P95_TARGET_MS = 50;
const SSE_P95_TARGET_CLIENTS = 10_000;
const SSE_MEMORY_TARGET_KIB = 20;
const ANCHORS = {
  graphileJobsPerSecond: "graphile-worker 0.16.6 non-batched ≈ 730 jobs/s (concurrency 10, this kind of machine); 15,607/s on an i9-14900K",
  graphileAddToStart: "graphile-worker add→start p50 3 ms, p95 5.5 ms (this kind of machine); 4.28 ms on an i9-14900K",
};

interface Target {
  name: string;
  path: string;
  /** One connection measures a request's own latency; more measure throughput under contention. */
  connections: number;
  signedIn?: boolean;
  targetP95Ms?: number;
}

interface Result extends LoadResult {
  name: string;
  path: string;
  connections: number;
  targetP95Ms: number | null;
  meetsTarget: boolean | null;
}

const passFail = (met: boolean | null) => (met === null ? "" : met ? "PASS" : "FAIL");
const loadAverage = () => os.loadavg().map((n) => Math.round(n * 100) / 100);
const loadAtStart = loadAverage();

async function httpSection(adminUrl: string, templateDatabase: string) {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const database = `mf_bench_${Date.now()}`;
  await admin.unsafe(`create database ${database} template ${templateDatabase}`);
  const url = databaseUrl(adminUrl, database);

  const seedStarted = performance.now();
  const seedDb = createDb(url, { max: 2 });
  const seed = await seedListViews(seedDb, SIZE);
  await seedDb.end({ timeout: 5 });
  const seedSeconds = Math.round((performance.now() - seedStarted) / 100) / 10;
  console.log(`seeded ${JSON.stringify(seed.counts)} in ${seedSeconds} s`);

  const targets: Target[] = [
    { name: "health probe", path: "/healthz", connections: 10 },
    { name: "home page", path: "/", connections: 10 },
    { name: "projects list", path: "/projects", connections: 1, signedIn: true, targetP95Ms: LIST_VIEW_P95_TARGET_MS },
    { name: "project page", path: `/projects/${seed.projectId}`, connections: 1, signedIn: true, targetP95Ms: LIST_VIEW_P95_TARGET_MS },
    { name: "projects list, 4 clients", path: "/projects", connections: 4, signedIn: true },
    { name: "projects API", path: "/api/projects", connections: 1, signedIn: true, targetP95Ms: LIST_VIEW_P95_TARGET_MS },
  ];

  const app = await startAppProcess({ env: { LOG_LEVEL: "warn", DATABASE_URL: url } });
  try {
    const results: Result[] = [];
    for (const target of targets) {
      const headers: Record<string, string> = { "accept-encoding": "gzip" };
      if (target.signedIn) headers.cookie = seed.cookie;
      // A short warm-up so the first measured requests do not pay for connection set-up and JIT.
      await runLoad({ url: `${app.baseUrl}${target.path}`, connections: target.connections, durationMs: 1_000, headers });
      const load = await runLoad({ url: `${app.baseUrl}${target.path}`, connections: target.connections, durationMs: DURATION_SECONDS * 1000, headers });
      results.push({
        name: target.name,
        path: target.path,
        connections: target.connections,
        ...load,
        targetP95Ms: target.targetP95Ms ?? null,
        meetsTarget: target.targetP95Ms === undefined ? null : load.p95Ms <= target.targetP95Ms && load.failures === 0,
      });
    }
    return { results, dataSet: seed.counts, seedSeconds };
  } finally {
    await app.stop();
    await fs.rm(app.dataDir, { recursive: true, force: true });
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end({ timeout: 5 });
  }
}

function queueRows(throughput: ThroughputResult[]) {
  return QUEUE_CONCURRENCIES.flatMap((concurrency) => {
    const graphile = throughput.find((r) => r.system === "graphile-worker" && r.concurrency === concurrency);
    return throughput
      .filter((r) => r.system === "many-futures" && r.concurrency === concurrency)
      .map((ours) => {
        const ratio = graphile ? Math.round((ours.jobsPerSecond / graphile.jobsPerSecond) * 100) / 100 : null;
        return {
          concurrency,
          shape: ours.shape,
          jobs: ours.jobs,
          oursJobsPerSecond: ours.jobsPerSecond,
          graphileJobsPerSecond: graphile?.jobsPerSecond ?? null,
          ratio,
          target: `≥ ${QUEUE_RATIO_TARGET.toFixed(1)}×`,
          anchor: ANCHORS.graphileJobsPerSecond,
          meetsTarget: ratio === null ? null : ratio >= QUEUE_RATIO_TARGET,
        };
      });
  });
}

/** A section that fails is recorded in the report, and the others still run. */
async function section(name: Section, measure: () => Promise<void>) {
  try {
    await measure();
  } catch (error) {
    console.error(`section ${name} failed:`, error);
    (report.errors as Record<string, string>)[name] = error instanceof Error ? error.message : String(error);
  }
}

const server = await startTestPostgres();
const report: Record<string, unknown> = {
  at: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    // Other work shares this machine: figures are only comparable within one run.
    loadAverageAtStart: loadAtStart,
  },
  sections: SECTIONS.filter(runs),
  errors: {},
  settings: {
    durationSeconds: DURATION_SECONDS,
    queueJobs: QUEUE_JOBS,
    queueConcurrencies: QUEUE_CONCURRENCIES,
    latencySamples: LATENCY_SAMPLES,
    sseClients: SSE_CLIENTS,
    sseEvents: SSE_EVENTS,
    sseEpisodes: SSE_EPISODES,
    emailRenderSamples: EMAIL_RENDER_SAMPLES,
    emailSubscribers: EMAIL_SUBSCRIBERS,
  },
};
try {
  if (runs("http")) await section("http", async () => {
    const http = await httpSection(server.adminUrl, server.templateDatabase);
    Object.assign(report.settings as object, { dataSet: http.dataSet, seedSeconds: http.seedSeconds });
    report.results = http.results;
    console.table(
      http.results.map((r) => ({
        target: r.name,
        clients: r.connections,
        "req/s": r.requestsPerSecond,
        "p50 ms": r.p50Ms,
        "p95 ms": r.p95Ms,
        "p99 ms": r.p99Ms,
        failures: r.failures,
        "p95 target": r.targetP95Ms === null ? "" : `≤ ${r.targetP95Ms} ms`,
        "pass/fail": passFail(r.meetsTarget),
      })),
    );
  });
  if (runs("queue")) await section("queue", async () => {
    const throughput = await queueThroughput(server, QUEUE_JOBS, QUEUE_CONCURRENCIES);
    const rows = queueRows(throughput);
    report.queueThroughput = { runs: throughput, comparison: rows };
    console.log("Queue claim→dispatch throughput (ours: real dispatcher + n8n generator → no-op webhook; graphile-worker: no-op task)");
    console.table(
      rows.map((r) => ({
        concurrency: r.concurrency,
        ours: r.shape,
        "ours jobs/s": r.oursJobsPerSecond,
        "graphile jobs/s": r.graphileJobsPerSecond,
        "ours/graphile": r.ratio,
        target: r.target,
        anchor: "graphile ≈ 730/s here",
        "pass/fail": passFail(r.meetsTarget),
      })),
    );
  });
  if (runs("latency")) await section("latency", async () => {
    const latency: LatencyResult[] = await queueLatency(server, LATENCY_SAMPLES);
    report.queueLatency = { results: latency, anchor: ANCHORS.graphileAddToStart };
    console.log("Enqueue→dispatch latency (ours: commit → webhook POST; graphile-worker: commit → task start), LISTEN/NOTIFY wake-up");
    console.table(
      latency.map((r) => ({
        system: r.system,
        samples: r.samples,
        "p50 ms": r.p50Ms,
        "p95 ms": r.p95Ms,
        "p99 ms": r.p99Ms,
        "max ms": r.maxMs,
        anchor: "graphile p50 3 / p95 5.5 ms here",
      })),
    );
  });
  if (runs("sse")) await section("sse", async () => {
    const sse: SseResult[] = await sseDelivery(server, SSE_CLIENTS, SSE_EVENTS, SSE_EPISODES);
    const rows = sse.map((r) => ({
      ...r,
      p95TargetMs: r.clients >= SSE_P95_TARGET_CLIENTS ? SSE_P95_TARGET_MS : null,
      meetsP95Target: r.clients >= SSE_P95_TARGET_CLIENTS ? r.p95Ms <= SSE_P95_TARGET_MS && r.missed === 0 : null,
      memoryTargetKiB: SSE_MEMORY_TARGET_KIB,
      meetsMemoryTarget: r.memoryPerClientKiB < SSE_MEMORY_TARGET_KIB,
    }));
    report.sseDelivery = rows;
    console.log("Callback→SSE delivery (progress committed → every client's event; app RSS growth per client)");
    console.table(
      rows.map((r) => ({
        clients: r.clients,
        episodes: r.episodes,
        deliveries: r.deliveries,
        missed: r.missed,
        "p50 ms": r.p50Ms,
        "p95 ms": r.p95Ms,
        "p99 ms": r.p99Ms,
        "p95 target": r.p95TargetMs === null ? "" : `≤ ${r.p95TargetMs} ms`,
        "p95 pass/fail": passFail(r.meetsP95Target),
        "KiB/client": r.memoryPerClientKiB,
        "memory target": `< ${r.memoryTargetKiB} KiB`,
        "memory pass/fail": passFail(r.meetsMemoryTarget),
      })),
    );
  });
  if (runs("email")) await section("email", async () => {
    const render = await renderTiming(server, EMAIL_RENDER_SAMPLES);
    // The target applies to our two figures; the last row is the anchor.
    const renderRows = render.map((r, index) => {
      const ours = index < render.length - 1;
      return {
        ...r,
        targetMs: ours ? EMAIL_RENDER_TARGET_MS : null,
        meetsTarget: ours ? r.p50Ms <= EMAIL_RENDER_TARGET_MS && r.p95Ms <= EMAIL_RENDER_TARGET_MS : null,
      };
    });
    console.log("Episode email render time, per subscriber (signed links, HTML and the plain-text part)");
    console.table(
      renderRows.map((r) => ({
        what: r.what,
        samples: r.samples,
        "p50 ms": r.p50Ms,
        "p95 ms": r.p95Ms,
        "p99 ms": r.p99Ms,
        target: r.targetMs === null ? "" : `p50 and p95 ≤ ${r.targetMs} ms`,
        "pass/fail": passFail(r.meetsTarget),
      })),
    );
    const outbox = await outboxThroughput(server, EMAIL_SUBSCRIBERS);
    const honoured = outbox.refused429 === 0 && outbox.duplicates === 0;
    report.email = { render: renderRows, outbox: { ...outbox, limitHonoured: honoured } };
    console.log("Outbox → local Resend-compatible server: batches of 100, the server refusing a 3rd request within a second");
    console.table([
      {
        subscribers: outbox.subscribers,
        seconds: outbox.seconds,
        "emails/s": outbox.emailsPerSecond,
        requests: outbox.requests,
        "429s": outbox.refused429,
        duplicates: outbox.duplicates,
        "floor s (limit)": outbox.floorSeconds,
        "limit honoured": passFail(honoured),
      },
    ]);
  });
  (report.machine as Record<string, unknown>).loadAverageAtEnd = loadAverage();
  console.log(`load average: ${loadAtStart.join(" ")} at start, ${loadAverage().join(" ")} at end (${os.cpus().length} cores)`);
  const dir = path.resolve("bench/results");
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${String(report.at).replace(/[:.]/g, "-")}.json`);
  await fs.writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(path.join(dir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${path.relative(process.cwd(), file)}`);
} finally {
  await server.stop();
}
