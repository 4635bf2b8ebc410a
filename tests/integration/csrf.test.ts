import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CSRF_EXEMPT_ROUTES, isCsrfExempt } from "../../app/lib/csrf.server";
import type { Db } from "../../app/lib/db.server";
import { cookieFrom, send, startEdgeApp, type EdgeApp, type SentResponse } from "../support/edge";
import { useRouteDatabase } from "../support/route-database";
import { fillPattern, readRouteManifest, type ManifestRoute } from "../support/route-manifest";

/**
 * Done-when suite (b): every action route of the build, posted to with a signed-in person's cookie from
 * another origin, from `Origin: null` and with `Sec-Fetch-Site: cross-site`, as a document request and as a
 * Remix data request, is refused with 403 and changes nothing in the database.
 */

// Configured, so the exempt webhook route gets as far as its own signature check.
process.env.CLERK_WEBHOOK_SIGNING_SECRET = `whsec_${crypto.randomBytes(24).toString("base64")}`;
const database = useRouteDatabase();
const manifest = await readRouteManifest();
const FOREIGN = "https://evil.example";

let app: EdgeApp;
beforeAll(async () => {
  app = await startEdgeApp();
});
afterAll(() => app.close());

const form = (fields: Record<string, string>) => ({
  type: "application/x-www-form-urlencoded",
  body: new URLSearchParams(fields).toString(),
});
const json = (value: unknown) => ({ type: "application/json", body: JSON.stringify(value) });

interface Forgery {
  method: string;
  type: string;
  body: string;
}

/**
 * A request each action would carry out if it got through, so that a missing guard shows as a changed database
 * and not only as a status. A route not listed here still gets a generic form post (and the 403 check).
 */
function forgeriesFor(route: ManifestRoute, victim: Victim): Forgery[] {
  const post = (body: { type: string; body: string }): Forgery => ({ method: "POST", ...body });
  switch (route.id) {
    case "routes/organization":
      return [post(form({ intent: "invite", email: "attacker@evil.example", role: "owner" }))];
    case "routes/organizations":
      return [post(form({ intent: "create", name: "Attacker's organization" }))];
    case "routes/signout":
      return [post(form({ scope: "everywhere" }))];
    case "routes/signup":
      return [post(form({ name: "Mallory", email: `mallory-${crypto.randomUUID()}@evil.example`, password: "correct horse battery" }))];
    case "routes/signin":
      return [post(form({ email: victim.email, password: victim.password }))];
    case "routes/projects.new":
      return [post(form({ intent: "answer", question: "topic", answer: "Planted by another site" }))];
    case "routes/projects.$projectId._index":
      return [post(form({ intent: "add-note", body: "Planted by another site" })), post(form({ intent: "subscription", subscribed: "on" }))];
    case "routes/projects.$projectId.subscribers":
      return [post(form({ intent: "add", email: "planted@evil.example" })), post(form({ intent: "import", csv: "planted@evil.example\n" }))];
    case "routes/forgot-password":
      return [post(form({ email: victim.email }))];
    case "routes/verify-email._index":
      return [post(form({}))];
    case "routes/projects.$projectId.settings":
      return [post(form({ intent: "delete", confirm: "yes" }))];
    case "routes/invitations.$token":
      return [post(form({}))];
    case "routes/api.projects":
      return [post(json({ title: "Planted by another site" }))];
    case "routes/api.projects.$projectId":
      return [
        { method: "PATCH", ...json({ version: 1, title: "Renamed by another site" }) },
        { method: "DELETE", type: "application/json", body: "" },
        post(json({ title: "x" })),
      ];
    default:
      return [post(form({ intent: "anything" }))];
  }
}

const ATTACKS: { name: string; headers: Record<string, string> }[] = [
  { name: `Origin: ${FOREIGN}`, headers: { Origin: FOREIGN, "Sec-Fetch-Site": "cross-site" } },
  { name: "Origin: null", headers: { Origin: "null" } },
  { name: "Sec-Fetch-Site: cross-site (no Origin)", headers: { "Sec-Fetch-Site": "cross-site" } },
  { name: `Origin: ${FOREIGN} (no Sec-Fetch-Site)`, headers: { Origin: FOREIGN } },
];

