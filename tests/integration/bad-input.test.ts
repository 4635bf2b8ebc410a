import crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { signUp, type SignedIn } from "../support/accounts";
import { readPostForms, type PageForm } from "../support/forms";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";
import { fillPattern, readRouteManifest, type ManifestRoute } from "../support/route-manifest";

/**
 * Every action route and API endpoint of the build, from its route manifest (so a new route is covered
 * without editing this file), is sent a catalogue of bad requests by a signed-in person with real ids: wrong
 * and missing content types, oversized and empty bodies, NUL, huge and repeated values in every field its
 * page's forms send, unknown intents, stale versions, missing ids, odd methods and bad paths. Each must get a
 * 4xx with a message a person (HTML page) or a program (JSON `{ error }`) can read, and change nothing.
 */
const database = useRouteDatabase();
let db: Db;

const manifest = await readRouteManifest();
const actionRoutes = manifest.filter((route) => route.hasAction);
const isApi = (route: ManifestRoute) => route.pattern.startsWith("/api");

let owner: SignedIn;
let invitee: SignedIn;
const anonymous = new TestClient("203.0.113.99");
const params: Record<string, string> = { "*": "no/such/page" };

function form(client: TestClient, path: string, fields: Record<string, string>) {
  return client.post(path, fields);
}

async function inviteLink(email: string, role = "member"): Promise<string> {
  const sent = await form(owner.client, "/organization", { intent: "invite", email, role });
  expect(location(sent)).toBe("/organization");
  const page = await (await owner.client.get("/organization")).text();
  return /\/invitations\/[A-Za-z0-9_-]+/.exec(page)![0];
}

beforeAll(async () => {
  db = database.db;
  owner = await signUp("Olive Owner");
  // A second organization, so the organizations page has a switch form too; then back to the first.
  await form(owner.client, "/organizations", { intent: "create", name: "Second organization" });
  await form(owner.client, "/organizations", { intent: "switch", organizationId: owner.organizationId });

  const created = await owner.client.request("/api/projects", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ title: "Bad input target", brief: "## Focus\n\nEverything" }),
  });
  const project = ((await created.json()) as { project: { id: string } }).project;
  params.projectId = project.id;
  await form(owner.client, `/projects/${project.id}`, { intent: "add-note", body: "A note to edit and delete" });
  await form(owner.client, "/projects/new", { intent: "answer", question: "topic", answer: "Tidal power" });
  // An episode that failed, so its page offers the Try again form.
  expect((await form(owner.client, `/projects/${project.id}`, { intent: "generate-now" })).status).toBe(302);
  const [episode] = await db`
    update episodes set status = 'FAILED', failure_reason = 'n8n refused the connection'
    where project_id = ${project.id} and status = 'QUEUED' returning id`;
  params.episodeId = episode.id;
  // An email in the owner's outbox, so its page exists.
  const [delivery] = await db`
    insert into email_deliveries (organization_id, kind, to_email, idempotency_key, payload)
    values (${owner.organizationId}, 'sign_in_link', 'reader@example.com', gen_random_uuid()::text,
      ${db.json({ name: "R", signInUrl: "http://localhost:3000/x", expiresAt: new Date().toISOString() })})
    returning id`;
  params.deliveryId = delivery.id;

  // A member, so the organization page has role and removal forms for someone else.
  const memberEmail = `member-${crypto.randomBytes(4).toString("hex")}@example.com`;
  const memberLink = await inviteLink(memberEmail);
  const member = await signUp("Max Member", memberEmail, new TestClient("203.0.113.21"));
  expect(location(await form(member.client, memberLink, {}))).toBe("/organization");

  // A pending invitation, seen by the person it was sent to: the page shows them its Join form.
  const inviteeEmail = `invitee-${crypto.randomBytes(4).toString("hex")}@example.com`;
  const link = await inviteLink(inviteeEmail);
  params.token = link.split("/").pop()!;
  invitee = await signUp("Ivy Invitee", inviteeEmail, new TestClient("203.0.113.22"));
});

// ---- what "changed nothing" and "a readable 4xx" mean ----

let tables: string[] | undefined;

