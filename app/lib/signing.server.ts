import crypto from "node:crypto";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

/**
 * Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature; `whsec_` secrets; five minutes' tolerance),
 * through the `standardwebhooks` library: we sign what we send to n8n and verify what n8n sends back.
 */

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

export function signWebhook(secret: string, body: string, id: string = `msg_${crypto.randomUUID()}`, at: Date = new Date()): SignedHeaders {
  const webhook = new Webhook(secret);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": webhook.sign(id, at, body),
  };
}

export type VerifiedWebhook = { ok: true; id: string; payload: unknown } | { ok: false; reason: string };

/** Checks the signature over the raw body and the timestamp's age; the body is parsed only once it is trusted. */
export function verifyWebhook(secret: string, rawBody: string, headers: Headers): VerifiedWebhook {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (!id || !timestamp || !signature) return { ok: false, reason: "missing webhook-id, webhook-timestamp or webhook-signature" };
  try {
    new Webhook(secret).verify(rawBody, { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature }, { jsonParse: false });
  } catch (error) {
    if (error instanceof WebhookVerificationError) return { ok: false, reason: error.message };
    throw error;
  }
  try {
    return { ok: true, id, payload: JSON.parse(rawBody) };
  } catch {
    return { ok: true, id, payload: undefined };
  }
}
