import type { Queryable } from "~/lib/db.server";

/**
 * The email outbox: one row per message to send. Rows are inserted inside the transaction of the change that
 * causes them (publishing, an invitation, a failed generation), so a rolled-back change mails nobody; the sender
 * worker (app/jobs/email.server.ts) renders and sends them afterwards.
 */

export type EmailKind =
  | "episode"
  | "subscription_confirmation"
  | "invitation"
  | "password_reset"
  | "generation_failed"
  | "budget_alert"
  | "email_verification"
  | "sign_in_link";

export const EMAIL_KINDS: readonly EmailKind[] = [
  "episode",
  "subscription_confirmation",
  "invitation",
  "password_reset",
  "generation_failed",
  "budget_alert",
  "email_verification",
  "sign_in_link",
];

/**
 * What each kind stores in `payload`: everything its template needs that is not read at send time. Episodes store
 * nothing: the sender reads the episode, the project and the subscriber, and signs the reader's links itself.
 * URLs here are absolute (build them with absoluteUrl).
 */
export interface EmailPayloads {
  episode: Record<string, never>;
  subscription_confirmation: { projectName: string; confirmUrl: string; expiresAt: string };
  invitation: { organizationName: string; inviterName: string; role: "owner" | "admin" | "member"; acceptUrl: string; expiresAt: string };
  password_reset: { name: string; resetUrl: string; expiresAt: string };
  generation_failed: { projectName: string; episodeTitle: string | null; scheduledFor: string; reason: string; retryUrl: string };
  budget_alert: {
    organizationName: string;
    /** "warning" near the limit, "reached" once generation stops for the day. */
    level: "warning" | "reached";
    spentGbpMicros: number;
    limitGbpMicros: number;
    day: string;
    settingsUrl: string;
  };
  email_verification: { name: string; verifyUrl: string; expiresAt: string };
  sign_in_link: { name: string; signInUrl: string; expiresAt: string };
}

export type DeliveryStatus = "pending" | "sending" | "sent" | "failed" | "cancelled";
export type EmailProvider = "resend" | "smtp" | "outbox";
export type ProviderStatus = "delivered" | "delayed" | "bounced" | "complained" | "failed";

