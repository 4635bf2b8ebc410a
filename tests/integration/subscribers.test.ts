import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { joinOrganization, linkPath, signUp, signUpUnverified, type SignedIn } from "../support/accounts";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

const database = useRouteDatabase();
let db: Db;
let owner: SignedIn;
let other: SignedIn;
let projectId: string;
let otherProjectId: string;

const ORIGIN = { Origin: "http://app.test", Host: "app.test" };

async function insertProject(organizationId: string, title: string, options: { publicSubscribe?: boolean } = {}): Promise<string> {
  const [project] = await db<{ id: string }[]>`
    insert into projects (organization_id, title, onboarding_brief, cadence_type, cadence_days, public_subscribe)
    values (${organizationId}, ${title}, 'A brief.', 'weekly', '{1}', ${options.publicSubscribe ?? false}) returning id`;
  return project.id;
}

function post(client: TestClient, path: string, fields: Record<string, string>) {
  return client.request(path, {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...ORIGIN },
  });
}

function postMultipart(client: TestClient, path: string, form: FormData) {
  return client.request(path, { method: "POST", body: form, headers: ORIGIN });
}

async function subscriber(project: string, email: string) {
  const [row] = await db<{ id: string; status: string; source: string; confirmationExpiresAt: Date | null; userId: string | null }[]>`
    select id, status, source, confirmation_expires_at, user_id from subscribers where project_id = ${project} and email = ${email}`;
  return row;
}

async function emailsTo(email: string, kind = "subscription_confirmation") {
  return db<{ kind: string; toEmail: string; payload: Record<string, string>; subscriberId: string | null; projectId: string | null }[]>`
    select kind, to_email, payload, subscriber_id, project_id from email_deliveries where to_email = ${email} and kind = ${kind} order by created_at`;
}

