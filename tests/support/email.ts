import { pino } from "pino";
import { resetLinkSigner } from "../../app/email/links.server";
import type { EmailProviderClient } from "../../app/email/providers.server";
import { sendDueEmails, type SenderSettings } from "../../app/email/sender.server";
import type { Db } from "../../app/lib/db.server";
import { RateLimiter } from "../../app/lib/rate-limiter.server";
import type { EmailDeliveryRow } from "../../app/models/email-deliveries.server";
import type { Owner } from "./episodes";

export const senderTestSettings: SenderSettings = {
  from: "Many Futures <episodes@futures.test>",
  unsubscribeMailto: "unsubscribe@futures.test",
  maxAttempts: 4,
  retryBaseMs: 10,
  leaseMs: 60_000,
  origin: "http://localhost:3000",
};

export const silentLogger = pino({ level: "silent" });

export type SubscriberStatus = "pending" | "confirmed" | "unsubscribed" | "bounced" | "complained";

/** A subscriber row as the subscriber pages will make it (inserted directly until they exist). */
export async function insertSubscriber(db: Db, owner: Owner, projectId: string, email: string, status: SubscriberStatus = "confirmed"): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    insert into subscribers (organization_id, project_id, email, status, confirmed_at, unsubscribed_at)
    values (${owner.organizationId}, ${projectId}, ${email}, ${status},
      ${status === "confirmed" ? new Date() : null}, ${status === "unsubscribed" ? new Date() : null})
    returning id`;
  return row!.id;
}

export async function suppress(db: Db, owner: Owner, email: string, reason: "bounced" | "complained" = "bounced"): Promise<void> {
  await db`insert into email_suppressions (organization_id, email, reason) values (${owner.organizationId}, ${email}, ${reason})`;
}

export function deliveries(db: Db, organizationId: string): Promise<EmailDeliveryRow[]> {
  return db<EmailDeliveryRow[]>`select * from email_deliveries where organization_id = ${organizationId} order by to_email, created_at`;
}

/** Sends rounds until nothing is due, as the worker does. */
export async function drainOutbox(
  db: Db,
  provider: EmailProviderClient,
  options: { owner?: string; limiter?: RateLimiter; settings?: SenderSettings; rounds?: number } = {},
): Promise<{ claimed: number; sent: number }> {
  const limiter = options.limiter ?? new RateLimiter(1000);
  const total = { claimed: 0, sent: 0 };
  for (let round = 0; round < (options.rounds ?? 1000); round++) {
    const result = await sendDueEmails(db, {
      provider,
      limiter,
      owner: options.owner ?? "test-sender",
      settings: options.settings ?? senderTestSettings,
      logger: silentLogger,
    });
    total.claimed += result.claimed;
    total.sent += result.sent;
    if (!result.claimed) break;
  }
  return total;
}

/** Each test file has its own database and therefore its own stored link secret. */
export function forgetLinkSigner(): void {
  resetLinkSigner();
}
