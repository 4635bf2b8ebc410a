import type { ActionFunctionArgs } from "@remix-run/node";
import { verifyWebhook } from "@clerk/backend/webhooks";
import { roleFromClerk } from "~/auth/clerk.server";
import { getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, requestMeta } from "~/lib/http.server";
import { getLogger } from "~/lib/logger.server";
import { applyClerkEvent } from "~/models/clerk-sync.server";
import { processWebhookOnce } from "~/models/webhook-receipts.server";

export function loader() {
  return jsonResponse({ error: "POST Clerk webhook events here." }, { status: 405, headers: { Allow: "POST" } });
}

/** Clerk's user, organization and membership events, verified (svix signature and timestamp) and applied once. */
export async function action({ request, context }: ActionFunctionArgs) {
  const signingSecret = getConfig().CLERK_WEBHOOK_SIGNING_SECRET;
  if (!signingSecret) return jsonResponse({ error: "Clerk webhooks are not configured." }, { status: 404 });

  const webhookId = request.headers.get("svix-id") ?? "";
  let event;
  try {
    event = await verifyWebhook(request, { signingSecret });
  } catch (error) {
    getLogger().warn({ webhookId, err: error }, "rejected Clerk webhook");
    return jsonResponse({ error: "invalid signature", field: "svix-signature" }, { status: 400 });
  }

  // Deletions carry no updated_at: date them by Clerk's event time, or by when this delivery was signed.
  const timestamp = (event as { timestamp?: number }).timestamp;
  const eventTime = new Date(timestamp ?? Number(request.headers.get("svix-timestamp")) * 1000);
  const outcome = await processWebhookOnce(getDb(), { source: "clerk", webhookId, eventType: event.type }, (sql) =>
    applyClerkEvent(sql, event, eventTime, (role) => roleFromClerk(role) ?? "member", requestMeta(request, context)),
  );
  return jsonResponse({ ...outcome.response, duplicate: outcome.duplicate });
}
