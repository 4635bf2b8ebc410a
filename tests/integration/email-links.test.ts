import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLinkSigner, LinkSigner } from "../../app/email/links.server";
import { outboxProvider } from "../../app/email/providers.server";
import { enqueueEmail } from "../../app/models/email-deliveries.server";
import { joinOrganization, signUp, type SignedIn } from "../support/accounts";
import { send, startEdgeApp, type EdgeApp } from "../support/edge";
import { deliveries, drainOutbox, forgetLinkSigner, insertSubscriber } from "../support/email";
import { claimNext, insertProject, publish, queueEpisode, type Owner } from "../support/episodes";
import { newSvixSecret, svixHeaders } from "../support/fake-resend";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

/**
 * The links in emails and what they do, through the real edge and the built routes: one-click unsubscribe from a
 * mail client (foreign Origin, no cookies, no CSRF token), the confirm page, feedback, "read on the web", Resend's
 * webhooks, and the outbox page.
 */

const webhookSecret = newSvixSecret();
process.env.RESEND_WEBHOOK_SECRET = webhookSecret;
const database = useRouteDatabase();

let app: EdgeApp;
let owner: SignedIn;
let projectId: string;
let episodeId: string;
let signer: LinkSigner;
const readers: Record<string, string> = {};

beforeAll(async () => {
  forgetLinkSigner();
  app = await startEdgeApp();
  owner = await signUp("Olive Owner");
  const asOwner: Owner = { userId: owner.userId, organizationId: owner.organizationId };
  projectId = await insertProject(database.db, asOwner, "Tidal futures");
  for (const name of ["ada", "bob", "cy", "dee", "eve"]) readers[name] = await insertSubscriber(database.db, asOwner, projectId, `${name}@example.com`);
  await queueEpisode(database.db, asOwner, projectId);
  episodeId = (await publish(database.db, await claimNext(database.db), { title: "Tides turn", content: "## Tides\n\nThe barrage opened." })).id;
  signer = await getLinkSigner(database.db);
});
afterAll(() => app.close());

const unsubscribeToken = (subscriber: string) => signer.unsubscribeToken({ organizationId: owner.organizationId, projectId, subscriberId: readers[subscriber]! });
const statusOf = async (subscriber: string) =>
  (await database.db<{ status: string }[]>`select status from subscribers where id = ${readers[subscriber]!}`)[0]!.status;

describe("signed link tokens", () => {
  it("cannot be forged, altered, reused for another purpose or for another subscriber", async () => {
    const token = unsubscribeToken("ada");
    expect(signer.readUnsubscribeToken(token)).toEqual({ organizationId: owner.organizationId, projectId, subscriberId: readers.ada });
    const [body, mac] = token.split(".") as [string, string];
    // The claims changed to name bob, with ada's signature.
    const claims = JSON.parse(Buffer.from(body, "base64url").toString());
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, s: readers.bob })).toString("base64url");
    expect(signer.readUnsubscribeToken(`${forgedBody}.${mac}`)).toBeUndefined();
    expect(signer.readUnsubscribeToken(`${body}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`)).toBeUndefined();
    expect(new LinkSigner(crypto.randomBytes(32).toString("hex")).readUnsubscribeToken(token)).toBeUndefined();
    const feedback = signer.feedbackToken({ organizationId: owner.organizationId, episodeId, subscriberId: readers.ada!, rating: 5 });
    expect(signer.readUnsubscribeToken(feedback)).toBeUndefined();
    expect(signer.readFeedbackToken(token)).toBeUndefined();
    for (const junk of ["", "x", "a.b", `${body}.`, `${"A".repeat(2000)}.${mac}`]) expect(signer.readUnsubscribeToken(junk)).toBeUndefined();
  });
});

