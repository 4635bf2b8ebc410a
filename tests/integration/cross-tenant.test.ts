import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { QUESTIONS } from "../../app/lib/futura";
import { signUp, type SignedIn } from "../support/accounts";
import { location } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";
import { fillPattern, readRouteManifest, type ManifestRoute } from "../support/route-manifest";

/**
 * Done-when (c): every route of the built app that takes an id is asked, by a member of organization A, for
 * organization B's things, and answers 404 (JSON for the API) while nothing of B changes. Routes come from the
 * build's manifest: a new route with a parameter fails here until B's value for it is in `bValues`, and a new
 * action route fails until its plausible requests are in `probes`.
 */

const database = useRouteDatabase();
let db: Db;
const routes = (await readRouteManifest()).filter((route) => route.params.length > 0);

let a: SignedIn;
let b: SignedIn;
const bIds = { projectId: "", noteId: "", invitationId: "", membershipId: "", episodeId: "", subscriberId: "", deliveryId: "", projectVersion: 0 };

/** B's value for each route parameter. */
let bValues: Record<string, string>;

/** A request a client could plausibly send to an action route; `form` bodies go as a document and as a data request. */
type Probe = { method: "POST"; form: Record<string, string> } | { method: "PATCH" | "POST"; json: unknown } | { method: "DELETE" };

/** For each action route with a parameter: bodies that are valid in every way except whose thing they name. */
function probes(): Record<string, Probe[]> {
  const version = String(bIds.projectVersion);
  return {
    "routes/projects.$projectId._index": [
      { method: "POST", form: { intent: "add-note", body: "Planted by A" } },
      { method: "POST", form: { intent: "edit-note", noteId: bIds.noteId, version: "1", body: "Changed by A" } },
      { method: "POST", form: { intent: "delete-note", noteId: bIds.noteId } },
      { method: "POST", form: { intent: "subscription", subscribed: "on" } },
    ],
    "routes/projects.$projectId.settings": [
      {
        method: "POST",
        form: { intent: "save", version, title: "Taken by A", brief: "", cadenceType: "weekly", cadenceDays: "1", deliveryTime: "07:00", timezone: "UTC" },
      },
      { method: "POST", form: { intent: "archive", version } },
      { method: "POST", form: { intent: "restore", version } },
      { method: "POST", form: { intent: "delete", confirm: "yes" } },
      { method: "POST", form: { intent: "public-access", publicSubscribe: "on", publicArchive: "on" } },
    ],
    "routes/projects.$projectId.subscribers": [
      { method: "POST", form: { intent: "add", email: "planted-by-a@example.com" } },
      { method: "POST", form: { intent: "remove", subscriberId: bIds.subscriberId } },
      { method: "POST", form: { intent: "resend", subscriberId: bIds.subscriberId } },
      { method: "POST", form: { intent: "import", csv: "planted-by-a@example.com\n" } },
    ],
    "routes/projects.$projectId.archive._index": [{ method: "POST", form: {} }],
    "routes/projects.$projectId.archive.$episodeId": [{ method: "POST", form: {} }],
    "routes/projects.$projectId.feed[.]xml": [{ method: "POST", form: {} }],
    "routes/subscribe.$projectId": [{ method: "POST", form: { email: "planted-by-a@example.com" } }],
    // Link tokens are capabilities of their own: B's ids are not tokens, so these are unknown links.
    "routes/subscriptions.confirm.$token": [{ method: "POST", form: {} }],
    "routes/verify-email.$token": [{ method: "POST", form: {} }],
    "routes/sign-in-link.$token": [{ method: "POST", form: {} }],
    "routes/reset-password.$token": [{ method: "POST", form: { password: "a long enough password" } }],
    "routes/api.projects.$projectId": [{ method: "PATCH", json: { version: bIds.projectVersion, title: "Taken by A" } }, { method: "DELETE" }],
    "routes/invitations.$token": [{ method: "POST", form: {} }],
    "routes/episodes.$episodeId": [{ method: "POST", form: { intent: "retry" } }],
    // Signed links: what A could know of B's is an id, never a signature.
    "routes/unsubscribe.$token": [{ method: "POST", form: { "List-Unsubscribe": "One-Click" } }],
    "routes/dev.outbox.$deliveryId": [{ method: "POST", form: {} }],
    "routes/feedback.$token": [{ method: "POST", form: { rating: "5", comment: "Planted by A" } }],
    "routes/$": [{ method: "POST", form: {} }],
    "routes/api.$": [{ method: "POST", json: {} }],
  };
}

