import crypto from "node:crypto";
import net from "node:net";
import { hashToken, randomToken } from "~/lib/crypto.server";
import type { Queryable } from "~/lib/db.server";

export interface SessionWithUser {
  id: string;
  userId: string;
  organizationId: string | null;
  expiresAt: Date;
  userEmail: string | null;
  userName: string;
}

/** Starts a session with a fresh random token; only its hash is stored. Returns the token for the cookie. */
export async function createSession(
  sql: Queryable,
  input: { userId: string; organizationId: string | null; ttlDays: number; ip: string | null; userAgent: string | null },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken();
  const [row] = await sql<{ expiresAt: Date }[]>`
    insert into sessions (token_hash, user_id, organization_id, expires_at, ip, user_agent)
    values (
      ${hashToken(token)}, ${input.userId}, ${input.organizationId},
      now() + make_interval(days => ${input.ttlDays}),
      ${input.ip && net.isIP(input.ip) ? input.ip : null}, ${input.userAgent?.slice(0, 1000) ?? null}
    )
    returning expires_at`;
  return { token, expiresAt: row.expiresAt };
}

/** The live session for a cookie token, with its user; expired sessions are not returned. */
export async function findSession(sql: Queryable, token: string): Promise<SessionWithUser | undefined> {
  const [session] = await sql<SessionWithUser[]>`
    select s.id, s.user_id, s.organization_id, s.expires_at, u.email as user_email, u.name as user_name
    from sessions s join users u on u.id = s.user_id
    where s.token_hash = ${hashToken(token)} and s.expires_at > now()`;
  return session;
}

export async function setSessionOrganization(sql: Queryable, sessionId: string, organizationId: string): Promise<void> {
  await sql`update sessions set organization_id = ${organizationId} where id = ${sessionId}`;
}

export async function deleteSession(sql: Queryable, sessionId: string): Promise<void> {
  await sql`delete from sessions where id = ${sessionId}`;
}

export async function deleteUserSessions(sql: Queryable, userId: string): Promise<number> {
  const rows = await sql`delete from sessions where user_id = ${userId} returning id`;
  return rows.length;
}

export async function deleteExpiredSessions(sql: Queryable): Promise<number> {
  const rows = await sql`delete from sessions where expires_at <= now() returning id`;
  return rows.length;
}
