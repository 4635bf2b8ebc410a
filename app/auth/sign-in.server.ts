import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { auditFor, recordAudit } from "~/models/audit.server";
import { listMembershipsForUser } from "~/models/organizations.server";
import { createSession } from "~/models/sessions.server";
import { releaseSignInAttempt, reserveSignInAttempt } from "~/models/sign-in-attempts.server";
import { findUserByEmail } from "~/models/users.server";
import { verifyAgainstDecoy, verifyPassword } from "./password.server";

export type SignInResult =
  | { ok: true; token: string; expiresAt: Date; userId: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

export interface SignInDependencies {
  /** How the per-email slow-down waits; tests pass one that records instead of sleeping. */
  wait?: (ms: number) => Promise<unknown>;
  verify?: typeof verifyPassword;
}

/**
 * Checks an email and password and starts a session in the person's organization. The attempt is counted before
 * the password is checked (see reserveSignInAttempt). Unknown emails and wrong passwords give the same answer in
 * about the same time, so the form never says which emails have accounts.
 */
export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; ttlDays: number },
  meta: RequestMeta,
  dependencies: SignInDependencies = {},
): Promise<SignInResult> {
  const { wait = sleep, verify = verifyPassword } = dependencies;
  const email = input.email.trim().toLowerCase();
  const ip = meta.ip && net.isIP(meta.ip) ? meta.ip : null;
  const reservation = await reserveSignInAttempt(db, email, ip);
  if (!reservation.ok) return reservation;
  if (reservation.delayMs) await wait(reservation.delayMs);

  const user = await findUserByEmail(db, email);
  const valid = user?.passwordHash ? await verify(input.password, user.passwordHash) : (await verifyAgainstDecoy(input.password), false);
  if (!user || !valid) {
    const actor = { userId: user?.id ?? null, organizationId: null, label: email };
    await recordAudit(db, auditFor(actor, "auth.sign_in_failed", user ? { type: "user", id: user.id } : null, { after: { email } }), meta);
    return { ok: false, reason: "invalid" };
  }

  const [membership] = await listMembershipsForUser(db, user.id);
  return db.begin(async (sql) => {
    await releaseSignInAttempt(sql, email, ip, reservation.windowStart);
    const organizationId = membership?.organizationId ?? null;
    const session = await createSession(sql, { userId: user.id, organizationId, ttlDays: input.ttlDays, meta });
    await recordAudit(sql, auditFor({ userId: user.id, organizationId, label: email }, "auth.signed_in", { type: "user", id: user.id }), meta);
    return { ok: true, userId: user.id, ...session } as const;
  });
}
