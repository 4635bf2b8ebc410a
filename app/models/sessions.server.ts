import net from "node:net";
import { hashToken, randomToken } from "~/lib/crypto.server";
import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { auditFor, recordAudit } from "./audit.server";

export interface SessionWithUser {
  id: string;
  userId: string;
  organizationId: string | null;
  expiresAt: Date;
  userEmail: string | null;
  userName: string;
}

/** The person behind a request, for writes about their own sessions. */
export interface SessionActor {
  userId: string;
  label: string;
  /** The built-in session's id; null in Clerk mode. */
  sessionId: string | null;
  /** The organization they are working in, for the audit row. */
  organizationId: string | null;
}

/**
 * Starts a session with a fresh random token; only its hash is stored. Returns the token for the cookie. Called
 * inside the transaction of the sign-up or sign-in that it belongs to.
 */
export async function createSession(
  sql: Queryable,
  input: { userId: string; organizationId: string | null; ttlDays: number; meta: RequestMeta },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken();
  const [row] = await sql<{ expiresAt: Date }[]>`
    insert into sessions (token_hash, user_id, organization_id, expires_at, ip, user_agent)
    values (
      ${hashToken(token)}, ${input.userId}, ${input.organizationId},
      now() + make_interval(days => ${input.ttlDays}),
      ${input.meta.ip && net.isIP(input.meta.ip) ? input.meta.ip : null}, ${input.meta.userAgent?.slice(0, 1000) ?? null}
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

export type SwitchOrganizationResult = { ok: true; organizationName: string } | { ok: false; reason: "not_found" };

/**
 * Makes another of the person's organizations the session's. One they are not in looks exactly like one that does
 * not exist.
 */
export async function switchSessionOrganization(
  db: Db,
  actor: SessionActor,
  organizationId: string,
  meta: RequestMeta,
): Promise<SwitchOrganizationResult> {
  if (!actor.sessionId) return { ok: false, reason: "not_found" };
  const sessionId = actor.sessionId;
  return db.begin(async (sql) => {
    const [membership] = await sql<{ organizationName: string }[]>`
      select o.name as organization_name from memberships m join organizations o on o.id = m.organization_id
      where m.organization_id = ${organizationId} and m.user_id = ${actor.userId}
      for share of m`;
    if (!membership) return { ok: false, reason: "not_found" } as const;
    const [session] = await sql<{ previous: string | null }[]>`
      update sessions s set organization_id = ${organizationId}
      from sessions old
      where s.id = ${sessionId} and s.user_id = ${actor.userId} and old.id = s.id
      returning old.organization_id as previous`;
    if (!session) return { ok: false, reason: "not_found" } as const;
    await recordAudit(
      sql,
      auditFor(actor, "session.organization_switched", { type: "session", id: sessionId }, {
        organizationId,
        before: { organizationId: session.previous },
        after: { organizationId },
      }),
      meta,
    );
    return { ok: true, organizationName: membership.organizationName } as const;
  });
}

/**
 * Ends this session, or every session of the person ("everywhere"), with its audit row. In Clerk mode there is no
 * session row of ours; the audit row still records it.
 */
export async function signOut(db: Db, actor: SessionActor, scope: "session" | "everywhere", meta: RequestMeta): Promise<{ ok: true; ended: number }> {
  return db.begin(async (sql) => {
    const ended =
      scope === "everywhere"
        ? await sql`delete from sessions where user_id = ${actor.userId} returning id`
        : actor.sessionId
          ? await sql`delete from sessions where id = ${actor.sessionId} and user_id = ${actor.userId} returning id`
          : [];
    await recordAudit(
      sql,
      auditFor(actor, scope === "everywhere" ? "auth.signed_out_everywhere" : "auth.signed_out", { type: "user", id: actor.userId }, {
        after: { sessionsEnded: ended.length },
      }),
      meta,
    );
    return { ok: true, ended: ended.length } as const;
  });
}

export async function deleteExpiredSessions(sql: Queryable): Promise<number> {
  const rows = await sql`delete from sessions where expires_at <= now() returning id`;
  return rows.length;
}

/** Ends every session of the account, inside the caller's transaction; returns how many there were. */
export async function endAllSessions(sql: Queryable, userId: string): Promise<number> {
  const rows = await sql`delete from sessions where user_id = ${userId} returning id`;
  return rows.length;
}