/** A fingerprint of every table's rows: any insert, update or delete changes its table's entry. */
async function snapshot(): Promise<Map<string, string>> {
  tables ??= (
    await db`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`
  ).map((row) => row.tableName as string);
  const query = tables
    .map((table) => `select '${table}' as name, count(*) || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as print from "${table}" t`)
    .join(" union all ");
  const rows = await db.unsafe(query);
  return new Map(rows.map((row) => [row.name as string, row.print as string]));
}

function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** What is wrong with an answer to a bad request, or null if it is a readable 4xx. */
async function fault(response: Response, api: boolean, dataRequest = false): Promise<string | null> {
  const { status } = response;
  if (status >= 500) return `answered ${status}`;
  if (status < 400) return `answered ${status}${location(response) ? ` → ${location(response)}` : ""}`;
  if (status === 405 && !response.headers.get("Allow")) return "405 without Allow";
  const type = response.headers.get("Content-Type") ?? "";
  const body = await response.text();
  if (api) {
    if (!type.includes("application/json")) return `${status} as ${type || "no type"}, not JSON`;
    const error = (JSON.parse(body) as { error?: unknown }).error;
    return typeof error === "string" && error.length > 5 ? null : `${status} JSON without a readable error: ${body.slice(0, 80)}`;
  }
  if (dataRequest) return body.trim().length > 5 ? null : `${status} data response with no message`;
  if (!type.includes("text/html")) return `${status} as ${type || "no type"}, not a page`;
  const region = /<(?:section|div) class="(?:error-page|error-summary)"[\s\S]*?<\/(?:section|div)>/.exec(body)?.[0];
  if (!region) return `${status} page without an error message`;
  const text = visibleText(region);
  if (/Something went wrong/.test(text)) return `${status} page says something went wrong`;
  return text.length >= 20 ? null : `${status} page with too little to read: "${text}"`;
}

interface BadRequest {
  name: string;
  path: string;
  init: RequestInit;
}

/**
 * Sends each request; returns every problem found, so one failing run lists them all. A resource route that is not
 * the API (the Atom feed) has no page to show an error on: like a data request, its answer must be readable text.
 */
async function tryAll(client: TestClient, requests: BadRequest[], api: boolean, resource = false): Promise<string[]> {
  const problems: string[] = [];
  for (const request of requests) {
    const before = await snapshot();
    const response = await client.request(request.path, request.init);
    const problem = await fault(response, api || request.path.startsWith("/api"), resource || request.path.includes("_data="));
    const after = await snapshot();
    const changed = [...after].filter(([table, print]) => before.get(table) !== print).map(([table]) => table);
    if (problem) problems.push(`${request.init.method ?? "GET"} ${request.path.slice(0, 80)} [${request.name}]: ${problem}`);
    if (changed.length) problems.push(`${request.init.method ?? "GET"} ${request.path.slice(0, 80)} [${request.name}]: changed ${changed.join(", ")}`);
  }
  return problems;
}

// ---- the route's own forms, as its page offers them ----

interface Target {
  client: TestClient;
  forms: PageForm[];
}

/** The first person whose page at this path offers forms posting to it (owner, invitee, anyone); else the owner. */
async function targetFor(path: string): Promise<Target> {
  for (const client of [owner.client, invitee.client, anonymous]) {
    const response = await client.get(path);
    if (response.status !== 200 || !(response.headers.get("Content-Type") ?? "").includes("text/html")) continue;
    const forms = readPostForms(await response.text()).filter((f) => new URL(f.action, "http://app.test").pathname === path);
    if (forms.length) return { client, forms };
  }
  return { client: owner.client, forms: [] };
}

/** A plausible value for a box a person types into, so that one bad field is the only thing wrong. */
function plausible(form: PageForm, name: string): string {
  const type = form.types[name];
  if (type === "email") return `someone-${crypto.randomBytes(4).toString("hex")}@example.com`;
  if (type === "password") return "correct horse battery staple";
  if (type === "time") return "09:15";
  return "Plausible text";
}

function baseline(form: PageForm): [string, string][] {
  return form.fields.map(([name, value]) => [name, value === "" && form.typedFields.includes(name) ? plausible(form, name) : value]);
}

function urlencoded(fields: [string, string][]): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

const HUGE = "x".repeat(300_000);
const TWO_MB = 2 * 1024 * 1024;

