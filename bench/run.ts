// `npm run bench`: starts the built app on a fresh embedded database and measures HTTP throughput and latency.
// Prints a table and writes bench/results/<timestamp>.json (and latest.json).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startAppProcess } from "../tests/support/app-process";
import { runLoad, type LoadResult } from "./load";

interface Target {
  name: string;
  path: string;
}

interface Result extends LoadResult {
  name: string;
  path: string;
}

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

const targets: Target[] = [
  { name: "health probe", path: "/healthz" },
  { name: "home page", path: "/" },
];

async function measure(baseUrl: string, target: Target): Promise<Result> {
  const load = await runLoad({
    url: `${baseUrl}${target.path}`,
    connections: CONNECTIONS,
    durationMs: DURATION_SECONDS * 1000,
    headers: { "accept-encoding": "gzip" },
  });
  return { name: target.name, path: target.path, ...load };
}

const app = await startAppProcess({ env: { LOG_LEVEL: "warn" }, });
try {
  const results: Result[] = [];
  for (const target of targets) results.push(await measure(app.baseUrl, target));
  console.table(
    results.map((r) => ({
      target: `${r.name} (${r.path})`,
      "req/s": r.requestsPerSecond,
      "p50 ms": r.p50Ms,
      "p95 ms": r.p95Ms,
      "p99 ms": r.p99Ms,
      failures: r.failures,
    })),
  );
  const report = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    settings: { durationSeconds: DURATION_SECONDS, connections: CONNECTIONS },
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
}
