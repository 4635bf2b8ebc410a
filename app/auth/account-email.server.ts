import net from "node:net";
import { absoluteUrl } from "~/lib/app-url.server";
import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { safeRedirect } from "~/lib/safe-redirect";
import { consumeAccountToken, findAccountToken, issueAccountToken, issuedWithin, type AccountTokenOwner, type AccountTokenPurpose } from "~/models/account-tokens.server";
import { auditFor, recordAudit } from "~/models/audit.server";
import { enqueueEmail } from "~/models/email-deliveries.server";
import { createSession, endAllSessions } from "~/models/sessions.server";
import { reserveMailRequest, type MailRequestReservation } from "~/models/sign-in-attempts.server";
import {
  findUserByEmail,
  homeOrganizationId,
  insertUserWithPersonalOrganization,
  isEmailVerified,
  markEmailVerified,
  setPasswordHash,
} from "~/models/users.server";
import { hashPassword } from "./password.server";

type MailRequestRefusal = Exclude<MailRequestReservation, { ok: true }>;

/** How long each kind of link works. Password reset: an hour, as the issue asks; the others are only sign-ins. */
export const LINK_MINUTES: Record<AccountTokenPurpose, number> = {
  email_verification: 48 * 60,
  password_reset: 60,
  sign_in: 60,
};

/** At most one email of a kind to an account in this many minutes, so the public forms cannot flood a mailbox. */
export const RESEND_AFTER_MINUTES = 1;

/** The link, carrying where the person was going (an invitation, say) when that stays on this site. */
function withRedirect(path: string, redirectTo: string | undefined): string {
  const target = safeRedirect(redirectTo, "");
  return target ? `${path}?redirectTo=${encodeURIComponent(target)}` : path;
}

async function mailVerificationLink(
  sql: Queryable,
  account: { userId: string; email: string; name: string; organizationId: string },
  redirectTo: string | undefined,
): Promise<void> {
  const { token, expiresAt } = await issueAccountToken(sql, {
    userId: account.userId,
    email: account.email,
    purpose: "email_verification",
    ttlMinutes: LINK_MINUTES.email_verification,
  });
  await enqueueEmail(sql, {
    organizationId: account.organizationId,
    kind: "email_verification",
    toEmail: account.email,
    userId: account.userId,
    payload: { name: account.name, verifyUrl: absoluteUrl(withRedirect(`/verify-email/${token}`, redirectTo)), expiresAt: expiresAt.toISOString() },
  });
}

/**
 * Sign-up. Whether or not the address already has an account, the answer is the same (`{ ok: true }`), the
 * password is hashed either way (so both take as long), nobody is signed in, and exactly one email goes to the
 * address: a verification link for a new account, a sign-in link for an existing one. The form thus tells no
 * one which addresses have accounts.
 */
export async function signUpWithPassword(
  db: Db,
  input: { name: string; email: string; password: string; redirectTo?: string },
  meta: RequestMeta,
): Promise<{ ok: true }> {
  const email = input.email.trim().toLowerCase();
  const passwordHash = await hashPassword(input.password);
  await db.begin(async (sql) => {
    const created = await insertUserWithPersonalOrganization(sql, { name: input.name, email, passwordHash });
    if (created) {
      const { user, organization } = created;
      const actor = { userId: user.id, organizationId: organization.id, label: email };
      await recordAudit(
        sql,
        auditFor(actor, "auth.signed_up", { type: "user", id: user.id }, { after: { email, name: user.name, organization: organization.name } }),
        meta,
      );
      await mailVerificationLink(sql, { userId: user.id, email, name: user.name, organizationId: organization.id }, input.redirectTo);
      return;
    }
    const existing = await findUserByEmail(sql, email);
    if (!existing) return;
    const organizationId = await homeOrganizationId(sql, existing.id);
    await recordAudit(
      sql,
      auditFor({ userId: existing.id, organizationId, label: email }, "auth.sign_up_for_existing_account", { type: "user", id: existing.id }),
      meta,
    );
    if (!organizationId || (await issuedWithin(sql, existing.id, "sign_in", RESEND_AFTER_MINUTES))) return;
    const { token, expiresAt } = await issueAccountToken(sql, { userId: existing.id, email, purpose: "sign_in", ttlMinutes: LINK_MINUTES.sign_in });
    await enqueueEmail(sql, {
      organizationId,
      kind: "sign_in_link",
      toEmail: email,
      userId: existing.id,
      payload: { name: existing.name, signInUrl: absoluteUrl(withRedirect(`/sign-in-link/${token}`, input.redirectTo)), expiresAt: expiresAt.toISOString() },
    });
  });
  return { ok: true };
}

export type ResendVerificationResult = { ok: true; sent: boolean } | { ok: false; reason: "already_verified" };

