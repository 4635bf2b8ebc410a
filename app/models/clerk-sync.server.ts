import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import type { Role } from "~/lib/roles";
import { auditFor, recordAudit } from "./audit.server";

/**
 * Mirrors Clerk's users, organizations and memberships into our tables, keyed by Clerk id. Every write carries
 * the time of the Clerk state it reflects: an older state never overwrites a newer one, and nothing comes back
 * after Clerk deleted it. That makes late, repeated and out-of-order webhooks harmless.
 */

type ObjectType = "user" | "organization" | "organization_membership";

/** Whether Clerk deleted the object at or after `at`; with no time known, whether it was ever deleted (ids are never reused). */
async function deletedSince(sql: Queryable, clerkId: string, at: Date | null): Promise<boolean> {
  const [row] = await sql`
    select 1 from clerk_deletions where clerk_id = ${clerkId} and (${at}::timestamptz is null or deleted_at >= ${at})`;
  return !!row;
}

async function recordDeletion(
  sql: Queryable,
  clerkId: string,
  objectType: ObjectType,
  at: Date,
  pair: { clerkOrganizationId: string; clerkUserId: string } | null = null,
): Promise<void> {
  await sql`
    insert into clerk_deletions (clerk_id, object_type, deleted_at, clerk_organization_id, clerk_user_id)
    values (${clerkId}, ${objectType}, ${at}, ${pair?.clerkOrganizationId ?? null}, ${pair?.clerkUserId ?? null})
    on conflict (clerk_id) do update set
      deleted_at = greatest(clerk_deletions.deleted_at, excluded.deleted_at),
      clerk_organization_id = coalesce(clerk_deletions.clerk_organization_id, excluded.clerk_organization_id),
      clerk_user_id = coalesce(clerk_deletions.clerk_user_id, excluded.clerk_user_id)`;
}

/**
 * Whether a membership of this user in this organization was deleted at or after `at` (with no time known: ever).
 * The token path knows no membership id, so it is the pair that is remembered.
 */
async function membershipDeletedSince(sql: Queryable, clerkOrganizationId: string, clerkUserId: string, at: Date | null): Promise<boolean> {
  const [row] = await sql`
    select 1 from clerk_deletions
    where object_type = 'organization_membership'
      and clerk_organization_id = ${clerkOrganizationId} and clerk_user_id = ${clerkUserId}
      and (${at}::timestamptz is null or deleted_at >= ${at})
    limit 1`;
  return !!row;
}

export interface ClerkUserState {
  clerkUserId: string;
  email: string | null;
  name: string;
  /** When Clerk last changed it; null when we only know the id (from a session token). */
  updatedAt: Date | null;
}

/** Upserts a user; returns our id, or null if Clerk has since deleted them. */
export async function upsertClerkUser(sql: Queryable, user: ClerkUserState): Promise<string | null> {
  if (await deletedSince(sql, user.clerkUserId, user.updatedAt)) return null;
  // An email already held by another account stays with it; this user is mirrored without one.
  const email = user.email?.toLowerCase() ?? null;
  const [taken] = email
    ? await sql`select 1 from users where email = ${email} and clerk_user_id is distinct from ${user.clerkUserId}`
    : [];
  const [row] = await sql<{ id: string }[]>`
    insert into users (clerk_user_id, email, name, clerk_updated_at)
    values (${user.clerkUserId}, ${taken ? null : email}, ${user.name.slice(0, 200)}, ${user.updatedAt})
    on conflict (clerk_user_id) do update set
      email = coalesce(excluded.email, users.email),
      name = case when excluded.name <> '' then excluded.name else users.name end,
      clerk_updated_at = excluded.clerk_updated_at
    where excluded.clerk_updated_at is not null
      and (users.clerk_updated_at is null or users.clerk_updated_at <= excluded.clerk_updated_at)
    returning id`;
  if (row) return row.id;
  const [existing] = await sql<{ id: string }[]>`select id from users where clerk_user_id = ${user.clerkUserId}`;
  return existing?.id ?? null;
}

