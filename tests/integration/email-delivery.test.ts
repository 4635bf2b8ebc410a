import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getLinkSigner } from "../../app/email/links.server";
import { outboxProvider, resendProvider, smtpProvider } from "../../app/email/providers.server";
import { sendDueEmails } from "../../app/email/sender.server";
import { RateLimiter } from "../../app/lib/rate-limiter.server";
import { claimDueDeliveries, enqueueEmail } from "../../app/models/email-deliveries.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deliveries, drainOutbox, forgetLinkSigner, insertSubscriber, senderTestSettings, silentLogger, suppress } from "../support/email";
import { claimNext, fail, insertOwner, insertProject, publish, queueEpisode, type Owner } from "../support/episodes";
import { startFakeResend, type FakeResend } from "../support/fake-resend";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp";

let database: TestDatabase;
let resend: FakeResend;
let smtp: TestSmtpServer;

beforeAll(async () => {
  database = await createTestDatabase();
  forgetLinkSigner();
  resend = await startFakeResend();
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await resend.close();
  await smtp.close();
  await database.drop();
});
beforeEach(async () => {
  // Each test sends only its own emails: whatever earlier tests left queued is set aside.
  await database.db`update email_deliveries set status = 'cancelled', locked_until = null where status in ('pending', 'sending')`;
  resend.requests.length = 0;
  resend.sent.length = 0;
  resend.limitPerSecond(null);
});

const provider = (batchSize = 100) => resendProvider({ apiKey: resend.apiKey, baseUrl: resend.baseUrl, requestsPerSecond: 1000, batchSize });

/** An organization with a project whose readers are in every state, and one published episode. */
async function publishedToReaders(name: string, readers: Record<string, "pending" | "confirmed" | "unsubscribed" | "bounced" | "complained"> = {}) {
  const db = database.db;
  const owner = await insertOwner(db, name);
  const projectId = await insertProject(db, owner, `${name} futures`);
  const subscribers: Record<string, string> = {};
  for (const [email, status] of Object.entries(readers)) subscribers[email] = await insertSubscriber(db, owner, projectId, email, status);
  await queueEpisode(db, owner, projectId);
  const claim = await claimNext(db);
  const episode = await publish(db, claim, {
    title: "Storage at scale",
    content: "## What changed\n\nIron-air batteries reached their **first** grid contract.\n\n- one\n- two\n\n> a quote\n\n[Read more](https://example.org/more)",
    sources: [{ title: "Grid report", url: "https://example.org/report", publisher: "ESO" }],
  });
  return { owner, projectId, episode, subscribers };
}

const episodeRows = async (owner: Owner) => (await deliveries(database.db, owner.organizationId)).filter((row) => row.kind === "episode");

describe("publishing fills the outbox", () => {
  it("queues exactly one email per confirmed subscriber, in the publishing transaction, and none for anyone else", async () => {
    const { owner } = await publishedToReaders("Queue", {
      "ada@example.com": "confirmed",
      "bob@example.com": "confirmed",
      "pending@example.com": "pending",
      "gone@example.com": "unsubscribed",
      "bounced@example.com": "bounced",
      "complained@example.com": "complained",
    });
    const rows = await episodeRows(owner);
    expect(rows.map((row) => row.toEmail)).toEqual(["ada@example.com", "bob@example.com"]);
    expect(rows.every((row) => row.status === "pending" && row.idempotencyKey === row.id && row.projectId)).toBe(true);
  });

  it("skips an address the organization suppressed, and queues nothing twice for the same episode", async () => {
    const db = database.db;
    const owner = await insertOwner(db, "Suppressed");
    const projectId = await insertProject(db, owner);
    await insertSubscriber(db, owner, projectId, "kept@example.com");
    await insertSubscriber(db, owner, projectId, "blocked@example.com");
    await suppress(db, owner, "blocked@example.com", "complained");
    await queueEpisode(db, owner, projectId);
    const episode = await publish(db, await claimNext(db));
    expect((await episodeRows(owner)).map((row) => row.toEmail)).toEqual(["kept@example.com"]);
    const { enqueueEpisodeDeliveries } = await import("../../app/models/email-deliveries.server");
    const again = await db.begin((sql) => enqueueEpisodeDeliveries(sql, { organizationId: owner.organizationId, episodeId: episode.id, projectId }));
    expect(again.enqueued).toBe(0);
    const single = await db.begin((sql) =>
      enqueueEmail(sql, {
        organizationId: owner.organizationId,
        kind: "password_reset",
        toEmail: "Blocked@Example.com",
        payload: { name: "B", resetUrl: "http://localhost:3000/reset/x", expiresAt: new Date().toISOString() },
      }),
    );
    expect(single).toEqual({ enqueued: false, deliveryId: null });
  });

  it("a failed generation queues an email with a retry link to every owner", async () => {
    const db = database.db;
    const owner = await insertOwner(db, "Failing");
    const projectId = await insertProject(db, owner, "Failing futures");
    await queueEpisode(db, owner, projectId);
    const episode = await fail(db, await claimNext(db), "The model refused three times.");
    const rows = (await deliveries(db, owner.organizationId)).filter((row) => row.kind === "generation_failed");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).toMatchObject({ projectName: "Failing futures", reason: "The model refused three times.", retryUrl: `http://localhost:3000/episodes/${episode.id}` });
    await drainOutbox(db, outboxProvider());
    const [sent] = (await deliveries(db, owner.organizationId)).filter((row) => row.kind === "generation_failed");
    expect(sent!.status).toBe("sent");
    expect(sent!.subject).toBe("An episode of Failing futures could not be written");
  });
});

