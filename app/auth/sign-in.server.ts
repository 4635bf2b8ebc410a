import type { Db } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { recordAudit } from "~/models/audit.server";
import { signInRetryAfter } from "~/models/sign-in-attempts.server";
import { listMembershipsForUser } from "~/models/organizations.server";
import { createSession } from "~/models/sessions.server";
import { findUserByEmail } from "~/models/users.server";
import { verifyAgainstDecoy, verifyPassword } from "./password.server";


export type SignInResult =
  | { ok: true; token: string; expiresAt: Date; userId: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

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
  const retryAfterSeconds = await signInRetryAfter(db, email, ip);
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
