import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { deleteExpiredSessions } from "../../app/models/sessions.server";
import { signUp as signUpThroughForm } from "../support/accounts";
import { useRouteDatabase } from "../support/route-database";
import { location, TestClient } from "../support/remix";

const database = useRouteDatabase();
let db: Db;
beforeAll(() => {
  db = database.db;
});

let counter = 0;
function uniqueEmail(prefix = "person") {
  return `${prefix}${++counter}-${Date.now()}@example.com`;
}

function signUp(client = new TestClient(), name = "Ada Lovelace", email = uniqueEmail()) {
  return signUpThroughForm(name, email, client);
}

async function invite(owner: TestClient, email: string, role = "member") {
  const response = await owner.post("/organization", { intent: "invite", email, role });
  // A sent invitation redirects; its link is shown once, on the page it redirects to.
  const html = await (response.status === 302 ? await owner.get(location(response)!) : response).text();
  const link = /\/invitations\/[A-Za-z0-9_-]+/.exec(html)?.[0];
  return { response, html, link };
}

async function join(owner: TestClient, role = "member") {
  const email = uniqueEmail("invitee");
  const { link } = await invite(owner, email, role);
  const person = await signUp(new TestClient("203.0.113.77"), "Invitee", email);
  expect((await person.client.post(link!, {})).status).toBe(302);
  const me = await (await person.client.get("/api/me")).json();
  return { ...person, ...(me as { organizationId: string; role: string }) };
}

async function membershipId(organizationId: string, userId: string) {
  const [row] = await db`select id from memberships where organization_id = ${organizationId} and user_id = ${userId}`;
  return row.id as string;
}

describe("sign-up and sign-in", () => {
  it("creates the person, a personal organization they own, a session once the address is confirmed, and an audit row", async () => {
    const { client, userId, organizationId, role, email } = await signUp();
    expect(role).toBe("owner");
    const [org] = await db`select name, is_personal from organizations where id = ${organizationId}`;
    expect(org).toEqual({ name: "Ada Lovelace's organization", isPersonal: true });
    const [audit] = await db`select action, actor_user_id, host(ip) as ip, user_agent from audit_log where target_id = ${userId} order by created_at limit 1`;
    expect(audit).toEqual({ action: "auth.signed_up", actorUserId: userId, ip: "203.0.113.10", userAgent: "vitest" });
    const [user] = await db`select password_hash from users where email = ${email}`;
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    expect(client.cookies.get("mf_session")).toBeTruthy();
  });

  it("explains each bad field and keeps what was typed", async () => {
    const response = await new TestClient().post("/signup", { name: "", email: "not-an-email", password: "short" });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("Enter your name.");
    expect(html).toContain("Enter an email address like name@example.com.");
    expect(html).toContain("Use at least 10 characters for your password.");
    expect(html).toContain('value="not-an-email"');
  });

  it("makes no second account for the same email, and the first keeps its password (the answer is compared in account-email.test.ts)", async () => {
    const { email } = await signUp();
    const response = await new TestClient().post("/signup", { name: "Other", email, password: "another password" });
    expect(location(response)).toBe("/check-email");
    const users = await db`select name from users where email = ${email}`;
    expect(users).toEqual([{ name: "Ada Lovelace" }]);
    expect((await new TestClient().post("/signin", { email, password: "another password" })).status).toBe(400);
    expect((await new TestClient().post("/signin", { email, password: "correct horse battery" })).status).toBe(302);
  });

  it("signs in with a fresh session id each time, and a wrong password keeps the email filled in", async () => {
    const { email } = await signUp();
    const first = new TestClient();
    const second = new TestClient();
    expect((await first.post("/signin", { email, password: "correct horse battery" })).status).toBe(302);
    expect((await second.post("/signin", { email, password: "correct horse battery" })).status).toBe(302);
    expect(first.cookies.get("mf_session")).not.toBe(second.cookies.get("mf_session"));

    const wrong = await new TestClient().post("/signin", { email, password: "wrong password" });
    expect(wrong.status).toBe(400);
    const html = await wrong.text();
    expect(html).toContain("That email and password don&#x27;t match an account");
    expect(html).toContain(`value="${email}"`);
  });

  it("answers an unknown email exactly as a wrong password, so accounts cannot be discovered", async () => {
    const { email } = await signUp();
    const known = await new TestClient("198.51.100.1").post("/signin", { email, password: "nope nope nope" });
    const unknown = await new TestClient("198.51.100.2").post("/signin", { email: uniqueEmail("ghost"), password: "nope nope nope" });
    expect(unknown.status).toBe(known.status);
    const message = (html: string) => /class="error-summary"[\s\S]*?<li>([^<]*)<\/li>/.exec(html)?.[1];
    expect(message(await known.clone().text())).toContain("don&#x27;t match an account");
    expect(message(await unknown.text())).toBe(message(await known.text()));
  });

  it("records failed and successful sign-ins with address and browser", async () => {
    const { email } = await signUp();
    await new TestClient("198.51.100.9").post("/signin", { email, password: "bad bad bad" });
    await new TestClient("198.51.100.9").post("/signin", { email, password: "correct horse battery" });
    const rows = await db`
      select action, host(ip) as ip, user_agent from audit_log
      where actor_label = ${email} and action in ('auth.sign_in_failed', 'auth.signed_in') order by created_at`;
    expect(rows.map((r) => r.action)).toEqual(["auth.sign_in_failed", "auth.signed_in"]);
    expect(rows.every((r) => r.ip === "198.51.100.9" && r.userAgent === "vitest")).toBe(true);
  });
});