// Same-origin, as a browser on the app would send it (Remix compares Origin with Host on document posts).
const ORIGIN = { Origin: "http://app.test", Host: "app.test" };

function send(path: string, probe: Probe) {
  if (probe.method === "DELETE") return a.client.request(path, { method: "DELETE", headers: ORIGIN });
  if ("json" in probe) {
    return a.client.request(path, { method: probe.method, body: JSON.stringify(probe.json), headers: { ...ORIGIN, "Content-Type": "application/json" } });
  }
  return a.client.request(path, {
    method: "POST",
    body: new URLSearchParams(probe.form),
    headers: { ...ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
  });
}

/** Everything of B's, so "nothing changed" can be compared whole. */
async function snapshotOfB() {
  const organizationId = b.organizationId;
  const [state] = await db`
    select
      (select coalesce(json_agg(p order by p.id), '[]') from projects p where p.organization_id = ${organizationId}) as projects,
      (select coalesce(json_agg(n order by n.id), '[]') from planning_notes n where n.organization_id = ${organizationId}) as notes,
      (select coalesce(json_agg(e order by e.id), '[]') from episodes e where e.organization_id = ${organizationId}) as episodes,
      (select coalesce(json_agg(c order by c.id), '[]') from project_conversations c where c.organization_id = ${organizationId}) as conversations,
      (select coalesce(json_agg(m order by m.id), '[]') from memberships m where m.organization_id = ${organizationId}) as memberships,
      (select coalesce(json_agg(i order by i.id), '[]') from invitations i where i.organization_id = ${organizationId}) as invitations,
      (select coalesce(json_agg(s order by s.id), '[]') from subscribers s where s.organization_id = ${organizationId}) as subscribers,
      (select coalesce(json_agg(d order by d.id), '[]') from email_deliveries d where d.organization_id = ${organizationId}) as deliveries,
      (select count(*)::int from audit_log where organization_id = ${organizationId}) as audit_rows,
      (select count(*)::int from user_events where organization_id = ${organizationId}) as events`;
  return state;
}

async function expectNotFound(response: Response, route: ManifestRoute, what: string) {
  expect(response.status, `${what}: ${(await response.clone().text()).slice(0, 300)}`).toBe(404);
  if (route.pattern.startsWith("/api/")) {
    expect(response.headers.get("Content-Type"), what).toMatch(/^application\/json/);
    expect(await response.json(), what).toEqual({ error: expect.any(String) });
  }
}

beforeAll(async () => {
  db = database.db;
  a = await signUp("Alice of A");
  b = await signUp("Bob of B");

  // A has a project of its own, so A's member is a real user of the app, not an empty account.
  for (const q of QUESTIONS) await a.client.post("/projects/new", { intent: "answer", question: q.key, answer: `A's ${q.label}` });
  expect((await a.client.post("/projects/new", { intent: "confirm", title: "A's project", brief: "", timezone: "UTC" })).status).toBe(302);

  // B's project is made the way people make them: through the conversation with Futura.
  for (const q of QUESTIONS) await b.client.post("/projects/new", { intent: "answer", question: q.key, answer: `B's ${q.label}` });
  const created = await b.client.post("/projects/new", { intent: "confirm", title: "B's secret project", brief: "## B only", timezone: "UTC" });
  bIds.projectId = location(created)!.split("/").pop()!;
  await b.client.post(`/projects/${bIds.projectId}`, { intent: "add-note", body: "B's private note" });
  await b.client.post("/organization", { intent: "invite", email: "b-invitee@example.com", role: "admin" });

  // B's subscriber: a member's own opt-in, and an outside address B's owner added.
  expect((await b.client.post(`/projects/${bIds.projectId}`, { intent: "subscription", subscribed: "on" })).status).toBe(302);
  expect((await b.client.post(`/projects/${bIds.projectId}/subscribers`, { intent: "add", email: "b-reader@example.com" })).status).toBe(302);
  [{ id: bIds.subscriberId }] = await db`select id from subscribers where organization_id = ${b.organizationId} and email = 'b-reader@example.com'`;

  const [project] = await db`select version from projects where id = ${bIds.projectId} and organization_id = ${b.organizationId}`;
  bIds.projectVersion = project.version;
  [{ id: bIds.noteId }] = await db`select id from planning_notes where project_id = ${bIds.projectId} and kind = 'note'`;
  [{ id: bIds.invitationId }] = await db`select id from invitations where organization_id = ${b.organizationId} and status = 'pending'`;
  [{ id: bIds.membershipId }] = await db`select id from memberships where organization_id = ${b.organizationId}`;
  // B's episode: the one Generate now queued for B's project, on its way.
  expect((await b.client.post(`/projects/${bIds.projectId}`, { intent: "generate-now" })).status).toBe(302);
  [{ id: bIds.episodeId }] = await db`select id from episodes where organization_id = ${b.organizationId} and status = 'QUEUED'`;
  // An email in B's outbox.
  [{ id: bIds.deliveryId }] = await db`
    insert into email_deliveries (organization_id, kind, to_email, idempotency_key, payload)
    values (${b.organizationId}, 'sign_in_link', 'b-reader@example.com', gen_random_uuid()::text,
      ${db.json({ name: "B", signInUrl: "http://localhost:3000/x", expiresAt: new Date().toISOString() })})
    returning id`;

  bValues = {
    projectId: bIds.projectId,
    // An invitation link's token is a capability of its own (anyone holding it may look): what A could know of
    // B's invitation is its id, and an id is not a token.
    token: bIds.invitationId,
    episodeId: bIds.episodeId,
    deliveryId: bIds.deliveryId,
    "*": bIds.projectId,
  };
});

describe("another organization's ids answer 404 on every route that takes one", () => {
  it("covers the routes of the build", () => {
    expect(routes.map((route) => route.id)).toEqual(
      expect.arrayContaining(["routes/projects.$projectId._index", "routes/projects.$projectId.settings", "routes/api.projects.$projectId"]),
    );
  });

  it.each(routes.map((route) => [route.pattern, route] as const))("%s", async (_pattern, route) => {
    const path = fillPattern(route, bValues);
    const before = await snapshotOfB();

    if (route.hasLoader) {
      await expectNotFound(await a.client.get(path), route, `GET ${path}`);
      if (!route.isResource) await expectNotFound(await a.client.get(`${path}?_data=${encodeURIComponent(route.id)}`), route, `GET ${path} (data)`);
    }
    if (route.hasAction) {
      const routeProbes = probes()[route.id];
      expect(routeProbes, `add plausible requests for ${route.id} to probes()`).toBeDefined();
      for (const probe of routeProbes) {
        const what = `${probe.method} ${path} ${JSON.stringify("form" in probe ? probe.form : "json" in probe ? probe.json : "")}`;
        await expectNotFound(await send(path, probe), route, what);
        if ("form" in probe) await expectNotFound(await send(`${path}?_data=${encodeURIComponent(route.id)}`, probe), route, `${what} (data)`);
      }
    }

    expect(await snapshotOfB()).toEqual(before);
  });

  it("ids in a form body are refused the same way: B's invitation, membership and organization", async () => {
    const before = await snapshotOfB();
    const attempts = {
      revoke: await a.client.post("/organization", { intent: "revoke", invitationId: bIds.invitationId }),
      changeRole: await a.client.post("/organization", { intent: "change-role", membershipId: bIds.membershipId, role: "member" }),
      remove: await a.client.post("/organization", { intent: "remove", membershipId: bIds.membershipId }),
      switch: await a.client.post("/organizations", { intent: "switch", organizationId: b.organizationId }),
    };
    for (const [name, response] of Object.entries(attempts)) expect(response.status, name).toBe(404);
    expect(await snapshotOfB()).toEqual(before);
    const me = (await (await a.client.get("/api/me")).json()) as { organizationId: string };
    expect(me.organizationId).toBe(a.organizationId);
  });

  it("B still sees all of it", async () => {
    const page = await b.client.get(`/projects/${bIds.projectId}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("B&#x27;s private note");
  });
});
