import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { canManageBudget, canManageMembers, type Role } from "~/lib/roles";
import { auditFor, recordAudit } from "./audit.server";
import { wakeBudgetWaitingJobs } from "./budget.server";
import { trackEvent } from "./events.server";

export interface OrganizationRow {
  id: string;
  name: string;
  isPersonal: boolean;
  clerkOrganizationId: string | null;
  dailyCostLimitGbpMicros: number;
  /** IANA zone whose local date is the budget's day. */
  timeZone: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The person acting and the organization they act in: what every tenant-scoped model function takes. */
export interface Actor {
  userId: string;
  organizationId: string;
  role: Role;
  label: string;
}

export interface MembershipSummary {
  organizationId: string;
  organizationName: string;
  isPersonal: boolean;
  role: Role;
}

export interface MemberRow {
  membershipId: string;
  userId: string;
  name: string;
  email: string | null;
  role: Role;
  createdAt: Date;
}

export async function listMembershipsForUser(sql: Queryable, userId: string): Promise<MembershipSummary[]> {
  return sql<MembershipSummary[]>`
    select m.organization_id, o.name as organization_name, o.is_personal, m.role
    from memberships m join organizations o on o.id = m.organization_id
    where m.user_id = ${userId}
    order by o.is_personal desc, o.name`;
}

export async function findMembership(
  sql: Queryable,
  organizationId: string,
  userId: string,
): Promise<MembershipSummary | undefined> {
  const [membership] = await sql<MembershipSummary[]>`
    select m.organization_id, o.name as organization_name, o.is_personal, m.role
    from memberships m join organizations o on o.id = m.organization_id
    where m.organization_id = ${organizationId} and m.user_id = ${userId}`;
  return membership;
}

export async function getOrganization(sql: Queryable, organizationId: string): Promise<OrganizationRow | undefined> {
  const [organization] = await sql<OrganizationRow[]>`select * from organizations where id = ${organizationId}`;
  return organization;
}

export async function listMembers(sql: Queryable, organizationId: string): Promise<MemberRow[]> {
  return sql<MemberRow[]>`
    select m.id as membership_id, u.id as user_id, u.name, u.email, m.role, m.created_at
    from memberships m join users u on u.id = m.user_id
    where m.organization_id = ${organizationId}
    order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end, u.name, u.email`;
}

export type CreateOrganizationResult = { ok: true; organization: OrganizationRow };

/**
 * Creates an organization owned by its creator and, when they have a built-in session, makes it that session's
 * organization: one transaction with its audit row.
 */
export async function createOrganization(
  db: Db,
  creator: { userId: string; label: string; sessionId: string | null },
  input: { name: string },
  meta: RequestMeta,
): Promise<CreateOrganizationResult> {
  return db.begin(async (sql) => {
    const [organization] = await sql<OrganizationRow[]>`insert into organizations (name) values (${input.name}) returning *`;
    await sql`insert into memberships (organization_id, user_id, role) values (${organization.id}, ${creator.userId}, 'owner')`;
    if (creator.sessionId) {
      await sql`update sessions set organization_id = ${organization.id} where id = ${creator.sessionId} and user_id = ${creator.userId}`;
    }
    const actor = { userId: creator.userId, organizationId: organization.id, label: creator.label };
    await recordAudit(sql, auditFor(actor, "organization.created", { type: "organization", id: organization.id }, { after: { name: organization.name } }), meta);
    return { ok: true, organization } as const;
  });
}

export type MemberChangeResult = { ok: true } | { ok: false; reason: "not_found" | "forbidden" | "last_owner" };

/**
 * Locks the organization's memberships so two owners demoting each other at once cannot leave it ownerless,
 * then checks the change keeps at least one owner.
 */
async function lockMember(sql: Queryable, organizationId: string, membershipId: string) {
  const rows = await sql<{ id: string; userId: string; role: Role; email: string | null }[]>`
    select m.id, m.user_id, m.role, u.email
    from memberships m join users u on u.id = m.user_id
    where m.organization_id = ${organizationId}
    order by m.id
    for update of m`;
  const target = rows.find((row) => row.id === membershipId);
  const owners = rows.filter((row) => row.role === "owner").length;
  return { target, owners };
}

/** Owners only. A membership of another organization is not found, whatever the actor's role. */
export async function changeMemberRole(
  db: Db,
  actor: Actor,
  membershipId: string,
  role: Role,
  meta: RequestMeta,
): Promise<MemberChangeResult> {
  return db.begin(async (sql) => {
    const { target, owners } = await lockMember(sql, actor.organizationId, membershipId);
    if (!target) return { ok: false, reason: "not_found" } as const;
    if (!canManageMembers(actor.role)) return { ok: false, reason: "forbidden" } as const;
    if (target.role === role) return { ok: true } as const;
    if (target.role === "owner" && owners === 1) return { ok: false, reason: "last_owner" } as const;
    await sql`
      update memberships set role = ${role}, version = version + 1
      where id = ${membershipId} and organization_id = ${actor.organizationId}`;
    await recordAudit(
      sql,
      auditFor(actor, "membership.role_changed", { type: "membership", id: membershipId }, {
        before: { userId: target.userId, email: target.email, role: target.role },
        after: { userId: target.userId, email: target.email, role },
      }),
      meta,
    );
    return { ok: true } as const;
  });
}

/** Owners only; the last owner stays. */
export async function removeMember(db: Db, actor: Actor, membershipId: string, meta: RequestMeta): Promise<MemberChangeResult> {
  return db.begin(async (sql) => {
    const { target, owners } = await lockMember(sql, actor.organizationId, membershipId);
    if (!target) return { ok: false, reason: "not_found" } as const;
    if (!canManageMembers(actor.role)) return { ok: false, reason: "forbidden" } as const;
    if (target.role === "owner" && owners === 1) return { ok: false, reason: "last_owner" } as const;
    await sql`delete from memberships where id = ${membershipId} and organization_id = ${actor.organizationId}`;
    // Their sessions in this organization lose it; their next request works in another of theirs.
    await sql`update sessions set organization_id = null where user_id = ${target.userId} and organization_id = ${actor.organizationId}`;
    // A member's opt-ins came with the membership: they stop with it.
    await sql`
      update subscribers set status = 'unsubscribed', unsubscribed_at = now()
      where organization_id = ${actor.organizationId} and user_id = ${target.userId} and source = 'member' and status = 'confirmed'`;
    await recordAudit(
      sql,
      auditFor(actor, "membership.removed", { type: "membership", id: membershipId }, {
        before: { userId: target.userId, email: target.email, role: target.role },
      }),
      meta,
    );
    return { ok: true } as const;
  });
}

export type BudgetSettingsResult = { ok: true; organization: OrganizationRow } | { ok: false; reason: "forbidden" | "not_found" };

/**
 * Owners and admins set the daily limit (integer micro-GBP) and the time zone whose local date is the budget's
 * day. Audited with before and after; a raised limit makes jobs waiting on the budget due again at once.
 * `timeZone` must already be canonical (schedule.server's canonicalTimeZone); the database refuses other names.
 */
export async function updateBudgetSettings(
  db: Db,
  actor: Actor,
  input: { dailyLimitGbpMicros: number; timeZone: string },
  meta: RequestMeta,
): Promise<BudgetSettingsResult> {
  if (!canManageBudget(actor.role)) return { ok: false, reason: "forbidden" };
  return db.begin(async (sql) => {
    const [before] = await sql<OrganizationRow[]>`select * from organizations where id = ${actor.organizationId} for update`;
    if (!before) return { ok: false, reason: "not_found" } as const;
    const [organization] = await sql<OrganizationRow[]>`
      update organizations set daily_cost_limit_gbp_micros = ${input.dailyLimitGbpMicros}, time_zone = ${input.timeZone},
        version = version + 1
      where id = ${actor.organizationId}
      returning *`;
    const change = {
      before: { dailyLimitGbpMicros: before.dailyCostLimitGbpMicros, timeZone: before.timeZone },
      after: { dailyLimitGbpMicros: organization.dailyCostLimitGbpMicros, timeZone: organization.timeZone },
    };
    await recordAudit(sql, auditFor(actor, "organization.budget_updated", { type: "organization", id: actor.organizationId }, change), meta);
    await trackEvent(sql, { organizationId: actor.organizationId, userId: actor.userId, type: "budget_settings_updated", data: change });
    if (organization.dailyCostLimitGbpMicros > before.dailyCostLimitGbpMicros || organization.timeZone !== before.timeZone) {
      await wakeBudgetWaitingJobs(sql, actor.organizationId);
    }
    return { ok: true, organization } as const;
  });
}
