import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startAppProcess, type AppProcess } from "../support/app-process";
import { get } from "../support/http";

const running: AppProcess[] = [];
afterEach(async () => {
  const apps = running.splice(0);
  // SIGTERM, not SIGKILL: the server must stop its embedded PostgreSQL before the folder goes.
  await Promise.all(apps.map((app) => app.stop()));
  await Promise.all(apps.map((app) => fs.rm(app.dataDir, { recursive: true, force: true })));
});
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function start(...args: Parameters<typeof startAppProcess>) {
  const app = await startAppProcess(...args);
  running.push(app);
  return app;
}

describe("the server process", () => {
  it("serves the home page and is ready once migrated, on a fresh embedded database", async () => {
    const app = await start();
    const ready = await get(`${app.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok" } });
    const home = await get(`${app.baseUrl}/`);
    expect(home.status).toBe(200);
    expect(home.body).toContain("<h1");
    expect(home.body).toContain("Many Futures");
    // Production without APP_URL still starts, and says where its links will point.
    const warning = app.output.find((line) => line.includes("APP_URL is not set"));
    expect(JSON.parse(warning!)).toMatchObject({ level: "warn", appUrl: `http://localhost:${new URL(app.baseUrl).port}` });
  });

  it("answers an unknown path with a helpful 404 page and no internals", async () => {
    const app = await start();
    const res = await get(`${app.baseUrl}/no/such/page`);
    expect(res.status).toBe(404);
    expect(res.body).toContain("Page not found");
    expect(res.body).not.toMatch(/at .*\.js:\d+/);
  });

  it("writes one JSON log line per request, carrying the request id", async () => {
    const app = await start();
    await get(`${app.baseUrl}/healthz`, { "X-Request-Id": "log-check-0001" });
    await expect.poll(() => app.output.find((line) => line.includes("log-check-0001"))).toBeTruthy();
    const entry = JSON.parse(app.output.find((line) => line.includes("log-check-0001"))!);
    expect(entry).toMatchObject({ level: "info", msg: "request", method: "GET", path: "/healthz", status: 200 });
  });

  it("finishes a response in flight on SIGTERM, then stops its database and exits 0", async () => {
    const app = await start();
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(`${app.baseUrl}/`, { agent: false }, (res) => {
          // Headers are in, the body is still on its way: the request is in flight.
          app.child.kill("SIGTERM");
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => resolve(text));
        })
        .on("error", reject);
    });
    expect(body.trimEnd()).toMatch(/<\/html>$/);
    expect(await app.exited).toBe(0);
    expect(app.output.some((line) => line.includes('"shut down cleanly"'))).toBe(true);
  });

  it("started through npm, stops on a SIGTERM sent to npm: the server shuts down and its PostgreSQL with it", async () => {
    const scripts = (JSON.parse(await fs.readFile("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
    // `npm start` is the build followed by exactly what this test runs, so the result holds for it too.
    expect(scripts.start).toBe(`npm run build && ${scripts["start:built"]}`);

    const app = await start({ command: ["npm", "run", "start:built"], env: { HOME: process.env.HOME ?? "/root" } });
    const postmasterPid = Number((await fs.readFile(path.join(app.dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]);
    expect(isRunning(postmasterPid)).toBe(true);

    // A process manager signals the process it started: npm.
    expect(await app.stop("SIGTERM")).toBe(0);
    expect(app.output.some((line) => line.includes('"signal":"SIGTERM"') && line.includes('"shutting down"'))).toBe(true);
    expect(app.output.some((line) => line.includes('"shut down cleanly"'))).toBe(true);
    expect(isRunning(postmasterPid)).toBe(false);
    await expect(get(`${app.baseUrl}/healthz`)).rejects.toThrow();
  });

  it("reuses its data on the next start", async () => {
    const first = await start();
    expect(await first.stop()).toBe(0);
    const second = await start({ dataDir: first.dataDir });
    expect((await get(`${second.baseUrl}/readyz`)).status).toBe(200);
    const embedded = second.output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line)).find((entry) => entry.msg === "embedded PostgreSQL ready");
    expect(embedded.reused).toBe(true);
    expect(second.output.some((line) => line.includes('"migrations up to date"'))).toBe(true);
  });

  it("refuses to start on bad configuration, naming the variable", async () => {
    await expect(start({ env: { APP_ROLE: "everything" } })).rejects.toThrow(/APP_ROLE: .*"everything"/);
  });

  it("runs as a worker-only process with no HTTP server, and stops cleanly", async () => {
    const app = await start({ env: { APP_ROLE: "worker" }, waitFor: /"worker process started"/ });
    expect(app.output.some((line) => line.includes('"listening"'))).toBe(false);
    expect(await app.stop()).toBe(0);
  });
});
