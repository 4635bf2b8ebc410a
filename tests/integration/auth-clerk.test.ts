import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setDb, type Db } from "../../app/lib/db.server";
import { createClerkFake, forbidNetwork, startFakeClerkBackend } from "../support/clerk";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { location, TestClient } from "../support/remix";

const clerk = createClerkFake();
const signOutUser = `user_${crypto.randomBytes(6).toString("hex")}`;
const backend = await startFakeClerkBackend(clerk.env.CLERK_SECRET_KEY, { [signOutUser]: ["sess_test", "sess_other_device"] });
Object.assign(process.env, clerk.env, { LOG_LEVEL: "silent", CLERK_API_URL: backend.url });

let database: TestDatabase;
let db: Db;
let network: ReturnType<typeof forbidNetwork>;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  setDb(db);
  network = forbidNetwork();
});
afterAll(async () => {
  await backend.close();
  network.restore();
  expect(network.attempts, "no network call may be attempted").toEqual([]);
  await database.drop();
});

const id = (prefix: string) => `${prefix}_${crypto.randomBytes(6).toString("hex")}`;

function withCookie(token: string, iat: number) {
  const client = new TestClient();
  client.cookies.set("__session", token);
  client.cookies.set("__client_uat", String(iat));
  return client;
}

async function me(token: string) {
  const response = await new TestClient().get("/api/me", { Authorization: `Bearer ${token}` });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe("Clerk session tokens", () => {
  it("reads the organization from v2 `o` claims, mirroring user, organization and membership on first request", async () => {
    const userId = id("user");
    const orgId = id("org");
    const { token, iat } = clerk.sessionToken({ sub: userId, v: 2, o: { id: orgId, rol: "admin", slg: "acme-research", per: "", fpm: "" } });
    const response = await withCookie(token, iat).get("/api/me");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { userId: string; organizationId: string; role: string };
    expect(body.role).toBe("admin");
    const [row] = await db`
      select u.id as user_id, o.id as organization_id, o.name, m.role
      from users u join memberships m on m.user_id = u.id join organizations o on o.id = m.organization_id
      where u.clerk_user_id = ${userId} and o.clerk_organization_id = ${orgId}`;
    expect(row).toEqual({ userId: body.userId, organizationId: body.organizationId, name: "acme-research", role: "admin" });
  });

  it("reads v1 `org_*` claims, and follows a role change in the next token", async () => {
    const userId = id("user");
    const orgId = id("org");
    const first = clerk.sessionToken({ sub: userId, org_id: orgId, org_role: "org:member", org_slug: "beta", org_permissions: [] });
    expect((await me(first.token)).body.role).toBe("member");
    const second = clerk.sessionToken({ sub: userId, org_id: orgId, org_role: "org:admin", org_slug: "beta", org_permissions: [] });
    const after = await me(second.token);
    expect(after.body.role).toBe("admin");
    const [{ count }] = await db`select count(*)::int as count from memberships m join users u on u.id = m.user_id where u.clerk_user_id = ${userId}`;
    expect(count).toBe(1);
  });

  it("refuses an expired token", async () => {
    const { token } = clerk.sessionToken({ sub: id("user"), org_id: id("org"), org_role: "org:admin" }, { ttlSeconds: -120 });
    expect(await me(token)).toEqual({ status: 401, body: { error: "sign in required" } });
  });

  it("refuses a token signed with another key", async () => {
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const { token } = clerk.sessionToken({ sub: id("user"), org_id: id("org"), org_role: "org:admin" }, { key: privateKey });
    expect((await me(token)).status).toBe(401);
  });

  it("without an active organization: the API says so, pages explain how to choose one", async () => {
    const { token, iat } = clerk.sessionToken({ sub: id("user") });
    expect(await me(token)).toEqual({ status: 403, body: { error: "no active organization: create or choose one first" } });
    const client = withCookie(token, iat);
    expect(location(await client.get("/organization"))).toBe("/no-organization");
    const page = await client.get("/no-organization");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Choose an organization to continue");
  });

  it("leaves member management to Clerk: our member forms change nothing", async () => {
    const a = clerk.sessionToken({ sub: id("user"), org_id: id("org"), org_role: "org:admin" });
    const other = await me(clerk.sessionToken({ sub: id("user"), org_id: id("org"), org_role: "org:admin" }).token);
    const [invitation] = await db`
      insert into invitations (organization_id, email, role, token_hash, expires_at)
      values (${other.body.organizationId}, 'x@example.com', 'member', ${id("hash")}, now() + interval '1 day') returning id`;
    const client = withCookie(a.token, a.iat);
    // The text a reader sees: the document without its scripts, where the serialized loader data lives.
    const visibleText = async (response: Response) => (await response.text()).replace(/<script[\s\S]*?<\/script>/g, "");
    const page = await client.get("/organization");
    expect(page.status).toBe(200);
    expect(await visibleText(page)).toMatch(/<p class="notice">Members are managed in Clerk/);
    const response = await client.post("/organization", { intent: "revoke", invitationId: invitation.id });
    expect(response.status).toBe(400);
    expect(await visibleText(response)).toMatch(/class="error-summary"[\s\S]*Members are managed in Clerk/);
    const [row] = await db`select status from invitations where id = ${invitation.id}`;
    expect(row.status).toBe("pending");
  });

  it("signs out without JavaScript: revokes the session at Clerk and clears Clerk's cookies", async () => {
    const { token, iat } = clerk.sessionToken({ sub: signOutUser, sid: "sess_test", org_id: id("org"), org_role: "org:member" });
    const client = withCookie(token, iat);
    const response = await client.post("/signout", {});
    expect(location(response)).toBe("/");
    expect(backend.requests).toContainEqual({ method: "POST", path: "/v1/sessions/sess_test/revoke" });
    expect(client.cookies.has("__session")).toBe(false);
    expect(client.cookies.get("__client_uat")).toBe("0");

    const everywhere = withCookie(token, iat);
    await everywhere.post("/signout", { scope: "everywhere" });
    expect(backend.requests.filter((r) => r.method === "POST").map((r) => r.path)).toEqual(
      expect.arrayContaining(["/v1/sessions/sess_other_device/revoke"]),
    );
    expect(backend.requests.some((r) => r.method === "GET" && r.path.startsWith("/v1/sessions?") && r.path.includes(signOutUser))).toBe(true);
    const audits = await db`
      select a.action from audit_log a join users u on u.id = a.actor_user_id
      where u.clerk_user_id = ${signOutUser} and a.action like 'auth.%' order by a.created_at`;
    expect(audits.map((a) => a.action)).toEqual(["auth.signed_out", "auth.signed_out_everywhere"]);
  });

  it("shows visitors without JavaScript why Clerk's sign-in needs it", async () => {
    const html = await (await new TestClient().get("/signin")).text();
    expect(html).toContain("<noscript>");
    expect(html).toContain("needs JavaScript");
  });
});

async function deliver(event: object, options?: Parameters<typeof clerk.webhook>[1]) {
  const { body, headers } = clerk.webhook(event, options);
  const response = await new TestClient().request("/api/webhooks/clerk", { method: "POST", body, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const userEvent = (type: string, userId: string, updatedAt: number, name = "Grace", email = `${userId}@example.com`) => ({
  type,
  object: "event",
  data: {
    id: userId,
    first_name: name,
    last_name: "Hopper",
    primary_email_address_id: "idn_1",
    email_addresses: [{ id: "idn_1", email_address: email }],
    updated_at: updatedAt,
  },
});

describe("Clerk webhooks", () => {
  it("mirrors a user, and a repeated delivery changes nothing", async () => {
    const userId = id("user");
    const delivery = { id: id("msg") };
    expect(await deliver(userEvent("user.created", userId, 1_000), delivery)).toEqual({ status: 200, body: { applied: true, duplicate: false } });
    expect((await deliver(userEvent("user.created", userId, 1_000, "Changed"), delivery)).body).toEqual({ applied: true, duplicate: true });
    const rows = await db`select name, email from users where clerk_user_id = ${userId}`;
    expect(rows).toEqual([{ name: "Grace Hopper", email: `${userId}@example.com` }]);
    const [{ count }] = await db`select count(*)::int as count from webhook_receipts where webhook_id = ${delivery.id}`;
    expect(count).toBe(1);
  });

  it("keeps the newest state when an update arrives before the create", async () => {
    const userId = id("user");
    await deliver(userEvent("user.updated", userId, 2_000, "Newer"));
    expect((await deliver(userEvent("user.created", userId, 1_000, "Older"))).status).toBe(200);
    const [row] = await db`select name from users where clerk_user_id = ${userId}`;
    expect(row.name).toBe("Newer Hopper");
  });

  it("does not bring back a user deleted before a late update arrives", async () => {
    const userId = id("user");
    await deliver(userEvent("user.created", userId, 1_000));
    const deletedAt = Math.floor(Date.now() / 1000);
    await deliver({ type: "user.deleted", object: "event", data: { id: userId, deleted: true, object: "user" } }, { timestamp: deletedAt });
    await deliver(userEvent("user.updated", userId, 2_000, "Ghost"));
    expect(await db`select 1 from users where clerk_user_id = ${userId}`).toHaveLength(0);
  });

  it("accepts a membership before its user and organization, then fills them in", async () => {
    const userId = id("user");
    const orgId = id("org");
    const membershipId = id("orgmem");
    const membership = (type: string, role: string, updatedAt: number) => ({
      type,
      object: "event",
      data: {
        id: membershipId,
        role,
        updated_at: updatedAt,
        organization: { id: orgId, name: "Acme Futures", slug: "acme", updated_at: 500 },
        public_user_data: { user_id: userId, identifier: "g@example.com", first_name: "Grace", last_name: "Hopper" },
      },
    });
    await deliver(membership("organizationMembership.created", "org:member", 1_000));
    await deliver(userEvent("user.created", userId, 900));
    await deliver(membership("organizationMembership.updated", "org:admin", 3_000));
    await deliver(membership("organizationMembership.updated", "org:member", 2_000));
    const [row] = await db`
      select u.email, o.name, m.role from memberships m
      join users u on u.id = m.user_id join organizations o on o.id = m.organization_id
      where m.clerk_membership_id = ${membershipId}`;
    expect(row).toEqual({ email: `${userId}@example.com`, name: "Acme Futures", role: "admin" });

    await deliver(membership("organizationMembership.deleted", "org:admin", 3_000));
    expect(await db`select 1 from memberships where clerk_membership_id = ${membershipId}`).toHaveLength(0);
    await deliver(membership("organizationMembership.updated", "org:admin", 2_500));
    expect(await db`select 1 from memberships where clerk_membership_id = ${membershipId}`).toHaveLength(0);
  });

  it("a membership deleted by webhook is not re-created by a session token issued before the deletion", async () => {
    const userId = id("user");
    const orgId = id("org");
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: userId, org_id: orgId, org_role: "org:member", org_slug: "tomb", org_permissions: [] };
    const before = clerk.sessionToken({ ...claims, iat: now - 60, nbf: now - 60 });
    expect((await me(before.token)).body.role).toBe("member");
    const mirrored = async () => {
      const [{ count }] = await db`
        select count(*)::int as count from memberships m
        join users u on u.id = m.user_id join organizations o on o.id = m.organization_id
        where u.clerk_user_id = ${userId} and o.clerk_organization_id = ${orgId}`;
      return count;
    };
    expect(await mirrored()).toBe(1);

    // Clerk's deletion names the membership by its own id, which the token path never learned, and by the pair.
    const deleted = await deliver(
      {
        type: "organizationMembership.deleted",
        object: "event",
        data: { id: id("orgmem"), object: "organization_membership", organization: { id: orgId }, public_user_data: { user_id: userId } },
      },
      { timestamp: now - 30 },
    );
    expect(deleted.body).toEqual({ applied: true, duplicate: false });
    expect(await mirrored()).toBe(0);

    // The old token is still valid for a few seconds: it must not bring the membership back.
    expect(await me(before.token)).toEqual({ status: 403, body: { error: "no active organization: create or choose one first" } });
    expect(await mirrored()).toBe(0);

    // Re-added in Clerk: a token issued after the deletion carries the organization again, and is followed.
    const after = clerk.sessionToken({ ...claims, org_role: "org:admin" });
    expect((await me(after.token)).body.role).toBe("admin");
    expect(await mirrored()).toBe(1);
    const actions = await db`
      select a.action from audit_log a join organizations o on o.id = a.organization_id
      where o.clerk_organization_id = ${orgId} order by a.created_at`;
    expect(actions.map((a) => a.action)).toEqual(["clerk.identity_mirrored", "clerk.membership.deleted", "clerk.identity_mirrored"]);
  });

  it("renames and deletes organizations", async () => {
    const orgId = id("org");
    const organization = (type: string, name: string, updatedAt: number) => ({
      type,
      object: "event",
      data: { id: orgId, name, slug: "o", updated_at: updatedAt },
    });
    await deliver(organization("organization.created", "First", 1_000));
    await deliver(organization("organization.updated", "Second", 2_000));
    expect((await db`select name from organizations where clerk_organization_id = ${orgId}`)[0].name).toBe("Second");
    await deliver({ type: "organization.deleted", object: "event", data: { id: orgId, deleted: true, object: "organization" } });
    expect(await db`select 1 from organizations where clerk_organization_id = ${orgId}`).toHaveLength(0);
  });

  it("rejects a bad signature, another secret, and a stale timestamp, recording nothing", async () => {
    const event = userEvent("user.created", id("user"), 1_000);
    const tampered = clerk.webhook(event);
    const forged = await new TestClient().request("/api/webhooks/clerk", {
      method: "POST",
      body: tampered.body.replace("Grace", "Mallory"),
      headers: tampered.headers,
    });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({ error: "invalid signature", field: "svix-signature" });
    expect((await deliver(event, { secret: `whsec_${crypto.randomBytes(24).toString("base64")}` })).status).toBe(400);
    expect((await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(400);
    expect(await db`select 1 from users where clerk_user_id = ${event.data.id}`).toHaveLength(0);
  });
});
