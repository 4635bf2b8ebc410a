import crypto from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { signUp, type SignedIn } from "../support/accounts";
import { readPostForms } from "../support/forms";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

const database = useRouteDatabase();
let db: Db;

// The app's log, as the process writes it: pino writes to a stdout whose `write` was replaced, so every line
// passes through here. Installed before the first request creates the logger.
process.env.LOG_LEVEL = "info";
const logLines: string[] = [];
vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
  logLines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
  return true;
});

beforeAll(() => {
  db = database.db;
});

const email = (prefix: string) => `${prefix}-${crypto.randomBytes(5).toString("hex")}@example.com`;

async function createProject(person: SignedIn, body: Record<string, unknown> = { title: "Forms target" }) {
  const response = await person.client.request("/api/projects", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { project: { id: string; version: number; timezone: string } }).project;
}

/** The error summary at the top of a page, or "" when there is none. */
function errorSummary(html: string): string {
  return /<div class="error-summary"[\s\S]*?<\/ul><\/div>/.exec(html)?.[0] ?? "";
}

/** What the flash region at the top of the page says. */
function flash(html: string): string {
  return /<div role="status" class="notice notice--success flash">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";
}

async function invite(owner: SignedIn, address: string, role = "member") {
  const response = await owner.client.post("/organization", { intent: "invite", email: address, role });
  expect(location(response)).toBe("/organization");
  const page = await (await owner.client.get("/organization")).text();
  return /\/invitations\/([A-Za-z0-9_-]+)/.exec(flash(page))!;
}

async function join(owner: SignedIn, role = "member", name = "Ivy Invitee") {
  const address = email("invitee");
  const [link] = await invite(owner, address, role);
  const person = await signUp(name, address, new TestClient("203.0.113.50"));
  expect(location(await person.client.post(link, {}))).toBe("/organization");
  return person;
}

describe("Post/Redirect/Get", () => {
  it("adding a note redirects; the confirmation shows once; reloading adds nothing", async () => {
    const person = await signUp();
    const project = await createProject(person);
    const added = await person.client.post(`/projects/${project.id}`, { intent: "add-note", body: "Watch the auctions." });
    expect(added.status).toBe(302);
    expect(location(added)).toBe(`/projects/${project.id}`);

    const page = await (await person.client.get(`/projects/${project.id}`)).text();
    expect(flash(page)).toContain("Note added.");
    // The reload a person makes after the redirect is a GET: no second note, and no second confirmation.
    const reloaded = await (await person.client.get(`/projects/${project.id}`)).text();
    expect(flash(reloaded)).toBe("");
    expect(await db`select 1 from planning_notes where project_id = ${project.id}`).toHaveLength(1);
  });

  it("a sent invitation redirects and shows its link once, to the inviter only; the log names only the invitation", async () => {
    const owner = await signUp();
    const [link, token] = await invite(owner, email("guest"));
    expect(await (await owner.client.get("/organization")).text()).not.toContain(token);
    const [invitation] = await db`select id, status from invitations where organization_id = ${owner.organizationId}`;
    expect(invitation.status).toBe("pending");

    const log = logLines.join("");
    expect(log).toContain('"msg":"invitation created"');
    expect(log).toContain(invitation.id);
    expect(log).not.toContain(token);
    expect(log).not.toContain(link);

    // The link still works after the redirect.
    const page = await new TestClient().get(link);
    expect(page.status).toBe(200);
  });
});

describe("each form on a page reads only its own submission", () => {
  it("a failed delete keeps the saved days ticked and names the problem at the top, linked to the box", async () => {
    const person = await signUp();
    const project = await createProject(person, { title: "Tides", cadenceType: "custom", cadenceDays: [2, 4] });
    const response = await person.client.post(`/projects/${project.id}/settings`, { intent: "delete" });
    expect(response.status).toBe(400);
    const html = await response.text();

    const settingsForm = readPostForms(html).find((f) => f.fields.some(([name, value]) => name === "intent" && value === "save"))!;
    const days = settingsForm.fields.filter(([name]) => name === "cadenceDays").map(([, value]) => value);
    expect(days).toEqual(["2", "4"]);
    expect(settingsForm.fields).toContainEqual(["cadenceType", "custom"]);
    expect(settingsForm.fields).toContainEqual(["title", "Tides"]);

    const summary = errorSummary(html);
    expect(summary).toContain('href="#delete-confirm"');
    expect(summary).toContain("Tick the box to confirm");
    expect(html.indexOf("error-summary")).toBeLessThan(html.indexOf('name="intent" value="save"'));
    expect(html).toContain('id="delete-confirm"');
    expect(html).toMatch(/id="delete-confirm"[^>]*aria-describedby="confirm-error"|aria-describedby="confirm-error"[^>]*id="delete-confirm"/);
    expect(await db`select 1 from projects where id = ${project.id}`).toHaveLength(1);
  });

  it("a failed note edit shows its error on that note only, and the new-note box stays empty", async () => {
    const person = await signUp();
    const project = await createProject(person);
    await person.client.post(`/projects/${project.id}`, { intent: "add-note", body: "First" });
    await person.client.post(`/projects/${project.id}`, { intent: "add-note", body: "Second" });
    const [first] = await db`select id from planning_notes where project_id = ${project.id} and body = 'First'`;
    const response = await person.client.post(`/projects/${project.id}`, { intent: "edit-note", noteId: first.id, version: "1", body: "  " });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(errorSummary(html)).toContain(`href="#note-${first.id}"`);
    expect(html).toContain(`aria-describedby="note-${first.id}-error"`);
    expect(html).not.toContain('aria-describedby="new-note-error"');
    expect(html).toMatch(/<textarea id="new-note" name="body"><\/textarea>/);
  });
});

