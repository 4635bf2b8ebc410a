import type { Db, Queryable } from "~/lib/db.server";
import type { Role } from "~/lib/roles";
import type { RequestMeta } from "~/lib/http.server";
import { recordAudit } from "./audit.server";

export interface OrganizationRow {
  id: string;
  name: string;
  isPersonal: boolean;
  clerkOrganizationId: string | null;
  dailyCostLimitGbpMicros: number;
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

export async function createOrganization(
  db: Db,
  input: { userId: string; userLabel: string; name: string },
  meta: RequestMeta,
): Promise<OrganizationRow> {
  return db.begin(async (sql) => {
    const [organization] = await sql<OrganizationRow[]>`insert into organizations (name) values (${input.name}) returning *`;
    await sql`insert into memberships (organization_id, user_id, role) values (${organization.id}, ${input.userId}, 'owner')`;
    await recordAudit(
      sql,
      {
        organizationId: organization.id,
        actorUserId: input.userId,
        actorLabel: input.userLabel,
        action: "organization.created",
        targetType: "organization",
        targetId: organization.id,
        after: { name: organization.name },
      },
      meta,
    );
    return organization;
  });
}

export type MemberChangeResult = { ok: true } | { ok: false; reason: "not_found" | "last_owner" };

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
    if (target.role === role) return { ok: true } as const;
    if (target.role === "owner" && owners === 1) return { ok: false, reason: "last_owner" } as const;
    await sql`
      update memberships set role = ${role}, version = version + 1
      where id = ${membershipId} and organization_id = ${actor.organizationId}`;
    await recordAudit(
      sql,
      {
        organizationId: actor.organizationId,
        actorUserId: actor.userId,
        actorLabel: actor.label,
        action: "membership.role_changed",
        targetType: "membership",
        targetId: membershipId,
        before: { userId: target.userId, email: target.email, role: target.role },
        after: { userId: target.userId, email: target.email, role },
      },
      meta,
    );
    return { ok: true } as const;
  });
}

export async function removeMember(db: Db, actor: Actor, membershipId: string, meta: RequestMeta): Promise<MemberChangeResult> {
  return db.begin(async (sql) => {
    const { target, owners } = await lockMember(sql, actor.organizationId, membershipId);
    if (!target) return { ok: false, reason: "not_found" } as const;
    if (target.role === "owner" && owners === 1) return { ok: false, reason: "last_owner" } as const;
    await sql`delete from memberships where id = ${membershipId} and organization_id = ${actor.organizationId}`;
    // Their sessions in this organization lose it; the context helper moves them to another of theirs.
    await sql`update sessions set organization_id = null where user_id = ${target.userId} and organization_id = ${actor.organizationId}`;
    await recordAudit(
      sql,
      {
        organizationId: actor.organizationId,
        actorUserId: actor.userId,
        actorLabel: actor.label,
        action: "membership.removed",
        targetType: "membership",
        targetId: membershipId,
        before: { userId: target.userId, email: target.email, role: target.role },
      },
      meta,
    );
    return { ok: true } as const;
  });
}
