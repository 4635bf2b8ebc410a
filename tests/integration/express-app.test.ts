import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { RequestHandler } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpApp, type HttpAppOptions, type Readiness } from "../../app/lib/express-app.server";
import { createLogger } from "../../app/lib/logger.server";
import { get, listen } from "../support/http";

const servers: http.Server[] = [];
const publicDirs: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await Promise.all(publicDirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

async function start(
  handler: RequestHandler,
  readiness: Readiness = { ready: true, checks: { database: "ok" } },
  options: Partial<HttpAppOptions> = {},
) {
  const publicDir = await fs.mkdtemp(path.join(os.tmpdir(), "mf-public-"));
  publicDirs.push(publicDir);
  await fs.mkdir(path.join(publicDir, "build"));
  await fs.writeFile(path.join(publicDir, "build", "entry-ABC123.js"), "console.log('hi')");
  await fs.writeFile(path.join(publicDir, "robots.txt"), "User-agent: *");
  const app = createHttpApp({
    handler,
    logger: createLogger("silent"),
    checkReadiness: async () => readiness,
    publicDir,
    trustProxy: false,
    ...options,
  });
  const server = http.createServer(app);
  servers.push(server);
  return listen(server);
}

function directives(header: unknown): Record<string, string[]> {
  return Object.fromEntries(
    String(header)
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name, values]),
  );
}

const page: RequestHandler = (_req, res) => {
  res.type("html").send(`<!doctype html><p>${"Many futures. ".repeat(200)}</p>`);
};