export interface ClerkOrganizationState {
  clerkOrganizationId: string;
  name: string;
  updatedAt: Date | null;
}

export async function upsertClerkOrganization(sql: Queryable, organization: ClerkOrganizationState): Promise<string | null> {
  if (await deletedSince(sql, organization.clerkOrganizationId, organization.updatedAt)) return null;
  const [row] = await sql<{ id: string }[]>`
    insert into organizations (clerk_organization_id, name, clerk_updated_at)
    values (${organization.clerkOrganizationId}, ${organization.name.slice(0, 200) || "Organization"}, ${organization.updatedAt})
    on conflict (clerk_organization_id) do update set
      name = excluded.name,
      clerk_updated_at = excluded.clerk_updated_at
    where excluded.clerk_updated_at is not null
      and (organizations.clerk_updated_at is null or organizations.clerk_updated_at <= excluded.clerk_updated_at)
    returning id`;
  if (row) return row.id;
  const [existing] = await sql<{ id: string }[]>`
    select id from organizations where clerk_organization_id = ${organization.clerkOrganizationId}`;
  return existing?.id ?? null;
}

export interface ClerkMembershipState {
  clerkMembershipId: string | null;
  user: ClerkUserState;
  organization: ClerkOrganizationState;
  role: Role;
  updatedAt: Date | null;
  /** When Clerk vouched for this state: `updatedAt` from a webhook, the token's issue time on the lazy path. */
  observedAt: Date | null;
}

export async function upsertClerkMembership(sql: Queryable, membership: ClerkMembershipState): Promise<{
  userId: string;
  organizationId: string;
  role: Role;
} | null> {
  if (membership.clerkMembershipId && (await deletedSince(sql, membership.clerkMembershipId, membership.updatedAt))) return null;
  const pair = [membership.organization.clerkOrganizationId, membership.user.clerkUserId] as const;
  if (await membershipDeletedSince(sql, ...pair, membership.observedAt ?? membership.updatedAt)) return null;
  const userId = await upsertClerkUser(sql, membership.user);
  const organizationId = await upsertClerkOrganization(sql, membership.organization);
  if (!userId || !organizationId) return null;
  const [row] = await sql<{ role: Role }[]>`
    insert into memberships (organization_id, user_id, role, clerk_membership_id, clerk_updated_at)
    values (${organizationId}, ${userId}, ${membership.role}, ${membership.clerkMembershipId}, ${membership.updatedAt})
    on conflict (organization_id, user_id) do update set
      role = excluded.role,
      clerk_membership_id = coalesce(excluded.clerk_membership_id, memberships.clerk_membership_id),
      clerk_updated_at = coalesce(excluded.clerk_updated_at, memberships.clerk_updated_at),
      version = memberships.version + 1
    where (memberships.role <> excluded.role or memberships.clerk_membership_id is distinct from excluded.clerk_membership_id)
      and (excluded.clerk_updated_at is null or memberships.clerk_updated_at is null
           or memberships.clerk_updated_at <= excluded.clerk_updated_at)
    returning role`;
  const role = row?.role ?? (await sql<{ role: Role }[]>`
    select role from memberships where organization_id = ${organizationId} and user_id = ${userId}`)[0].role;
  return { userId, organizationId, role };
}

export async function deleteClerkUser(sql: Queryable, clerkUserId: string, at: Date): Promise<void> {
  await recordDeletion(sql, clerkUserId, "user", at);
  await sql`delete from users where clerk_user_id = ${clerkUserId}`;
}

export async function deleteClerkOrganization(sql: Queryable, clerkOrganizationId: string, at: Date): Promise<void> {
  await recordDeletion(sql, clerkOrganizationId, "organization", at);
  await sql`delete from organizations where clerk_organization_id = ${clerkOrganizationId}`;
}