function fieldCases(target: Target): BadRequest[] {
  const requests: BadRequest[] = [];
  const fieldSets = target.forms.map((f) => f.fields.map(([name]) => name).sort().join("&"));
  for (const [index, pageForm] of target.forms.entries()) {
    const fields = baseline(pageForm);
    const path = pageForm.action;
    const label = (what: string) => `form ${index + 1}: ${what}`;
    const names = [...new Set(fields.map(([name]) => name))];
    for (const name of names) {
      const replaced = (value: string) => fields.map(([n, v]): [string, string] => [n, n === name ? value : v]);
      const current = fields.find(([n]) => n === name)![1];
      requests.push({ name: label(`NUL in ${name}`), path, init: urlencoded(replaced(`${current}\u0000`)) });
      requests.push({ name: label(`300,000 characters in ${name}`), path, init: urlencoded(replaced(HUGE)) });
      if (!pageForm.repeatedFields.includes(name)) {
        requests.push({ name: label(`${name} sent twice`), path, init: urlencoded([...fields, [name, current]]) });
      }
      // A missing hidden field (an id, the version, the intent) unless the form is then another form of the page.
      const without = fields.filter(([n]) => n !== name);
      const withoutSet = [...new Set(without.map(([n]) => n))].sort().join("&");
      if (pageForm.types[name] === "hidden" && name !== "redirectTo" && !fieldSets.includes(withoutSet)) {
        requests.push({ name: label(`no ${name}`), path, init: urlencoded(without) });
      }
    }
    if (names.includes("intent")) {
      requests.push({ name: label("unknown intent"), path, init: urlencoded(fields.map(([n, v]) => [n, n === "intent" ? "no-such-intent" : v])) });
    }
    if (names.includes("version")) {
      const stale = fields.map(([n, v]): [string, string] => [n, n === "version" ? String(Number(v) + 1000) : v]);
      requests.push({ name: label("a version from elsewhere"), path, init: urlencoded(stale) });
      requests.push({ name: label("a version that is not a number"), path, init: urlencoded(fields.map(([n, v]) => [n, n === "version" ? "one" : v])) });
    }
  }
  return requests;
}

function bodyCases(route: ManifestRoute, path: string, target: Target): BadRequest[] {
  const sample = target.forms[0] ? baseline(target.forms[0]) : [["title", "x"]];
  const asText = new URLSearchParams(sample as [string, string][]).toString();
  const post = (name: string, headers: Record<string, string>, body: BodyInit, at = path): BadRequest => ({
    name,
    path: at,
    init: { method: "POST", headers, body },
  });
  const requests = [
    post("text/plain", { "Content-Type": "text/plain" }, asText),
    post("text/plain with a charset", { "Content-Type": "text/plain;charset=UTF-8" }, asText),
    post("JSON to a form", { "Content-Type": "application/json" }, JSON.stringify(Object.fromEntries(sample))),
    post("multipart without a boundary", { "Content-Type": "multipart/form-data" }, `--x\r\nContent-Disposition: form-data; name="intent"\r\n\r\nsave\r\n--x--\r\n`),
    post("multipart with a broken body", { "Content-Type": "multipart/form-data; boundary=abc" }, "this is not multipart"),
    post("no content type", {}, new TextEncoder().encode(asText)),
    post("XML", { "Content-Type": "application/xml" }, "<form><intent>save</intent></form>"),
    post("octet-stream", { "Content-Type": "application/octet-stream" }, crypto.randomBytes(64)),
    post("2 MB form", { "Content-Type": "application/x-www-form-urlencoded" }, `intent=x&body=${"x".repeat(TWO_MB)}`),
    {
      name: "2 MB form sent in chunks, without a length",
      path,
      init: {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < 32; i++) controller.enqueue(new TextEncoder().encode("x".repeat(TWO_MB / 32)));
            controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit,
    },
    post("text/plain as a data request", { "Content-Type": "text/plain" }, asText, `${path}${path.includes("?") ? "&" : "?"}_data=${encodeURIComponent(route.id)}`),
  ];
  // An empty form is a real submission where the page has a form with no fields (such as "Sign out").
  if (!target.forms.some((f) => f.fields.length === 0)) {
    requests.push(post("empty form", { "Content-Type": "application/x-www-form-urlencoded" }, ""));
  }
  return requests;
}