describe("bad input gets a message, never a 500", () => {
  it.each([
    ["the settings title", "/projects/:id/settings", { intent: "save", version: "1", title: "Ti\u0000tle", brief: "", cadenceType: "weekly", cadenceDays: "1", deliveryTime: "07:00", timezone: "UTC" }, "field-title"],
    ["the settings brief", "/projects/:id/settings", { intent: "save", version: "1", title: "T", brief: "a\u0000", cadenceType: "weekly", cadenceDays: "1", deliveryTime: "07:00", timezone: "UTC" }, "brief"],
    ["a note", "/projects/:id", { intent: "add-note", body: "\u0000" }, "new-note"],
    ["an answer to Futura", "/projects/new", { intent: "answer", question: "topic", answer: "Tides\u0000" }, "answer"],
    ["a new organization's name", "/organizations", { intent: "create", name: "Org\u0000" }, "field-name"],
    ["an invitation's address", "/organization", { intent: "invite", email: "a\u0000@example.com", role: "member" }, "field-email"],
  ])("NUL in %s is a 400 with the field's error, and nothing is stored", async (_label, pattern, fields, fieldId) => {
    const person = await signUp();
    const project = await createProject(person);
    const before = await db`select (select count(*) from planning_notes) + (select count(*) from project_conversations) + (select count(*) from organizations) + (select count(*) from invitations) as rows, (select version from projects where id = ${project.id}) as version`;
    const response = await person.client.post(pattern.replace(":id", project.id), fields);
    expect(response.status).toBe(400);
    const summary = errorSummary(await response.text());
    expect(summary).toContain(`href="#${fieldId}"`);
    expect(summary).toContain("NUL character");
    const after = await db`select (select count(*) from planning_notes) + (select count(*) from project_conversations) + (select count(*) from organizations) + (select count(*) from invitations) as rows, (select version from projects where id = ${project.id}) as version`;
    expect(after).toEqual(before);
  });

  it("NUL through the API is a 400 naming the field", async () => {
    const person = await signUp();
    const response = await person.client.request("/api/projects", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "x", brief: "\u0000" }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { fields: Record<string, string> }).fields.brief).toContain("NUL character");
  });

  it.each([186, 200])("a %d-character sign-up name is a field error, and no account or organization is made", async (length) => {
    const address = email("long-name");
    const response = await new TestClient().post("/signup", { name: "N".repeat(length), email: address, password: "correct horse battery" });
    expect(response.status).toBe(400);
    expect(errorSummary(await response.text())).toContain("Keep your name to 100 characters or fewer.");
    expect(await db`select 1 from users where email = ${address}`).toHaveLength(0);
  });

  it("a 100-character name still makes its personal organization", async () => {
    const person = await signUp("N".repeat(100));
    const [organization] = await db`select name from organizations where id = ${person.organizationId}`;
    expect(organization.name).toBe(`${"N".repeat(100)}'s organization`);
  });

  it.each([201, 254, 320])("a failed sign-in with a %d-character email is a 400 field error", async (length) => {
    const address = `${"a".repeat(length - "@example.com".length)}@example.com`;
    expect(address).toHaveLength(length);
    const response = await new TestClient("198.51.100.77").post("/signin", { email: address, password: "whatever it is" });
    expect(response.status).toBe(400);
    const summary = errorSummary(await response.text());
    expect(summary).toContain('href="#field-email"');
    expect(summary).toContain("That email address is too long");
  });

  it("sign-up and sign-in validation errors answer 400", async () => {
    expect((await new TestClient().post("/signup", { name: "", email: "x", password: "y" })).status).toBe(400);
    expect((await new TestClient().post("/signin", { email: "", password: "" })).status).toBe(400);
  });

  it("an unknown intent, a missing id and a stale form read 'out of date' at the top of the page", async () => {
    const person = await signUp();
    const project = await createProject(person);
    const cases = [
      person.client.post(`/projects/${project.id}`, { intent: "archive-everything" }),
      person.client.post(`/projects/${project.id}`, { intent: "edit-note", body: "x", version: "1" }),
      person.client.post(`/projects/${project.id}/settings`, { intent: "archive" }),
      person.client.post("/organization", { intent: "remove" }),
      person.client.post("/projects/new", { intent: "answer", answer: "x" }),
    ];
    for (const response of await Promise.all(cases)) {
      expect(response.status).toBe(400);
      expect(errorSummary(await response.text())).toContain("This form is out of date. Reload the page and try again.");
    }
  });

  it("a form sent as text/plain is a 415 page inside the site layout, saying how to send it", async () => {
    const person = await signUp();
    const response = await person.client.request("/organization", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "intent=invite" });
    expect(response.status).toBe(415);
    const html = await response.text();
    expect(html).toContain('<header class="site-header">');
    expect(html).toMatch(/<h1 id="error-title">That form could not be read<\/h1>/);
    expect(html).toContain("application/x-www-form-urlencoded or multipart/form-data");
  });

  it("a multipart form with its boundary is read like any other", async () => {
    const person = await signUp();
    const body = new FormData();
    body.set("intent", "create");
    body.set("name", "Multipart Ltd");
    const response = await person.client.request("/organizations", { method: "POST", body });
    expect(location(response)).toBe("/organization");
    expect(await db`select 1 from organizations where name = 'Multipart Ltd'`).toHaveLength(1);
  });
});

