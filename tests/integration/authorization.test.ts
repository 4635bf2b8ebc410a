import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import type { Role } from "../../app/lib/roles";
import { createInvitation, revokeInvitation } from "../../app/models/invitations.server";
import { changeMemberRole, removeMember, type Actor } from "../../app/models/organizations.server";
import { createProject, deleteProject, updateProject } from "../../app/models/projects.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.drop());

const meta = { ip: "192.0.2.1", userAgent: "vitest", requestId: null };
const unique = () => crypto.randomBytes(5).toString("hex");

/** An organization with one person of each role, made directly: the rules under test are the models'. */
async function organization() {
  const [org] = await db<{ id: string }[]>`insert into organizations (name) values (${`Org ${unique()}`}) returning id`;
  const actors = {} as Record<Role, Actor & { membershipId: string }>;
  for (const role of ["owner", "admin", "member"] as const) {
    const email = `${role}-${unique()}@example.com`;
    const [user] = await db<{ id: string }[]>`insert into users (email, name, password_hash) values (${email}, ${role}, 'h') returning id`;
    const [membership] = await db<{ id: string }[]>`
      insert into memberships (organization_id, user_id, role) values (${org.id}, ${user.id}, ${role}) returning id`;
    actors[role] = { userId: user.id, organizationId: org.id, role, label: email, membershipId: membership.id };
  }
  return { id: org.id, ...actors };
}

async function project(actor: Actor) {
  const result = await createProject(db, actor, { title: "Grid futures", brief: "", cadenceType: "weekly", deliveryTime: "07:00", timezone: "UTC" }, meta);
  if (!result.ok) throw new Error("project not created");
  return result.project;
}

async function auditCount(organizationId: string) {
  const [{ count }] = await db`select count(*)::int as count from audit_log where organization_id = ${organizationId}`;
  return count as number;
}

describe("who may do what is decided by the models", () => {
  it("invitations: owners invite anyone, admins anyone but owners, members no one; members cannot revoke", async () => {
    const org = await organization();
    const audits = await auditCount(org.id);
    expect(await createInvitation(db, org.member, { email: `x-${unique()}@example.com`, role: "member" }, meta)).toEqual({ ok: false, reason: "forbidden" });
    expect(await createInvitation(db, org.admin, { email: `y-${unique()}@example.com`, role: "owner" }, meta)).toEqual({ ok: false, reason: "forbidden" });
    expect(await auditCount(org.id)).toBe(audits);
    expect(await db`select 1 from invitations where organization_id = ${org.id}`).toHaveLength(0);

    const byAdmin = await createInvitation(db, org.admin, { email: `z-${unique()}@example.com`, role: "admin" }, meta);
    const byOwner = await createInvitation(db, org.owner, { email: `w-${unique()}@example.com`, role: "owner" }, meta);
    expect(byAdmin.ok && byOwner.ok).toBe(true);
    if (!byAdmin.ok || !byOwner.ok) return;

    expect(await revokeInvitation(db, org.member, byAdmin.invitation.id, meta)).toEqual({ ok: false, reason: "forbidden" });
    const [pending] = await db`select status from invitations where id = ${byAdmin.invitation.id}`;
    expect(pending.status).toBe("pending");
    expect(await revokeInvitation(db, org.admin, byAdmin.invitation.id, meta)).toMatchObject({ ok: true });
    const [audit] = await db`select actor_user_id, before from audit_log where action = 'invitation.revoked' and target_id = ${byAdmin.invitation.id}`;
    expect(audit).toMatchObject({ actorUserId: org.admin.userId, before: { role: "admin" } });
  });

  it("members: only owners change roles and remove people", async () => {
    const org = await organization();
    for (const actor of [org.admin, org.member]) {
      expect(await changeMemberRole(db, actor, org.member.membershipId, "admin", meta)).toEqual({ ok: false, reason: "forbidden" });
      expect(await removeMember(db, actor, org.member.membershipId, meta)).toEqual({ ok: false, reason: "forbidden" });
    }
    const [unchanged] = await db`select role from memberships where id = ${org.member.membershipId}`;
    expect(unchanged.role).toBe("member");
    expect(await changeMemberRole(db, org.owner, org.member.membershipId, "admin", meta)).toEqual({ ok: true });
    expect(await removeMember(db, org.owner, org.member.membershipId, meta)).toEqual({ ok: true });
    expect(await db`select 1 from memberships where id = ${org.member.membershipId}`).toHaveLength(0);
  });

  it("projects: every member edits settings; only owners and admins archive, restore and delete", async () => {
    const org = await organization();
    const created = await project(org.member);

    const edited = await updateProject(db, org.member, created.id, { version: created.version, title: "Grid futures, renamed" }, meta);
    expect(edited).toMatchObject({ ok: true, changed: ["title"] });
    const version = created.version + 1;

    expect(await updateProject(db, org.member, created.id, { version, status: "ARCHIVED" }, meta)).toEqual({ ok: false, reason: "forbidden" });
    expect(await deleteProject(db, org.member, created.id, meta)).toEqual({ ok: false, reason: "forbidden" });
    const [still] = await db`select status, version from projects where id = ${created.id}`;
    expect(still).toEqual({ status: "ACTIVE", version });

    expect(await updateProject(db, org.admin, created.id, { version, status: "ARCHIVED" }, meta)).toMatchObject({ ok: true });
    expect(await updateProject(db, org.member, created.id, { version: version + 1, status: "ACTIVE" }, meta)).toEqual({ ok: false, reason: "forbidden" });
    expect(await updateProject(db, org.owner, created.id, { version: version + 1, status: "ACTIVE" }, meta)).toMatchObject({ ok: true });
    expect(await deleteProject(db, org.admin, created.id, meta)).toEqual({ ok: true });
    const actions = await db`select action, actor_user_id from audit_log where target_id = ${created.id} order by created_at`;
    expect(actions.map((a) => a.action)).toEqual(["project.created", "project.updated", "project.archived", "project.restored", "project.deleted"]);
  });

  it("another organization's things are not found, whatever the actor's role: refusing them would reveal they exist", async () => {
    const a = await organization();
    const b = await organization();
    const bProject = await project(b.owner);
    const bInvitation = await createInvitation(db, b.owner, { email: `v-${unique()}@example.com`, role: "member" }, meta);
    if (!bInvitation.ok) throw new Error("invitation not created");
    const audits = await auditCount(b.id);
    for (const actor of [a.owner, a.admin, a.member]) {
      expect(await changeMemberRole(db, actor, b.owner.membershipId, "member", meta)).toEqual({ ok: false, reason: "not_found" });
      expect(await removeMember(db, actor, b.member.membershipId, meta)).toEqual({ ok: false, reason: "not_found" });
      expect(await revokeInvitation(db, actor, bInvitation.invitation.id, meta)).toEqual({ ok: false, reason: "not_found" });
      expect(await updateProject(db, actor, bProject.id, { version: bProject.version, status: "ARCHIVED" }, meta)).toEqual({ ok: false, reason: "not_found" });
      expect(await deleteProject(db, actor, bProject.id, meta)).toEqual({ ok: false, reason: "not_found" });
    }
    expect(await auditCount(b.id)).toBe(audits);
    expect(await db`select 1 from projects where id = ${bProject.id} and status = 'ACTIVE'`).toHaveLength(1);
  });
});
