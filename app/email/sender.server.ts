import { appOrigin } from "~/lib/app-url.server";
import { getConfig, type Config } from "~/lib/config.server";
import type { Db } from "~/lib/db.server";
import type { Logger } from "~/lib/logger.server";
import { markdownToSafeHtml } from "~/lib/markdown-html.server";
import type { RateLimiter } from "~/lib/rate-limiter.server";
import {
  claimDueDeliveries,
  recordDeliveryResults,
  releaseDeliveries,
  type ClaimedUnit,
  type DeliveryOutcome,
  type DeliveryResult,
  type EmailDeliveryRow,
  type EmailKind,
} from "~/models/email-deliveries.server";
import { getEpisode, type EpisodeRow } from "~/models/episodes.server";
import { getProject } from "~/models/projects.server";
import { getLinkSigner, type LinkSigner } from "./links.server";
import type { EmailProviderClient, OutgoingEmail } from "./providers.server";
import { renderEmail, type EpisodeEmailProps, type RenderedEmail, type TemplateProps } from "./templates.server";

/**
 * The sender: claims due outbox rows, renders them, hands them to the provider and records what happened. Safe
 * with many senders (rows are leased with SKIP LOCKED) and against crashes: a lease that runs out is claimed
 * again and the same request is repeated with the same Idempotency-Key, which Resend answers without sending again.
 */

export interface SenderSettings {
  from: string;
  /** The address in List-Unsubscribe's mailto. */
  unsubscribeMailto: string;
  maxAttempts: number;
  retryBaseMs: number;
  leaseMs: number;
  /** The app's public origin, for List-Id. */
  origin: string;
}

export function senderSettings(config: Config = getConfig()): SenderSettings {
  const origin = appOrigin(config);
  return {
    from: config.EMAIL_FROM,
    unsubscribeMailto: config.EMAIL_UNSUBSCRIBE_MAILTO ?? `unsubscribe@${new URL(origin).hostname}`,
    maxAttempts: config.EMAIL_MAX_ATTEMPTS,
    retryBaseMs: config.EMAIL_RETRY_BASE_MS,
    leaseMs: config.EMAIL_LEASE_MS,
    origin,
  };
}

/** Exponential backoff with jitter, capped at an hour; never sooner than the provider's Retry-After. */
export function emailRetryDelayMs(attempt: number, baseMs: number, retryAfterMs = 0, random: () => number = Math.random): number {
  const exponential = Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(retryAfterMs, Math.round(exponential * (0.75 + random() * 0.5)));
}

interface EpisodeContext {
  episode: EpisodeRow;
  projectName: string;
  contentHtml: string;
  /** The email rendered once with stand-ins for each reader's links and address (see personalise). */
  template?: Promise<RenderedEmail>;
}

/**
 * Every reader's copy of an episode is the same but for their links and address, so the template is rendered once
 * per episode with these stand-ins and each copy replaces them: rendering 10,000 copies costs one render.
 */
const STAND_INS = {
  webUrl: "https://stand-in.invalid/web",
  unsubscribeUrl: "https://stand-in.invalid/unsubscribe",
  feedbackUrls: [1, 2, 3, 4, 5].map((rating) => `https://stand-in.invalid/feedback-${rating}`),
  email: "reader@stand-in.invalid",
};

interface ReaderValues {
  webUrl: string;
  unsubscribeUrl: string;
  feedbackUrls: string[];
  email: string;
}