/**
 * Methods that reach a route's action. (OPTIONS and TRACE never reach route code: Remix's router answers
 * OPTIONS itself, and TRACE cannot even be built as a fetch Request. The HTTP layer in front of Remix answers
 * both, and its own tests cover them.)
 */
const ODD_METHODS = ["PUT", "PATCH", "DELETE"];

function methodCases(path: string, target: Target): BadRequest[] {
  const sample = target.forms[0] ? baseline(target.forms[0]) : [];
  return ODD_METHODS.map((method) => ({
    name: `${method} with a form`,
    path,
    init: { ...urlencoded(sample), method },
  }));
}

/** Each parameter in turn replaced by something that names nothing, by GET and by POST. */
function pathCases(route: ManifestRoute): BadRequest[] {
  const requests: BadRequest[] = [];
  const bad = ["not-an-id", crypto.randomUUID(), "%ZZ", "%ED%A0%80"];
  for (const param of route.params) {
    for (const value of bad) {
      const path = fillPattern(route, { ...params, [param]: "\u0001" }).replace(encodeURIComponent("\u0001"), value);
      requests.push({ name: `${param} = ${value}`, path, init: {} });
      requests.push({ name: `${param} = ${value}, posted`, path, init: urlencoded([["intent", "save"]]) });
    }
  }
  return requests;
}

// ---- API endpoints ----

/** The write methods an endpoint takes, as its 405 for a method nobody uses says; POST when it does not say. */
async function apiWriteMethods(path: string): Promise<string[]> {
  const probe = await owner.client.request(path, { method: "PUT", headers: { "Content-Type": "application/json" }, body: "{}" });
  const allow = probe.status === 405 ? (probe.headers.get("Allow") ?? "") : "";
  const methods = allow.split(",").map((m) => m.trim().toUpperCase()).filter((m) => ["POST", "PATCH", "PUT"].includes(m));
  return methods.length ? methods : ["POST"];
}

function jsonCases(path: string, method: string): BadRequest[] {
  const send = (name: string, headers: Record<string, string>, body: BodyInit): BadRequest => ({ name: `${method} ${name}`, path, init: { method, headers, body } });
  const json = (name: string, value: unknown) => send(name, { "Content-Type": "application/json" }, JSON.stringify(value));
  return [
    send("a form to a JSON endpoint", { "Content-Type": "application/x-www-form-urlencoded" }, "title=x&version=1"),
    send("text/plain", { "Content-Type": "text/plain" }, '{"title":"x"}'),
    send("multipart without a boundary", { "Content-Type": "multipart/form-data" }, "--x--"),
    send("no content type", {}, new TextEncoder().encode('{"title":"x"}')),
    send("broken JSON", { "Content-Type": "application/json" }, '{"title":'),
    send("empty body", { "Content-Type": "application/json" }, ""),
    send("2 MB of JSON", { "Content-Type": "application/json" }, JSON.stringify({ title: "x", brief: "x".repeat(TWO_MB) })),
    json("an array", [{ title: "x" }]),
    json("null", null),
    json("a string", "title"),
    json("a number as the title", { version: 1, title: 123 }),
    json("a list as the title", { version: 1, title: ["x"] }),
    json("an object as the days", { version: 1, title: "x", cadenceDays: { monday: true } }),
    json("a number as the time zone", { version: 1, title: "x", timezone: 5 }),
    json("NUL in the title", { version: 1, title: "x\u0000y" }),
    json("NUL in the brief", { version: 1, title: "x", brief: "\u0000" }),
    json("NUL in the time zone", { version: 1, title: "x", timezone: "Europe/London\u0000" }),
    json("300,000 characters of title", { version: 1, title: HUGE }),
    // Versions matter only to updates: to a create they are one more field it ignores.
    ...(method === "PATCH"
      ? [json("a version from elsewhere", { version: 1000, title: "x" }), json("a version that is not a number", { version: "one", title: "x" })]
      : []),
  ];
}

