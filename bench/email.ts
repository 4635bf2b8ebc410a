// Email: how long one episode email takes to render (per subscriber, since each carries its own links), next to
// React's bare renderToStaticMarkup of the same tree as the anchor; and how fast the real sender empties an outbox
// of 10,000 subscribers into the local Resend-compatible server, batched 100 a call, under Resend's 2 requests/s
// limit (simulated by the server: a third request within a second gets 429) and honoured by the sender.
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import postgres from "postgres";
import { pino } from "pino";
import EpisodeEmail from "../emails/episode";
import { getLinkSigner } from "../app/email/links.server";
import { resendProvider } from "../app/email/providers.server";
import { renderDelivery, sendDueEmails, type SenderSettings } from "../app/email/sender.server";
import { renderEmail } from "../app/email/templates.server";
import { createDb, type Db } from "../app/lib/db.server";
import { markdownToSafeHtml } from "../app/lib/markdown-html.server";
import { RateLimiter } from "../app/lib/rate-limiter.server";
import { enqueueEpisodeDeliveries, type EmailDeliveryRow } from "../app/models/email-deliveries.server";
import { startFakeResend } from "../tests/support/fake-resend";
import { databaseUrl } from "../tests/support/postgres-server";
import type { BenchPostgres } from "./queue";

