import net from "node:net";
import { absoluteUrl } from "~/lib/app-url.server";
import { hashToken, randomToken } from "~/lib/crypto.server";
import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { canManageProjectLifecycle } from "~/lib/roles";
import type { ImportRow, InvalidRow } from "~/lib/subscriber-csv.server";
import { auditFor, recordAudit, type AuditActor } from "./audit.server";
import { reserveMailRequest } from "./sign-in-attempts.server";
import { enqueueEmail } from "./email-deliveries.server";
import type { Actor } from "./organizations.server";
import { isEmailVerified } from "./users.server";

/** A confirmation link works this long; the issue fixes it at 7 days. */
export const CONFIRMATION_DAYS = 7;
/** The public form mails one address at most once in this many minutes, so it cannot be used to flood a mailbox. */
export const PUBLIC_RESEND_AFTER_MINUTES = 10;

export type SubscriberStatus = "pending" | "confirmed" | "unsubscribed" | "bounced" | "complained";
export type SubscriberSource = "member" | "admin" | "public" | "import";

export interface SubscriberRow {
  id: string;
  organizationId: string;
  projectId: string;
  email: string;
  name: string;
  status: SubscriberStatus;
  source: SubscriberSource;
  userId: string | null;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
  confirmationSentAt: Date | null;
  confirmationExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, organization_id, project_id, email, name, status, source, user_id, confirmed_at, unsubscribed_at,
  confirmation_sent_at, confirmation_expires_at, created_at, updated_at`;

interface ProjectRef {
  id: string;
  organizationId: string;
  title: string;
}

async function lockProject(sql: Queryable, organizationId: string, projectId: string): Promise<ProjectRef | undefined> {
  const [project] = await sql<ProjectRef[]>`
    select id, organization_id, title from projects where organization_id = ${organizationId} and id = ${projectId} for share`;
  return project;
}

function audited(subscriber: Pick<SubscriberRow, "email" | "status" | "source" | "projectId">) {
  return { email: subscriber.email, status: subscriber.status, source: subscriber.source, projectId: subscriber.projectId };
}

/**
 * A new confirmation link for a pending subscriber (the previous one stops working) and its email, inside the
 * caller's transaction.
 */
async function sendConfirmation(sql: Queryable, project: ProjectRef, subscriber: { id: string; email: string }): Promise<void> {
  const token = randomToken();
  const [row] = await sql<{ confirmationExpiresAt: Date }[]>`
    update subscribers set
      confirm_token_hash = ${hashToken(token)},
      confirmation_sent_at = now(),
      confirmation_expires_at = now() + make_interval(days => ${CONFIRMATION_DAYS})
    where organization_id = ${project.organizationId} and id = ${subscriber.id}
    returning confirmation_expires_at`;
  await enqueueEmail(sql, {
    organizationId: project.organizationId,
    kind: "subscription_confirmation",
    toEmail: subscriber.email,
    subscriberId: subscriber.id,
    projectId: project.id,
    payload: {
      projectName: project.title,
      confirmUrl: absoluteUrl(`/subscriptions/confirm/${token}`),
      expiresAt: row.confirmationExpiresAt.toISOString(),
    },
  });
}

/** The project's subscribers, newest first; another organization's project has none. */
export async function listSubscribers(sql: Queryable, organizationId: string, projectId: string): Promise<SubscriberRow[]> {
  return sql<SubscriberRow[]>`
    select ${sql.unsafe(COLUMNS)} from subscribers
    where organization_id = ${organizationId} and project_id = ${projectId}
    order by created_at desc, email`;
}

/** Whether the person gets the project's episodes through the members' checkbox. */
export async function memberSubscription(sql: Queryable, actor: Actor, projectId: string): Promise<SubscriberStatus | null> {
  const [row] = await sql<{ status: SubscriberStatus }[]>`
    select status from subscribers
    where organization_id = ${actor.organizationId} and project_id = ${projectId} and user_id = ${actor.userId}`;
  return row?.status ?? null;
}

type Refusal = "not_found" | "forbidden" | "unverified";

/** Owners and admins manage a project's outside subscribers, once their own address is verified. */
async function managerRefusal(sql: Queryable, actor: Actor): Promise<Refusal | null> {
  if (!canManageProjectLifecycle(actor.role)) return "forbidden";
  if (!(await isEmailVerified(sql, actor.userId))) return "unverified";
  return null;
}

export type AddSubscriberResult =
  | { ok: true; subscriber: SubscriberRow }
  | { ok: false; reason: Refusal }
  | { ok: false; reason: "already_listed"; status: SubscriberStatus };

/**
 * Adds an outside address as pending and mails it a confirmation link: nothing else is sent to it until it
 * confirms. An address already on the list is left as it is, whatever its status: an admin cannot subscribe again
 * someone who left.
 */
export async function addSubscriber(
  db: Db,
  actor: Actor,
  projectId: string,
  input: { email: string; name: string },
  meta: RequestMeta,
): Promise<AddSubscriberResult> {
  return db.begin(async (sql) => {
    const project = await lockProject(sql, actor.organizationId, projectId);
    if (!project) return { ok: false, reason: "not_found" } as const;
    const refusal = await managerRefusal(sql, actor);
    if (refusal) return { ok: false, reason: refusal } as const;
    const email = input.email.trim().toLowerCase();
    const [subscriber] = await sql<SubscriberRow[]>`
      insert into subscribers (organization_id, project_id, email, name, status, source)
      values (${actor.organizationId}, ${projectId}, ${email}, ${input.name}, 'pending', 'admin')
      on conflict (project_id, email) do nothing
      returning ${sql.unsafe(COLUMNS)}`;
    if (!subscriber) {
      const [existing] = await sql<{ status: SubscriberStatus }[]>`
        select status from subscribers where organization_id = ${actor.organizationId} and project_id = ${projectId} and email = ${email}`;
      return { ok: false, reason: "already_listed", status: existing.status } as const;
    }
    await sendConfirmation(sql, project, subscriber);
    await recordAudit(sql, auditFor(actor, "subscriber.added", { type: "subscriber", id: subscriber.id }, { after: audited(subscriber) }), meta);
    return { ok: true, subscriber } as const;
  });
}

export type SubscriberChangeResult = { ok: true; subscriber: SubscriberRow } | { ok: false; reason: Refusal | "not_pending" };

/** Removes a subscriber from the list (owners and admins); their delivery history goes with them. */
export async function removeSubscriber(db: Db, actor: Actor, projectId: string, subscriberId: string, meta: RequestMeta): Promise<SubscriberChangeResult> {
  return db.begin(async (sql) => {
    const [subscriber] = await sql<SubscriberRow[]>`
      select ${sql.unsafe(COLUMNS)} from subscribers
      where organization_id = ${actor.organizationId} and project_id = ${projectId} and id = ${subscriberId}
      for update`;
    if (!subscriber) return { ok: false, reason: "not_found" } as const;
    if (!canManageProjectLifecycle(actor.role)) return { ok: false, reason: "forbidden" } as const;
    await sql`delete from subscribers where organization_id = ${actor.organizationId} and id = ${subscriberId}`;
    await recordAudit(sql, auditFor(actor, "subscriber.removed", { type: "subscriber", id: subscriberId }, { before: audited(subscriber) }), meta);
    return { ok: true, subscriber } as const;
  });
}

/** A new confirmation link for a pending subscriber; the old link stops working and the 7 days start again. */
export async function resendConfirmation(db: Db, actor: Actor, projectId: string, subscriberId: string, meta: RequestMeta): Promise<SubscriberChangeResult> {
  return db.begin(async (sql) => {
    const project = await lockProject(sql, actor.organizationId, projectId);
    const [subscriber] = project
      ? await sql<SubscriberRow[]>`
          select ${sql.unsafe(COLUMNS)} from subscribers
          where organization_id = ${actor.organizationId} and project_id = ${projectId} and id = ${subscriberId}
          for update`
      : [];
    if (!project || !subscriber) return { ok: false, reason: "not_found" } as const;
    const refusal = await managerRefusal(sql, actor);
    if (refusal) return { ok: false, reason: refusal } as const;
    if (subscriber.status !== "pending") return { ok: false, reason: "not_pending" } as const;
    await sendConfirmation(sql, project, subscriber);
    await recordAudit(sql, auditFor(actor, "subscriber.confirmation_resent", { type: "subscriber", id: subscriberId }, { after: audited(subscriber) }), meta);
    return { ok: true, subscriber } as const;
  });
}

export type ImportResult =
  | { ok: true; added: ImportRow[]; alreadyListed: ImportRow[]; invalid: InvalidRow[] }
  | { ok: false; reason: Refusal };

/**
 * Adds the valid rows of a CSV import as pending subscribers, each mailed its own confirmation link, in one
 * transaction with one audit row. Addresses already on the list are reported and left alone.
 */
export async function importSubscribers(
  db: Db,
  actor: Actor,
  projectId: string,
  parsed: { rows: ImportRow[]; invalid: InvalidRow[] },
  meta: RequestMeta,
): Promise<ImportResult> {
  return db.begin(async (sql) => {
    const project = await lockProject(sql, actor.organizationId, projectId);
    if (!project) return { ok: false, reason: "not_found" } as const;
    const refusal = await managerRefusal(sql, actor);
    if (refusal) return { ok: false, reason: refusal } as const;
    const added: ImportRow[] = [];
    const alreadyListed: ImportRow[] = [];
    for (const row of parsed.rows) {
      const [subscriber] = await sql<{ id: string; email: string }[]>`
        insert into subscribers (organization_id, project_id, email, name, status, source)
        values (${actor.organizationId}, ${projectId}, ${row.email}, ${row.name}, 'pending', 'import')
        on conflict (project_id, email) do nothing
        returning id, email`;
      if (!subscriber) {
        alreadyListed.push(row);
        continue;
      }
      await sendConfirmation(sql, project, subscriber);
      added.push(row);
    }
    await recordAudit(
      sql,
      auditFor(actor, "subscriber.imported", { type: "project", id: projectId }, {
        after: { added: added.length, alreadyListed: alreadyListed.length, invalid: parsed.invalid.length },
      }),
      meta,
    );
    return { ok: true, added, alreadyListed, invalid: parsed.invalid } as const;
  });
}

export type MemberSubscriptionResult = { ok: true; status: SubscriberStatus } | { ok: false; reason: "not_found" | "unverified" | "no_email" };

/**
 * The members' checkbox: any member of the organization gets the project's episodes at their account's address.
 * Their address is verified, so they are confirmed at once (no double opt-in); unticking unsubscribes them. A
 * row for the same address (added earlier as an outsider) becomes theirs. Bounced and complained addresses stay as
 * they are: mail to them does not arrive.
 */
export async function setMemberSubscription(
  db: Db,
  actor: Actor,
  projectId: string,
  subscribe: boolean,
  meta: RequestMeta,
): Promise<MemberSubscriptionResult> {
  return db.begin(async (sql) => {
    const project = await lockProject(sql, actor.organizationId, projectId);
    if (!project) return { ok: false, reason: "not_found" } as const;
    const [user] = await sql<{ email: string | null; name: string }[]>`select email, name from users where id = ${actor.userId}`;
    if (!user?.email) return { ok: false, reason: "no_email" } as const;
    if (subscribe && !(await isEmailVerified(sql, actor.userId))) return { ok: false, reason: "unverified" } as const;
    const [before] = await sql<SubscriberRow[]>`
      select ${sql.unsafe(COLUMNS)} from subscribers
      where organization_id = ${actor.organizationId} and project_id = ${projectId}
        and (user_id = ${actor.userId} or email = ${user.email})
      order by (user_id = ${actor.userId}) desc nulls last
      limit 1
      for update`;
    if (!before && !subscribe) return { ok: true, status: "unsubscribed" } as const;
    if (before && (before.status === "bounced" || before.status === "complained")) return { ok: true, status: before.status } as const;
    const [subscriber] = before
      ? subscribe
        ? await sql<SubscriberRow[]>`
            update subscribers set status = 'confirmed', source = 'member', user_id = ${actor.userId}, email = ${user.email},
              confirmed_at = coalesce(confirmed_at, now()), unsubscribed_at = null, confirm_token_hash = null, confirmation_expires_at = null
            where organization_id = ${actor.organizationId} and id = ${before.id}
            returning ${sql.unsafe(COLUMNS)}`
        : await sql<SubscriberRow[]>`
            update subscribers set status = 'unsubscribed', unsubscribed_at = now(), confirm_token_hash = null, confirmation_expires_at = null
            where organization_id = ${actor.organizationId} and id = ${before.id}
            returning ${sql.unsafe(COLUMNS)}`
      : await sql<SubscriberRow[]>`
          insert into subscribers (organization_id, project_id, email, name, status, source, user_id, confirmed_at)
          values (${actor.organizationId}, ${projectId}, ${user.email}, ${user.name.slice(0, 200)}, 'confirmed', 'member', ${actor.userId}, now())
          returning ${sql.unsafe(COLUMNS)}`;
    if (before?.status !== subscriber.status) {
      await recordAudit(
        sql,
        auditFor(actor, subscribe ? "subscriber.member_opted_in" : "subscriber.member_opted_out", { type: "subscriber", id: subscriber.id }, {
          before: before ? audited(before) : undefined,
          after: audited(subscriber),
        }),
        meta,
      );
    }
    return { ok: true, status: subscriber.status } as const;
  });
}

export interface PublicProject {
  id: string;
  title: string;
}

/** A project whose public subscribe form is open; any other id, existing or not, is not found. */
export async function findPublicSubscribeProject(sql: Queryable, projectId: string): Promise<PublicProject | undefined> {
  const [project] = await sql<PublicProject[]>`select id, title from projects where id = ${projectId} and public_subscribe`;
  return project;
}

export type PublicSubscribeResult = { ok: true } | { ok: false; reason: "not_found" } | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/**
 * The public form. The answer is the same for every address (new, pending, confirmed, gone), so it reveals no one
 * on the list. A new address, or one that left and asks again, becomes pending with a confirmation email; a
 * pending one gets a fresh link unless one went out in the last PUBLIC_RESEND_AFTER_MINUTES. Confirmed, bounced
 * and complained addresses get nothing. One client address may send MAX_MAIL_REQUESTS_PER_ADDRESS of these a window.
 */
export async function subscribePublicly(db: Db, projectId: string, input: { email: string; name: string }, meta: RequestMeta): Promise<PublicSubscribeResult> {
  const email = input.email.trim().toLowerCase();
  return db.begin(async (sql) => {
    const [project] = await sql<ProjectRef[]>`
      select id, organization_id, title from projects where id = ${projectId} and public_subscribe for share`;
    if (!project) return { ok: false, reason: "not_found" } as const;
    const allowed = await reserveMailRequest(sql, meta.ip && net.isIP(meta.ip) ? meta.ip : null);
    if (!allowed.ok) return allowed;
    const actor: AuditActor = { userId: null, organizationId: project.organizationId, label: email };
    const [created] = await sql<SubscriberRow[]>`
      insert into subscribers (organization_id, project_id, email, name, status, source)
      values (${project.organizationId}, ${project.id}, ${email}, ${input.name}, 'pending', 'public')
      on conflict (project_id, email) do nothing
      returning ${sql.unsafe(COLUMNS)}`;
    if (created) {
      await sendConfirmation(sql, project, created);
      await recordAudit(sql, auditFor(actor, "subscriber.subscribed_publicly", { type: "subscriber", id: created.id }, { after: audited(created) }), meta);
      return { ok: true } as const;
    }
    const [existing] = await sql<SubscriberRow[]>`
      select ${sql.unsafe(COLUMNS)} from subscribers
      where organization_id = ${project.organizationId} and project_id = ${project.id} and email = ${email}
      for update`;
    const recentlySent =
      existing.confirmationSentAt !== null && Date.now() - existing.confirmationSentAt.getTime() < PUBLIC_RESEND_AFTER_MINUTES * 60_000;
    if (existing.status === "unsubscribed" || (existing.status === "pending" && !recentlySent)) {
      if (existing.status === "unsubscribed") {
        await sql`
          update subscribers set status = 'pending', unsubscribed_at = null
          where organization_id = ${project.organizationId} and id = ${existing.id}`;
      }
      await sendConfirmation(sql, project, existing);
      await recordAudit(
        sql,
        auditFor(actor, "subscriber.confirmation_resent", { type: "subscriber", id: existing.id }, {
          before: audited(existing),
          after: { ...audited(existing), status: "pending" },
        }),
        meta,
      );
    }
    return { ok: true } as const;
  });
}

export interface PendingConfirmation {
  projectTitle: string;
  email: string;
}

/** What the confirmation page shows for a link that still works; reading it confirms nothing. */
export async function findPendingConfirmation(sql: Queryable, token: string): Promise<PendingConfirmation | undefined> {
  const [row] = await sql<PendingConfirmation[]>`
    select p.title as project_title, s.email
    from subscribers s join projects p on p.id = s.project_id and p.organization_id = s.organization_id
    where s.confirm_token_hash = ${hashToken(token)} and s.status = 'pending' and s.confirmation_expires_at > now()`;
  return row;
}

export type ConfirmSubscriptionResult = { ok: true; projectTitle: string; subscriber: SubscriberRow } | { ok: false; reason: "invalid" };

/**
 * Confirms a subscription from its emailed link: once (the token is cleared), within 7 days of being sent, and
 * only while the subscriber is pending. From then on the address receives the project's episodes.
 */
export async function confirmSubscription(db: Db, token: string, meta: RequestMeta): Promise<ConfirmSubscriptionResult> {
  return db.begin(async (sql) => {
    const [subscriber] = await sql<SubscriberRow[]>`
      update subscribers set status = 'confirmed', confirmed_at = now(), confirm_token_hash = null, confirmation_expires_at = null
      where confirm_token_hash = ${hashToken(token)} and status = 'pending' and confirmation_expires_at > now()
      returning ${sql.unsafe(COLUMNS)}`;
    if (!subscriber) return { ok: false, reason: "invalid" } as const;
    const [project] = await sql<{ title: string }[]>`
      select title from projects where organization_id = ${subscriber.organizationId} and id = ${subscriber.projectId}`;
    const actor: AuditActor = { userId: null, organizationId: subscriber.organizationId, label: subscriber.email };
    await recordAudit(sql, auditFor(actor, "subscriber.confirmed", { type: "subscriber", id: subscriber.id }, { after: audited(subscriber) }), meta);
    return { ok: true, projectTitle: project.title, subscriber } as const;
  });
}