interface Victim {
  email: string;
  password: string;
  cookie: string;
  projectId: string;
  episodeId: string;
  invitationToken: string;
}

async function signUp(name: string): Promise<{ email: string; password: string; cookie: string }> {
  const email = `${name.toLowerCase()}-${crypto.randomBytes(4).toString("hex")}@example.com`;
  const password = "correct horse battery";
  const res = await send(`${app.baseUrl}/signup`, {
    method: "POST",
    headers: { Origin: app.baseUrl, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ name, email, password }).toString(),
  });
  expect(res.status, res.body).toBe(302);
  // Sign-up signs nobody in: the emailed confirmation link does.
  const [verification] = await database.db<{ payload: { verifyUrl: string } }[]>`
    select payload from email_deliveries where kind = 'email_verification' and to_email = ${email}`;
  const link = new URL(verification.payload.verifyUrl);
  const confirmed = await send(`${app.baseUrl}${link.pathname}${link.search}`, {
    method: "POST",
    headers: { Origin: app.baseUrl, "Content-Type": "application/x-www-form-urlencoded" },
    body: "",
  });
  expect(confirmed.status, confirmed.body).toBe(302);
  return { email, password, cookie: cookieFrom(confirmed, "mf_session") };
}

/** A person signed in with a project of their own and an invitation to someone else's organization. */
async function makeVictim(): Promise<Victim> {
  const victim = await signUp("Victoria");
  const created = await send(`${app.baseUrl}/api/projects`, {
    method: "POST",
    headers: { Origin: app.baseUrl, Cookie: victim.cookie, "Content-Type": "application/json" },
    body: JSON.stringify({ title: "Ocean futures" }),
  });
  expect(created.status, created.body).toBe(201);
  const projectId = (JSON.parse(created.body) as { project: { id: string } }).project.id;

  const inviter = await signUp("Ingrid");
  const invited = await send(`${app.baseUrl}/organization?_data=routes%2Forganization`, {
    method: "POST",
    headers: { Origin: app.baseUrl, Cookie: inviter.cookie, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ intent: "invite", email: victim.email, role: "member" }).toString(),
  });
  let token = /\/invitations\/([A-Za-z0-9_-]+)/.exec(invited.body)?.[1];
  if (!token && invited.headers["x-remix-redirect"]) {
    // After a redirect (Post/Redirect/Get) the link is shown on the page it leads to.
    const page = await send(`${app.baseUrl}${invited.headers["x-remix-redirect"]}`, {
      headers: { Cookie: `${inviter.cookie}; ${cookieFrom(invited, "mf_flash")}` },
    });
    token = /\/invitations\/([A-Za-z0-9_-]+)/.exec(page.body)?.[1];
  }
  expect(token, `${invited.status} ${invited.body}`).toBeTruthy();

  // A failed episode, so "Try again" is a write a forged post could make.
  const generated = await send(`${app.baseUrl}/projects/${projectId}`, {
    method: "POST",
    headers: { Origin: app.baseUrl, Cookie: victim.cookie, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ intent: "generate-now" }).toString(),
  });
  expect(generated.status, generated.body).toBe(302);
  const [episode] = await database.db`
    update episodes set status = 'FAILED', failure_reason = 'n8n refused the connection'
    where project_id = ${projectId} and status = 'QUEUED' returning id`;
  return { ...victim, projectId, episodeId: episode.id as string, invitationToken: token! };
}

/** Every table's row count and a digest of its rows: any insert, update or delete shows. */
async function snapshot(db: Db): Promise<Record<string, string>> {
  const tables = await db<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const state: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await db<{ count: string; digest: string }[]>`
      select count(*)::text as count, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest
      from ${db(name)} t`;
    state[name] = `${row.count} rows, ${row.digest}`;
  }
  return state;
}

