// `npm run bench`: starts the built app on a fresh, seeded PostgreSQL and measures HTTP latency and throughput.
// Prints a table and writes bench/results/<timestamp>.json (and latest.json).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { createDb } from "../app/lib/db.server";
import { startAppProcess } from "../tests/support/app-process";
import { databaseUrl, startTestPostgres } from "../tests/support/postgres-server";
import { runLoad, type LoadResult } from "./load";
import { seedListViews } from "./seed";

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SIZE = {
  organizations: Number(process.env.BENCH_ORGANIZATIONS ?? 1_000),
  projectsPerOrganization: 10,
  episodesPerProject: 100,
};
/** The list views' target: p95 at or under this many milliseconds. */
const LIST_VIEW_P95_TARGET_MS = 15;

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

const server = await startTestPostgres();
const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
const database = `mf_bench_${Date.now()}`;
await admin.unsafe(`create database ${database} template ${server.templateDatabase}`);
const url = databaseUrl(server.adminUrl, database);

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
  console.table(
    results.map((r) => ({
      target: r.name,
      clients: r.connections,
      "req/s": r.requestsPerSecond,
      "p50 ms": r.p50Ms,
      "p95 ms": r.p95Ms,
      "p99 ms": r.p99Ms,
      failures: r.failures,
      "p95 target": r.targetP95Ms === null ? "" : `≤ ${r.targetP95Ms} ms: ${r.meetsTarget ? "met" : "MISSED"}`,
    })),
  );
  const report = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    settings: { durationSeconds: DURATION_SECONDS, dataSet: seed.counts, seedSeconds },
    results,
  };
  const dir = path.resolve("bench/results");
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.at.replace(/[:.]/g, "-")}.json`);
  await fs.writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(path.join(dir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${path.relative(process.cwd(), file)}`);
} finally {
  await app.stop();
  await fs.rm(app.dataDir, { recursive: true, force: true });
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.end({ timeout: 5 });
  await server.stop();
}
