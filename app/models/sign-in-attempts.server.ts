import type { Queryable } from "~/lib/db.server";

export const SIGN_IN_WINDOW_MINUTES = 15;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 20;

/**
 * Counts recent failures for this email and for this address. Failures are audit rows, so every instance
 * sharing the database sees the same counts.
 */
export async function signInRetryAfter(db: Queryable, email: string, ip: string | null): Promise<number | null> {
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

