import type { Config } from "~/lib/config.server";
import type { Db } from "~/lib/db.server";
import type { Role } from "~/lib/roles";
import {
  getDelivery,
  getDeliveryOfAnyOrganization,
  listDeliveries,
  listDeliveriesOfAllOrganizations,
  type EmailDeliveryRow,
} from "~/models/email-deliveries.server";
import { getLinkSigner } from "./links.server";
import type { OutgoingEmail } from "./providers.server";
import { renderDelivery, senderSettings } from "./sender.server";

/**
 * The outbox page: what was sent, or would have been with the built-in outbox. An organization's owners see
 * their organization's emails; in development everyone sees every email, signed in or not, so the links in
 * emails to accounts not yet confirmed can be followed.
 */

export type OutboxScope = { kind: "all" } | { kind: "organization"; organizationId: string };

/** Who may see what; null when the viewer may not see the outbox. */
export function outboxScope(config: Pick<Config, "NODE_ENV">, viewer: { organizationId: string; role: Role } | null): OutboxScope | null {
  if (config.NODE_ENV === "development") return { kind: "all" };
  if (viewer?.role === "owner") return { kind: "organization", organizationId: viewer.organizationId };
  return null;
}

export function listOutbox(db: Db, scope: OutboxScope): Promise<EmailDeliveryRow[]> {
  return scope.kind === "all" ? listDeliveriesOfAllOrganizations(db, { limit: 200 }) : listDeliveries(db, scope.organizationId, { limit: 200 });
}

/** The delivery, when it is in this scope. */
export function findOutboxDelivery(db: Db, scope: OutboxScope, deliveryId: string): Promise<EmailDeliveryRow | undefined> {
  return scope.kind === "all" ? getDeliveryOfAnyOrganization(db, deliveryId) : getDelivery(db, scope.organizationId, deliveryId);
}

export type OutboxPreview = { delivery: EmailDeliveryRow; message: OutgoingEmail | null; renderError: string | null };

/** One delivery, rendered as it is (or was) sent: subject, HTML, text and headers. */
export async function previewDelivery(db: Db, scope: OutboxScope, deliveryId: string, config: Config): Promise<OutboxPreview | undefined> {
  const delivery = await findOutboxDelivery(db, scope, deliveryId);
  if (!delivery) return undefined;
  try {
    const message = await renderDelivery(db, delivery, { signer: await getLinkSigner(db), settings: senderSettings(config) });
    return { delivery, message, renderError: null };
  } catch (error) {
    return { delivery, message: null, renderError: error instanceof Error ? error.message : String(error) };
  }
}