describe("sending through Resend", () => {
  it("sends one email per confirmed subscriber with list headers, tags and a text part, and nothing on the next round", async () => {
    const { owner, projectId, episode, subscribers } = await publishedToReaders("Resend", {
      "ada@example.com": "confirmed",
      "bob@example.com": "confirmed",
      "pending@example.com": "pending",
    });
    const result = await drainOutbox(database.db, provider());
    expect(result.sent).toBe(2);
    const mine = resend.sent.filter((email) => email.tags.some((tag) => tag.name === "project_id" && tag.value === projectId));
    expect(mine.map((email) => email.to[0]).sort()).toEqual(["ada@example.com", "bob@example.com"]);
    // Two emails of one episode travel in one batch call, under the batch's key.
    expect(resend.requests.filter((request) => request.path === "/emails/batch" && request.status === 200)).toHaveLength(1);
    expect(resend.requests[0]!.idempotencyKey).toMatch(/^batch-[0-9a-f-]{36}$/);

    const ada = mine.find((email) => email.to[0] === "ada@example.com")!;
    const signer = await getLinkSigner(database.db);
    const unsubscribeUrl = signer.unsubscribeUrl({ organizationId: owner.organizationId, projectId, subscriberId: subscribers["ada@example.com"]! });
    expect(ada.headers["List-Unsubscribe"]).toBe(
      `<${unsubscribeUrl}>, <mailto:unsubscribe@futures.test?subject=${encodeURIComponent(`unsubscribe ${unsubscribeUrl.split("/").pop()}`)}>`,
    );
    expect(ada.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(ada.headers["X-Many-Futures-Episode"]).toBe(episode.id);
    expect(ada.headers["X-Many-Futures-Project"]).toBe(projectId);
    expect(ada.tags).toEqual(expect.arrayContaining([{ name: "episode_id", value: episode.id }, { name: "kind", value: "episode" }]));
    expect(ada.subject).toBe("Storage at scale · Resend futures");
    expect(ada.from).toBe(senderTestSettings.from);
    // The body: the content, its sources, the visible unsubscribe link, five feedback links, a real text part.
    expect(ada.html).toContain(`href="${unsubscribeUrl}"`);
    expect(ada.html).toContain("<strong");
    expect(ada.html).toContain("<blockquote");
    expect(ada.html).toContain("Grid report");
    expect(ada.html.match(/\/feedback\//g)).toHaveLength(5);
    expect(ada.html).toContain('name="color-scheme" content="light dark"');
    expect(ada.text).toContain("Iron-air batteries reached their first grid contract.");
    expect(ada.text).toContain(unsubscribeUrl);
    expect(ada.text).not.toContain("<");

    const rows = await episodeRows(owner);
    expect(rows.filter((row) => row.status === "sent")).toHaveLength(2);
    expect(rows.every((row) => row.provider === "resend" && row.providerMessageId && row.attempts === 1)).toBe(true);
    expect(new Set(rows.map((row) => row.providerMessageId))).toEqual(new Set(mine.map((email) => email.id)));
    expect(rows[0]!.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");

    const again = await drainOutbox(database.db, provider());
    expect(again).toEqual({ claimed: 0, sent: 0 });
    expect(resend.sent).toHaveLength(2);
  });

  it("batches at most 100 a call", async () => {
    const readers = Object.fromEntries(Array.from({ length: 230 }, (_, i) => [`reader${String(i).padStart(3, "0")}@example.com`, "confirmed" as const]));
    const { owner } = await publishedToReaders("Batches", readers);
    const result = await drainOutbox(database.db, provider());
    expect(result.sent).toBe(230);
    const calls = resend.requests.filter((request) => request.status === 200);
    expect(calls.map((call) => call.emails).sort((a, b) => b - a)).toEqual([100, 100, 30]);
    expect(new Set(calls.map((call) => call.idempotencyKey)).size).toBe(3);
    expect(new Set(resend.sent.map((email) => email.to[0])).size).toBe(230);
    expect((await episodeRows(owner)).every((row) => row.status === "sent")).toBe(true);
  });

  it("retries 429 (honouring Retry-After) and 5xx with the same key, and sends each email once", async () => {
    const { owner } = await publishedToReaders("Retries", { "ada@example.com": "confirmed", "bob@example.com": "confirmed" });
    resend.force({ status: 429, retryAfterSeconds: 30 });
    const first = await drainOutbox(database.db, provider(), { rounds: 1 });
    expect(first.sent).toBe(0);
    let rows = await episodeRows(owner);
    expect(rows.every((row) => row.status === "pending" && row.attempts === 1 && /429/.test(row.lastError ?? ""))).toBe(true);
    // Not before the 30 seconds Resend asked for.
    expect(rows.every((row) => row.nextAttemptAt.getTime() >= Date.now() + 25_000)).toBe(true);
    expect(await drainOutbox(database.db, provider())).toEqual({ claimed: 0, sent: 0 });

    await database.db`update email_deliveries set next_attempt_at = now() where organization_id = ${owner.organizationId}`;
    resend.force({ status: 500 }, { status: 503 });
    for (let round = 0; round < 2; round++) {
      await drainOutbox(database.db, provider(), { rounds: 1 });
      await database.db`update email_deliveries set next_attempt_at = now() where organization_id = ${owner.organizationId} and status = 'pending'`;
    }
    const last = await drainOutbox(database.db, provider());
    expect(last.sent).toBe(2);
    rows = await episodeRows(owner);
    expect(rows.every((row) => row.status === "sent" && row.attempts === 4 && row.lastError === null)).toBe(true);
    // Four tries of the same batch, all under one key; two emails out.
    expect(new Set(resend.requests.map((request) => request.idempotencyKey)).size).toBe(1);
    expect(resend.requests.map((request) => request.status)).toEqual([429, 500, 503, 200]);
    expect(resend.sent).toHaveLength(2);
  });

  it("gives up after the last attempt, and does not retry a validation error", async () => {
    const db = database.db;
    const owner = await insertOwner(db, "Gives up");
    await db.begin((sql) =>
      enqueueEmail(sql, {
        organizationId: owner.organizationId,
        kind: "sign_in_link",
        toEmail: "ada@example.com",
        payload: { name: "Ada", signInUrl: "http://localhost:3000/signin/x", expiresAt: new Date().toISOString() },
      }),
    );
    resend.force({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    for (let round = 0; round < 4; round++) {
      await drainOutbox(db, provider(), { rounds: 1 });
      await db`update email_deliveries set next_attempt_at = now() where organization_id = ${owner.organizationId} and status = 'pending'`;
    }
    const [row] = await deliveries(db, owner.organizationId);
    expect(row).toMatchObject({ status: "failed", attempts: senderTestSettings.maxAttempts });
    expect(resend.sent).toHaveLength(0);
    // A single email goes out alone under its delivery's own key.
    expect(resend.requests.every((request) => request.path === "/emails" && request.idempotencyKey === row!.id)).toBe(true);
  });

  it("a sender that dies after Resend accepted the batch: the next sender repeats the same request and nothing is sent twice", async () => {
    const { owner } = await publishedToReaders("Crash", { "ada@example.com": "confirmed", "bob@example.com": "confirmed" });
    // The first sender claims and sends, Resend accepts, and the sender never records it (as if killed).
    const units = await claimDueDeliveries(database.db, { owner: "dead-sender", leaseMs: 1, limit: 10, batchSize: 100 });
    expect(units).toHaveLength(1);
    const { renderDelivery } = await import("../../app/email/sender.server");
    const signer = await getLinkSigner(database.db);
    const messages = await Promise.all(units[0]!.deliveries.map((row) => renderDelivery(database.db, row, { signer, settings: senderTestSettings })));
    const accepted = await provider().send(messages, `batch-${units[0]!.batchId}`);
    expect(accepted.ok).toBe(true);
    expect(resend.sent).toHaveLength(2);

    await new Promise((resolve) => setTimeout(resolve, 20));
    const result = await drainOutbox(database.db, provider(), { owner: "second-sender" });
    expect(result.sent).toBe(2);
    expect(resend.sent).toHaveLength(2);
    expect(resend.requests.at(-1)).toMatchObject({ replayed: true, idempotencyKey: `batch-${units[0]!.batchId}` });
    const rows = await episodeRows(owner);
    expect(rows.every((row) => row.status === "sent" && row.attempts === 2)).toBe(true);
  });

  it("cancels an email whose reader left or was suppressed after it was queued", async () => {
    const db = database.db;
    const { owner, subscribers } = await publishedToReaders("Left", { "stays@example.com": "confirmed", "leaves@example.com": "confirmed", "blocked@example.com": "confirmed" });
    await db`update subscribers set status = 'unsubscribed', unsubscribed_at = now() where id = ${subscribers["leaves@example.com"]!}`;
    await suppress(db, owner, "blocked@example.com");
    await drainOutbox(db, provider());
    expect(resend.sent.map((email) => email.to[0])).toEqual(["stays@example.com"]);
    const rows = await episodeRows(owner);
    expect(Object.fromEntries(rows.map((row) => [row.toEmail, row.status]))).toEqual({
      "blocked@example.com": "cancelled",
      "leaves@example.com": "cancelled",
      "stays@example.com": "sent",
    });
  });

  it("stays under the provider's requests per second", async () => {
    const readers = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`pace${i}@example.com`, "confirmed" as const]));
    await publishedToReaders("Pace", readers);
    resend.limitPerSecond(2);
    // Batches of one: five requests at 2 a second take at least two seconds and are never refused.
    const started = Date.now();
    const result = await drainOutbox(database.db, provider(1), { limiter: new RateLimiter(2) });
    expect(result.sent).toBe(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(resend.requests.filter((request) => request.status === 429)).toHaveLength(0);
  });
});

describe("one template per episode", () => {
  it("each reader's copy carries only their own links and address, escaped in HTML and plain in text", async () => {
    const { owner, projectId } = await publishedToReaders("Copies", { "o'neil&co@example.com": "confirmed", "plain@example.com": "confirmed" });
    const { renderDelivery } = await import("../../app/email/sender.server");
    const signer = await getLinkSigner(database.db);
    const rows = await episodeRows(owner);
    const episodes = new Map();
    const [odd, plain] = await Promise.all(rows.map((row) => renderDelivery(database.db, row, { signer, settings: senderTestSettings, episodes })));
    const tokenOf = (row: (typeof rows)[number]) => signer.unsubscribeToken({ organizationId: owner.organizationId, projectId, subscriberId: row.subscriberId! });
    for (const message of [odd!, plain!]) {
      expect(message.html).not.toContain("stand-in.invalid");
      expect(message.text).not.toContain("stand-in.invalid");
    }
    expect(odd!.html).toContain("You get this because o&#x27;neil&amp;co@example.com subscribed to Copies futures");
    expect(odd!.text).toContain("You get this because o'neil&co@example.com subscribed to Copies futures");
    expect(odd!.html).toContain(tokenOf(rows[0]!));
    expect(odd!.html).not.toContain(tokenOf(rows[1]!));
    expect(plain!.html).toContain(tokenOf(rows[1]!));
    expect(plain!.text).toContain(tokenOf(rows[1]!));
    expect(plain!.html).not.toContain(tokenOf(rows[0]!));
    // The template rendered straight from this reader's own props gives the same email to the byte.
    const { renderEmail } = await import("../../app/email/templates.server");
    const { markdownToSafeHtml } = await import("../../app/lib/markdown-html.server");
    const row = rows[1]!;
    const [episode] = await database.db`select * from episodes where id = ${row.episodeId!}`;
    const ids = { organizationId: owner.organizationId, episodeId: row.episodeId!, subscriberId: row.subscriberId! };
    const direct = await renderEmail("episode", {
      projectName: "Copies futures",
      title: episode!.title,
      summary: episode!.summary,
      publishedAt: episode!.publishedAt.toISOString(),
      readingMinutes: episode!.readingMinutes,
      contentHtml: markdownToSafeHtml(episode!.content, { target: "email", sectionLevel: 1 }),
      sources: episode!.sources.map((source: { title: string; url: string; publisher?: string }) => ({ ...source, publisher: source.publisher ?? null })),
      webUrl: signer.episodeUrl(ids),
      feedbackUrls: [1, 2, 3, 4, 5].map((rating) => signer.feedbackUrl({ ...ids, rating })),
      unsubscribeUrl: signer.unsubscribeUrl({ organizationId: owner.organizationId, projectId, subscriberId: row.subscriberId! }),
      reason: "You get this because plain@example.com subscribed to Copies futures on Many Futures.",
    });
    expect({ subject: plain!.subject, html: plain!.html, text: plain!.text }).toEqual(direct);
  });
});

describe("sending through SMTP", () => {
  it("delivers one multipart message per reader with the list headers, and retries a 4xx reply", async () => {
    const { owner, projectId, episode } = await publishedToReaders("Smtp", { "ada@example.com": "confirmed", "bob@example.com": "confirmed" });
    const client = smtpProvider({ url: smtp.url, requestsPerSecond: 1000 });
    smtp.rejectNext(451, "Try again later");
    await drainOutbox(database.db, client, { rounds: 1 });
    await database.db`update email_deliveries set next_attempt_at = now() where organization_id = ${owner.organizationId} and status = 'pending'`;
    await drainOutbox(database.db, client);
    await client.close?.();
    const mine = smtp.messages.filter((message) => message.headers.get("x-many-futures-project") === projectId);
    expect(mine.map((message) => message.to[0]).sort()).toEqual(["ada@example.com", "bob@example.com"]);
    for (const message of mine) {
      expect(message.headers.get("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
      expect(message.headers.get("list-unsubscribe")).toMatch(/^<http:\/\/localhost:3000\/unsubscribe\/[^>]+>, <mailto:unsubscribe@futures\.test\?subject=/);
      expect(message.headers.get("x-many-futures-episode")).toBe(episode.id);
      expect(message.headers.get("content-type")).toMatch(/^multipart\/alternative/);
      expect(message.raw).toMatch(/Content-Type: text\/plain/);
      expect(message.raw).toMatch(/Content-Type: text\/html/);
    }
    const rows = await episodeRows(owner);
    expect(rows.every((row) => row.status === "sent" && row.provider === "smtp")).toBe(true);
    expect(rows.map((row) => row.attempts).sort()).toEqual([1, 2]);
  });
});

describe("the built-in outbox", () => {
  it("marks emails sent with provider outbox and sends nothing anywhere", async () => {
    const { owner } = await publishedToReaders("Outbox", { "ada@example.com": "confirmed" });
    const result = await sendDueEmails(database.db, {
      provider: outboxProvider(),
      limiter: new RateLimiter(1000),
      owner: "outbox-sender",
      settings: senderTestSettings,
      logger: silentLogger,
    });
    expect(result.sent).toBeGreaterThanOrEqual(1);
    const [row] = await episodeRows(owner);
    expect(row).toMatchObject({ status: "sent", provider: "outbox", providerMessageId: null, subject: "Storage at scale · Outbox futures" });
    expect(resend.requests).toHaveLength(0);
  });
});