export interface EmailDeliveryRow {
  id: string;
  organizationId: string;
  kind: EmailKind;
  episodeId: string | null;
  subscriberId: string | null;
  projectId: string | null;
  userId: string | null;
  toEmail: string;
  subject: string | null;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  idempotencyKey: string;
  providerMessageId: string | null;
  provider: EmailProvider | null;
  providerStatus: ProviderStatus | null;
  providerStatusAt: Date | null;
  headers: Record<string, string>;
  lastError: string | null;
  lockedUntil: Date | null;
  lockedBy: string | null;
  sentAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type EnqueueEmailInput = {
  [K in EmailKind]: {
    organizationId: string;
    kind: K;
    toEmail: string;
    payload: EmailPayloads[K];
    episodeId?: string;
    subscriberId?: string;
    projectId?: string;
    userId?: string;
  };
}[EmailKind];

/**
 * Adds one email to the outbox, inside the caller's transaction. An address the organization has suppressed
 * (hard bounce, complaint) is skipped: `{ enqueued: false }`.
 */
export async function enqueueEmail(sql: Queryable, input: EnqueueEmailInput): Promise<{ enqueued: boolean; deliveryId: string | null }> {
  const toEmail = input.toEmail.trim().toLowerCase();
  const [row] = await sql<{ id: string }[]>`
    with fresh as (select gen_random_uuid() as id)
    insert into email_deliveries (id, idempotency_key, organization_id, kind, to_email, payload, episode_id, subscriber_id, project_id, user_id)
    select fresh.id, fresh.id::text, ${input.organizationId}, ${input.kind}, ${toEmail}, ${sql.json(input.payload as never)},
      ${input.episodeId ?? null}, ${input.subscriberId ?? null}, ${input.projectId ?? null}, ${input.userId ?? null}
    from fresh
    where not exists (
      select 1 from email_suppressions where organization_id = ${input.organizationId} and email = ${toEmail}
    )
    on conflict do nothing
    returning id`;
  return { enqueued: !!row, deliveryId: row?.id ?? null };
}

/**
 * One episode email per confirmed subscriber of the project, skipping suppressed addresses, inside the publishing
 * transaction. Unique per (episode, subscriber), so a second call adds nothing. Returns how many were added.
 */
export async function enqueueEpisodeDeliveries(
  sql: Queryable,
  input: { organizationId: string; episodeId: string; projectId: string },
): Promise<{ enqueued: number }> {
  const rows = await sql<{ id: string }[]>`
    with readers as (
      select gen_random_uuid() as id, s.id as subscriber_id, s.email
      from subscribers s
      where s.organization_id = ${input.organizationId} and s.project_id = ${input.projectId} and s.status = 'confirmed'
        and not exists (
          select 1 from email_suppressions x where x.organization_id = s.organization_id and x.email = s.email
        )
    )
    insert into email_deliveries (id, idempotency_key, organization_id, kind, to_email, episode_id, subscriber_id, project_id)
    select readers.id, readers.id::text, ${input.organizationId}, 'episode', readers.email, ${input.episodeId}, readers.subscriber_id, ${input.projectId}
    from readers
    on conflict (episode_id, subscriber_id) where kind = 'episode' do nothing
    returning id`;
  return { enqueued: rows.length };
}

/** One delivery of an organization, for the outbox page. */
export async function getDelivery(sql: Queryable, organizationId: string, deliveryId: string): Promise<EmailDeliveryRow | undefined> {
  const [row] = await sql<EmailDeliveryRow[]>`
    select * from email_deliveries where organization_id = ${organizationId} and id = ${deliveryId}`;
  return row;
}

/** An organization's deliveries, newest first. */
export async function listDeliveries(
  sql: Queryable,
  organizationId: string,
  options: { limit?: number } = {},
): Promise<EmailDeliveryRow[]> {
  return sql<EmailDeliveryRow[]>`
    select * from email_deliveries where organization_id = ${organizationId}
    order by created_at desc, id limit ${options.limit ?? 100}`;
}

/**
 * Takes up to `limit` deliveries that are due: pending ones whose time has come, and sending ones whose lease ran
 * out (their sender died mid-send; the idempotency key makes the provider ignore a message it already accepted).
 * SKIP LOCKED lets many senders claim side by side without waiting on each other.
 */
export async function claimDueDeliveries(
  sql: Queryable,
  options: { owner: string; leaseMs: number; limit: number },
): Promise<EmailDeliveryRow[]> {
  return sql<EmailDeliveryRow[]>`
    update email_deliveries d set
      status = 'sending',
      attempts = d.attempts + 1,
      locked_by = ${options.owner},
      locked_until = now() + ${options.leaseMs} * interval '1 millisecond'
    where d.id in (
      select id from email_deliveries
      where (status = 'pending' and next_attempt_at <= now()) or (status = 'sending' and locked_until < now())
      order by next_attempt_at, id
      limit ${options.limit}
      for update skip locked
    )
    returning d.*`;
}

/** The rendered subject and headers, recorded before the send so the outbox page shows what went out. */
export async function recordRendered(
  sql: Queryable,
  delivery: Pick<EmailDeliveryRow, "id" | "organizationId">,
  rendered: { subject: string; headers: Record<string, string> },
): Promise<void> {
  await sql`
    update email_deliveries set subject = ${rendered.subject.slice(0, 998)}, headers = ${sql.json(rendered.headers)}
    where organization_id = ${delivery.organizationId} and id = ${delivery.id}`;
}

/** The provider accepted the message. Only the sender that holds the lease can record it. */
export async function markSent(
  sql: Queryable,
  delivery: Pick<EmailDeliveryRow, "id" | "organizationId">,
  result: { owner: string; provider: EmailProvider; providerMessageId: string | null },
): Promise<boolean> {
  const rows = await sql`
    update email_deliveries set status = 'sent', sent_at = now(), provider = ${result.provider},
      provider_message_id = ${result.providerMessageId}, last_error = null, locked_until = null, locked_by = null
    where organization_id = ${delivery.organizationId} and id = ${delivery.id}
      and status = 'sending' and locked_by = ${result.owner}`;
  return rows.count === 1;
}

/** A failed attempt: tried again at `retryAt`, or failed for good when `retryAt` is null. */
export async function markAttemptFailed(
  sql: Queryable,
  delivery: Pick<EmailDeliveryRow, "id" | "organizationId">,
  result: { owner: string; provider: EmailProvider; error: string; retryAt: Date | null },
): Promise<boolean> {
  const rows = await sql`
    update email_deliveries set
      status = ${result.retryAt ? "pending" : "failed"},
      next_attempt_at = coalesce(${result.retryAt}, next_attempt_at),
      provider = ${result.provider},
      last_error = ${result.error.slice(0, 2000)},
      locked_until = null, locked_by = null
    where organization_id = ${delivery.organizationId} and id = ${delivery.id}
      and status = 'sending' and locked_by = ${result.owner}`;
  return rows.count === 1;
}

/** Nothing is sent: the address was suppressed or the reader left after the row was queued. */
export async function markCancelled(
  sql: Queryable,
  delivery: Pick<EmailDeliveryRow, "id" | "organizationId">,
  result: { owner: string; reason: string },
): Promise<boolean> {
  const rows = await sql`
    update email_deliveries set status = 'cancelled', last_error = ${result.reason.slice(0, 2000)},
      locked_until = null, locked_by = null
    where organization_id = ${delivery.organizationId} and id = ${delivery.id}
      and status = 'sending' and locked_by = ${result.owner}`;
  return rows.count === 1;
}

/** Gives claimed rows back untouched (the sender is shutting down before it sent them). */
export async function releaseDeliveries(sql: Queryable, owner: string, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await sql`
    update email_deliveries set status = 'pending', attempts = greatest(attempts - 1, 0), locked_until = null, locked_by = null
    where id = any(${ids}::uuid[]) and status = 'sending' and locked_by = ${owner}`;
}

/** Is this address suppressed for the organization? */
export async function isSuppressed(sql: Queryable, organizationId: string, email: string): Promise<boolean> {
  const [row] = await sql`
    select 1 from email_suppressions where organization_id = ${organizationId} and email = ${email.toLowerCase()}`;
  return !!row;
}

/**
 * What the provider's webhook reported about a message, found by the provider's id. A hard bounce or a complaint
 * also suppresses the address across the organization and marks its subscribers bounced or complained.
 * Returns the delivery, or nothing when the id is unknown.
 */
export async function recordProviderEvent(
  sql: Queryable,
  event: { providerMessageId: string; status: ProviderStatus; suppress: boolean; detail?: string },
): Promise<Pick<EmailDeliveryRow, "id" | "organizationId" | "toEmail"> | undefined> {
  const [delivery] = await sql<Pick<EmailDeliveryRow, "id" | "organizationId" | "toEmail">[]>`
    update email_deliveries set provider_status = ${event.status}, provider_status_at = now(),
      last_error = coalesce(${event.detail ? event.detail.slice(0, 2000) : null}, last_error)
    where provider_message_id = ${event.providerMessageId}
    returning id, organization_id, to_email`;
  if (!delivery) return undefined;
  if (event.suppress && (event.status === "bounced" || event.status === "complained")) {
    const reason = event.status;
    await sql`
      insert into email_suppressions (organization_id, email, reason, delivery_id)
      values (${delivery.organizationId}, ${delivery.toEmail}, ${reason}, ${delivery.id})
      on conflict (organization_id, email) do update set
        reason = case when email_suppressions.reason = 'complained' then 'complained' else excluded.reason end`;
    await sql`
      update subscribers set status = ${reason}, version = version + 1
      where organization_id = ${delivery.organizationId} and email = ${delivery.toEmail}
        and status in ('pending', 'confirmed')`;
  }
  return delivery;
}