describe("the HTTP layer", () => {
  it("answers /healthz while the process is up", async () => {
    const base = await start(page);
    const res = await get(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
  });

  it("answers /readyz with 200 when ready and 503 with the failing check when not", async () => {
    expect((await get(`${await start(page)}/readyz`)).status).toBe(200);
    const down = await get(`${await start(page, { ready: false, checks: { database: "connection refused" } })}/readyz`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual({ status: "not ready", checks: { database: "connection refused" } });
  });

  it("gives every request an id, keeping a well-formed incoming one", async () => {
    const base = await start(page);
    const fresh = await get(`${base}/`);
    expect(fresh.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await get(`${base}/`, { "X-Request-Id": "trace-1234abcd" });
    expect(kept.headers["x-request-id"]).toBe("trace-1234abcd");
    const replaced = await get(`${base}/`, { "X-Request-Id": "<script>" });
    expect(replaced.headers["x-request-id"]).not.toBe("<script>");
  });

  it("sends security headers with a fresh script nonce per response", async () => {
    const base = await start(page);
    const [a, b] = [await get(`${base}/`), await get(`${base}/`)];
    const nonce = (csp: unknown) => /'nonce-([^']+)'/.exec(String(csp))?.[1];
    expect(a.headers["content-security-policy"]).toContain("object-src 'none'");
    expect(a.headers["content-security-policy"]).toContain("frame-ancestors 'self'");
    expect(nonce(a.headers["content-security-policy"])).toBeTruthy();
    expect(nonce(a.headers["content-security-policy"])).not.toBe(nonce(b.headers["content-security-policy"]));
    expect(a.headers["x-content-type-options"]).toBe("nosniff");
    expect(a.headers["strict-transport-security"]).toContain("max-age=");
    expect(a.headers["x-powered-by"]).toBeUndefined();
  });

  it("keeps the CSP to this origin and the nonce when Clerk is off", async () => {
    const csp = directives((await get(`${await start(page)}/`)).headers["content-security-policy"]);
    expect(csp["script-src"]).toEqual(["'strict-dynamic'", expect.stringMatching(/^'nonce-[A-Za-z0-9+/=]+'$/)]);
    expect(csp["connect-src"]).toEqual(["'self'"]);
    expect(csp["img-src"]).toEqual(["'self'", "data:"]);
    expect(csp["frame-src"]).toBeUndefined();
    expect(csp["worker-src"]).toBeUndefined();
    expect(csp["default-src"]).toEqual(["'self'"]);
  });

  it("lets in what Clerk's UI needs in Clerk mode, and nothing more", async () => {
    const publishableKey = `pk_live_${Buffer.from("clerk.futures.example$").toString("base64")}`;
    const base = await start(page, undefined, { clerkPublishableKey: publishableKey });
    const csp = directives((await get(`${base}/`)).headers["content-security-policy"]);
    expect(csp["script-src"]).toEqual([
      "'strict-dynamic'",
      expect.stringMatching(/^'nonce-/),
      "https://clerk.futures.example",
      "https://challenges.cloudflare.com",
    ]);
    expect(csp["connect-src"]).toEqual(["'self'", "https://clerk.futures.example"]);
    expect(csp["img-src"]).toEqual(["'self'", "data:", "https://img.clerk.com"]);
    expect(csp["frame-src"]).toEqual(["'self'", "https://challenges.cloudflare.com"]);
    expect(csp["worker-src"]).toEqual(["'self'", "blob:"]);
    expect(csp["default-src"]).toEqual(["'self'"]);
    expect(csp["form-action"]).toEqual(["'self'"]);
    expect(csp["frame-ancestors"]).toEqual(["'self'"]);
  });

  it("caches fingerprinted assets for a year and other public files briefly", async () => {
    const base = await start(page);
    expect((await get(`${base}/build/entry-ABC123.js`)).headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect((await get(`${base}/robots.txt`)).headers["cache-control"]).toBe("public, max-age=3600");
  });

  it("compresses pages", async () => {
    const res = await get(`${await start(page)}/`, { "Accept-Encoding": "gzip" });
    expect(res.headers["content-encoding"]).toBe("gzip");
  });

  it("streams server-sent events without compressing or buffering them", async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const base = await start((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write('data: {"status":"GENERATING"}\n\n');
      void finished.then(() => res.end('data: {"status":"PUBLISHED"}\n\n'));
    });

    const firstEvent = await new Promise<{ encoding?: string; chunk: string }>((resolve, reject) => {
      http
        .get(`${base}/events`, { headers: { "Accept-Encoding": "gzip" }, agent: false }, (res) => {
          res.once("data", (chunk: Buffer) => resolve({ encoding: res.headers["content-encoding"], chunk: chunk.toString() }));
        })
        .on("error", reject);
    });
    // The first event arrived while the handler was still open: nothing held it back.
    expect(firstEvent).toEqual({ encoding: undefined, chunk: 'data: {"status":"GENERATING"}\n\n' });
    finish();
  });
});

describe("errors outside Remix", () => {
  it("hides a failure behind a 500 that names the request id and nothing internal", async () => {
    const base = await start(() => {
      throw new Error("database exploded at /secret/path.js:12");
    });
    const api = await get(`${base}/api/anything`, { "X-Request-Id": "err-req-0001" });
    expect(api.status).toBe(500);
    expect(JSON.parse(api.body).error).toContain("err-req-0001");
    expect(api.body).not.toContain("secret");
    const page = await get(`${base}/somewhere`, { "X-Request-Id": "err-req-0002" });
    expect(page.status).toBe(500);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain("err-req-0002");
    expect(page.body).not.toContain("secret");
  });

  it("answers a client error raised on the way (such as a body parser's) with its own 4xx, not 500", async () => {
    const base = await start(() => {
      throw Object.assign(new Error("request entity too large"), { status: 413 });
    });
    const res = await get(`${base}/api/upload`);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: expect.stringMatching(/could not be understood/) });
  });

  it("refuses a cross-site post before the handler, and lets one through to an exempt route without its Origin", async () => {
    const seen: (string | undefined)[] = [];
    const base = await start((req, res) => {
      seen.push(req.headers.origin);
      res.status(204).end();
    });
    const post = (path: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .request(`${base}${path}`, { method: "POST", headers: { Origin: "https://evil.example", "Content-Length": "0" } }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          })
          .on("error", reject)
          .end();
      });
    expect(await post("/organization")).toBe(403);
    expect(seen).toEqual([]);
    expect(await post("/api/webhooks/clerk")).toBe(204);
    expect(seen).toEqual([undefined]);
  });

  it("sends a referrer policy that keeps Origin on same-origin form posts", async () => {
    const res = await get(`${await start(page)}/`);
    expect(res.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  });
});