async function apiMethodCases(path: string): Promise<BadRequest[]> {
  const probe = await owner.client.request(path, { method: "PUT", headers: { "Content-Type": "application/json" }, body: "{}" });
  const allowed = (probe.headers.get("Allow") ?? "").split(",").map((m) => m.trim().toUpperCase());
  return ["POST", ...ODD_METHODS]
    .filter((method) => !allowed.includes(method))
    .map((method) => ({ name: `${method}, not allowed here`, path, init: { method, headers: { "Content-Type": "application/json" }, body: "{}" } }));
}

// ---- the suite ----

describe("bad input to every action route and API endpoint of the build", () => {
  it("finds the routes in the build's manifest", () => {
    const patterns = actionRoutes.map((route) => route.pattern);
    // A guard on the guard: the manifest must yield the routes we know of, so an empty list cannot pass.
    expect(patterns).toEqual(expect.arrayContaining(["/organization", "/projects/:projectId/settings", "/api/projects/:projectId", "/signup"]));
  });

  for (const route of actionRoutes) {
    describe(`${route.pattern} (${route.id})`, () => {
      const path = () => fillPattern(route, params);

      if (isApi(route)) {
        it("answers bad bodies with a JSON 4xx and changes nothing", async () => {
          const requests: BadRequest[] = [];
          for (const method of await apiWriteMethods(path())) requests.push(...jsonCases(path(), method));
          expect(await tryAll(owner.client, requests, true)).toEqual([]);
        });

        it("answers methods it does not take with a JSON 4xx", async () => {
          expect(await tryAll(owner.client, await apiMethodCases(path()), true)).toEqual([]);
        });
      } else {
        it("answers bad content types and sizes with a readable 4xx and changes nothing", async () => {
          const target = await targetFor(path());
          expect(await tryAll(target.client, bodyCases(route, path(), target), false, route.isResource)).toEqual([]);
        });

        it("answers bad values in each field of its forms with a readable 4xx and changes nothing", async () => {
          const target = await targetFor(path());
          expect(await tryAll(target.client, fieldCases(target), false, route.isResource)).toEqual([]);
        });

        it("answers odd methods with a readable 4xx and changes nothing", async () => {
          const target = await targetFor(path());
          expect(await tryAll(target.client, methodCases(path(), target), false, route.isResource)).toEqual([]);
        });
      }

      if (route.params.length) {
        it("answers paths that name nothing with a readable 404 and changes nothing", async () => {
          expect(await tryAll(owner.client, pathCases(route), isApi(route), route.isResource && !isApi(route))).toEqual([]);
        });
      }
    });
  }

  it("answers bad paths anywhere with a readable 4xx", async () => {
    const paths = ["/%ZZ", "/%ED%A0%80", "/projects/%ZZ", "/projects/%ZZ/settings", "/api/%ZZ", "/api/no/such/endpoint", "/api", "/no/such/page"];
    const requests = paths.flatMap((path) => [
      { name: "GET", path, init: {} },
      { name: "POST", path, init: urlencoded([["intent", "save"]]) },
    ]);
    expect(await tryAll(owner.client, requests, false)).toEqual([]);
  });

  it("every route has an action, so every POST reaches route code and gets this suite's whole catalogue", () => {
    // A route without one answers Remix's own 405: no Allow header, and for the API a body without `{ error }`.
    // Routes that only show something export `onlyGet` as their action.
    // The event stream and the CSV download are the exceptions: they are fetched with GET only (EventSource, a
    // download link), and the edge answers anything else with 405 and Allow (see the edge suite).
    const getOnly = ["routes/episodes.$episodeId.events", "routes/usage[.]csv"];
    expect(manifest.filter((route) => !route.hasAction && !getOnly.includes(route.id)).map((route) => route.id)).toEqual([]);
  });

  it("covers the forms a person uses: the pages offer forms for the routes that take them", async () => {
    // Without this the field cases could silently test nothing if the pages stopped rendering their forms.
    const settings = await targetFor(fillPattern(actionRoutes.find((r) => r.pattern === "/projects/:projectId/settings")!, params));
    expect(settings.forms.length).toBe(4);
    expect(fieldCases(settings).length).toBeGreaterThan(30);
    const invitation = await targetFor(fillPattern(actionRoutes.find((r) => r.pattern === "/invitations/:token")!, params));
    expect(invitation.client).toBe(invitee.client);
  });
});
