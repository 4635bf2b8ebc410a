import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { QUESTIONS } from "../../app/lib/futura";
import { nextScheduledAt } from "../../app/lib/schedule.server";
import { abandonStaleConversations } from "../../app/models/conversations.server";
import { signUp, type SignedIn } from "../support/accounts";
import { useRouteDatabase } from "../support/route-database";
import { location } from "../support/remix";

const database = useRouteDatabase();
let db: Db;
beforeAll(() => {
  db = database.db;
});

const answers: Record<string, string> = {
  topic: "How will small modular reactors change Europe's energy mix?",
  purpose: "We decide in Q3 whether to bid for grid-balancing contracts.",
  reader: "Head of strategy at a regional utility.",
  horizon: "2030 to 2040",
  scope: "EU and UK; utilities and heavy industry.",
  sources: "IEA, ENTSO-E, regulator consultations; be careful with vendor press releases.",
  style: "Plain and direct, a five-minute read.",
};

async function converse(person: SignedIn) {
  for (const q of QUESTIONS) {
    const response = await person.client.post("/projects/new", { intent: "answer", question: q.key, answer: answers[q.key] });
    expect(location(response)).toBe("/projects/new");
  }
}

async function createViaApi(person: SignedIn, body: Record<string, unknown> = { title: "Ocean futures" }) {
  const response = await person.client.request("/api/projects", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { project: { id: string; version: number } }).project;
}

