import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, sendRaw, signUpOverHttp, startEdgeApp, type EdgeApp } from "../support/edge";
import { useRouteDatabase } from "../support/route-database";

/**
 * What reaches the HTTP edge before Remix: the real express app around the real build, on a test database.
 * Requests that fetch cannot send go over a raw socket.
 */

const database = useRouteDatabase();

const apps: EdgeApp[] = [];
async function start(options: Parameters<typeof startEdgeApp>[0] = {}) {
  const app = await startEdgeApp(options);
  apps.push(app);
  return app;
}
afterAll(() => Promise.all(apps.map((app) => app.close())));

let app: EdgeApp;
beforeAll(async () => {
  app = await start();
});

function request(line: string, headers: string[] = []) {
  return sendRaw(app.port, [line, `Host: 127.0.0.1:${app.port}`, ...headers]);
}

describe("bad requests get a 4xx at the edge, never a 500", () => {
  it.each(["/%ZZ", "/projects/%ZZ", "/api/projects/%ZZ", "/%ED%A0%80", "/invitations/%E0%A4%A"])(
    "GET %s (bad percent-encoding) is 400",
    async (path) => {
      const res = await request(`GET ${path} HTTP/1.1`);
      expect(res.status).toBe(400);
      if (path.startsWith("/api/")) expect(JSON.parse(res.body).error).toMatch(/percent-encoding/);
      else expect(res.body).toMatch(/<h1>Bad request<\/h1>[\s\S]*percent-encoding/);
    },
  );

  it.each(["TRACE", "OPTIONS", "PROPFIND", "MKCOL"])("%s is 405 with the methods a page takes", async (method) => {
    const res = await request(`${method} /projects HTTP/1.1`);
    expect(res.status).toBe(405);
    expect(res.headers).toMatch(/\r\nAllow: GET, HEAD, POST\r\n/i);
  });

  it("a method HTTP does not know is refused before it reaches the app", async () => {
    // Node's parser answers these itself.
    expect((await request("BREW /projects HTTP/1.1")).status).toBe(400);
  });

  it.each(["PUT", "DELETE", "PATCH"])("%s on a page route is 405 with Allow: GET, HEAD, POST", async (method) => {
    const res = await request(`${method} /organization HTTP/1.1`, ["Content-Length: 0"]);
    expect(res.status).toBe(405);
    expect(res.headers).toMatch(/\r\nAllow: GET, HEAD, POST\r\n/i);
    expect(res.body).toContain("not allowed");
  });

  it("TRACE on the API is 405 with the API's methods, as JSON", async () => {
    const res = await request("TRACE /api/projects HTTP/1.1");
    expect(res.status).toBe(405);
    expect(res.headers).toMatch(/\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE\r\n/i);
    expect(JSON.parse(res.body)).toEqual({ error: expect.stringContaining("TRACE") });
  });

  it("a method on a page reached through dot segments is judged by the page it reaches", async () => {
    const res = await request("DELETE /api/../organization HTTP/1.1", ["Content-Length: 0"]);
    expect(res.status).toBe(405);
    expect(res.headers).toMatch(/\r\nAllow: GET, HEAD, POST\r\n/i);
  });

  it.each([
    "GET http://127.0.0.1/ HTTP/1.1",
    "GET http://evil.example/projects HTTP/1.1",
    "GET * HTTP/1.1",
    "OPTIONS * HTTP/1.1",
  ])("%s (not a path) is 400", async (line) => {
    const res = await request(line);
    expect(res.status).toBe(400);
    expect(res.body).toContain("path");
  });

  it.each([
    ["Host", "exa mple.test"],
    ["Host", "a/b"],
    ["Host", "example.test:99999"],
    ["Host", "[not-ipv6]:80"],
    ["Host", "example.test:port"],
  ])("a malformed %s (%j) is 400", async (name, value) => {
    const res = await sendRaw(app.port, ["GET / HTTP/1.1", `${name}: ${value}`]);
    expect(res.status).toBe(400);
    expect(res.body).toContain("Host");
  });

  it("without a Host (HTTP/1.0) only the probes answer", async () => {
    expect((await sendRaw(app.port, ["GET /healthz HTTP/1.0"])).status).toBe(200);
    const page = await sendRaw(app.port, ["GET /projects HTTP/1.0"]);
    expect(page.status).toBe(400);
    expect(page.body).toContain("Host header is required");
  });

  it.each([
    ["X-Forwarded-Host", "exa mple.test"],
    ["X-Forwarded-Host", "good.test, bad/host"],
    ["X-Forwarded-Proto", "gopher"],
    ["X-Forwarded-Proto", "https, ftp"],
    ["X-Forwarded-Proto", "https://"],
  ])("a malformed %s (%j) is 400, whether or not a proxy is trusted", async (name, value) => {
    const trusting = await start({ trustProxy: true });
    for (const port of [app.port, trusting.port]) {
      const res = await sendRaw(port, ["GET /signin HTTP/1.1", `Host: 127.0.0.1:${port}`, `${name}: ${value}`]);
      expect(res.status).toBe(400);
      expect(res.body).toContain(name);
    }
  });

  it("an /api/ path that matches no route is a JSON 404", async () => {
    for (const path of ["/api/nothing-here", "/api", "/api/projects/a/b/c"]) {
      const res = await send(`${app.baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(JSON.parse(res.body)).toEqual({ error: expect.stringMatching(/no API endpoint/) });
    }
    // A page that matches nothing is still the site's own 404 page.
    const page = await send(`${app.baseUrl}/nothing-here`);
    expect(page.status).toBe(404);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
  });

  it("a method a route has no function for is a readable 405 with the route's Allow: JSON under /api/", async () => {
    const api = await send(`${app.baseUrl}/api/me`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(api.status).toBe(405);
    expect(api.headers.allow).toBe("GET, HEAD");
    expect(JSON.parse(api.body)).toEqual({ error: expect.stringMatching(/only shows information/) });
    // The event stream has no action at all: Remix's own 405, made readable at the edge.
    const stream = await send(`${app.baseUrl}/episodes/${crypto.randomUUID()}/events`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(stream.status).toBe(405);
    expect(stream.headers.allow).toBe("GET, HEAD");
    expect(stream.headers["x-remix-error"]).toBeUndefined();
    expect(stream.body).toBe("POST is not allowed here. Use GET, HEAD.");
  });

  it("X-Forwarded-For: 1:2 from a trusted proxy is a failed sign-in, recorded with the connection's address", async () => {
    const trusting = await start({ trustProxy: 1 });
    const email = `nobody-${crypto.randomBytes(4).toString("hex")}@example.com`;
    const res = await send(`${trusting.baseUrl}/signin`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "1:2", Origin: trusting.baseUrl },
      body: new URLSearchParams({ email, password: "wrong password here" }).toString(),
    });
    expect(res.status).toBeLessThan(500);
    const [row] = await database.db<{ ip: string }[]>`
      select host(ip) as ip from audit_log where action = 'auth.sign_in_failed' and after->>'email' = ${email}`;
    expect(row.ip).toBe("127.0.0.1");
  });

  it("X-Forwarded-For counts only from a trusted proxy (TRUST_PROXY)", async () => {
    const audited = async (target: EdgeApp) => {
      const email = `nobody-${crypto.randomBytes(4).toString("hex")}@example.com`;
      await send(`${target.baseUrl}/signin`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "203.0.113.7" },
        body: new URLSearchParams({ email, password: "wrong password here" }).toString(),
      });
      const [row] = await database.db<{ ip: string }[]>`
        select host(ip) as ip from audit_log where action = 'auth.sign_in_failed' and after->>'email' = ${email}`;
      return row.ip;
    };
    expect(await audited(app)).toBe("127.0.0.1");
    expect(await audited(await start({ trustProxy: 1 }))).toBe("203.0.113.7");
  });
});

describe("caching", () => {
  it("pages and API answers are private and not stored; static files keep their own caching", async () => {
    const signup = await send(`${app.baseUrl}/signup`, {
      method: "POST",
      headers: { Origin: app.baseUrl, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "Dee", email: `dee-${crypto.randomBytes(4).toString("hex")}@example.com`, password: "correct horse battery" }).toString(),
    });
    expect(signup.headers["cache-control"]).toBe("private, no-store");
    const { cookie } = await signUpOverHttp(app.baseUrl, database.db, {
      name: "Cass",
      email: `cass-${crypto.randomBytes(4).toString("hex")}@example.com`,
      password: "correct horse battery",
    });
    for (const path of ["/projects", "/organization", "/api/me", "/api/projects", "/projects?_data=routes%2Fprojects._index", "/"]) {
      const res = await send(`${app.baseUrl}${path}`, { headers: { Cookie: cookie } });
      expect(res.status, path).toBe(200);
      expect(res.headers["cache-control"], path).toBe("private, no-store");
    }
    expect((await send(`${app.baseUrl}/favicon.svg`)).headers["cache-control"]).toBe("public, max-age=3600");
  });
});

describe("the access log", () => {
  it("records token paths redacted, and no query string", async () => {
    const token = crypto.randomBytes(32).toString("base64url");
    await send(`${app.baseUrl}/invitations/${token}?redirectTo=%2Fx&secret=${token}`, { headers: { "X-Request-Id": "redact-check-01" } });
    const line = app.logLines.find((entry) => entry.includes("redact-check-01"));
    expect(JSON.parse(line!)).toMatchObject({ msg: "request", path: "/invitations/[redacted]" });
    expect(app.logLines.join("\n")).not.toContain(token);
  });
});

describe("the CSRF guard's idea of this app's origin", () => {
  const post = (target: EdgeApp, headers: Record<string, string>) =>
    send(`${target.baseUrl}/signin`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ email: "nobody@example.com", password: "wrong password here" }).toString(),
    });
  // The sign-in form answers a wrong password with its own 4xx: anything but the guard's 403 means "let through".
  const refused = (res: { status: number; body: string }) => res.status === 403 && res.body.includes("came from another site");

  it("without APP_URL: the origin the request was sent to", async () => {
    expect(refused(await post(app, { Origin: app.baseUrl, "Sec-Fetch-Site": "same-origin" }))).toBe(false);
    expect(refused(await post(app, { Origin: app.baseUrl.replace("127.0.0.1", "localhost") }))).toBe(true);
    expect(refused(await post(app, { Origin: app.baseUrl.replace("http:", "https:") }))).toBe(true);
    expect(refused(await post(app, { Origin: "not a url" }))).toBe(true);
    // A sibling origin of the same site is another origin.
    expect(refused(await post(app, { Origin: app.baseUrl, "Sec-Fetch-Site": "same-site" }))).toBe(true);
  });

  it("a program with no Origin and no Sec-Fetch-Site (curl, a server-side client) is let through", async () => {
    expect(refused(await post(app, {}))).toBe(false);
  });

  it("with APP_URL: only that origin, and a Host that agrees with it", async () => {
    const behindName = await start({ appOrigin: "https://futures.example" });
    expect(refused(await post(behindName, { Origin: "https://futures.example", Host: "futures.example" }))).toBe(false);
    // The origin the request was sent to is not enough once APP_URL names the app.
    expect(refused(await post(behindName, { Origin: behindName.baseUrl }))).toBe(true);
    // Origin right but Host elsewhere (a proxy that rewrites Host): refused here, where Remix would answer 500.
    const mismatch = await post(behindName, { Origin: "https://futures.example" });
    expect(mismatch.status).toBe(403);
  });

  it("X-Forwarded-Host and X-Forwarded-Proto count only from a trusted proxy", async () => {
    const forwarded = { Origin: "https://futures.example", "X-Forwarded-Host": "futures.example", "X-Forwarded-Proto": "https" };
    expect(refused(await post(app, forwarded))).toBe(true);
    expect(refused(await post(await start({ trustProxy: 1 }), forwarded))).toBe(false);
  });
});
