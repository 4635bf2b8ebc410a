import { Webhook, WebhookVerificationError } from "svix";
import { z } from "zod";
import type { Db } from "~/lib/db.server";
import { recordProviderEvent, type ProviderStatus } from "~/models/email-deliveries.server";
import { processWebhookOnce } from "~/models/webhook-receipts.server";

/**
 * Resend's delivery events: svix-signed (checked with the svix library over the raw body, five minutes'
 * tolerance), applied once per svix-id. A hard bounce or a complaint suppresses the address for the organization.
 */

const eventSchema = z.object({
  type: z.string().min(1).max(100),
  data: z
    .object({
      email_id: z.string().min(1).max(200),
      bounce: z.object({ type: z.string().max(100).optional(), message: z.string().max(2000).optional() }).partial().optional(),
      failed: z.object({ reason: z.string().max(2000).optional() }).partial().optional(),
    })
    .loose(),
});

const STATUS_BY_TYPE: Record<string, ProviderStatus> = {
  "email.delivered": "delivered",
  "email.delivery_delayed": "delayed",
  "email.bounced": "bounced",
  "email.complained": "complained",
  "email.failed": "failed",
};

export type ResendWebhookResult =
  | { ok: true; status: 200; body: { received: true; applied: boolean; duplicate: boolean } }
  | { ok: false; status: 400 | 404; body: { error: string; fields?: Record<string, string> } };

export async function handleResendWebhook(db: Db, secret: string | undefined, rawBody: string, headers: Headers): Promise<ResendWebhookResult> {
  if (!secret) return { ok: false, status: 404, body: { error: "Resend webhooks are not configured." } };
  const svixHeaders = {
    "svix-id": headers.get("svix-id") ?? "",
    "svix-timestamp": headers.get("svix-timestamp") ?? "",
    "svix-signature": headers.get("svix-signature") ?? "",
  };
  let payload: unknown;
  try {
    payload = new Webhook(secret).verify(rawBody, svixHeaders);
  } catch (error) {
    if (error instanceof WebhookVerificationError) {
      return { ok: false, status: 400, body: { error: "invalid signature", fields: { "svix-signature": error.message } } };
    }
    throw error;
  }
  const event = eventSchema.safeParse(payload);
  if (!event.success) return { ok: false, status: 400, body: { error: "not a Resend email event", fields: { body: event.error.issues[0]?.message ?? "invalid" } } };

  const status = STATUS_BY_TYPE[event.data.type];
  const outcome = await processWebhookOnce(db, { source: "resend", webhookId: svixHeaders["svix-id"], eventType: event.data.type }, async (sql) => {
    if (!status) return { applied: false };
    const bounceType = event.data.data.bounce?.type?.toLowerCase();
    // A transient bounce (mailbox full, greylisting) may succeed next time: only permanent ones suppress.
    const suppress = status === "complained" || (status === "bounced" && bounceType !== "transient" && bounceType !== "undetermined");
    const detail = event.data.data.bounce?.message ?? event.data.data.failed?.reason;
    const delivery = await recordProviderEvent(sql, { providerMessageId: event.data.data.email_id, status, suppress, detail });
    return { applied: !!delivery };
  });
  return { ok: true, status: 200, body: { received: true, applied: outcome.response?.applied ?? false, duplicate: outcome.duplicate } };
}
