import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { auditFor, recordAudit } from "./audit.server";
import type { OrganizationRow } from "./organizations.server";
import { createSession } from "./sessions.server";

export interface UserRow {
  id: string;
  email: string | null;
  name: string;
  passwordHash: string | null;
  clerkUserId: string | null;
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

export type SignUpResult =
  | { ok: true; user: UserRow; organization: OrganizationRow; session: { token: string; expiresAt: Date } }
  | { ok: false; reason: "email_taken" };

const PERSONAL_SUFFIX = "'s organization";

/** "Ada's organization", shortened so a name of any allowed length fits the organization's 200 characters. */
function personalOrganizationName(name: string): string {
  return `${name.slice(0, 200 - PERSONAL_SUFFIX.length).trimEnd()}${PERSONAL_SUFFIX}`;
}

/**
 * Creates the account, its personal organization, the owner membership and the first session, audited, in one
 * transaction. Returns the session's token for the cookie.
 */
export async function createUserWithPersonalOrganization(
  db: Db,
  input: { name: string; email: string; passwordHash: string; sessionTtlDays: number },
  meta: RequestMeta,
): Promise<SignUpResult> {
  return db.begin(async (sql) => {
    const [user] = await sql<UserRow[]>`
      insert into users (email, name, password_hash)
      values (${input.email.toLowerCase()}, ${input.name}, ${input.passwordHash})
      on conflict (email) where email is not null do nothing
      returning *`;
    if (!user) return { ok: false, reason: "email_taken" } as const;
    const [organization] = await sql<OrganizationRow[]>`
      insert into organizations (name, is_personal) values (${personalOrganizationName(input.name)}, true) returning *`;
    await sql`insert into memberships (organization_id, user_id, role) values (${organization.id}, ${user.id}, 'owner')`;
    const session = await createSession(sql, { userId: user.id, organizationId: organization.id, ttlDays: input.sessionTtlDays, meta });
    const actor = { userId: user.id, organizationId: organization.id, label: user.email! };
    await recordAudit(
      sql,
      auditFor(actor, "auth.signed_up", { type: "user", id: user.id }, { after: { email: user.email, name: user.name, organization: organization.name } }),
      meta,
    );
    return { ok: true, user, organization, session } as const;
  });
}