/** Deletes a membership by Clerk id and, when the pair is known, any membership of that user in that organization. */
export async function deleteClerkMembership(
  sql: Queryable,
  membership: { clerkMembershipId: string; clerkOrganizationId: string | null; clerkUserId: string | null },
  at: Date,
): Promise<string | null> {
  const pair =
    membership.clerkOrganizationId && membership.clerkUserId
      ? { clerkOrganizationId: membership.clerkOrganizationId, clerkUserId: membership.clerkUserId }
      : null;
  await recordDeletion(sql, membership.clerkMembershipId, "organization_membership", at, pair);
  const [deleted] = await sql<{ organizationId: string }[]>`
    delete from memberships m
    where m.clerk_membership_id = ${membership.clerkMembershipId}
       or (m.organization_id = (select id from organizations where clerk_organization_id = ${pair?.clerkOrganizationId ?? null})
           and m.user_id = (select id from users where clerk_user_id = ${pair?.clerkUserId ?? null})
           and (m.clerk_updated_at is null or m.clerk_updated_at <= ${at}))
    returning m.organization_id`;
  return deleted?.organizationId ?? null;
}

/**
 * The lazy path: a valid session token names a user and maybe an organization we have not mirrored yet.
 * Returns our ids; the token's role is current, so it is applied, unless Clerk deleted that membership after the
 * token was issued. Writes, when there are any, commit with their audit row.
 */
export async function ensureClerkIdentity(
  db: Db,
  identity: {
    clerkUserId: string;
    clerkOrganizationId: string | null;
    organizationRole: Role | null;
    organizationSlug: string | null;
    issuedAt: Date | null;
  },
  meta: RequestMeta,
): Promise<{ userId: string | null; organizationId: string | null; role: Role | null }> {
  // Most requests come from someone already mirrored with the same role: answer those with one read.
  const [known] = await db<{ userId: string; organizationId: string | null; role: Role | null }[]>`
    select u.id as user_id, o.id as organization_id, m.role
    from users u
    left join organizations o on o.clerk_organization_id = ${identity.clerkOrganizationId}
    left join memberships m on m.organization_id = o.id and m.user_id = u.id
    where u.clerk_user_id = ${identity.clerkUserId}`;
  if (known && (!identity.clerkOrganizationId || (known.organizationId && known.role === (identity.organizationRole ?? "member")))) {
    return identity.clerkOrganizationId ? known : { userId: known.userId, organizationId: null, role: null };
  }
  return db.begin(async (sql) => {
    const user = { clerkUserId: identity.clerkUserId, email: null, name: "", updatedAt: null };
    const userId = await upsertClerkUser(sql, user);
    if (!userId) return { userId: null, organizationId: null, role: null };
    const membership = identity.clerkOrganizationId
      ? await upsertClerkMembership(sql, {
          clerkMembershipId: null,
          user,
          organization: { clerkOrganizationId: identity.clerkOrganizationId, name: identity.organizationSlug ?? "", updatedAt: null },
          role: identity.organizationRole ?? "member",
          updatedAt: null,
          observedAt: identity.issuedAt,
        })
      : null;
    const mirrored = membership ?? { userId, organizationId: null, role: null };
    await recordAudit(
      sql,
      auditFor({ userId, organizationId: mirrored.organizationId, label: identity.clerkUserId }, "clerk.identity_mirrored", { type: "user", id: userId }, {
        after: { clerkUserId: identity.clerkUserId, clerkOrganizationId: identity.clerkOrganizationId, role: mirrored.role },
      }),
      meta,
    );
    return mirrored;
  });
}

/** The parts of Clerk's webhook payloads we mirror. */
export interface ClerkUserPayload {
  id: string;
  first_name?: string | null;
  last_name?: string | null;
  primary_email_address_id?: string | null;
  email_addresses?: { id: string; email_address: string }[];
  updated_at?: number;
}
export interface ClerkOrganizationPayload {
  id: string;
  name?: string;
  slug?: string | null;
  updated_at?: number;
}
export interface ClerkMembershipPayload {
  id: string;
  role: string;
  updated_at?: number;
  organization: ClerkOrganizationPayload;
  public_user_data: { user_id: string; identifier?: string; first_name?: string | null; last_name?: string | null };
}

function fullName(first?: string | null, last?: string | null): string {
  return [first, last].filter(Boolean).join(" ");
}

