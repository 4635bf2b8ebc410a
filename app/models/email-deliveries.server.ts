import crypto from "node:crypto";
import type { Db, Queryable } from "~/lib/db.server";

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
  batchId: string | null;
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
  if (row) await announceOutbox(sql);
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
  if (rows.length) await announceOutbox(sql);
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

/** The channel a new outbox row is announced on (at commit), so a sender wakes at once instead of polling. */
export const OUTBOX_CHANNEL = "email_outbox";

async function announceOutbox(sql: Queryable): Promise<void> {
  await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`;
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  /** Rows to look at; batches cut by this limit wait for the next claim. */
  limit: number;
  /** The provider's batch size: 1 sends every email on its own. */
  batchSize: number;
}

/** A claimed group: sent in one provider request (a batch) or alone. */
export interface ClaimedUnit {
  batchId: string | null;
  deliveries: EmailDeliveryRow[];
}

/**
 * Deliveries of every organization, newest first: only for the development outbox page, where someone trying the
 * app must see the confirmation email of an account they have not signed in to yet.
 */
export async function listDeliveriesOfAllOrganizations(sql: Queryable, options: { limit?: number } = {}): Promise<EmailDeliveryRow[]> {
  return sql<EmailDeliveryRow[]>`select * from email_deliveries order by created_at desc, id limit ${options.limit ?? 100}`;
}

/** One delivery by id alone: for the development outbox page only, as above. */
export async function getDeliveryOfAnyOrganization(sql: Queryable, deliveryId: string): Promise<EmailDeliveryRow | undefined> {
  const [row] = await sql<EmailDeliveryRow[]>`select * from email_deliveries where id = ${deliveryId}`;
  return row;
}

/**
 * Takes deliveries that are due — pending ones whose time has come, and sending ones whose lease ran out (their
 * sender died mid-send) — and leases them to `owner`, in one transaction. SKIP LOCKED lets senders claim side by
 * side. A batch is only taken whole: one cut by the limit, or partly held by another sender, waits.
 *
 * On a first attempt, rows whose address is now suppressed or whose subscriber has left are cancelled, and episode
 * rows are then grouped into new batches of `batchSize`. From then on a batch never changes, so a repeat is the
 * very request the provider may already have accepted.
 */
export async function claimDueDeliveries(sql: Db, options: ClaimOptions): Promise<ClaimedUnit[]> {
  return sql.begin(async (tx) => {
    const due = await tx<{ id: string; batchId: string | null }[]>`
      select id, batch_id from email_deliveries
      where (status = 'pending' and next_attempt_at <= now()) or (status = 'sending' and locked_until < now())
      order by next_attempt_at, batch_id nulls last, id
      limit ${options.limit}
      for update skip locked`;
    if (!due.length) return [];
    const batchIds = [...new Set(due.map((row) => row.batchId).filter((id): id is string => !!id))];
    const sizes = batchIds.length
      ? await tx<{ batchId: string; size: number }[]>`
          select batch_id, count(*)::int as size from email_deliveries
          where batch_id = any(${batchIds}::uuid[]) and status in ('pending', 'sending')
          group by batch_id`
      : [];
    const held = new Map<string, number>();
    for (const row of due) if (row.batchId) held.set(row.batchId, (held.get(row.batchId) ?? 0) + 1);
    const whole = new Set(sizes.filter((batch) => held.get(batch.batchId) === batch.size).map((batch) => batch.batchId));
    const ids = due.filter((row) => !row.batchId || whole.has(row.batchId)).map((row) => row.id);
    if (!ids.length) return [];

    await tx`
      update email_deliveries d set status = 'cancelled', locked_until = null, locked_by = null,
        last_error = case when s.status is not null and s.status <> 'confirmed'
          then 'The subscriber is ' || s.status || ' now.' else 'The address is suppressed.' end
      from email_deliveries d2
      left join subscribers s on s.id = d2.subscriber_id and s.organization_id = d2.organization_id
      where d.id = d2.id and d.id = any(${ids}::uuid[]) and d.attempts = 0
        and (
          (d2.kind = 'episode' and (s.status is distinct from 'confirmed'))
          or exists (select 1 from email_suppressions x where x.organization_id = d2.organization_id and x.email = d2.to_email)
        )`;
    const claimed = await tx<EmailDeliveryRow[]>`
      update email_deliveries set
        status = 'sending',
        attempts = attempts + 1,
        locked_by = ${options.owner},
        locked_until = now() + ${options.leaseMs} * interval '1 millisecond'
      where id = any(${ids}::uuid[]) and status in ('pending', 'sending')
      returning *`;

    // Fresh episode rows go out in batches; everything else alone.
    const fresh = claimed.filter((row) => !row.batchId && row.kind === "episode" && options.batchSize > 1);
    for (let start = 0; start < fresh.length; start += options.batchSize) {
      const chunk = fresh.slice(start, start + options.batchSize);
      const batchId = crypto.randomUUID();
      await tx`update email_deliveries set batch_id = ${batchId} where id = any(${chunk.map((row) => row.id)}::uuid[])`;
      for (const row of chunk) row.batchId = batchId;
    }

    const units = new Map<string, ClaimedUnit>();
    const singles: ClaimedUnit[] = [];
    for (const row of claimed.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      if (!row.batchId) singles.push({ batchId: null, deliveries: [row] });
      else {
        const unit = units.get(row.batchId) ?? { batchId: row.batchId, deliveries: [] };
        unit.deliveries.push(row);
        units.set(row.batchId, unit);
      }
    }
    return [...units.values(), ...singles];
  });
}

export type DeliveryOutcome =
  | { kind: "sent"; providerMessageId: string | null }
  | { kind: "retry"; at: Date; error: string }
  | { kind: "failed"; error: string };

export interface DeliveryResult {
  id: string;
  subject: string | null;
  headers: Record<string, string>;
  outcome: DeliveryOutcome;
}

/**
 * What came of a claimed group, in one statement: the subject and headers it was sent with, and sent (with the
 * provider's id), back to pending for a retry, or failed. Only rows still leased to `owner` change. Returns how many did.
 */
export async function recordDeliveryResults(
  sql: Queryable,
  input: { owner: string; provider: EmailProvider; results: DeliveryResult[] },
): Promise<number> {
  if (!input.results.length) return 0;
  const rows = input.results.map((result) => ({
    id: result.id,
    subject: result.subject?.slice(0, 998) || null,
    headers: result.headers,
    status: result.outcome.kind === "sent" ? "sent" : result.outcome.kind === "retry" ? "pending" : "failed",
    provider_message_id: result.outcome.kind === "sent" ? result.outcome.providerMessageId : null,
    next_attempt_at: result.outcome.kind === "retry" ? result.outcome.at.toISOString() : null,
    last_error: result.outcome.kind === "sent" ? null : result.outcome.error.slice(0, 2000),
  }));
  const updated = await sql`
    update email_deliveries d set
      subject = coalesce(r.subject, d.subject),
      headers = r.headers,
      status = r.status,
      provider = ${input.provider},
      provider_message_id = coalesce(r.provider_message_id, d.provider_message_id),
      sent_at = case when r.status = 'sent' then now() else null end,
      next_attempt_at = coalesce(r.next_attempt_at, d.next_attempt_at),
      last_error = r.last_error,
      locked_until = null,
      locked_by = null
    from jsonb_to_recordset(${sql.json(rows as never)}) as r(
      id uuid, subject text, headers jsonb, status text, provider_message_id text, next_attempt_at timestamptz, last_error text
    )
    where d.id = r.id and d.status = 'sending' and d.locked_by = ${input.owner}`;
  return updated.count;
}

/** Gives claimed rows back untouched (the sender is stopping before it sent them). */
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
