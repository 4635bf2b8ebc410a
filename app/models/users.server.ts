import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { recordAudit } from "./audit.server";
import type { OrganizationRow } from "./organizations.server";

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

export type SignUpResult = { ok: true; user: UserRow; organization: OrganizationRow } | { ok: false; reason: "email_taken" };

/** Creates the account, its personal organization and the owner membership, audited, in one transaction. */
export async function createUserWithPersonalOrganization(
  db: Db,
  input: { name: string; email: string; passwordHash: string },
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
      insert into organizations (name, is_personal) values (${`${input.name}'s organization`}, true) returning *`;
    await sql`insert into memberships (organization_id, user_id, role) values (${organization.id}, ${user.id}, 'owner')`;
    await recordAudit(
      sql,
      {
        organizationId: organization.id,
        actorUserId: user.id,
        actorLabel: user.email!,
        action: "auth.signed_up",
        targetType: "user",
        targetId: user.id,
        after: { email: user.email, name: user.name, organization: organization.name },
      },
      meta,
    );
    return { ok: true, user, organization } as const;
  });
}
