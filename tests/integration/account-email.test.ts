import crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { inviteLink, latestEmail, linkPath, signUp, signUpUnverified } from "../support/accounts";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

const database = useRouteDatabase();
let db: Db;
beforeAll(() => {
  db = database.db;
});

const PASSWORD = "correct horse battery";
const unique = (prefix: string) => `${prefix}-${crypto.randomBytes(5).toString("hex")}@example.com`;

async function emailsTo(email: string) {
  return db<{ kind: string; toEmail: string; payload: Record<string, string>; userId: string | null }[]>`
    select kind, to_email, payload, user_id from email_deliveries where to_email = ${email} order by created_at`;
}

/** What an outsider can observe of an answer: status, where it leads, which cookies it sets, and the page there. */
async function observe(client: TestClient, response: Response) {
  const to = location(response);
  const landing = to ? await client.get(to) : undefined;
  return {
    status: response.status,
    location: to,
    cookies: response.headers.getSetCookie().map((cookie) => cookie.split("=")[0]),
    body: await response.text(),
    landingStatus: landing?.status,
    landing: landing ? (await landing.text()).replace(/nonce="[^"]*"/g, "") : undefined,
    me: (await client.get("/api/me")).status,
  };
}

describe("sign-up", () => {
  it("answers a new address and one that has an account identically, and mails each the right link", async () => {
    const existing = await signUp("Eve Existing", unique("existing"));
    const before = await emailsTo(existing.email);
    const fresh = unique("fresh");

    const newClient = new TestClient("198.51.100.20");
    const takenClient = new TestClient("198.51.100.20");
    const forNew = await observe(newClient, await newClient.post("/signup", { name: "Sam", email: fresh, password: PASSWORD }));
    const forTaken = await observe(takenClient, await takenClient.post("/signup", { name: "Sam", email: existing.email, password: PASSWORD }));
    expect(forNew).toEqual(forTaken);
    expect(forNew).toMatchObject({ status: 302, location: "/check-email", cookies: [], landingStatus: 200, me: 401 });
    expect(forNew.landing).toContain("Check your inbox");

    const [verification] = await emailsTo(fresh);
    expect(verification).toMatchObject({ kind: "email_verification", payload: { name: "Sam" } });
    expect(verification.payload.verifyUrl).toMatch(/\/verify-email\/[A-Za-z0-9_-]{43}$/);
    const after = await emailsTo(existing.email);
    expect(after.slice(before.length)).toEqual([
      expect.objectContaining({ kind: "sign_in_link", userId: existing.userId, payload: expect.objectContaining({ name: "Eve Existing" }) }),
    ]);
    // The existing account keeps its name and password.
    const [user] = await db`select name from users where email = ${existing.email}`;
    expect(user.name).toBe("Eve Existing");
  });

  it("the sign-in link signs the existing account in once, after a button press", async () => {
    const existing = await signUp("Lin Link", unique("link"));
    await new TestClient().post("/signup", { name: "Whoever", email: existing.email, password: "some other password" });
    const link = linkPath((await latestEmail("sign_in_link", existing.email))!.payload.signInUrl);
    const client = new TestClient("198.51.100.21");
    const page = await client.get(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`Sign in as ${existing.email}`);
    expect((await client.get("/api/me")).status).toBe(401);
    const signedIn = await client.post(link, {});
    expect(location(signedIn)).toBe("/projects");
    expect(((await (await client.get("/api/me")).json()) as { userId: string }).userId).toBe(existing.userId);
    expect((await new TestClient().post(link, {})).status).toBe(404);
  });

  it("the verification link confirms the address and signs in, once, and returns to where sign-up started", async () => {
    const email = unique("verify");
    const client = new TestClient("198.51.100.22");
    await client.post("/signup", { name: "Vera", email, password: PASSWORD, redirectTo: "/organizations" });
    const link = linkPath((await latestEmail("email_verification", email))!.payload.verifyUrl);
    expect(link).toMatch(/\?redirectTo=%2Forganizations$/);
    const [unverified] = await db`select email_verified_at from users where email = ${email}`;
    expect(unverified.emailVerifiedAt).toBeNull();
    // A scanner's GET verifies nothing.
    expect((await new TestClient().get(link)).status).toBe(200);
    expect((await db`select email_verified_at from users where email = ${email}`)[0].emailVerifiedAt).toBeNull();

    const confirmed = await client.post(link, {});
    expect(location(confirmed)).toBe("/organizations");
    expect((await client.get("/api/me")).status).toBe(200);
    expect((await db`select email_verified_at from users where email = ${email}`)[0].emailVerifiedAt).toBeInstanceOf(Date);
    expect((await new TestClient().post(link, {})).status).toBe(404);
    const [audit] = await db`select action from audit_log where action = 'auth.email_verified' and actor_label = ${email}`;
    expect(audit).toBeTruthy();
  });

  it("a verification link older than 48 hours does not work", async () => {
    const email = unique("old");
    const link = await signUpUnverified("Old", email, new TestClient());
    await db`update account_tokens set created_at = now() - interval '49 hours', expires_at = now() - interval '1 hour' where email = ${email}`;
    expect((await new TestClient().get(link)).status).toBe(404);
    expect((await new TestClient().post(link, {})).status).toBe(404);
  });
});