describe("unsubscribe", () => {
  it("GET only shows a confirm button: a link scanner unsubscribes nobody", async () => {
    const response = await send(`${app.baseUrl}/unsubscribe/${unsubscribeToken("ada")}`);
    expect(response.status).toBe(200);
    expect(response.body).toContain("Unsubscribe from Tidal futures?");
    expect(response.body).toContain("ada@example.com");
    expect(response.body).toMatch(/<form method="post"/);
    expect(await statusOf("ada")).toBe("confirmed");
  });

  it("a mail client's one-click POST (RFC 8058) from a foreign origin, without cookies, unsubscribes at once with 200", async () => {
    const db = database.db;
    await db.begin((sql) => enqueueEmail(sql, { organizationId: owner.organizationId, kind: "episode", toEmail: "bob@example.com", payload: {}, episodeId, subscriberId: readers.bob, projectId }));
    const body = "List-Unsubscribe=One-Click";
    const response = await send(`${app.baseUrl}/unsubscribe/${unsubscribeToken("bob")}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://mail.example", "Sec-Fetch-Site": "cross-site" },
      body,
    });
    expect(response.status).toBe(200);
    expect(await statusOf("bob")).toBe("unsubscribed");
    const rows = (await deliveries(db, owner.organizationId)).filter((row) => row.toEmail === "bob@example.com");
    expect(rows.every((row) => row.status !== "pending")).toBe(true);
    const [audit] = await db`select after from audit_log where action = 'subscriber.unsubscribed' and target_id = ${readers.bob!}`;
    expect(audit!.after).toEqual({ status: "unsubscribed", via: "one_click" });
    // A second click changes nothing and still succeeds.
    const again = await send(`${app.baseUrl}/unsubscribe/${unsubscribeToken("bob")}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body });
    expect(again.status).toBe(200);
    expect((await db`select count(*)::int as n from audit_log where action = 'subscriber.unsubscribed' and target_id = ${readers.bob!}`)[0]!.n).toBe(1);
  });

  it("the confirm page's button unsubscribes, and says so", async () => {
    const client = new TestClient();
    const response = await client.post(`/unsubscribe/${unsubscribeToken("cy")}`, {});
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("You are unsubscribed");
    expect(await statusOf("cy")).toBe("unsubscribed");
  });

  it("a forged or altered token is 404 and changes nothing, by GET or POST", async () => {
    const token = unsubscribeToken("dee");
    const altered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    for (const path of [`/unsubscribe/${altered}`, "/unsubscribe/not-a-token", `/unsubscribe/${signer.feedbackToken({ organizationId: owner.organizationId, episodeId, subscriberId: readers.dee!, rating: 1 })}`]) {
      expect((await send(`${app.baseUrl}${path}`)).status).toBe(404);
      const post = await send(`${app.baseUrl}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
      expect(post.status).toBe(404);
    }
    expect(await statusOf("dee")).toBe("confirmed");
  });
});

describe("feedback", () => {
  const feedbackPath = (subscriber: string, rating: number) =>
    `/feedback/${signer.feedbackToken({ organizationId: owner.organizationId, episodeId, subscriberId: readers[subscriber]!, rating })}`;

  it("GET shows the rating prefilled and records nothing; POST records one rating per reader, changeable", async () => {
    const client = new TestClient();
    const page = await (await client.get(feedbackPath("eve", 4))).text();
    expect(page).toContain("How useful was “Tides turn”?");
    expect(page).toMatch(/<input[^>]*id="rating-4"[^>]*checked=""/);
    expect(page).not.toMatch(/<input[^>]*id="rating-3"[^>]*checked=""/);
    expect((await database.db`select count(*)::int as n from episode_feedback`)[0]!.n).toBe(0);

    expect((await client.post(feedbackPath("eve", 4), { rating: "4", comment: "  Useful on barrages. " })).status).toBe(200);
    expect((await client.post(feedbackPath("eve", 4), { rating: "2", comment: "" })).status).toBe(200);
    const rows = await database.db`select rating, comment from episode_feedback where subscriber_id = ${readers.eve!}`;
    expect(rows).toEqual([{ rating: 2, comment: "" }]);
    const events = await database.db`select event_data from user_events where event_type = 'feedback_submitted' order by created_at`;
    expect(events.map((event) => event.eventData.rating)).toEqual([4, 2]);
  });

  it("a bad rating gets a clear error on the page; a forged token is 404", async () => {
    const client = new TestClient();
    const bad = await client.post(feedbackPath("dee", 3), { rating: "9", comment: "" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Choose a rating from 1 to 5.");
    expect((await client.post("/feedback/forged.token", { rating: "5", comment: "" })).status).toBe(404);
    expect((await client.get("/feedback/forged.token")).status).toBe(404);
    expect((await database.db`select count(*)::int as n from episode_feedback where subscriber_id = ${readers.dee!}`)[0]!.n).toBe(0);
  });
});

describe("read on the web", () => {
  it("a subscriber's link opens the published episode without signing in and records episode_opened", async () => {
    const url = new URL(signer.episodeUrl({ episodeId, organizationId: owner.organizationId, subscriberId: readers.ada! }));
    const response = await new TestClient().get(`${url.pathname}${url.search}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("The barrage opened.");
    expect(html).not.toContain("Try again");
    const [opened] = await database.db`select event_data from user_events where event_type = 'episode_opened'`;
    expect(opened!.eventData).toEqual({ episodeId, subscriberId: readers.ada, via: "email" });
  });

  it("a token for another episode, or none, means signing in", async () => {
    const other = crypto.randomUUID();
    const token = signer.episodeToken({ organizationId: owner.organizationId, episodeId: other, subscriberId: readers.ada! });
    const response = await new TestClient().get(`/episodes/${episodeId}?reader=${token}`);
    expect(response.status).toBe(302);
    expect(location(response)).toMatch(/^\/signin/);
  });

  it("a signed-in member opening it records episode_opened too", async () => {
    expect((await owner.client.get(`/episodes/${episodeId}`)).status).toBe(200);
    const events = await database.db`select user_id, event_data from user_events where event_type = 'episode_opened' and user_id is not null`;
    expect(events).toEqual([{ userId: owner.userId, eventData: { episodeId, via: "web" } }]);
  });
});

describe("Resend webhooks", () => {
  async function sentDelivery(email: string): Promise<string> {
    const providerId = `re_${crypto.randomBytes(6).toString("hex")}`;
    const subscriberId = await insertSubscriber(database.db, { userId: owner.userId, organizationId: owner.organizationId }, projectId, email);
    const { deliveryId } = await database.db.begin((sql) =>
      enqueueEmail(sql, { organizationId: owner.organizationId, kind: "episode", toEmail: email, payload: {}, episodeId, subscriberId, projectId }),
    );
    await database.db`update email_deliveries set status = 'sent', sent_at = now(), provider = 'resend', provider_message_id = ${providerId} where id = ${deliveryId}`;
    return providerId;
  }
  const post = (event: unknown, options: { id?: string; secret?: string } = {}) => {
    const body = JSON.stringify(event);
    return send(`${app.baseUrl}/api/webhooks/resend`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...svixHeaders(options.secret ?? webhookSecret, body, { id: options.id }) },
      body,
    });
  };

  it("delivered updates the delivery; a repeat with the same svix-id is applied once", async () => {
    const providerId = await sentDelivery("delivered@example.com");
    const event = { type: "email.delivered", created_at: new Date().toISOString(), data: { email_id: providerId, to: ["delivered@example.com"] } };
    const first = await post(event, { id: "msg_delivered_1" });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ received: true, applied: true, duplicate: false });
    expect(JSON.parse((await post(event, { id: "msg_delivered_1" })).body)).toMatchObject({ duplicate: true });
    const [row] = await database.db`select provider_status from email_deliveries where provider_message_id = ${providerId}`;
    expect(row!.providerStatus).toBe("delivered");
  });

  it("a hard bounce and a complaint suppress the address across the organization and mark the subscriber; later emails skip it", async () => {
    const bounced = await sentDelivery("hard@example.com");
    const complained = await sentDelivery("angry@example.com");
    const soft = await sentDelivery("soft@example.com");
    await post({ type: "email.bounced", data: { email_id: bounced, bounce: { type: "Permanent", message: "No such mailbox" } } });
    await post({ type: "email.complained", data: { email_id: complained } });
    await post({ type: "email.bounced", data: { email_id: soft, bounce: { type: "Transient", message: "Mailbox full" } } });
    const suppressions = await database.db`select email, reason from email_suppressions where organization_id = ${owner.organizationId} order by email`;
    expect(suppressions).toEqual([
      { email: "angry@example.com", reason: "complained" },
      { email: "hard@example.com", reason: "bounced" },
    ]);
    const statuses = await database.db`select email, status from subscribers where email in ('hard@example.com', 'angry@example.com', 'soft@example.com') order by email`;
    expect(statuses).toEqual([
      { email: "angry@example.com", status: "complained" },
      { email: "hard@example.com", status: "bounced" },
      { email: "soft@example.com", status: "confirmed" },
    ]);
    const later = await database.db.begin((sql) =>
      enqueueEmail(sql, { organizationId: owner.organizationId, kind: "sign_in_link", toEmail: "hard@example.com", payload: { name: "", signInUrl: "http://localhost:3000/x", expiresAt: new Date().toISOString() } }),
    );
    expect(later.enqueued).toBe(false);
  });

  it("refuses a bad signature or a stale timestamp with 400 and changes nothing", async () => {
    const providerId = await sentDelivery("unsigned@example.com");
    const event = { type: "email.bounced", data: { email_id: providerId, bounce: { type: "Permanent" } } };
    expect((await post(event, { secret: newSvixSecret() })).status).toBe(400);
    const body = JSON.stringify(event);
    const stale = await send(`${app.baseUrl}/api/webhooks/resend`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...svixHeaders(webhookSecret, body, { at: new Date(Date.now() - 10 * 60_000) }) },
      body,
    });
    expect(stale.status).toBe(400);
    const missing = await send(`${app.baseUrl}/api/webhooks/resend`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(missing.status).toBe(400);
    expect((await database.db`select count(*)::int as n from email_suppressions where email = 'unsigned@example.com'`)[0]!.n).toBe(0);
    const notAnEvent = await post({ hello: "world" });
    expect(notAnEvent.status).toBe(400);
    expect(JSON.parse(notAnEvent.body)).toHaveProperty("fields");
  });
});

