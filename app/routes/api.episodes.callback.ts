import type { ActionFunctionArgs } from "@remix-run/node";
import { generationSettings } from "~/generation/lifecycle.server";
import { handleCallbackRequest } from "~/generation/n8n.server";
import { getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, methodNotAllowed } from "~/lib/http.server";

/**
 * n8n's reports on an episode (progress, completed, failed), authenticated by their Standard Webhooks signature
 * rather than a session, so the cross-site check for forms does not apply here.
 */
export function loader() {
  return methodNotAllowed(["POST"]);
}

export async function action({ request }: ActionFunctionArgs) {
  const config = getConfig();
  const { status, body, headers } = await handleCallbackRequest(getDb(), request, {
    secret: config.GENERATION_WEBHOOK_SECRET,
    settings: generationSettings(config),
  });
  return jsonResponse(body, { status, headers });
}