describe("time zones are stored by their IANA name", () => {
  it.each([
    ["US/Eastern", "America/New_York"],
    ["GMT", "UTC"],
    ["europe/london", "Europe/London"],
  ])("%s is stored as %s, offered selected, and kept by an unchanged save", async (given, canonical) => {
    const person = await signUp();
    const project = await createProject(person, { title: "Zones", timezone: given });
    expect(project.timezone).toBe(canonical);

    const page = await (await person.client.get(`/projects/${project.id}/settings`)).text();
    const settings = readPostForms(page).find((f) => f.fields.some(([n, v]) => n === "intent" && v === "save"))!;
    expect(settings.fields).toContainEqual(["timezone", canonical]);
    const saved = await person.client.request(`/projects/${project.id}/settings`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(settings.fields).toString(),
    });
    expect(location(saved)).toBe(`/projects/${project.id}/settings`);
    const [row] = await db`select timezone, version from projects where id = ${project.id}`;
    expect(row).toEqual({ timezone: canonical, version: 1 });
  });

  it("a stored zone the list lacks is still offered, selected, and kept on save", async () => {
    const person = await signUp();
    const project = await createProject(person, { title: "Offset", timezone: "Etc/GMT+5" });
    expect(project.timezone).toBe("Etc/GMT+5");
    const page = await (await person.client.get(`/projects/${project.id}/settings`)).text();
    expect(page).toContain('<option value="Etc/GMT+5" selected="">');
    const settings = readPostForms(page).find((f) => f.fields.some(([n, v]) => n === "intent" && v === "save"))!;
    await person.client.request(`/projects/${project.id}/settings`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(settings.fields).toString(),
    });
    const [row] = await db`select timezone, version from projects where id = ${project.id}`;
    expect(row).toEqual({ timezone: "Etc/GMT+5", version: 1 });
  });

  it("a name that is no zone is refused", async () => {
    const person = await signUp();
    const response = await person.client.request("/api/projects", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "Nowhere", timezone: "+01:00" }),
    });
    expect(response.status).toBe(400);
  });
});