describe("sign-in rate limiting", () => {
  it("checks at most five of twenty wrong passwords sent at once from one address for one account", async () => {
    const { email } = await signUp();
    const attacker = new TestClient("192.0.2.20");
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => attacker.post("/signin", { email, password: `wrong ${i}` })));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((status) => status === 400)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    const [{ failures }] = await db`
      select count(*)::int as failures from audit_log where action = 'auth.sign_in_failed' and actor_label = ${email}`;
    expect(failures).toBe(5);
  });

  it("after five failures from one address, that address is refused for that email with a clear message; its owner still signs in elsewhere", async () => {
    const { email } = await signUp();
    const attacker = new TestClient("192.0.2.30");
    for (let i = 0; i < 5; i++) expect((await attacker.post("/signin", { email, password: `wrong ${i}` })).status).toBe(400);
    const locked = await attacker.post("/signin", { email, password: "correct horse battery" });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Number(locked.headers.get("Retry-After"))).toBeLessThanOrEqual(15 * 60);
    expect(await locked.text()).toContain("Too many sign-in attempts");

    expect((await new TestClient("192.0.2.31").post("/signin", { email, password: "correct horse battery" })).status).toBe(302);
  });

  it("refuses an address after twenty failures across any emails; other addresses are not affected", async () => {
    const { email } = await signUp();
    const attacker = new TestClient("192.0.2.200");
    for (let i = 0; i < 20; i++) await attacker.post("/signin", { email: uniqueEmail("spray"), password: "guess" });
    expect((await attacker.post("/signin", { email, password: "correct horse battery" })).status).toBe(429);
    expect((await new TestClient("192.0.2.201").post("/signin", { email, password: "correct horse battery" })).status).toBe(302);
  });

  it("successful sign-ins do not use up the limits", async () => {
    const { email } = await signUp();
    const office = new TestClient("192.0.2.40");
    for (let i = 0; i < 7; i++) expect((await office.post("/signin", { email, password: "correct horse battery" })).status).toBe(302);
  });
});

describe("redirects after sign-in", () => {
  it.each([
    ["//evil.example/steal", "/projects"],
    ["https://evil.example/", "/projects"],
    ["/\\evil.example", "/projects"],
    ["javascript:alert(1)", "/projects"],
    ["/organizations?tab=all", "/organizations?tab=all"],
  ])("redirectTo %j goes to %j", async (redirectTo, expected) => {
    const { email } = await signUp();
    const response = await new TestClient("192.0.2.150").post("/signin", { email, password: "correct horse battery", redirectTo });
    expect(location(response)).toBe(expected);
  });

  it("sends a signed-out visitor to sign-in with the way back, and the API answers 401 JSON", async () => {
    const page = await new TestClient().get("/organization?tab=members");
    expect(location(page)).toBe(`/signin?redirectTo=${encodeURIComponent("/organization?tab=members")}`);
    const api = await new TestClient().get("/api/me");
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: "sign in required" });
  });
});