function patch(person: SignedIn, id: string, body: Record<string, unknown>) {
  return person.client.request(`/api/projects/${id}`, {
    method: "PATCH",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
}

async function auditActions(targetId: string) {
  const rows = await db`select action from audit_log where target_id = ${targetId} order by created_at`;
  return rows.map((r) => r.action as string);
}

describe("the conversation with Futura", () => {
  it("asks one question at a time, keeps the draft across requests, then creates the project from the brief", async () => {
    const person = await signUp();
    const first = await (await person.client.get("/projects/new")).text();
    expect(first).toContain(QUESTIONS[0].prompt.replace("'", "&#x27;"));
    expect(first).not.toContain(QUESTIONS[1].prompt);

    await person.client.post("/projects/new", { intent: "answer", question: "topic", answer: answers.topic });
    const second = await (await person.client.get("/projects/new")).text();
    expect(second).toContain(QUESTIONS[1].prompt);
    expect(second).toContain("small modular reactors");

    await converse(person);
    const review = await (await person.client.get("/projects/new")).text();
    expect(review).toContain("Your brief");
    expect(review).toContain('value="How will small modular reactors change Europe&#x27;s energy mix"');

    const created = await person.client.post("/projects/new", {
      intent: "confirm",
      title: "SMRs in Europe",
      brief: "## Focus\n\nSMRs",
      timezone: "Europe/London",
    });
    const projectPath = location(created)!;
    expect(projectPath).toMatch(/^\/projects\/[0-9a-f-]{36}$/);
    const projectId = projectPath.split("/").pop()!;

    const [project] = await db`select * from projects where id = ${projectId}`;
    expect(project).toMatchObject({
      organizationId: person.organizationId,
      title: "SMRs in Europe",
      status: "ACTIVE",
      cadenceType: "weekly",
      cadenceDays: [1],
      deliveryHour: 7,
      deliveryMinute: 0,
      timezone: "Europe/London",
    });
    const expected = nextScheduledAt({ type: "weekly", days: [1], hour: 7, minute: 0, timezone: "Europe/London" }, project.createdAt);
    expect(project.nextScheduledAt.toISOString()).toBe(expected!.toISOString());

    const episodes = await db`select status, scheduled_for from episodes where project_id = ${projectId}`;
    expect(episodes).toEqual([{ status: "DRAFT", scheduledFor: project.nextScheduledAt }]);
    const [note] = await db`select kind, body from planning_notes where project_id = ${projectId}`;
    expect(note.kind).toBe("conversation");
    expect(note.body).toContain(answers.purpose);
    const [conversation] = await db`select status, project_id from project_conversations where project_id = ${projectId}`;
    expect(conversation).toEqual({ status: "completed", projectId });
    expect(await auditActions(projectId)).toEqual(["project.created"]);
    const [event] = await db`select event_type, event_data from user_events where event_data->>'projectId' = ${projectId}`;
    expect(event).toEqual({ eventType: "project_created", eventData: { projectId, fromConversation: true } });

    const page = await (await person.client.get(projectPath)).text();
    expect(page).toContain("SMRs in Europe");
    expect(page).toContain("Monday");
  });

  it("lets the person go back and change an answer", async () => {
    const person = await signUp();
    await converse(person);
    const editPage = await (await person.client.get("/projects/new?edit=horizon")).text();
    expect(editPage).toContain("2030 to 2040</textarea>");
    await person.client.post("/projects/new", { intent: "answer", question: "horizon", answer: "The next 18 months" });
    const review = await (await person.client.get("/projects/new")).text();
    expect(review).toContain("The next 18 months");
    expect(review).not.toContain("2030 to 2040");
  });

  it("explains an empty answer and an unknown question, storing nothing", async () => {
    const person = await signUp();
    const empty = await person.client.post("/projects/new", { intent: "answer", question: "topic", answer: "   " });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain("Write an answer before sending.");
    const unknown = await person.client.post("/projects/new", { intent: "answer", question: "salary", answer: "x" });
    expect(unknown.status).toBe(400);
    expect(await db`select 1 from project_conversations where user_id = ${person.userId}`).toHaveLength(0);
  });

  it("abandons a stale draft and records the event", async () => {
    const person = await signUp();
    await person.client.post("/projects/new", { intent: "answer", question: "topic", answer: "Lunar mining" });
    const eightDaysOn = new Date(Date.now() + 8 * 24 * 3600 * 1000);
    expect(await abandonStaleConversations(db, new Date(Date.now() + 6 * 24 * 3600 * 1000))).toBe(0);
    expect(await abandonStaleConversations(db, eightDaysOn)).toBeGreaterThanOrEqual(1);
    const [conversation] = await db`select status from project_conversations where user_id = ${person.userId}`;
    expect(conversation.status).toBe("abandoned");
    const [event] = await db`select event_data from user_events where event_type = 'conversation_abandoned' and user_id = ${person.userId}`;
    expect(event.eventData).toMatchObject({ reason: "stale", answered: 1 });
    expect(await (await person.client.get("/projects/new")).text()).not.toContain("Lunar mining");
  });
});

describe("project settings", () => {
  it("saves custom Tuesday and Thursday at 08:30 London, recomputes the next run and moves the draft", async () => {
    const person = await signUp();
    const project = await createViaApi(person);
    const response = await person.client.request(`/projects/${project.id}/settings`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([
        ["intent", "save"],
        ["version", String(project.version)],
        ["title", "Ocean futures"],
        ["brief", "Tides and trade."],
        ["cadenceType", "custom"],
        ["cadenceDays", "2"],
        ["cadenceDays", "4"],
        ["deliveryTime", "08:30"],
        ["timezone", "Europe/London"],
      ]),
    });
    expect(location(response)).toBe(`/projects/${project.id}/settings`);
    const [row] = await db`select * from projects where id = ${project.id}`;
    expect(row).toMatchObject({ cadenceType: "custom", cadenceDays: [2, 4], deliveryHour: 8, deliveryMinute: 30, timezone: "Europe/London", version: 2 });
    const expected = nextScheduledAt({ type: "custom", days: [2, 4], hour: 8, minute: 30, timezone: "Europe/London" }, row.updatedAt);
    expect(row.nextScheduledAt.toISOString()).toBe(expected!.toISOString());
    const drafts = await db`select scheduled_for from episodes where project_id = ${project.id} and status = 'DRAFT'`;
    expect(drafts).toEqual([{ scheduledFor: row.nextScheduledAt }]);

    const [audit] = await db`select before, after from audit_log where target_id = ${project.id} and action = 'project.updated'`;
    expect(audit.before).toMatchObject({ cadenceType: "weekly", cadenceDays: [1], deliveryTime: "07:00", timezone: "UTC" });
    expect(audit.after).toMatchObject({ cadenceType: "custom", cadenceDays: [2, 4], deliveryTime: "08:30", timezone: "Europe/London" });
    const events = await db`select event_type, event_data from user_events where event_data->>'projectId' = ${project.id} order by created_at`;
    expect(events.map((e) => e.eventType)).toEqual(["project_created", "project_updated", "settings_updated"]);
    expect(events[2].eventData.changed).toEqual(["brief", "cadenceType", "cadenceDays", "deliveryTime", "timezone"]);

    // Post/Redirect/Get: the confirmation is shown once, on the page the save redirected to.
    const page = await (await person.client.get(`/projects/${project.id}/settings`)).text();
    expect(page).toContain("Settings saved.");
    expect(await (await person.client.get(`/projects/${project.id}/settings`)).text()).not.toContain("Settings saved.");
    expect(page).toMatch(/(Tuesday|Thursday) \d{1,2} \w+ \d{4}, 08:30 (GMT|BST|GMT\+1)/);
  });

  it("refuses a stale form: says someone else changed it, shows their values, overwrites nothing", async () => {
    const person = await signUp();
    const project = await createViaApi(person, { title: "Original" });
    expect((await patch(person, project.id, { version: 1, title: "Changed elsewhere" })).status).toBe(200);

    const stale = await person.client.post(`/projects/${project.id}/settings`, {
      intent: "save",
      version: "1",
      title: "My edit",
      brief: "",
      cadenceType: "weekly",
      cadenceDays: "1",
      deliveryTime: "07:00",
      timezone: "UTC",
    });
    expect(stale.status).toBe(409);
    const html = await stale.text();
    expect(html).toContain("Someone else changed this project while you were editing");
    expect(html).toContain('value="Changed elsewhere"');
    expect(html).toContain('name="version" value="2"');
    const [row] = await db`select title, version from projects where id = ${project.id}`;
    expect(row).toEqual({ title: "Changed elsewhere", version: 2 });
  });

  it("archives, restores and deletes with confirmation, each audited", async () => {
    const person = await signUp();
    const project = await createViaApi(person);
    await person.client.post(`/projects/${project.id}/settings`, { intent: "archive", version: "1" });
    let [row] = await db`select status, next_scheduled_at, version from projects where id = ${project.id}`;
    expect(row).toMatchObject({ status: "ARCHIVED", nextScheduledAt: null });
    expect(await db`select 1 from episodes where project_id = ${project.id} and status = 'DRAFT'`).toHaveLength(0);

    await person.client.post(`/projects/${project.id}/settings`, { intent: "restore", version: String(row.version) });
    [row] = await db`select status, next_scheduled_at from projects where id = ${project.id}`;
    expect(row.status).toBe("ACTIVE");
    expect(row.nextScheduledAt).not.toBeNull();

    const unconfirmed = await person.client.post(`/projects/${project.id}/settings`, { intent: "delete" });
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain("Tick the box to confirm");
    expect(location(await person.client.post(`/projects/${project.id}/settings`, { intent: "delete", confirm: "yes" }))).toBe("/projects");
    expect(await db`select 1 from projects where id = ${project.id}`).toHaveLength(0);
    expect(await auditActions(project.id)).toEqual(["project.created", "project.archived", "project.restored", "project.deleted"]);
  });
});

describe("validation, the same for forms and the API", () => {
  const OUT_OF_DATE = "This form is out of date. Reload the page and try again.";
  // Each case: the field at fault, the change, the API's message, and what the settings form says. Fields the
  // form does not show (status, version) get a page-level message instead of a field's.
  it.each([
    ["title", { title: "" }, "Give the project a title."],
    ["title", { title: "x".repeat(201) }, "Keep the title under 200 characters."],
    ["brief", { brief: "x".repeat(20_001) }, "Keep the brief under 20,000 characters."],
    ["cadenceType", { cadenceType: "hourly" }, "Choose weekly, custom days, daily or paused."],
    ["cadenceDays", { cadenceType: "custom", cadenceDays: [8] }, "Days are numbers from 1 (Monday) to 7 (Sunday)."],
    ["cadenceDays", { cadenceType: "weekly", cadenceDays: [1, 3] }, "For a weekly brief, choose exactly one day (or choose custom days)."],
    ["cadenceDays", { cadenceType: "custom", cadenceDays: [] }, "Choose at least one day for custom days."],
    ["deliveryTime", { deliveryTime: "25:00" }, "Give a time such as 07:00, in 24-hour form."],
    ["timezone", { timezone: "Mars/Olympus_Mons" }, "Choose a time zone from the list, such as Europe/London."],
    ["status", { status: "DELETED" }, "Status is ACTIVE or ARCHIVED.", OUT_OF_DATE],
    ["version", { version: undefined }, "The form is missing the project's version; reload the page.", OUT_OF_DATE],
  ])("%s: %j", async (field, change, message, formMessage = message) => {
    const person = await signUp();
    const project = await createViaApi(person, { title: "Valid" });
    const api = await patch(person, project.id, { version: 1, ...change });
    expect(api.status).toBe(400);
    expect(await api.json()).toEqual({ error: "Some fields are not valid.", fields: { [field]: message } });

    // The form sends what a browser would: every field of the settings form, a list as repeated fields, and a
    // field left out when the change removes it.
    const fields: Record<string, string | number[]> = {
      intent: "save",
      version: "1",
      title: "Valid",
      brief: "",
      cadenceType: "weekly",
      cadenceDays: [1],
      deliveryTime: "07:00",
      timezone: "UTC",
    };
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) delete fields[key];
      else fields[key] = value;
    }
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) {
      for (const item of Array.isArray(value) ? value : [value]) body.append(key, String(item));
    }
    const form = await person.client.request(`/projects/${project.id}/settings`, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(400);
    const html = await form.text();
    // The message is in the error summary at the top of the page, linked to the field when the form shows it.
    const summary = /<div class="error-summary"[\s\S]*?<\/ul><\/div>/.exec(html)?.[0] ?? "";
    expect(summary).toContain(formMessage.replaceAll("'", "&#x27;"));
    if (formMessage === message) {
      const target = /<a href="#([\w-]+)">/.exec(summary)?.[1];
      expect(html).toContain(`id="${target}"`);
    }
    const [row] = await db`select title, version from projects where id = ${project.id}`;
    expect(row).toEqual({ title: "Valid", version: 1 });
  });

  it("the API answers 415 to a non-JSON body, 400 to broken JSON, 409 to a stale version", async () => {
    const person = await signUp();
    const project = await createViaApi(person);
    const form = await person.client.request("/api/projects", { method: "POST", body: "title=x", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(415);
    const broken = await person.client.request("/api/projects", { method: "POST", body: "{", headers: { "Content-Type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toBe("The body is not valid JSON.");
    expect((await patch(person, project.id, { version: 1, title: "One" })).status).toBe(200);
    const stale = await patch(person, project.id, { version: 1, title: "Two" });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { current: { title: string; version: number } }).current).toMatchObject({ title: "One", version: 2 });
  });

  it("creates, lists, reads and deletes through the API", async () => {
    const person = await signUp();
    const created = await createViaApi(person, { title: "Soil", cadenceType: "daily", deliveryTime: "06:15", timezone: "Asia/Tokyo" });
    const list = (await (await person.client.get("/api/projects")).json()) as { projects: { id: string; episodeCount: number }[] };
    expect(list.projects).toEqual([expect.objectContaining({ id: created.id, episodeCount: 1 })]);
    const read = (await (await person.client.get(`/api/projects/${created.id}`)).json()) as { project: Record<string, unknown> };
    expect(read.project).toMatchObject({ title: "Soil", cadenceType: "daily", deliveryTime: "06:15", timezone: "Asia/Tokyo" });
    expect((await person.client.request(`/api/projects/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await person.client.get(`/api/projects/${created.id}`)).status).toBe(404);
  });
});

describe("planning notes", () => {
  it("adds, edits (refusing a stale version) and deletes, each audited", async () => {
    const person = await signUp();
    const project = await createViaApi(person);
    await person.client.post(`/projects/${project.id}`, { intent: "add-note", body: "Watch the Dutch grid auctions." });
    const [note] = await db`select id, version from planning_notes where project_id = ${project.id}`;
    await person.client.post(`/projects/${project.id}`, { intent: "edit-note", noteId: note.id, version: "1", body: "Watch Dutch and Belgian auctions." });
    const stale = await person.client.post(`/projects/${project.id}`, { intent: "edit-note", noteId: note.id, version: "1", body: "Overwrite!" });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain("Someone else changed this note");
    const [edited] = await db`select body from planning_notes where id = ${note.id}`;
    expect(edited.body).toBe("Watch Dutch and Belgian auctions.");
    await person.client.post(`/projects/${project.id}`, { intent: "delete-note", noteId: note.id });
    expect(await db`select 1 from planning_notes where id = ${note.id}`).toHaveLength(0);
    expect(await auditActions(note.id)).toEqual(["planning_note.added", "planning_note.updated", "planning_note.deleted"]);
    const [event] = await db`select event_type from user_events where event_data->>'noteId' = ${note.id}`;
    expect(event.eventType).toBe("planning_note_added");
  });
});

describe("tenant isolation", () => {
  it("every project page, form and API endpoint answers 404 for another organization's project", async () => {
    const owner = await signUp();
    const stranger = await signUp();
    const project = await createViaApi(owner, { title: "Secret plans" });
    await owner.client.post(`/projects/${project.id}`, { intent: "add-note", body: "Private" });
    const [note] = await db`select id from planning_notes where project_id = ${project.id}`;
    const c = stranger.client;
    const json = { "Content-Type": "application/json" };

    const responses = {
      page: await c.get(`/projects/${project.id}`),
      settings: await c.get(`/projects/${project.id}/settings`),
      save: await c.post(`/projects/${project.id}/settings`, { intent: "save", version: "1", title: "Mine now" }),
      archive: await c.post(`/projects/${project.id}/settings`, { intent: "archive", version: "1" }),
      delete: await c.post(`/projects/${project.id}/settings`, { intent: "delete", confirm: "yes" }),
      addNote: await c.post(`/projects/${project.id}`, { intent: "add-note", body: "x" }),
      editNote: await c.post(`/projects/${project.id}`, { intent: "edit-note", noteId: note.id, version: "1", body: "x" }),
      deleteNote: await c.post(`/projects/${project.id}`, { intent: "delete-note", noteId: note.id }),
      apiGet: await c.get(`/api/projects/${project.id}`),
      apiPatch: await c.request(`/api/projects/${project.id}`, { method: "PATCH", body: JSON.stringify({ version: 1, title: "x" }), headers: json }),
      apiDelete: await c.request(`/api/projects/${project.id}`, { method: "DELETE" }),
      notAnId: await c.get("/api/projects/not-a-uuid"),
    };
    for (const [name, response] of Object.entries(responses)) expect(response.status, name).toBe(404);
    expect(await responses.apiGet.json()).toEqual({ error: "not found" });

    const list = (await (await c.get("/api/projects")).json()) as { projects: unknown[] };
    expect(list.projects).toEqual([]);
    expect(await (await c.get("/projects")).text()).not.toContain("Secret plans");
    const [row] = await db`select title, version from projects where id = ${project.id}`;
    expect(row).toEqual({ title: "Secret plans", version: 1 });
    expect(await db`select 1 from planning_notes where id = ${note.id}`).toHaveLength(1);
  });
});

describe("the projects page", () => {
  it("invites the first project when empty, then lists most recently updated first with counts and times", async () => {
    const person = await signUp();
    expect(await (await person.client.get("/projects")).text()).toContain("Start your first project");
    const older = await createViaApi(person, { title: "Older" });
    await createViaApi(person, { title: "Newer" });
    await patch(person, older.id, { version: 1, title: "Older, renamed" });
    const html = await (await person.client.get("/projects")).text();
    expect(html.indexOf("Older, renamed")).toBeLessThan(html.indexOf("Newer"));
    expect(html).toContain("Not yet");
    expect(html).toMatch(/Monday \d{1,2} \w+ \d{4}, 07:00 UTC/);
  });
});
