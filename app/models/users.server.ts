import type { Queryable } from "~/lib/db.server";
import type { OrganizationRow } from "./organizations.server";

export interface UserRow {
  id: string;
  email: string | null;
  name: string;
  passwordHash: string | null;
  clerkUserId: string | null;
  emailVerifiedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export async function getUserProfile(sql: Queryable, userId: string): Promise<Pick<UserRow, "name" | "email"> | undefined> {
  const [user] = await sql<Pick<UserRow, "name" | "email">[]>`select name, email from users where id = ${userId}`;
  return user;
}

export async function findUserByEmail(sql: Queryable, email: string): Promise<UserRow | undefined> {
  const [user] = await sql<UserRow[]>`select * from users where email = ${email.toLowerCase()}`;
  return user;
}

const PERSONAL_SUFFIX = "'s organization";

/** "Ada's organization", shortened so a name of any allowed length fits the organization's 200 characters. */
function personalOrganizationName(name: string): string {
  return `${name.slice(0, 200 - PERSONAL_SUFFIX.length).trimEnd()}${PERSONAL_SUFFIX}`;
}

/**
 * Inserts the account, its personal organization and the owner membership, inside the caller's transaction.
 * Null when the email already has an account: nothing is written then.
 */
export async function insertUserWithPersonalOrganization(
  sql: Queryable,
  input: { name: string; email: string; passwordHash: string },
): Promise<{ user: UserRow; organization: OrganizationRow } | null> {
  const [user] = await sql<UserRow[]>`
    insert into users (email, name, password_hash)
    values (${input.email.toLowerCase()}, ${input.name}, ${input.passwordHash})
    on conflict (email) where email is not null do nothing
    returning *`;
  if (!user) return null;
  const [organization] = await sql<OrganizationRow[]>`
    insert into organizations (name, is_personal) values (${personalOrganizationName(input.name)}, true) returning *`;
  await sql`insert into memberships (organization_id, user_id, role) values (${organization.id}, ${user.id}, 'owner')`;
  return { user, organization };
}

/**
 * Whether the person has proved they read mail at their address: by a link for built-in accounts; Clerk verifies
 * its own users before they reach us.
 */
export async function isEmailVerified(sql: Queryable, userId: string): Promise<boolean> {
  const [user] = await sql<{ verified: boolean }[]>`
    select (email_verified_at is not null or clerk_user_id is not null) as verified from users where id = ${userId}`;
  return user?.verified ?? false;
}

/** Marks the address verified, only if it is still the one the link was sent to. */
export async function markEmailVerified(sql: Queryable, userId: string, email: string): Promise<boolean> {
  const rows = await sql`
    update users set email_verified_at = coalesce(email_verified_at, now())
    where id = ${userId} and email = ${email.toLowerCase()}
    returning id`;
  return rows.length > 0;
}

export async function setPasswordHash(sql: Queryable, userId: string, passwordHash: string): Promise<void> {
  await sql`update users set password_hash = ${passwordHash}, version = version + 1 where id = ${userId}`;
}

/**
 * The organization an account's own email (verification, reset, sign-in link) is filed under in the outbox: its
 * personal organization first, else the one it joined first. Null for an account in no organization.
 */
export async function homeOrganizationId(sql: Queryable, userId: string): Promise<string | null> {
  const [row] = await sql<{ organizationId: string }[]>`
    select m.organization_id from memberships m join organizations o on o.id = m.organization_id
    where m.user_id = ${userId}
    order by o.is_personal desc, m.created_at
    limit 1`;
  return row?.organizationId ?? null;
}