describe("invitations", () => {
  it("are emailed through the outbox with the accept link", async () => {
    const owner = await signUp("Ina Inviter", unique("inviter"));
    const invitee = unique("invitee");
    const shown = await inviteLink(owner, invitee, "admin");
    const [email] = await emailsTo(invitee);
    expect(email).toMatchObject({ kind: "invitation", payload: { organizationName: "Ina Inviter's organization", inviterName: "Ina Inviter", role: "admin" } });
    expect(linkPath(email.payload.acceptUrl)).toBe(shown);
  });

  it("to an address suppressed after a bounce are not emailed, and the inviter is told to send the link", async () => {
    const owner = await signUp("Ina Inviter", unique("inviter"));
    const invitee = unique("bounced");
    await db`insert into email_suppressions (organization_id, email, reason) values (${owner.organizationId}, ${invitee}, 'bounced')`;
    await owner.client.post("/organization", { intent: "invite", email: invitee, role: "member" });
    const page = await (await owner.client.get("/organization")).text();
    expect(page).toContain(`not emailed: mail to ${invitee} bounced`);
    expect(page).toMatch(/\/invitations\/[A-Za-z0-9_-]{20,}/);
    expect(await emailsTo(invitee)).toEqual([]);
  });

  it("cannot be accepted before the address is verified; after verifying, they can", async () => {
    const owner = await signUp("Ina Inviter", unique("inviter"));
    const inviteeEmail = unique("invitee");
    const link = await inviteLink(owner, inviteeEmail);
    const client = new TestClient("198.51.100.23");
    const verifyLink = await signUpUnverified("Newbie", inviteeEmail, client);
    expect((await client.post("/signin", { email: inviteeEmail, password: PASSWORD })).status).toBe(302);

    const page = await (await client.get(link)).text();
    expect(page).toContain("Confirm your email address first");
    expect(page).not.toContain("Join Ina Inviter");
    const refused = await client.post(link, {});
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("Confirm your email address before you join");
    const [membership] = await db`
      select 1 from memberships m join users u on u.id = m.user_id where u.email = ${inviteeEmail} and m.organization_id = ${owner.organizationId}`;
    expect(membership).toBeUndefined();

    expect((await client.post(verifyLink, {})).status).toBe(302);
    expect(location(await client.post(link, {}))).toBe("/organization");
    const me = (await (await client.get("/api/me")).json()) as { organizationId: string };
    expect(me.organizationId).toBe(owner.organizationId);
  });
});

