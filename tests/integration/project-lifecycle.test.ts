import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { QUESTIONS } from "../../app/lib/futura";
import { completeConversation } from "../../app/models/projects.server";
import { signUp, type SignedIn } from "../support/accounts";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

const database = useRouteDatabase();
let db: Db;
beforeAll(() => {
  db = database.db;
});

/** Answers every one of Futura's questions through the page's form, as a person would. */
async function converse(person: SignedIn) {
  for (const q of QUESTIONS) {
    const response = await person.client.post("/projects/new", { intent: "answer", question: q.key, answer: `About ${q.label.toLowerCase()}` });
    expect(response.status).toBe(302);
  }
}

const confirm = { intent: "confirm", title: "Heat pumps in Europe", brief: "## Focus\n\nHeat pumps", timezone: "Europe/London" };

async function projectsOf(organizationId: string) {
  return db<{ id: string }[]>`select id from projects where organization_id = ${organizationId}`;
}

describe("a project made through the Futura conversation", () => {
  it("is created once when 'Create project' is sent twice at the same time", async () => {
    const person = await signUp();
    await converse(person);
    const [first, second] = await Promise.all([person.client.post("/projects/new", confirm), person.client.post("/projects/new", confirm)]);
    const projects = await projectsOf(person.organizationId);
    expect(projects).toHaveLength(1);
    // Both submits land on the one project.
    expect(location(first)).toBe(`/projects/${projects[0].id}`);
    expect(location(second)).toBe(`/projects/${projects[0].id}`);
    const [conversation] = await db`select status, project_id from project_conversations where user_id = ${person.userId}`;
    expect(conversation).toEqual({ status: "completed", projectId: projects[0].id });
    const created = await db`select 1 from audit_log where organization_id = ${person.organizationId} and action = 'project.created'`;
    expect(created).toHaveLength(1);
  });

  it("completes its conversation once, also when the model is called twice at once", async () => {
    const person = await signUp();
    await converse(person);
    const actor = { userId: person.userId, organizationId: person.organizationId, role: "owner" as const, label: person.email };
    const input = { title: "Twice", brief: "", cadenceType: "weekly" as const, deliveryTime: "07:00", timezone: "UTC" };
    const meta = { ip: null, userAgent: null, requestId: null };
    const results = await Promise.all([1, 2].map(() => completeConversation(db, actor, input, meta)));
    const created = results.filter((r) => r.ok);
    expect(created).toHaveLength(1);
    const closed = results.find((r) => !r.ok);
    expect(closed).toEqual({ ok: false, reason: "conversation_closed", projectId: created[0].ok ? created[0].project.id : null });
    expect(await projectsOf(person.organizationId)).toHaveLength(1);
  });

  it("can be deleted in settings, and takes its conversation and notes with it", async () => {
    const person = await signUp();
    await converse(person);
    const created = await person.client.post("/projects/new", confirm);
    const projectId = location(created)!.split("/").pop()!;
    expect(await db`select 1 from planning_notes where project_id = ${projectId} and kind = 'conversation'`).toHaveLength(1);

    const deleted = await person.client.post(`/projects/${projectId}/settings`, { intent: "delete", confirm: "yes" });
    expect(deleted.status).toBe(302);
    expect(await projectsOf(person.organizationId)).toHaveLength(0);
    expect(await db`select 1 from project_conversations where user_id = ${person.userId}`).toHaveLength(0);
    expect(await db`select 1 from planning_notes where project_id = ${projectId}`).toHaveLength(0);
    const [audit] = await db`select before from audit_log where target_id = ${projectId} and action = 'project.deleted'`;
    expect(audit.before).toMatchObject({ title: "Heat pumps in Europe" });

    // A new conversation starts fresh.
    expect(await (await person.client.get("/projects/new")).text()).toContain("What topic or question");
  });

  it("a member may not archive or delete it; an admin may", async () => {
    const owner = await signUp();
    await converse(owner);
    const projectId = location(await owner.client.post("/projects/new", confirm))!.split("/").pop()!;
    const [{ version }] = await db`select version from projects where id = ${projectId}`;
    const member = await joinAs(owner, "member");
    const admin = await joinAs(owner, "admin");

    // The member's settings page offers neither form, and says who can.
    const memberPage = await (await member.get(`/projects/${projectId}/settings`)).text();
    expect(memberPage).not.toContain("Delete project");
    expect(memberPage).not.toContain("Archive project");
    expect(memberPage).toContain("Owners and admins of this organization can archive, restore or delete this project.");
    expect(await (await admin.get(`/projects/${projectId}/settings`)).text()).toContain("Delete project");

    expect((await member.post(`/projects/${projectId}/settings`, { intent: "archive", version: String(version) })).status).toBe(403);
    expect((await member.post(`/projects/${projectId}/settings`, { intent: "delete", confirm: "yes" })).status).toBe(403);
    const api = await member.request(`/api/projects/${projectId}`, { method: "DELETE" });
    expect(api.status).toBe(403);
    expect(await api.json()).toEqual({ error: expect.any(String) });
    expect(await db`select 1 from projects where id = ${projectId} and status = 'ACTIVE' and version = ${version}`).toHaveLength(1);

    expect((await admin.post(`/projects/${projectId}/settings`, { intent: "delete", confirm: "yes" })).status).toBe(302);
    expect(await projectsOf(owner.organizationId)).toHaveLength(0);
  });
});

/** Adds a person with `role` to the owner's organization directly, and signs them in through the form. */
async function joinAs(owner: SignedIn, role: "member" | "admin"): Promise<TestClient> {
  const person = await signUp(`A ${role}`);
  await db`insert into memberships (organization_id, user_id, role) values (${owner.organizationId}, ${person.userId}, ${role})`;
  await db`update sessions set organization_id = ${owner.organizationId} where user_id = ${person.userId}`;
  return person.client;
}