const actionRoutes = manifest.filter((route) => route.hasAction);
const guarded = actionRoutes.filter((route) => !isCsrfExempt(route.pattern));

describe("cross-site requests to every action route", () => {
  let victim: Victim;
  beforeAll(async () => {
    victim = await makeVictim();
  });

  it("finds the action routes in the build, and every exemption is a real route", () => {
    expect(guarded.length).toBeGreaterThanOrEqual(10);
    for (const exempt of CSRF_EXEMPT_ROUTES) {
      // An exemption for a route that does not exist is a typo, or a door left open for a future route.
      if (manifest.some((route) => route.pattern === exempt)) continue;
      expect.fail(`${exempt} is exempt from the CSRF guard but no route has that pattern`);
    }
  });

  it("the victim's session is live, so a forged request would act as them", async () => {
    const me = await send(`${app.baseUrl}/api/me`, { headers: { Cookie: victim.cookie } });
    expect(me.status).toBe(200);
  });

  for (const route of guarded) {
    describe(`${route.id} (${route.pattern})`, () => {
      const kinds = route.isResource ? (["document"] as const) : (["document", "data"] as const);
      for (const kind of kinds) {
        for (const attack of ATTACKS) {
          it(`is refused as a ${kind} request, ${attack.name}`, async () => {
            const path = fillPattern(route, { projectId: victim.projectId, episodeId: victim.episodeId, token: victim.invitationToken, deliveryId: crypto.randomUUID(), "*": "anything" });
            const url = `${app.baseUrl}${path}${kind === "data" ? `?_data=${encodeURIComponent(route.id)}` : ""}`;
            for (const forgery of forgeriesFor(route, victim)) {
              const before = await snapshot(database.db);
              const res: SentResponse = await send(url, {
                method: forgery.method,
                headers: { Cookie: victim.cookie, "Content-Type": forgery.type, ...attack.headers },
                body: forgery.body,
              });
              expect(res.status, `${forgery.method} ${path} answered ${res.status}: ${res.body.slice(0, 300)}`).toBe(403);
              // The edge answers the API and data requests in JSON, anything else (the Atom feed too) as a page.
              if (kind === "data" || route.pattern.startsWith("/api/")) {
                expect(JSON.parse(res.body)).toEqual({ error: expect.stringContaining("another site") });
              } else {
                expect(res.headers["content-type"]).toMatch(/^text\/html/);
                expect(res.body).toContain("<h1>");
                expect(res.body).toContain("came from another site");
              }
              expect(await snapshot(database.db)).toEqual(before);
            }
          });
        }
      }
    });
  }

  it("still lets the victim's own pages post (same origin), so the refusals above are not a blanket no", async () => {
    const route = manifest.find((r) => r.id === "routes/projects.$projectId._index")!;
    const path = fillPattern(route, { projectId: victim.projectId, episodeId: victim.episodeId, deliveryId: crypto.randomUUID() });
    const before = await snapshot(database.db);
    const res = await send(`${app.baseUrl}${path}?_data=${encodeURIComponent(route.id)}`, {
      method: "POST",
      headers: { Origin: app.baseUrl, "Sec-Fetch-Site": "same-origin", Cookie: victim.cookie, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "add-note", body: "Written on this site" }).toString(),
    });
    expect(res.status, res.body).toBeLessThan(400);
    expect(await snapshot(database.db)).not.toEqual(before);
  });
});

describe("routes exempt from the guard", () => {
  for (const route of actionRoutes.filter((r) => isCsrfExempt(r.pattern))) {
    it(`${route.pattern} is reached from another origin, where its own signature check refuses an unsigned post`, async () => {
      const res = await send(`${app.baseUrl}${fillPattern(route, { "*": "anything", token: "not-a-signed-token" })}`, {
        method: "POST",
        headers: { Origin: FOREIGN, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json" },
        body: "{}",
      });
      expect(res.body).not.toContain("came from another site");
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });
  }
});
