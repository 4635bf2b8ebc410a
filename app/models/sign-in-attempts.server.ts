import { hashToken } from "~/lib/crypto.server";
import type { Queryable } from "~/lib/db.server";

export const SIGN_IN_WINDOW_MINUTES = 15;
/** Hard limits: attempts from one address, and for one email from one address, in a window. */
export const MAX_ATTEMPTS_PER_ADDRESS = 20;
export const MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS = 5;
/** Past this many attempts on one email from anywhere, each further attempt waits longer, but is never refused. */
export const EMAIL_SLOW_DOWN_AFTER = 5;
export const MAX_EMAIL_DELAY_MS = 8_000;

/**
 * The wait before checking a password for an email with `attempts` attempts this window (this one included):
 * nothing up to the slow-down threshold, then 250 ms doubling up to MAX_EMAIL_DELAY_MS. Anyone can fail on
 * someone else's email on purpose, so this slows guessing without locking the owner out.
 */
export function emailDelayMs(attempts: number): number {
  if (attempts <= EMAIL_SLOW_DOWN_AFTER) return 0;
  return Math.min(MAX_EMAIL_DELAY_MS, 250 * 2 ** (attempts - EMAIL_SLOW_DOWN_AFTER - 1));
}

type Scope = "address" | "email_address" | "email";

function keys(email: string, ip: string | null): Record<Scope, string> {
  const address = ip ?? "unknown";
  return {
    address: hashToken(`address:${address}`),
    email_address: hashToken(`email_address:${email}\n${address}`),
    email: hashToken(`email:${email}`),
  };
}

export type SignInReservation =
  | { ok: true; delayMs: number; windowStart: Date }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/**
 * Counts this attempt before the password is checked. Each counter is one `insert … on conflict do update …
 * returning count`, so concurrent attempts each see a distinct count and at most the limit get through. An
 * attempt refused by a hard limit does not count against the email, so it cannot slow its owner down.
 */
export async function reserveSignInAttempt(sql: Queryable, email: string, ip: string | null): Promise<SignInReservation> {
  const key = keys(email, ip);
  const hard = await sql<{ scope: Scope; count: number; windowStart: Date; retryAfter: number }[]>`
    insert into sign_in_attempts (scope, key_hash, window_start, count)
    select scope, key_hash, date_bin(make_interval(mins => ${SIGN_IN_WINDOW_MINUTES}), now(), timestamptz 'epoch'), 1
    from (values ('address', ${key.address}), ('email_address', ${key.email_address})) as attempt (scope, key_hash)
    on conflict (scope, key_hash, window_start) do update set count = sign_in_attempts.count + 1
    returning scope, count, window_start,
      greatest(1, ceil(extract(epoch from window_start + make_interval(mins => ${SIGN_IN_WINDOW_MINUTES}) - now())))::int as retry_after`;
  const over = hard.find(
    (row) => row.count > (row.scope === "address" ? MAX_ATTEMPTS_PER_ADDRESS : MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS),
  );
  if (over) return { ok: false, reason: "rate_limited", retryAfterSeconds: over.retryAfter };
  const windowStart = hard[0].windowStart;
  const [soft] = await sql<{ count: number }[]>`
    insert into sign_in_attempts (scope, key_hash, window_start, count)
    values ('email', ${key.email}, ${windowStart}, 1)
    on conflict (scope, key_hash, window_start) do update set count = sign_in_attempts.count + 1
    returning count`;
  return { ok: true, delayMs: emailDelayMs(soft.count), windowStart };
}

/** A successful sign-in takes its attempt back: only failures use up the limits. */
export async function releaseSignInAttempt(sql: Queryable, email: string, ip: string | null, windowStart: Date): Promise<void> {
  const key = keys(email, ip);
  await sql`
    update sign_in_attempts set count = greatest(count - 1, 0)
    where window_start = ${windowStart}
      and (scope, key_hash) in (('address', ${key.address}), ('email_address', ${key.email_address}), ('email', ${key.email}))`;
}

/** Counters of windows long gone; run by the sweeper. */
export async function deleteOldSignInAttempts(sql: Queryable): Promise<number> {
  const rows = await sql`
    delete from sign_in_attempts where window_start < now() - make_interval(mins => ${2 * SIGN_IN_WINDOW_MINUTES}) returning 1`;
  return rows.length;
}

/** Requests from one client address that make us email an address it typed in (public subscribe, forgot password). */
export const MAX_MAIL_REQUESTS_PER_ADDRESS = 20;

export type MailRequestReservation = { ok: true } | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/**
 * Counts one such request in the current window, by a hash of the client address, in one upsert (so concurrent
 * requests each see their own count). The answer depends only on the client, never on the address typed in.
 */
export async function reserveMailRequest(sql: Queryable, ip: string | null): Promise<MailRequestReservation> {
  const [row] = await sql<{ count: number; retryAfter: number }[]>`
    insert into sign_in_attempts (scope, key_hash, window_start, count)
    values ('mail_request_address', ${hashToken(`mail_request_address:${ip ?? "unknown"}`)},
            date_bin(make_interval(mins => ${SIGN_IN_WINDOW_MINUTES}), now(), timestamptz 'epoch'), 1)
    on conflict (scope, key_hash, window_start) do update set count = sign_in_attempts.count + 1
    returning count,
      greatest(1, ceil(extract(epoch from window_start + make_interval(mins => ${SIGN_IN_WINDOW_MINUTES}) - now())))::int as retry_after`;
  return row.count > MAX_MAIL_REQUESTS_PER_ADDRESS ? { ok: false, reason: "rate_limited", retryAfterSeconds: row.retryAfter } : { ok: true };
}