export interface RenderResult {
  what: string;
  samples: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface OutboxResult {
  subscribers: number;
  batchSize: number;
  requestsPerSecondLimit: number;
  seconds: number;
  emailsPerSecond: number;
  requests: number;
  refused429: number;
  duplicates: number;
  /** The fastest the limit allows: ceil(subscribers / batch) requests at the limit's rate. */
  floorSeconds: number;
}

const settings: SenderSettings = {
  from: "Many Futures <episodes@bench.test>",
  unsubscribeMailto: "unsubscribe@bench.test",
  maxAttempts: 8,
  retryBaseMs: 500,
  leaseMs: 120_000,
  origin: "http://bench.test",
};

/** About 1,000 words: headings, paragraphs with links and emphasis, lists and quotes, as the writer produces. */
function episodeMarkdown(): string {
  const sections = Array.from({ length: 8 }, (_, i) =>
    [
      `## ${["What changed", "Why it matters", "Signals", "Counterpoints", "Scenarios", "Watch next", "Numbers", "Sources in brief"][i]}`,
      `Grid-scale storage tenders **doubled** against last year, and the [connection reform](https://example.org/reform/${i}) moved again. ` +
        "Analysts expect the queue to shrink as speculative projects leave it, while councils plan heat networks that assume cheap overnight power. ".repeat(3),
      "- National Grid opened a second round of its long-duration storage auction.\n- Two councils published heat-network plans.\n- A battery maker announced a sodium-ion line.",
      "> Storage has stopped being the hard part; connection queues are.",
      "If your scenario assumed storage stays scarce until 2030, revisit it. *Three* of the five signals we track moved this week.",
    ].join("\n\n"),
  );
  return sections.join("\n\n");
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const round = (n: number) => Math.round(n * 100) / 100;

function summarise(what: string, times: number[]): RenderResult {
  const sorted = [...times].sort((a, b) => a - b);
  return { what, samples: sorted.length, p50Ms: round(quantile(sorted, 0.5)), p95Ms: round(quantile(sorted, 0.95)), p99Ms: round(quantile(sorted, 0.99)) };
}

async function freshDatabase(server: BenchPostgres, name: string): Promise<{ db: Db; drop: () => Promise<void> }> {
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  const database = `mf_bench_${name}_${Date.now()}`;
  await admin.unsafe(`create database ${database} template ${server.templateDatabase}`);
  await admin.unsafe(`alter database ${database} set synchronous_commit = off`);
  const db = createDb(databaseUrl(server.adminUrl, database), { max: 4 });
  return {
    db,
    drop: async () => {
      await db.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists ${database} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/** An organization, a project, its published episode and `subscribers` confirmed readers. */
async function seedEpisode(db: Db, subscribers: number, content: string) {
  const [org] = await db<{ id: string }[]>`insert into organizations (name) values ('Bench') returning id`;
  const [project] = await db<{ id: string }[]>`
    insert into projects (organization_id, title) values (${org!.id}, 'Energy futures for Leeds') returning id`;
  const [episode] = await db<{ id: string }[]>`
    insert into episodes (organization_id, project_id, status, title, summary, content, sources, scheduled_for, published_at, reading_minutes)
    values (${org!.id}, ${project!.id}, 'PUBLISHED', 'Storage is no longer the bottleneck', 'Connection queues are.', ${content},
      ${db.json([{ title: "Auction round two", url: "https://example.org/ldes", publisher: "ESO" }])}, now(), now(), 5)
    returning id`;
  await db`
    insert into subscribers (organization_id, project_id, email, status, confirmed_at)
    select ${org!.id}, ${project!.id}, 'reader' || n || '@bench.test', 'confirmed', now() from generate_series(1, ${subscribers}) n`;
  await db.begin((sql) => enqueueEpisodeDeliveries(sql, { organizationId: org!.id, episodeId: episode!.id, projectId: project!.id }));
  return { organizationId: org!.id, projectId: project!.id, episodeId: episode!.id };
}

export async function renderTiming(server: BenchPostgres, samples: number): Promise<RenderResult[]> {
  const { db, drop } = await freshDatabase(server, "render");
  try {
    const content = episodeMarkdown();
    const seeded = await seedEpisode(db, samples, content);
    const rows = await db<EmailDeliveryRow[]>`select * from email_deliveries where episode_id = ${seeded.episodeId} order by id`;
    const signer = await getLinkSigner(db);
    // Warm up: the first renders compile and cache.
    for (const row of rows.slice(0, 20)) await renderDelivery(db, row, { signer, settings });
    // Every email rendered on its own from its reader's props: the whole template each time...
    const contentHtml = markdownToSafeHtml(content, { target: "email", sectionLevel: 1 });
    const full: number[] = [];
    for (const [index, row] of rows.entries()) {
      const ids = { organizationId: seeded.organizationId, episodeId: seeded.episodeId, subscriberId: row.subscriberId! };
      const started = performance.now();
      const email = await renderEmail("episode", {
        ...EpisodeEmail.PreviewProps,
        contentHtml,
        webUrl: signer.episodeUrl(ids),
        feedbackUrls: [1, 2, 3, 4, 5].map((rating) => signer.feedbackUrl({ ...ids, rating })),
        unsubscribeUrl: signer.unsubscribeUrl({ organizationId: seeded.organizationId, projectId: seeded.projectId, subscriberId: row.subscriberId! }),
        reason: `You get this because reader${index}@bench.test subscribed.`,
      });
      full.push(performance.now() - started);
      if (!email.text) throw new Error("no text part");
    }
    // ...and as the sender does it, one template per episode shared by all its readers' copies.
    const episodes = new Map();
    const shared: number[] = [];
    for (const row of rows) {
      const started = performance.now();
      await renderDelivery(db, row, { signer, settings, episodes });
      shared.push(performance.now() - started);
    }
    const anchor: number[] = [];
    const element = createElement(EpisodeEmail, { ...EpisodeEmail.PreviewProps, contentHtml });
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      renderToStaticMarkup(element);
      anchor.push(performance.now() - started);
    }
    return [
      summarise("episode email rendered whole (template, HTML, text)", full),
      summarise("episode email per reader, as sent (one template per episode)", shared),
      summarise("anchor: react-dom renderToStaticMarkup, same tree", anchor),
    ];
  } finally {
    await drop();
  }
}

export async function outboxThroughput(server: BenchPostgres, subscribers: number, requestsPerSecond = 2): Promise<OutboxResult> {
  const { db, drop } = await freshDatabase(server, "outbox");
  const resend = await startFakeResend();
  resend.limitPerSecond(requestsPerSecond);
  try {
    const seeded = await seedEpisode(db, subscribers, episodeMarkdown());
    const provider = resendProvider({ apiKey: resend.apiKey, baseUrl: resend.baseUrl, requestsPerSecond, batchSize: 100 });
    const limiter = new RateLimiter(requestsPerSecond);
    const logger = pino({ level: "silent" });
    const started = performance.now();
    for (;;) {
      const round = await sendDueEmails(db, { provider, limiter, owner: "bench", settings, logger });
      if (!round.claimed) {
        const [{ left }] = await db<{ left: number }[]>`
          select count(*)::int as left from email_deliveries where episode_id = ${seeded.episodeId} and status <> 'sent'`;
        if (!left) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const recipients = resend.sent.map((email) => email.to[0]);
    return {
      subscribers,
      batchSize: 100,
      requestsPerSecondLimit: requestsPerSecond,
      seconds: round(seconds),
      emailsPerSecond: round(subscribers / seconds),
      requests: resend.requests.length,
      refused429: resend.requests.filter((request) => request.status === 429).length,
      duplicates: recipients.length - new Set(recipients).size,
      floorSeconds: Math.ceil(subscribers / 100) / requestsPerSecond,
    };
  } finally {
    await resend.close();
    await drop();
  }
}
