import type { Db } from "~/lib/db.server";
import { recordAudit, type RequestMeta } from "~/models/audit.server";
import { listMembershipsForUser } from "~/models/organizations.server";
import { createSession } from "~/models/sessions.server";
import { findUserByEmail } from "~/models/users.server";
import { verifyAgainstDecoy, verifyPassword } from "./password.server";

export const SIGN_IN_WINDOW_MINUTES = 15;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 20;

export type SignInResult =
  | { ok: true; token: string; expiresAt: Date; userId: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/**
 * Counts recent failures for this email and for this address. Failures are audit rows, so every instance
 * sharing the database sees the same counts.
 */
async function throttle(db: Db, email: string, ip: string | null): Promise<number | null> {
  const [row] = await db<{ emailFailures: number; ipFailures: number; retryAfter: number | null }[]>`
    with recent as (
      select created_at, target_id, host(ip) as ip from audit_log
      where action = 'auth.sign_in_failed'
        and created_at > now() - make_interval(mins => ${SIGN_IN_WINDOW_MINUTES})
        and (target_id = ${email} or ip = ${ip}::inet)
    )
    select
      count(*) filter (where target_id = ${email})::int as email_failures,
      count(*) filter (where ip = ${ip})::int as ip_failures,
      ceil(extract(epoch from min(created_at) + make_interval(mins => ${SIGN_IN_WINDOW_MINUTES}) - now()))::int as retry_after
    from recent`;
  if (row.emailFailures >= MAX_FAILURES_PER_EMAIL || row.ipFailures >= MAX_FAILURES_PER_IP) {
    return Math.max(1, row.retryAfter ?? SIGN_IN_WINDOW_MINUTES * 60);
  }
  return null;
}

/**
 * Checks an email and password and starts a session in the person's organization. Unknown emails and wrong
 * passwords give the same answer in about the same time, so the form never says which emails have accounts.
 */
export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; ttlDays: number },
  meta: RequestMeta,
): Promise<SignInResult> {
  const email = input.email.trim().toLowerCase();
  const ip = meta.ip && /^[0-9a-fA-F:.]+$/.test(meta.ip) ? meta.ip : null;
  const retryAfterSeconds = await throttle(db, email, ip);
  if (retryAfterSeconds !== null) return { ok: false, reason: "rate_limited", retryAfterSeconds };

  const user = await findUserByEmail(db, email);
  const valid = user?.passwordHash
    ? await verifyPassword(input.password, user.passwordHash)
    : (await verifyAgainstDecoy(input.password), false);
  if (!user || !valid) {
    await recordAudit(
      db,
      { organizationId: null, actorUserId: user?.id ?? null, actorLabel: email, action: "auth.sign_in_failed", targetType: "email", targetId: email },
      meta,
    );
    return { ok: false, reason: "invalid" };
  }

  const [membership] = await listMembershipsForUser(db, user.id);
  return db.begin(async (sql) => {
    const session = await createSession(sql, {
      userId: user.id,
      organizationId: membership?.organizationId ?? null,
      ttlDays: input.ttlDays,
      ip,
      userAgent: meta.userAgent,
    });
    await recordAudit(
      sql,
      {
        organizationId: membership?.organizationId ?? null,
        actorUserId: user.id,
        actorLabel: email,
        action: "auth.signed_in",
        targetType: "user",
        targetId: user.id,
      },
      meta,
    );
    return { ok: true, userId: user.id, ...session } as const;
  });
}