function userState(user: ClerkUserPayload, fallback: Date): ClerkUserState {
  const primary = user.email_addresses?.find((address) => address.id === user.primary_email_address_id) ?? user.email_addresses?.[0];
  return {
    clerkUserId: user.id,
    email: primary?.email_address ?? null,
    name: fullName(user.first_name, user.last_name),
    updatedAt: user.updated_at ? new Date(user.updated_at) : fallback,
  };
}

function organizationState(organization: ClerkOrganizationPayload, fallback: Date): ClerkOrganizationState {
  return {
    clerkOrganizationId: organization.id,
    name: organization.name ?? organization.slug ?? "",
    updatedAt: organization.updated_at ? new Date(organization.updated_at) : fallback,
  };
}

export type ClerkEventResult = { applied: boolean; ignored?: string };

const CLERK_ACTOR = { userId: null, label: "clerk" };

/**
 * Applies one verified Clerk event, with an audit row in the caller's transaction. `eventTime` is when Clerk
 * produced it; deletions carry no `updated_at`, so it dates them.
 */
export async function applyClerkEvent(
  sql: Queryable,
  event: { type: string; data: unknown },
  eventTime: Date,
  roleOf: (role: string) => Role,
  meta: RequestMeta,
): Promise<ClerkEventResult> {
  const audit = (organizationId: string | null, target: { type: string; id: string }) =>
    recordAudit(sql, auditFor({ ...CLERK_ACTOR, organizationId }, `clerk.${event.type.replace("organizationMembership", "membership")}`, target), meta);
  switch (event.type) {
    case "user.created":
    case "user.updated": {
      const userId = await upsertClerkUser(sql, userState(event.data as ClerkUserPayload, eventTime));
      if (userId) await audit(null, { type: "user", id: userId });
      return { applied: !!userId };
    }
    case "user.deleted": {
      const clerkUserId = (event.data as { id: string }).id;
      await deleteClerkUser(sql, clerkUserId, eventTime);
      await audit(null, { type: "clerk_user", id: clerkUserId });
      return { applied: true };
    }
    case "organization.created":
    case "organization.updated": {
      const organizationId = await upsertClerkOrganization(sql, organizationState(event.data as ClerkOrganizationPayload, eventTime));
      if (organizationId) await audit(organizationId, { type: "organization", id: organizationId });
      return { applied: !!organizationId };
    }
    case "organization.deleted": {
      const clerkOrganizationId = (event.data as { id: string }).id;
      await deleteClerkOrganization(sql, clerkOrganizationId, eventTime);
      await audit(null, { type: "clerk_organization", id: clerkOrganizationId });
      return { applied: true };
    }
    case "organizationMembership.created":
    case "organizationMembership.updated": {
      const data = event.data as ClerkMembershipPayload;
      const updatedAt = data.updated_at ? new Date(data.updated_at) : eventTime;
      const result = await upsertClerkMembership(sql, {
        clerkMembershipId: data.id,
        role: roleOf(data.role),
        updatedAt,
        observedAt: updatedAt,
        organization: { ...organizationState(data.organization, updatedAt), updatedAt: null },
        user: {
          clerkUserId: data.public_user_data.user_id,
          email: null,
          name: fullName(data.public_user_data.first_name, data.public_user_data.last_name),
          updatedAt: null,
        },
      });
      if (result) await audit(result.organizationId, { type: "user", id: result.userId });
      return { applied: !!result };
    }
    case "organizationMembership.deleted": {
      const data = event.data as Partial<ClerkMembershipPayload> & { id: string };
      const organizationId = await deleteClerkMembership(
        sql,
        { clerkMembershipId: data.id, clerkOrganizationId: data.organization?.id ?? null, clerkUserId: data.public_user_data?.user_id ?? null },
        eventTime,
      );
      await audit(organizationId, { type: "clerk_membership", id: data.id });
      return { applied: true };
    }
    default:
      return { applied: false, ignored: `event type ${event.type} is not mirrored` };
  }
}
