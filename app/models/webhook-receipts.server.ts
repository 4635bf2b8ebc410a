import type { Db, Queryable } from "~/lib/db.server";

export type WebhookSource = "clerk" | "n8n" | "resend";

export type ReceiptOutcome<T> = { duplicate: false; response: T } | { duplicate: true; response: T | null };

/**
 * Runs a webhook's effect exactly once per (source, id). The receipt and the effect commit in one transaction,
 * so a failure leaves no receipt and the sender's retry is processed; a repeat gets the first response back.
 * `organizationId`, when the message names one, ties the receipt to its tenant (deleted with it).
 */
export async function processWebhookOnce<T>(
  db: Db,
  receipt: { source: WebhookSource; webhookId: string; eventType: string; organizationId?: string },
  effect: (sql: Queryable) => Promise<T>,
): Promise<ReceiptOutcome<T>> {
  return db.begin(async (sql) => {
    const [inserted] = await sql<{ id: string }[]>`
      insert into webhook_receipts (source, webhook_id, event_type, organization_id)
      values (
        ${receipt.source}, ${receipt.webhookId}, ${receipt.eventType},
        -- The sender names the organization; one that does not exist is left out rather than refused.
        (select id from organizations where id = ${receipt.organizationId ?? null}::uuid)
      )
      on conflict (source, webhook_id) do nothing
      returning id`;
    if (!inserted) {
      const [existing] = await sql<{ response: T | null }[]>`
        select response from webhook_receipts where source = ${receipt.source} and webhook_id = ${receipt.webhookId}`;
      return { duplicate: true, response: existing?.response ?? null } as const;
    }
    const response = await effect(sql);
    await sql`
      update webhook_receipts set response = ${sql.json(response as never)}, processed_at = now()
      where id = ${inserted.id}`;
    return { duplicate: false, response } as const;
  });
}