describe("the outbox page", () => {
  it("shows an owner their organization's emails, rendered with HTML, text and headers", async () => {
    await drainOutbox(database.db, outboxProvider());
    const [episodeEmail] = (await deliveries(database.db, owner.organizationId)).filter((row) => row.kind === "episode" && row.toEmail === "ada@example.com");
    const list = await owner.client.get("/dev/outbox");
    expect(list.status).toBe(200);
    const listHtml = await list.text();
    expect(listHtml).toContain(`/dev/outbox/${episodeEmail!.id}`);
    expect(listHtml).toContain("Tides turn · Tidal futures");

    const page = await (await owner.client.get(`/dev/outbox/${episodeEmail!.id}`)).text();
    expect(page).toMatch(/<iframe[^>]*sandbox=""[^>]*srcDoc=|<iframe[^>]*srcdoc=/i);
    expect(page).toContain("List-Unsubscribe-Post");
    expect(page).toContain("List-Unsubscribe=One-Click");
    expect(page).toContain("The barrage opened.");
    expect(page).toContain("Plain text");
  });

  it("is refused to members who are not owners, and another organization's email is 404", async () => {
    const member = await joinOrganization(owner, "member");
    expect((await member.client.get("/dev/outbox")).status).toBe(403);
    const stranger = await signUp("Stan Stranger");
    const [someEmail] = await deliveries(database.db, owner.organizationId);
    expect((await stranger.client.get(`/dev/outbox/${someEmail!.id}`)).status).toBe(404);
    const strangerList = await (await stranger.client.get("/dev/outbox")).text();
    expect(strangerList).not.toContain(someEmail!.id);
    expect((await stranger.client.get("/dev/outbox/not-a-uuid")).status).toBe(404);
  });
});
