import type { ActionFunctionArgs } from "@remix-run/node";
import { handleResendWebhook } from "~/email/webhooks.server";
import { getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse } from "~/lib/http.server";
import { getLogger } from "~/lib/logger.server";

export function loader() {
  return jsonResponse({ error: "POST Resend webhook events here." }, { status: 405, headers: { Allow: "POST" } });
}

const MAX_BODY_BYTES = 256 * 1024;

/** Resend's delivered, bounced, complained and failed events; the signature is checked over the raw body. */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return jsonResponse({ error: "Use POST." }, { status: 405, headers: { Allow: "POST" } });
  const rawBody = await request.text();
  if (rawBody.length > MAX_BODY_BYTES) return jsonResponse({ error: "The body is too large." }, { status: 413 });
  const result = await handleResendWebhook(getDb(), getConfig().RESEND_WEBHOOK_SECRET, rawBody, request.headers);
  if (!result.ok && result.status === 400) getLogger().warn({ webhookId: request.headers.get("svix-id"), error: result.body.error }, "rejected Resend webhook");
  return jsonResponse(result.body, { status: result.status });
}