describe("briefs", () => {
  it("saving a brief unchanged, as a browser sends it (CRLF), changes nothing: no new version, no audit row", async () => {
    const person = await signUp();
    const project = await createProject(person, { title: "Lines", brief: "## Focus\n\nOne\nTwo" });
    const page = await (await person.client.get(`/projects/${project.id}/settings`)).text();
    const settings = readPostForms(page).find((f) => f.fields.some(([n, v]) => n === "intent" && v === "save"))!;
    // Browsers submit a textarea's line breaks as CRLF.
    const fields = settings.fields.map(([n, v]): [string, string] => [n, n === "brief" ? v.replace(/\n/g, "\r\n") : v]);
    expect(fields.find(([n]) => n === "brief")![1]).toContain("\r\n");
    const auditBefore = await db`select count(*)::int as count from audit_log where target_id = ${project.id}`;
    const saved = await person.client.request(`/projects/${project.id}/settings`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    expect(location(saved)).toBe(`/projects/${project.id}/settings`);
    const [row] = await db`select onboarding_brief, version from projects where id = ${project.id}`;
    expect(row).toEqual({ onboardingBrief: "## Focus\n\nOne\nTwo", version: 1 });
    expect(await db`select count(*)::int as count from audit_log where target_id = ${project.id}`).toEqual(auditBefore);
    expect(flash(await (await person.client.get(`/projects/${project.id}/settings`)).text())).toContain("Nothing to save");
  });

  it("a brief edited with CRLF line breaks is stored with LF", async () => {
    const person = await signUp();
    const project = await createProject(person, { title: "Lines" });
    const response = await person.client.request(`/api/projects/${project.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ version: 1, brief: "a\r\nb\rc" }),
    });
    expect(response.status).toBe(200);
    const [row] = await db`select onboarding_brief from projects where id = ${project.id}`;
    expect(row.onboardingBrief).toBe("a\nb\nc");
  });

  it("a brief's headings sit under the page's Brief heading, in order", async () => {
    const person = await signUp();
    const project = await createProject(person, { title: "Outline", brief: "# Top\n\nIntro\n\n## Middle\n\nText\n\n#### Deep\n\nMore" });
    const html = await (await person.client.get(`/projects/${project.id}`)).text();
    const headings = [...html.matchAll(/<h([1-6])[^>]*>([\s\S]*?)<\/h\1>/g)].map(([, level, text]) => `h${level} ${text.replace(/<[^>]+>/g, "").trim()}`);
    const brief = headings.indexOf("h2 Brief");
    expect(headings.slice(brief, brief + 4)).toEqual(["h2 Brief", "h3 Top", "h4 Middle", "h5 Deep"]);
    expect(headings.filter((h) => h.startsWith("h1"))).toHaveLength(1);
  });
});

describe("organization wording", () => {
  it("the founder's personal organization is 'your personal one' to the founder only; roles read with their article", async () => {
    const owner = await signUp("Ada Lovelace");
    const member = await join(owner, "member");
    const admin = await join(owner, "admin", "Alan Admin");
    const text = async (person: SignedIn) =>
      (await (await person.client.get("/organization")).text()).replace(/<script[\s\S]*?<\/script>/g, "").replace(/<!-- -->/g, "");

    expect(await text(owner)).toContain("You are an owner of this organization, your personal one.");
    const memberPage = await text(member);
    expect(memberPage).toContain("You are a member of this organization, the personal organization of Ada Lovelace.");
    expect(memberPage).not.toContain("your personal one");
    expect(await text(admin)).toContain("You are an admin of this organization, the personal organization of Ada Lovelace.");
  });
});

describe("error pages keep the layout and say what happened", () => {
  it("a role check's 403 is a readable page with its own message", async () => {
    const owner = await signUp();
    const member = await join(owner, "member");
    const response = await member.client.post("/organization", { intent: "invite", email: email("x"), role: "member" });
    expect(response.status).toBe(403);
    const html = await response.text();
    expect(html).toContain('<header class="site-header">');
    expect(html).toContain("You can&#x27;t do that here");
    expect(html).toContain("Inviting people needs the owner or admin role in this organization.");
  });

  it("a project that is not there is a 404 page that says so", async () => {
    const person = await signUp();
    const response = await person.client.get(`/projects/${crypto.randomUUID()}/settings`);
    expect(response.status).toBe(404);
    const html = await response.text();
    expect(html).toContain("Project not found");
    expect(html).toContain('href="/projects"');
  });

  it("a failure on our side is a 500 page in the layout that gives the request id to quote, and no internals", async () => {
    const person = await signUp();
    const project = await createProject(person);
    // A real failure: the table the page reads is gone for a moment.
    await db`alter table planning_notes rename to planning_notes_away`;
    let response: Response;
    try {
      response = await person.client.get(`/projects/${project.id}`);
    } finally {
      await db`alter table planning_notes_away rename to planning_notes`;
    }
    expect(response.status).toBe(500);
    const html = await response.text();
    expect(html).toContain('<header class="site-header">');
    expect(html).toContain("Something went wrong");
    expect(html).toMatch(/quote request <code>test-request<\/code>/);
    expect(html).not.toContain("does not exist");
  });

  it("API paths that name nothing answer JSON 404, whatever the method", async () => {
    const person = await signUp();
    for (const init of [{}, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } }, { method: "DELETE" }]) {
      const response = await person.client.request("/api/no/such/thing", init);
      expect(response.status).toBe(404);
      expect(response.headers.get("Content-Type")).toContain("application/json");
      expect(((await response.json()) as { error: string }).error).toContain("no API endpoint");
    }
  });
});