describe("sessions", () => {
  it("stop working once expired", async () => {
    const { client, userId } = await signUp();
    await db`update sessions set created_at = now() - interval '31 days', expires_at = now() - interval '1 second' where user_id = ${userId}`;
    expect((await client.get("/api/me")).status).toBe(401);
    expect(location(await client.get("/organization"))).toMatch(/^\/signin/);
    expect(await deleteExpiredSessions(db)).toBeGreaterThanOrEqual(1);
    expect(await db`select 1 from sessions where user_id = ${userId}`).toHaveLength(0);
  });

  it("sign out ends this session only; sign out everywhere ends them all", async () => {
    const { client, email, userId } = await signUp();
    const other = new TestClient();
    await other.post("/signin", { email, password: "correct horse battery" });
    const third = new TestClient();
    await third.post("/signin", { email, password: "correct horse battery" });

    expect(location(await client.post("/signout", {}))).toBe("/");
    expect((await client.get("/api/me")).status).toBe(401);
    expect((await other.get("/api/me")).status).toBe(200);

    await other.post("/signout", { scope: "everywhere" });
    expect((await third.get("/api/me")).status).toBe(401);
    const [{ count }] = await db`select count(*)::int as count from sessions where user_id = ${userId}`;
    expect(count).toBe(0);
    const actions = await db`select action from audit_log where actor_user_id = ${userId} and action like 'auth.signed_out%'`;
    expect(actions.map((a) => a.action).sort()).toEqual(["auth.signed_out", "auth.signed_out_everywhere"]);
  });
});

describe("organizations and invitations", () => {
  it("an invitee signs up through the link and joins; both see the organization", async () => {
    const owner = await signUp();
    const member = await join(owner.client);
    expect(member.organizationId).toBe(owner.organizationId);
    expect(member.role).toBe("member");
    const page = await (await owner.client.get("/organization")).text();
    expect(page).toContain(member.email);
    const [audit] = await db`select action from audit_log where organization_id = ${owner.organizationId} and action = 'invitation.accepted'`;
    expect(audit).toBeDefined();
  });

  it("a link works once, and only for the address it was sent to", async () => {
    const owner = await signUp();
    const intended = uniqueEmail("intended");
    const { link } = await invite(owner.client, intended);
    const stranger = await signUp();
    const wrong = await stranger.client.post(link!, {});
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain("sent to a different email address");

    const invitee = await signUp(new TestClient("203.0.113.78"), "Intended", intended);
    expect((await invitee.client.post(link!, {})).status).toBe(302);
    const [{ memberships }] = await db`
      select count(*)::int as memberships from memberships where organization_id = ${owner.organizationId} and user_id = ${invitee.userId}`;
    expect(memberships).toBe(1);

    // The accepted link itself, used again: refused to the invitee, and to anyone who got hold of it.
    const again = await invitee.client.post(link!, {});
    expect(again.status).toBe(404);
    expect(await again.text()).toContain("not valid any more");
    expect((await invitee.client.get(link!)).status).toBe(404);
    expect((await new TestClient().get(link!)).status).toBe(404);
    const [{ accepted }] = await db`
      select count(*)::int as accepted from audit_log where organization_id = ${owner.organizationId} and action = 'invitation.accepted'`;
    expect(accepted).toBe(1);
  });

  it("switches between organizations, and refuses one you are not in as if it did not exist", async () => {
    const owner = await signUp();
    const member = await join(owner.client);
    const personal = (await db`select organization_id from memberships where user_id = ${member.userId} and organization_id <> ${owner.organizationId}`)[0].organizationId;
    await member.client.post("/organizations", { intent: "switch", organizationId: personal });
    expect(((await (await member.client.get("/api/me")).json()) as { organizationId: string }).organizationId).toBe(personal);

    const [switched] = await db`
      select before, after, organization_id from audit_log where actor_user_id = ${member.userId} and action = 'session.organization_switched'`;
    expect(switched).toEqual({ organizationId: personal, before: { organizationId: owner.organizationId }, after: { organizationId: personal } });

    const outsider = await signUp();
    const response = await outsider.client.post("/organizations", { intent: "switch", organizationId: owner.organizationId });
    expect(response.status).toBe(404);
    expect(await db`select 1 from audit_log where actor_user_id = ${outsider.userId} and action = 'session.organization_switched'`).toHaveLength(0);
  });

  it("a person removed from their session's organization works in another of theirs, and reading pages writes nothing", async () => {
    const owner = await signUp();
    const member = await join(owner.client);
    const membership = await membershipId(owner.organizationId, member.userId);
    expect((await owner.client.post("/organization", { intent: "remove", membershipId: membership })).status).toBe(302);

    const before = await db`select id, organization_id, updated_at from sessions where user_id = ${member.userId} order by id`;
    const [{ audits: auditsBefore }] = await db`select count(*)::int as audits from audit_log`;
    const me = (await (await member.client.get("/api/me")).json()) as { organizationId: string };
    expect(me.organizationId).not.toBe(owner.organizationId);
    expect((await member.client.get("/projects")).status).toBe(200);
    expect(await db`select id, organization_id, updated_at from sessions where user_id = ${member.userId} order by id`).toEqual(before);
    const [{ audits: auditsAfter }] = await db`select count(*)::int as audits from audit_log`;
    expect(auditsAfter).toBe(auditsBefore);
  });
});