/** A fresh verification link for the signed-in person, at most one a minute. */
export async function resendVerification(
  db: Db,
  person: { userId: string; email: string | null; name: string; redirectTo?: string },
  meta: RequestMeta,
): Promise<ResendVerificationResult> {
  return db.begin(async (sql) => {
    if (!person.email || (await isEmailVerified(sql, person.userId))) return { ok: false, reason: "already_verified" } as const;
    const organizationId = await homeOrganizationId(sql, person.userId);
    if (!organizationId || (await issuedWithin(sql, person.userId, "email_verification", RESEND_AFTER_MINUTES))) {
      return { ok: true, sent: false } as const;
    }
    await mailVerificationLink(sql, { userId: person.userId, email: person.email, name: person.name, organizationId }, person.redirectTo);
    await recordAudit(
      sql,
      auditFor({ userId: person.userId, organizationId, label: person.email }, "auth.verification_resent", { type: "user", id: person.userId }),
      meta,
    );
    return { ok: true, sent: true } as const;
  });
}

/** Who a link is for, for the page that shows its button; undefined for a used, expired or unknown link. */
export function findAccountLink(db: Db, token: string, purpose: AccountTokenPurpose): Promise<AccountTokenOwner | undefined> {
  return findAccountToken(db, token, purpose);
}

export type LinkSignInResult = { ok: true; userId: string; session: { token: string; expiresAt: Date } } | { ok: false; reason: "invalid" };

/**
 * Uses a verification or sign-in link: the address is proved (it read the mail), so it is marked verified and a
 * session starts. One transaction with its audit row; the link works once.
 */
export async function signInWithEmailLink(
  db: Db,
  input: { token: string; purpose: "email_verification" | "sign_in"; sessionTtlDays: number },
  meta: RequestMeta,
): Promise<LinkSignInResult> {
  return db.begin(async (sql) => {
    const owner = await consumeAccountToken(sql, input.token, input.purpose);
    if (!owner) return { ok: false, reason: "invalid" } as const;
    await markEmailVerified(sql, owner.userId, owner.email);
    const organizationId = await homeOrganizationId(sql, owner.userId);
    const session = await createSession(sql, { userId: owner.userId, organizationId, ttlDays: input.sessionTtlDays, meta });
    const action = input.purpose === "email_verification" ? "auth.email_verified" : "auth.signed_in_by_link";
    await recordAudit(sql, auditFor({ userId: owner.userId, organizationId, label: owner.email }, action, { type: "user", id: owner.userId }), meta);
    return { ok: true, userId: owner.userId, session } as const;
  });
}

/**
 * "Forgot password": mails a reset link valid for an hour when the address has a built-in account, at most one a
 * minute. The answer is the same either way; only a client sending too many such requests is refused.
 */
export async function requestPasswordReset(db: Db, email: string, meta: RequestMeta): Promise<{ ok: true } | MailRequestRefusal> {
  const address = email.trim().toLowerCase();
  const allowed = await reserveMailRequest(db, meta.ip && net.isIP(meta.ip) ? meta.ip : null);
  if (!allowed.ok) return allowed;
  await db.begin(async (sql) => {
    const user = await findUserByEmail(sql, address);
    if (!user?.passwordHash) return;
    const organizationId = await homeOrganizationId(sql, user.id);
    if (!organizationId || (await issuedWithin(sql, user.id, "password_reset", RESEND_AFTER_MINUTES))) return;
    const { token, expiresAt } = await issueAccountToken(sql, { userId: user.id, email: address, purpose: "password_reset", ttlMinutes: LINK_MINUTES.password_reset });
    await enqueueEmail(sql, {
      organizationId,
      kind: "password_reset",
      toEmail: address,
      userId: user.id,
      payload: { name: user.name, resetUrl: absoluteUrl(`/reset-password/${token}`), expiresAt: expiresAt.toISOString() },
    });
    await recordAudit(sql, auditFor({ userId: user.id, organizationId, label: address }, "auth.password_reset_requested", { type: "user", id: user.id }), meta);
  });
  return { ok: true };
}

export type ResetPasswordResult = { ok: true; sessionsEnded: number } | { ok: false; reason: "invalid" };

/**
 * Sets a new password from a reset link and ends every session of the account, wherever it was signed in: whoever
 * knew the old password is out. The link works once; reading the mail also proves the address.
 */
export async function resetPassword(db: Db, input: { token: string; password: string }, meta: RequestMeta): Promise<ResetPasswordResult> {
  const passwordHash = await hashPassword(input.password);
  return db.begin(async (sql) => {
    const owner = await consumeAccountToken(sql, input.token, "password_reset");
    if (!owner) return { ok: false, reason: "invalid" } as const;
    await setPasswordHash(sql, owner.userId, passwordHash);
    await markEmailVerified(sql, owner.userId, owner.email);
    const sessionsEnded = await endAllSessions(sql, owner.userId);
    const organizationId = await homeOrganizationId(sql, owner.userId);
    await recordAudit(
      sql,
      auditFor({ userId: owner.userId, organizationId, label: owner.email }, "auth.password_reset", { type: "user", id: owner.userId }, {
        after: { sessionsEnded },
      }),
      meta,
    );
    return { ok: true, sessionsEnded } as const;
  });
}