describe("password reset", () => {
  it("answers the same for any address and mails a link only to an account", async () => {
    const person = await signUp("Rae Reset", unique("reset"));
    const nobody = unique("nobody");
    const forAccount = await observe(new TestClient(), await new TestClient().post("/forgot-password", { email: person.email }));
    const forNobody = await observe(new TestClient(), await new TestClient().post("/forgot-password", { email: nobody }));
    expect(forAccount).toEqual(forNobody);
    expect(forAccount).toMatchObject({ status: 302, location: "/forgot-password?sent=1", cookies: [] });
    expect(forAccount.landing).toContain("If an account uses that address");
    expect(await emailsTo(nobody)).toEqual([]);
    const reset = await latestEmail("password_reset", person.email);
    expect(reset!.payload.resetUrl).toMatch(/\/reset-password\/[A-Za-z0-9_-]{43}$/);
    const expiresIn = Date.parse(reset!.payload.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(59 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(60 * 60_000);
  });

  it("sets the new password, ends every session, and works once", async () => {
    const person = await signUp("Sid Sessions", unique("sessions"));
    const elsewhere = new TestClient("198.51.100.30");
    expect((await elsewhere.post("/signin", { email: person.email, password: PASSWORD })).status).toBe(302);
    expect((await elsewhere.get("/api/me")).status).toBe(200);

    await new TestClient().post("/forgot-password", { email: person.email });
    const link = linkPath((await latestEmail("password_reset", person.email))!.payload.resetUrl);
    const browser = new TestClient("198.51.100.31");
    const form = await browser.get(link);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('<label for="field-password">New password</label>');

    const tooShort = await browser.post(link, { password: "short" });
    expect(tooShort.status).toBe(400);
    expect(await tooShort.text()).toContain('aria-describedby="field-password-hint field-password-error"');

    const done = await browser.post(link, { password: "a brand new password" });
    expect(location(done)).toBe("/signin");
    expect((await person.client.get("/api/me")).status).toBe(401);
    expect((await elsewhere.get("/api/me")).status).toBe(401);
    const [{ count }] = await db`select count(*)::int from sessions where user_id = ${person.userId}`;
    expect(count).toBe(0);
    const [audit] = await db`select after from audit_log where action = 'auth.password_reset' and actor_user_id = ${person.userId}`;
    expect(audit.after).toEqual({ sessionsEnded: 2 });

    expect((await new TestClient().post("/signin", { email: person.email, password: PASSWORD })).status).toBe(400);
    expect((await new TestClient().post("/signin", { email: person.email, password: "a brand new password" })).status).toBe(302);

    const reused = await new TestClient().post(link, { password: "an attacker's password" });
    expect(reused.status).toBe(404);
    expect((await new TestClient().post("/signin", { email: person.email, password: "an attacker's password" })).status).toBe(400);
  });

  it("a link expires after an hour, and only the newest link works", async () => {
    const person = await signUp("Ed Expiry", unique("expiry"));
    await new TestClient().post("/forgot-password", { email: person.email });
    const first = linkPath((await latestEmail("password_reset", person.email))!.payload.resetUrl);
    // Within a minute a second request mails nothing more.
    await new TestClient().post("/forgot-password", { email: person.email });
    expect((await emailsTo(person.email)).filter((e) => e.kind === "password_reset")).toHaveLength(1);

    await db`update account_tokens set created_at = now() - interval '2 minutes' where user_id = ${person.userId} and purpose = 'password_reset'`;
    await new TestClient().post("/forgot-password", { email: person.email });
    const second = linkPath((await latestEmail("password_reset", person.email))!.payload.resetUrl);
    expect(second).not.toBe(first);
    expect((await new TestClient().get(first)).status).toBe(404);

    await db`update account_tokens set created_at = now() - interval '61 minutes', expires_at = now() - interval '1 minute' where user_id = ${person.userId} and purpose = 'password_reset'`;
    expect((await new TestClient().get(second)).status).toBe(404);
    expect((await new TestClient().post(second, { password: "too late a password" })).status).toBe(404);
    expect((await new TestClient().post("/signin", { email: person.email, password: PASSWORD })).status).toBe(302);
  });

  it("refuses a client that asks too often, whatever the address, and no one else", async () => {
    const flooder = new TestClient("198.51.100.99");
    const statuses = [];
    for (let i = 0; i < 21; i++) statuses.push((await flooder.post("/forgot-password", { email: unique(`flood${i}`) })).status);
    expect(statuses.slice(0, 20).every((status) => status === 302)).toBe(true);
    const refused = await flooder.post("/forgot-password", { email: unique("flood-more") });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await refused.text()).toContain("Too many requests from your network");
    expect((await new TestClient("198.51.100.98").post("/forgot-password", { email: unique("neighbour") })).status).toBe(302);
  });

  it("the sign-in page links to it", async () => {
    expect(await (await new TestClient().get("/signin")).text()).toContain('href="/forgot-password"');
  });
});