/** Stands in for a publication: the outbox's own fan-out to every confirmed subscriber. */
async function publishTo(project: string, organizationId: string): Promise<string[]> {
  const at = new Date(Date.now() - Math.floor(Math.random() * 1e9));
  const [episode] = await db<{ id: string }[]>`
    insert into episodes (organization_id, project_id, scheduled_for, status, title, content, published_at)
    values (${organizationId}, ${project}, ${at}, 'PUBLISHED', 'An episode', 'Body', now()) returning id`;
  const { enqueueEpisodeDeliveries } = await import("../../app/models/email-deliveries.server");
  await db.begin((sql) => enqueueEpisodeDeliveries(sql, { organizationId, episodeId: episode.id, projectId: project }));
  const rows = await db<{ toEmail: string }[]>`select to_email from email_deliveries where episode_id = ${episode.id} order by to_email`;
  return rows.map((r) => r.toEmail);
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}-${Date.now()}@example.org`;

beforeAll(async () => {
  db = database.db;
  owner = await signUp("Olive Owner");
  other = await signUp("Oscar Other", undefined, new TestClient("203.0.113.60"));
  projectId = await insertProject(owner.organizationId, "Grid storage");
  otherProjectId = await insertProject(other.organizationId, "Other's project");
});

describe("double opt-in", () => {
  it("adds an address as pending with one confirmation email, sends it nothing else until it confirms, then sends it episodes", async () => {
    const email = unique("reader");
    const added = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email: email.toUpperCase(), name: "Rita Reader" });
    expect(added.status, await added.clone().text()).toBe(302);
    const row = await subscriber(projectId, email);
    expect(row).toMatchObject({ status: "pending", source: "admin" });
    const expiresIn = row.confirmationExpiresAt!.getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(7 * 86_400_000);

    const [confirmation, ...more] = await emailsTo(email);
    expect(more).toEqual([]);
    expect(confirmation).toMatchObject({ toEmail: email, subscriberId: row.id, projectId, payload: { projectName: "Grid storage" } });
    expect(confirmation.payload.expiresAt).toBe(row.confirmationExpiresAt!.toISOString());
    const [audit] = await db`select action, actor_user_id from audit_log where target_id = ${row.id}`;
    expect(audit).toEqual({ action: "subscriber.added", actorUserId: owner.userId });

    expect(await publishTo(projectId, owner.organizationId)).not.toContain(email);

    // A link scanner's GET changes nothing; the button's POST confirms.
    const link = linkPath(confirmation.payload.confirmUrl);
    const visitor = new TestClient("198.51.100.7");
    const page = await visitor.get(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Yes, subscribe me");
    expect((await subscriber(projectId, email)).status).toBe("pending");
    const confirmed = await post(visitor, link, {});
    expect(location(confirmed)).toBe("/subscriptions/confirmed");
    expect(await (await visitor.get("/subscriptions/confirmed")).text()).toContain("new episodes of Grid storage will arrive in your inbox");
    expect((await subscriber(projectId, email)).status).toBe("confirmed");

    expect(await publishTo(projectId, owner.organizationId)).toContain(email);
  });

  it("a confirmation link works once", async () => {
    const email = unique("once");
    await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email });
    const link = linkPath((await emailsTo(email))[0].payload.confirmUrl);
    expect((await post(new TestClient(), link, {})).status).toBe(302);
    const again = await post(new TestClient(), link, {});
    expect(again.status).toBe(404);
    expect(await again.text()).toContain("used already, or has expired");
    expect((await new TestClient().get(link)).status).toBe(404);
  });

  it("a confirmation link expires after 7 days, and a resent link replaces it", async () => {
    const email = unique("late");
    await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email });
    const row = await subscriber(projectId, email);
    const oldLink = linkPath((await emailsTo(email))[0].payload.confirmUrl);
    await db`update subscribers set confirmation_sent_at = now() - interval '7 days 1 minute', confirmation_expires_at = now() - interval '1 minute' where id = ${row.id}`;
    expect((await new TestClient().get(oldLink)).status).toBe(404);
    expect((await post(new TestClient(), oldLink, {})).status).toBe(404);
    expect((await subscriber(projectId, email)).status).toBe("pending");
    expect(await (await owner.client.get(`/projects/${projectId}/subscribers`)).text()).toContain("link expired");

    const resent = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "resend", subscriberId: row.id });
    expect(resent.status).toBe(302);
    const emails = await emailsTo(email);
    expect(emails).toHaveLength(2);
    const newLink = linkPath(emails[1].payload.confirmUrl);
    expect(newLink).not.toBe(oldLink);
    expect((await post(new TestClient(), oldLink, {})).status).toBe(404);
    expect((await post(new TestClient(), newLink, {})).status).toBe(302);
    expect((await subscriber(projectId, email)).status).toBe("confirmed");
    // Nothing to resend once confirmed.
    const late = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "resend", subscriberId: row.id });
    expect(late.status).toBe(409);
    expect(await emailsTo(email)).toHaveLength(2);
  });

  it("an address already on the list is not added twice and gets no second email", async () => {
    const email = unique("twice");
    await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email });
    const second = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email });
    expect(second.status).toBe(400);
    expect(await second.text()).toContain("already on the list");
    expect(await emailsTo(email)).toHaveLength(1);
  });

  it("removes a subscriber with an audit row", async () => {
    const email = unique("gone");
    await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email });
    const row = await subscriber(projectId, email);
    expect((await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "remove", subscriberId: row.id })).status).toBe(302);
    expect(await subscriber(projectId, email)).toBeUndefined();
    const [audit] = await db`select action from audit_log where target_id = ${row.id} and action = 'subscriber.removed'`;
    expect(audit).toBeTruthy();
  });

  it("explains bad input on the page and changes nothing", async () => {
    const response = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email: "not an email" });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("Enter an email address like name@example.com.");
    expect(html).toContain('aria-describedby="field-email-error"');
    expect((await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "remove", subscriberId: "nope" })).status).toBe(400);
  });
});

describe("who may manage subscribers", () => {
  it("members see the list but cannot add, and their own checkbox subscribes them confirmed at once", async () => {
    const member = await joinOrganization(owner, "member", "Mo Member");
    expect((await member.client.get(`/projects/${projectId}/subscribers`)).status).toBe(200);
    const email = unique("by-member");
    expect((await post(member.client, `/projects/${projectId}/subscribers`, { intent: "add", email })).status).toBe(403);
    expect(await subscriber(projectId, email)).toBeUndefined();

    const optIn = await post(member.client, `/projects/${projectId}`, { intent: "subscription", subscribed: "on" });
    expect(location(optIn)).toBe(`/projects/${projectId}`);
    expect(await subscriber(projectId, member.email)).toMatchObject({ status: "confirmed", source: "member", userId: member.userId });
    expect(await emailsTo(member.email)).toEqual([]);
    expect(await publishTo(projectId, owner.organizationId)).toContain(member.email);
    const page = await (await member.client.get(`/projects/${projectId}`)).text();
    expect(page).toMatch(/<input type="checkbox" name="subscribed" checked=""/);

    await post(member.client, `/projects/${projectId}`, { intent: "subscription" });
    expect((await subscriber(projectId, member.email)).status).toBe("unsubscribed");
    expect(await publishTo(projectId, owner.organizationId)).not.toContain(member.email);
    const actions = await db`select action from audit_log where actor_user_id = ${member.userId} and action like 'subscriber.%' order by created_at`;
    expect(actions.map((a) => a.action)).toEqual(["subscriber.member_opted_in", "subscriber.member_opted_out"]);
  });

  it("a member's opt-in ends when they leave the organization", async () => {
    const member = await joinOrganization(owner, "member", "Lee Leaver");
    await post(member.client, `/projects/${projectId}`, { intent: "subscription", subscribed: "on" });
    expect(await publishTo(projectId, owner.organizationId)).toContain(member.email);
    const [membership] = await db`select id from memberships where organization_id = ${owner.organizationId} and user_id = ${member.userId}`;
    expect((await post(owner.client, "/organization", { intent: "remove", membershipId: membership.id })).status).toBe(302);
    expect((await subscriber(projectId, member.email)).status).toBe("unsubscribed");
    expect(await publishTo(projectId, owner.organizationId)).not.toContain(member.email);
  });

  it("an owner whose address is not verified cannot add or import subscribers, and is offered a new link", async () => {
    const client = new TestClient("203.0.113.61");
    const email = unique("unverified-owner");
    await signUpUnverified("Una Verified", email, client);
    // Signed in with the password, but the address is not confirmed.
    expect((await client.post("/signin", { email, password: "correct horse battery" })).status).toBe(302);
    const me = (await (await client.get("/api/me")).json()) as { organizationId: string };
    const project = await insertProject(me.organizationId, "Unverified's project");
    const page = await (await client.get(`/projects/${project}/subscribers`)).text();
    expect(page).toContain("Confirm your email address first");
    expect(page).toContain('action="/verify-email"');

    const target = unique("never-mailed");
    const add = await post(client, `/projects/${project}/subscribers`, { intent: "add", email: target });
    expect(add.status).toBe(403);
    expect(await add.text()).toContain("Confirm your email address before you add subscribers");
    const form = new FormData();
    form.set("intent", "import");
    form.set("csv", `${target}\n`);
    expect((await postMultipart(client, `/projects/${project}/subscribers`, form)).status).toBe(403);
    expect(await subscriber(project, target)).toBeUndefined();
    expect(await emailsTo(target)).toEqual([]);

    // The sign-up's link went out just now; a new one is mailed once a minute has passed.
    await db`update account_tokens set created_at = now() - interval '2 minutes' where email = ${email}`;
    const resend = await post(client, "/verify-email", { redirectTo: `/projects/${project}/subscribers` });
    expect(location(resend)).toBe(`/projects/${project}/subscribers`);
    const verifications = await emailsTo(email, "email_verification");
    expect(verifications).toHaveLength(2);
    // Within a minute a second request mails nothing more.
    await post(client, "/verify-email", { redirectTo: `/projects/${project}/subscribers` });
    expect(await emailsTo(email, "email_verification")).toHaveLength(2);
    expect((await client.post(linkPath(verifications[1].payload.verifyUrl), {})).status).toBe(302);
    expect((await post(client, `/projects/${project}/subscribers`, { intent: "add", email: target })).status).toBe(302);
  });
});

describe("CSV import", () => {
  it("imports quoted rows as pending, each with its own confirmation, and lists every invalid row with its line", async () => {
    const [ada, cy, listed] = [unique("ada"), unique("cy"), unique("listed")];
    await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "add", email: listed });
    const csv = [
      "Name,Email",
      `"Lovelace, Ada","${ada.toUpperCase()}"`,
      `Bob,not-an-email`,
      `"Quote ""Q"" Person",${ada}`,
      `,`,
      `"Cy ""the"" Second",${cy}`,
      `Listed,${listed}`,
      "",
    ].join("\r\n");
    const form = new FormData();
    form.set("intent", "import");
    form.set("file", new Blob([csv], { type: "text/csv" }), "people.csv");
    const response = await postMultipart(owner.client, `/projects/${projectId}/subscribers`, form);
    expect(response.status, await response.clone().text()).toBe(200);
    const html = await response.text();
    expect(html).toContain("2 addresses were added");
    expect(html).toContain("1 already on the list");
    expect(html).toMatch(/<td>3<\/td><td>not-an-email<\/td><td>Enter an email address like name@example.com.<\/td>/);
    expect(html).toMatch(/<td>4<\/td><td>[^<]+<\/td><td>The same address as line 2.<\/td>/);
    expect(html).toMatch(/<td>5<\/td><td>\(empty\)<\/td><td>No email address in this row.<\/td>/);

    const [adaRow] = await db`select status, source, name from subscribers where project_id = ${projectId} and email = ${ada}`;
    expect(adaRow).toEqual({ status: "pending", source: "import", name: "Lovelace, Ada" });
    const [cyRow] = await db`select name from subscribers where project_id = ${projectId} and email = ${cy}`;
    expect(cyRow.name).toBe('Cy "the" Second');
    expect(await emailsTo(ada)).toHaveLength(1);
    expect(await emailsTo(cy)).toHaveLength(1);
    expect(await emailsTo(listed)).toHaveLength(1);
    expect(await publishTo(projectId, owner.organizationId)).not.toContain(ada);
    const [audit] = await db`select after from audit_log where action = 'subscriber.imported' order by created_at desc limit 1`;
    expect(audit.after).toEqual({ added: 2, alreadyListed: 1, invalid: 3 });
  });

  it("takes pasted text too, and refuses a broken file or an empty one with a message", async () => {
    const pasted = unique("pasted");
    expect((await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "import", csv: `${pasted}\n` })).status).toBe(200);
    const nothingUsable = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "import", csv: "nobody\nstill nobody\n" });
    expect(nothingUsable.status).toBe(400);
    expect(await nothingUsable.text()).toContain("No row has a usable email address");
    expect((await subscriber(projectId, pasted)).status).toBe("pending");

    const broken = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "import", csv: `a@b.example\n"unclosed,${unique("x")}\n` });
    expect(broken.status).toBe(400);
    expect(await broken.text()).toContain("The file is not valid CSV");
    const empty = await post(owner.client, `/projects/${projectId}/subscribers`, { intent: "import", csv: "" });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('id="import-file-error"');
  });

  it("refuses a file over the size limit with 413", async () => {
    const form = new FormData();
    form.set("intent", "import");
    form.set("file", new Blob(["x".repeat(300 * 1024)], { type: "text/csv" }), "big.csv");
    const response = await postMultipart(owner.client, `/projects/${projectId}/subscribers`, form);
    expect(response.status).toBe(413);
  });
});