/** What React escapes in text and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" })[c]!);
}

function personalise(template: RenderedEmail, values: ReaderValues): RenderedEmail {
  const pairs: [string, string][] = [
    [STAND_INS.webUrl, values.webUrl],
    [STAND_INS.unsubscribeUrl, values.unsubscribeUrl],
    ...STAND_INS.feedbackUrls.map((url, index): [string, string] => [url, values.feedbackUrls[index]!]),
    [STAND_INS.email, values.email],
  ];
  let { html, text } = template;
  for (const [standIn, value] of pairs) {
    html = html.split(standIn).join(escapeHtml(value));
    text = text.split(standIn).join(value);
  }
  return { subject: template.subject, html, text };
}

function baseHeaders(delivery: EmailDeliveryRow): Record<string, string> {
  const headers: Record<string, string> = { "X-Many-Futures-Delivery": delivery.id, "X-Many-Futures-Kind": delivery.kind };
  if (delivery.projectId) headers["X-Many-Futures-Project"] = delivery.projectId;
  if (delivery.episodeId) headers["X-Many-Futures-Episode"] = delivery.episodeId;
  return headers;
}

function tagsFor(delivery: EmailDeliveryRow): OutgoingEmail["tags"] {
  const tags = [
    { name: "kind", value: delivery.kind },
    { name: "delivery_id", value: delivery.id },
  ];
  if (delivery.projectId) tags.push({ name: "project_id", value: delivery.projectId });
  if (delivery.episodeId) tags.push({ name: "episode_id", value: delivery.episodeId });
  return tags;
}

function episodeProps(context: EpisodeContext, values: ReaderValues): EpisodeEmailProps {
  const { episode } = context;
  return {
    projectName: context.projectName,
    title: episode.title ?? "A new episode",
    summary: episode.summary,
    publishedAt: (episode.publishedAt ?? episode.scheduledFor).toISOString(),
    readingMinutes: episode.readingMinutes ?? 1,
    contentHtml: context.contentHtml,
    sources: episode.sources.map((source) => ({ title: source.title, url: source.url, publisher: source.publisher ?? null })),
    webUrl: values.webUrl,
    feedbackUrls: values.feedbackUrls,
    unsubscribeUrl: values.unsubscribeUrl,
    reason: `You get this because ${values.email} subscribed to ${context.projectName} on Many Futures.`,
  };
}

/** One reader's episode email and its list headers (RFC 2369 List-Unsubscribe, RFC 8058 one-click). */
export async function renderEpisodeEmail(
  delivery: EmailDeliveryRow,
  context: EpisodeContext,
  signer: LinkSigner,
  settings: Pick<SenderSettings, "unsubscribeMailto" | "origin">,
): Promise<{ rendered: RenderedEmail; headers: Record<string, string> }> {
  const { episode } = context;
  const subscriberId = delivery.subscriberId!;
  const organizationId = delivery.organizationId;
  const unsubscribe = { organizationId, projectId: episode.projectId, subscriberId };
  const values: ReaderValues = {
    webUrl: signer.episodeUrl({ episodeId: episode.id, organizationId, subscriberId }),
    unsubscribeUrl: signer.unsubscribeUrl(unsubscribe),
    feedbackUrls: [1, 2, 3, 4, 5].map((rating) => signer.feedbackUrl({ organizationId, episodeId: episode.id, subscriberId, rating })),
    email: delivery.toEmail,
  };
  context.template ??= renderEmail("episode", episodeProps(context, STAND_INS));
  const rendered = personalise(await context.template, values);
  const mailto = `mailto:${settings.unsubscribeMailto}?subject=${encodeURIComponent(`unsubscribe ${signer.unsubscribeToken(unsubscribe)}`)}`;
  const headers = {
    "List-Unsubscribe": `<${values.unsubscribeUrl}>, <${mailto}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "List-Id": `<${episode.projectId}.${new URL(settings.origin).hostname}>`,
  };
  return { rendered, headers };
}

/** Reads what episode emails need, once per episode per round. */
async function loadEpisodeContext(db: Db, delivery: EmailDeliveryRow, cache: Map<string, EpisodeContext | null>): Promise<EpisodeContext | null> {
  const key = delivery.episodeId!;
  if (cache.has(key)) return cache.get(key)!;
  const episode = await getEpisode(db, delivery.organizationId, key);
  let context: EpisodeContext | null = null;
  if (episode && episode.status === "PUBLISHED" && episode.content) {
    const project = await getProject(db, episode.organizationId, episode.projectId);
    context = {
      episode,
      projectName: project?.title ?? "Many Futures",
      contentHtml: markdownToSafeHtml(episode.content, { target: "email", sectionLevel: 1 }),
    };
  }
  cache.set(key, context);
  return context;
}

/** Renders one delivery into the message the provider gets. Throws when it cannot be rendered. */
export async function renderDelivery(
  db: Db,
  delivery: EmailDeliveryRow,
  deps: { signer: LinkSigner; settings: SenderSettings; episodes?: Map<string, EpisodeContext | null> },
): Promise<OutgoingEmail> {
  let headers = baseHeaders(delivery);
  let rendered;
  if (delivery.kind === "episode") {
    const context = await loadEpisodeContext(db, delivery, deps.episodes ?? new Map());
    if (!context) throw new Error("The episode is no longer published.");
    const email = await renderEpisodeEmail(delivery, context, deps.signer, deps.settings);
    headers = { ...headers, ...email.headers };
    rendered = email.rendered;
  } else {
    const kind = delivery.kind as Exclude<EmailKind, "episode">;
    rendered = await renderEmail(kind, delivery.payload as TemplateProps[typeof kind]);
  }
  return {
    deliveryId: delivery.id,
    from: deps.settings.from,
    to: delivery.toEmail,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers,
    tags: tagsFor(delivery),
  };
}

export interface SendRoundOptions {
  provider: EmailProviderClient;
  limiter: RateLimiter;
  owner: string;
  settings: SenderSettings;
  logger: Logger;
  /** Rows claimed per round; defaults to two provider batches. */
  claimLimit?: number;
  signal?: AbortSignal;
}

/** One group: rendered, sent in one request, and recorded. */
async function sendUnit(db: Db, unit: ClaimedUnit, options: SendRoundOptions, deps: Parameters<typeof renderDelivery>[2]): Promise<number> {
  const { provider, settings } = options;
  const results: DeliveryResult[] = [];
  const ready: { delivery: EmailDeliveryRow; message: OutgoingEmail }[] = [];
  for (const delivery of unit.deliveries) {
    try {
      ready.push({ delivery, message: await renderDelivery(db, delivery, deps) });
    } catch (error) {
      results.push({
        id: delivery.id,
        subject: null,
        headers: baseHeaders(delivery),
        outcome: { kind: "failed", error: `Could not render: ${error instanceof Error ? error.message : String(error)}` },
      });
    }
  }
  let sent = 0;
  if (ready.length) {
    // A batch repeats under its own key; an email sent alone under its delivery's.
    const idempotencyKey = unit.batchId ? `batch-${unit.batchId}` : unit.deliveries[0]!.idempotencyKey;
    const answered = await options.limiter.take(options.signal);
    const outcome = await provider
      .send(
        ready.map((item) => item.message),
        idempotencyKey,
      )
      .finally(answered);
    if (!outcome.ok && outcome.retryAfterMs) options.limiter.pauseFor(outcome.retryAfterMs);
    ready.forEach((item, index) => {
      let result: DeliveryOutcome;
      if (outcome.ok) {
        result = { kind: "sent", providerMessageId: outcome.providerMessageIds[index] ?? null };
        sent += 1;
      } else if (outcome.retryable && item.delivery.attempts < settings.maxAttempts) {
        const delay = emailRetryDelayMs(item.delivery.attempts, settings.retryBaseMs, outcome.retryAfterMs);
        result = { kind: "retry", at: new Date(Date.now() + delay), error: outcome.error };
      } else {
        result = { kind: "failed", error: outcome.error };
      }
      results.push({ id: item.delivery.id, subject: item.message.subject, headers: item.message.headers, outcome: result });
    });
    if (!outcome.ok) {
      options.logger.warn({ provider: provider.name, deliveries: ready.length, retryable: outcome.retryable, error: outcome.error }, "email send failed");
    }
  }
  await recordDeliveryResults(db, { owner: options.owner, provider: provider.name, results });
  return sent;
}

/** One round: claim what is due, send it group by group, record each. Returns how many rows were claimed and sent. */
export async function sendDueEmails(db: Db, options: SendRoundOptions): Promise<{ claimed: number; sent: number }> {
  const batchSize = options.provider.maxBatchSize;
  const units = await claimDueDeliveries(db, {
    owner: options.owner,
    leaseMs: options.settings.leaseMs,
    limit: options.claimLimit ?? Math.max(batchSize * 2, 10),
    batchSize,
  });
  if (!units.length) return { claimed: 0, sent: 0 };
  const deps = { signer: await getLinkSigner(db), settings: options.settings, episodes: new Map<string, EpisodeContext | null>() };
  let sent = 0;
  let claimed = 0;
  for (const unit of units) {
    claimed += unit.deliveries.length;
    // Stopping mid-round gives the rest back at once rather than leaving them leased.
    if (options.signal?.aborted) {
      await releaseDeliveries(db, options.owner, unit.deliveries.map((delivery) => delivery.id));
      continue;
    }
    sent += await sendUnit(db, unit, options, deps);
  }
  return { claimed, sent };
}