describe("tenant isolation", () => {
  it("a member of organization A gets 404 for anything of organization B", async () => {
    const a = await signUp();
    const b = await signUp();
    const bInvitation = await invite(b.client, uniqueEmail("b-invitee"));
    expect(bInvitation.link).toBeTruthy();
    const [invitation] = await db`select id from invitations where organization_id = ${b.organizationId}`;
    const bOwnerMembership = await membershipId(b.organizationId, b.userId);

    const attempts = [
      a.client.post("/organization", { intent: "revoke", invitationId: invitation.id }),
      a.client.post("/organization", { intent: "change-role", membershipId: bOwnerMembership, role: "member" }),
      a.client.post("/organization", { intent: "remove", membershipId: bOwnerMembership }),
      a.client.post("/organizations", { intent: "switch", organizationId: b.organizationId }),
    ];
    for (const response of await Promise.all(attempts)) expect(response.status).toBe(404);

    const [still] = await db`select role from memberships where id = ${bOwnerMembership}`;
    expect(still.role).toBe("owner");
    const [pending] = await db`select status from invitations where id = ${invitation.id}`;
    expect(pending.status).toBe("pending");
  });
});

describe("roles", () => {
  it("members cannot invite; admins invite but not owners; only owners change roles and remove", async () => {
    const owner = await signUp();
    const member = await join(owner.client, "member");
    const admin = await join(owner.client, "admin");
    const target = await membershipId(owner.organizationId, member.userId);

    expect((await invite(member.client, uniqueEmail("x"))).response.status).toBe(403);
    expect((await invite(admin.client, uniqueEmail("y"), "owner")).response.status).toBe(403);
    expect((await invite(admin.client, uniqueEmail("z"), "member")).response.status).toBe(302);
    expect((await admin.client.post("/organization", { intent: "change-role", membershipId: target, role: "admin" })).status).toBe(403);
    expect((await admin.client.post("/organization", { intent: "remove", membershipId: target })).status).toBe(403);

    expect((await owner.client.post("/organization", { intent: "change-role", membershipId: target, role: "admin" })).status).toBe(302);
    const [changed] = await db`select role from memberships where id = ${target}`;
    expect(changed.role).toBe("admin");
    const [audit] = await db`
      select before, after from audit_log where action = 'membership.role_changed' and target_id = ${target}`;
    expect(audit).toMatchObject({ before: { role: "member" }, after: { role: "admin" } });

    expect((await owner.client.post("/organization", { intent: "remove", membershipId: target })).status).toBe(302);
    expect((await member.client.get("/api/me")).status).toBe(200);
    expect(((await (await member.client.get("/api/me")).json()) as { organizationId: string }).organizationId).not.toBe(owner.organizationId);
  });

  it("the last owner can be neither demoted nor removed", async () => {
    const owner = await signUp();
    const own = await membershipId(owner.organizationId, owner.userId);
    const demote = await owner.client.post("/organization", { intent: "change-role", membershipId: own, role: "admin" });
    expect(demote.status).toBe(409);
    expect(await demote.text()).toContain("at least one owner");
    const other = await join(owner.client, "member");
    const otherId = await membershipId(owner.organizationId, other.userId);
    await owner.client.post("/organization", { intent: "change-role", membershipId: otherId, role: "owner" });
    expect((await owner.client.post("/organization", { intent: "change-role", membershipId: own, role: "member" })).status).toBe(302);
    const removeLast = await other.client.post("/organization", { intent: "remove", membershipId: otherId });
    expect(removeLast.status).toBe(409);
  });

  it("bad input names the field and changes nothing", async () => {
    const owner = await signUp();
    const response = await owner.client.post("/organization", { intent: "invite", email: "nope", role: "emperor" });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("Enter an email address like name@example.com.");
    const [{ count }] = await db`select count(*)::int as count from invitations where organization_id = ${owner.organizationId}`;
    expect(count).toBe(0);
  });
});
