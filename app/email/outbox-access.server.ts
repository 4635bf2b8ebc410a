import type { AppLoadContext } from "@remix-run/node";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { getConfig } from "~/lib/config.server";
import { outboxScope, type OutboxScope } from "./outbox.server";

/** The outbox scope of this request: everything in development, else the owner's organization (others: 403). */
export async function requireOutboxScope(request: Request, context: AppLoadContext): Promise<OutboxScope> {
  const config = getConfig();
  const viewer = config.NODE_ENV === "development" ? null : await requireOrgContext(request, context);
  const scope = outboxScope(config, viewer);
  if (!scope) throw forbiddenResponse(request, "Only the organization's owners can see its outbox.");
  return scope;
}
