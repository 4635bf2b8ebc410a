import { absoluteUrl } from "~/lib/app-url.server";
import { hashToken, randomToken } from "~/lib/crypto.server";
import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { canInvite, type Role } from "~/lib/roles";
import { auditFor, recordAudit } from "./audit.server";
import { enqueueEmail } from "./email-deliveries.server";
import type { Actor } from "./organizations.server";
import { isEmailVerified } from "./users.server";

const INVITATION_DAYS = 7;

export interface InvitationRow {
  id: string;
  organizationId: string;
  email: string;
  role: Role;
  status: "pending" | "accepted" | "revoked";
  expiresAt: Date;
  createdAt: Date;
}

export interface InvitationPreview extends InvitationRow {
  organizationName: string;
  invitedByName: string | null;
}

export type CreateInvitationResult =
  // `emailed` is false when the address is suppressed (it bounced or complained): only the link reaches them.
  | { ok: true; invitation: InvitationRow; token: string; emailed: boolean }
  | { ok: false; reason: "already_member" | "forbidden" };

/**
 * Invites an email with a role and mails the link through the outbox, in one transaction. A pending invitation
 * for the same email is replaced (the old link stops working), so re-inviting is how a lost link is re-sent.
 * Owners and admins invite; only owners invite owners.
 */
export async function createInvitation(
  db: Db,
  actor: Actor,
  input: { email: string; role: Role },
  meta: RequestMeta,
): Promise<CreateInvitationResult> {
  if (!canInvite(actor.role, input.role)) return { ok: false, reason: "forbidden" };
  const email = input.email.toLowerCase();
  const token = randomToken();
  return db.begin(async (sql) => {
    const [member] = await sql`
      select 1 from memberships m join users u on u.id = m.user_id
      where m.organization_id = ${actor.organizationId} and u.email = ${email}`;
    if (member) return { ok: false, reason: "already_member" } as const;
    await sql`
      update invitations set status = 'revoked'
      where organization_id = ${actor.organizationId} and email = ${email} and status = 'pending'`;
    const [invitation] = await sql<InvitationRow[]>`
      insert into invitations (organization_id, email, role, token_hash, invited_by_user_id, expires_at)
      values (${actor.organizationId}, ${email}, ${input.role}, ${hashToken(token)}, ${actor.userId},
              now() + make_interval(days => ${INVITATION_DAYS}))
      returning id, organization_id, email, role, status, expires_at, created_at`;
    await recordAudit(sql, auditFor(actor, "invitation.created", { type: "invitation", id: invitation.id }, { after: { email, role: input.role } }), meta);
    const [names] = await sql<{ organizationName: string; inviterName: string }[]>`
      select o.name as organization_name, coalesce(nullif(u.name, ''), u.email, '') as inviter_name
      from organizations o left join users u on u.id = ${actor.userId}
      where o.id = ${actor.organizationId}`;
    const { enqueued } = await enqueueEmail(sql, {
      organizationId: actor.organizationId,
      kind: "invitation",
      toEmail: email,
      payload: {
        organizationName: names.organizationName,
        inviterName: names.inviterName,
        role: input.role,
        acceptUrl: absoluteUrl(`/invitations/${token}`),
        expiresAt: invitation.expiresAt.toISOString(),
      },
    });
    return { ok: true, invitation, token, emailed: enqueued } as const;
  });
}

export async function listPendingInvitations(sql: Queryable, organizationId: string): Promise<InvitationRow[]> {
  return sql<InvitationRow[]>`
    select id, organization_id, email, role, status, expires_at, created_at
    from invitations
    where organization_id = ${organizationId} and status = 'pending' and expires_at > now()
    order by created_at desc`;
}

export type RevokeInvitationResult = { ok: true; invitation: InvitationRow } | { ok: false; reason: "not_found" | "forbidden" };

/** Owners and admins revoke; an invitation of another organization is not found. */
export async function revokeInvitation(db: Db, actor: Actor, invitationId: string, meta: RequestMeta): Promise<RevokeInvitationResult> {
  return db.begin(async (sql) => {
    const [pending] = await sql`
      select 1 from invitations
      where id = ${invitationId} and organization_id = ${actor.organizationId} and status = 'pending'
      for update`;
    if (!pending) return { ok: false, reason: "not_found" } as const;
    if (!canInvite(actor.role, "member")) return { ok: false, reason: "forbidden" } as const;
    const [invitation] = await sql<InvitationRow[]>`
      update invitations set status = 'revoked'
      where id = ${invitationId} and organization_id = ${actor.organizationId} and status = 'pending'
      returning id, organization_id, email, role, status, expires_at, created_at`;
    await recordAudit(
      sql,
      auditFor(actor, "invitation.revoked", { type: "invitation", id: invitation.id }, { before: { email: invitation.email, role: invitation.role } }),
      meta,
    );
    return { ok: true, invitation } as const;
  });
}

/** What the invitation page shows: only pending, unexpired invitations are found. */
export async function findInvitationByToken(sql: Queryable, token: string): Promise<InvitationPreview | undefined> {
  const [invitation] = await sql<InvitationPreview[]>`
    select i.id, i.organization_id, i.email, i.role, i.status, i.expires_at, i.created_at,
           o.name as organization_name, u.name as invited_by_name
    from invitations i
    join organizations o on o.id = i.organization_id
    left join users u on u.id = i.invited_by_user_id
    where i.token_hash = ${hashToken(token)} and i.status = 'pending' and i.expires_at > now()`;
  return invitation;
}

export type AcceptInvitationResult =
  | { ok: true; organizationId: string }
  | { ok: false; reason: "not_found" | "wrong_email" | "unverified" };

/**
 * Adds the membership, marks the invitation used and, with a built-in session, makes the organization that
 * session's: one transaction with its audit row. The link only works once, only for the address it was sent to,
 * and only once that address is verified: otherwise anyone could sign up with the invited address and join.
 */
export async function acceptInvitation(
  db: Db,
  person: { userId: string; email: string | null; sessionId: string | null },
  token: string,
  meta: RequestMeta,
): Promise<AcceptInvitationResult> {
  return db.begin(async (sql) => {
    const [invitation] = await sql<InvitationRow[]>`
      select id, organization_id, email, role, status, expires_at, created_at
      from invitations
      where token_hash = ${hashToken(token)} and status = 'pending' and expires_at > now()
      for update`;
    if (!invitation) return { ok: false, reason: "not_found" } as const;
    if (invitation.email !== person.email?.toLowerCase()) return { ok: false, reason: "wrong_email" } as const;
    if (!(await isEmailVerified(sql, person.userId))) return { ok: false, reason: "unverified" } as const;
    await sql`
      insert into memberships (organization_id, user_id, role)
      values (${invitation.organizationId}, ${person.userId}, ${invitation.role})
      on conflict (organization_id, user_id) do nothing`;
    await sql`
      update invitations set status = 'accepted', accepted_at = now(), accepted_by_user_id = ${person.userId}
      where id = ${invitation.id}`;
    if (person.sessionId) {
      await sql`update sessions set organization_id = ${invitation.organizationId} where id = ${person.sessionId} and user_id = ${person.userId}`;
    }
    const actor = { userId: person.userId, organizationId: invitation.organizationId, label: invitation.email };
    await recordAudit(
      sql,
      auditFor(actor, "invitation.accepted", { type: "invitation", id: invitation.id }, { after: { email: invitation.email, role: invitation.role } }),
      meta,
    );
    return { ok: true, organizationId: invitation.organizationId } as const;
  });
}