describe("the public subscribe form", () => {
  it("is not found unless the project switched it on, and then gives the same answer for every address", async () => {
    const closed = await insertProject(owner.organizationId, "Closed");
    expect((await new TestClient().get(`/subscribe/${closed}`)).status).toBe(404);
    expect((await post(new TestClient(), `/subscribe/${closed}`, { email: unique("x") })).status).toBe(404);
    expect((await new TestClient().get(`/subscribe/00000000-0000-4000-8000-000000000000`)).status).toBe(404);

    const open = await insertProject(owner.organizationId, "Open", { publicSubscribe: true });
    const form = await new TestClient().get(`/subscribe/${open}`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('<label for="field-email">Email</label>');

    const confirmedEmail = unique("confirmed");
    await post(new TestClient(), `/subscribe/${open}`, { email: confirmedEmail });
    await post(new TestClient(), linkPath((await emailsTo(confirmedEmail))[0].payload.confirmUrl), {});
    const pendingEmail = unique("pending");
    await post(new TestClient(), `/subscribe/${open}`, { email: pendingEmail });

    const answers = [];
    for (const email of [unique("new"), confirmedEmail, pendingEmail]) {
      const response = await post(new TestClient(), `/subscribe/${open}`, { email, name: "Someone" });
      answers.push({ status: response.status, location: location(response), cookies: response.headers.getSetCookie() });
    }
    expect(answers[0]).toEqual({ status: 302, location: `/subscribe/${open}?sent=1`, cookies: [] });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    const page = await new TestClient().get(`/subscribe/${open}?sent=1`);
    expect(await page.text()).toContain("Check your inbox");

    // Confirmed: nothing more. Pending: no second email within ten minutes.
    expect(await emailsTo(confirmedEmail)).toHaveLength(1);
    expect(await emailsTo(pendingEmail)).toHaveLength(1);
    expect((await subscriber(open, confirmedEmail)).status).toBe("confirmed");
    expect((await subscriber(open, pendingEmail)).source).toBe("public");
  });

  it("someone who unsubscribed can subscribe again, through a new confirmation", async () => {
    const open = await insertProject(owner.organizationId, "Reopen", { publicSubscribe: true });
    const email = unique("comeback");
    await post(new TestClient(), `/subscribe/${open}`, { email });
    await post(new TestClient(), linkPath((await emailsTo(email))[0].payload.confirmUrl), {});
    await db`update subscribers set status = 'unsubscribed', unsubscribed_at = now() where project_id = ${open} and email = ${email}`;
    await post(new TestClient(), `/subscribe/${open}`, { email });
    expect((await subscriber(open, email)).status).toBe("pending");
    const emails = await emailsTo(email);
    expect(emails).toHaveLength(2);
    await post(new TestClient(), linkPath(emails[1].payload.confirmUrl), {});
    expect((await subscriber(open, email)).status).toBe("confirmed");
  });

  it("refuses a client that sends too many, and mails nobody for the refused ones", async () => {
    const open = await insertProject(owner.organizationId, "Open to floods", { publicSubscribe: true });
    const flooder = new TestClient("198.51.100.77");
    for (let i = 0; i < 20; i++) expect((await post(flooder, `/subscribe/${open}`, { email: unique(`flood${i}`) })).status).toBe(302);
    const victim = unique("victim");
    const refused = await post(flooder, `/subscribe/${open}`, { email: victim });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await refused.text()).toContain("Too many requests from your network");
    expect(await subscriber(open, victim)).toBeUndefined();
    expect(await emailsTo(victim)).toEqual([]);
    expect((await post(new TestClient("198.51.100.78"), `/subscribe/${open}`, { email: victim })).status).toBe(302);
  });

  it("explains a bad address on the page", async () => {
    const open = await insertProject(owner.organizationId, "Open for typos", { publicSubscribe: true });
    const response = await post(new TestClient(), `/subscribe/${open}`, { email: "nope" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('aria-describedby="field-email-error"');
  });
});

describe("tenant isolation", () => {
  it("another organization's project and subscribers are not found, and nothing of theirs changes", async () => {
    const theirs = unique("theirs");
    await post(other.client, `/projects/${otherProjectId}/subscribers`, { intent: "add", email: theirs });
    const row = await subscriber(otherProjectId, theirs);
    expect(row.status).toBe("pending");

    expect((await owner.client.get(`/projects/${otherProjectId}/subscribers`)).status).toBe(404);
    for (const fields of <Record<string, string>[]>[
      { intent: "add", email: unique("planted") },
      { intent: "remove", subscriberId: row.id },
      { intent: "resend", subscriberId: row.id },
      { intent: "import", csv: unique("planted") },
    ]) {
      expect((await post(owner.client, `/projects/${otherProjectId}/subscribers`, fields)).status, fields.intent).toBe(404);
    }
    // Their subscriber through our own project: also not found.
    for (const intent of ["remove", "resend"]) {
      expect((await post(owner.client, `/projects/${projectId}/subscribers`, { intent, subscriberId: row.id })).status, intent).toBe(404);
    }
    expect((await post(owner.client, `/projects/${otherProjectId}`, { intent: "subscription", subscribed: "on" })).status).toBe(404);
    expect(await subscriber(otherProjectId, theirs)).toEqual(row);
    expect(await emailsTo(theirs)).toHaveLength(1);
    const [{ count }] = await db`select count(*)::int from subscribers where project_id = ${otherProjectId}`;
    expect(count).toBe(1);
  });
});
