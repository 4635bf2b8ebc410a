import { hashToken, randomToken } from "~/lib/crypto.server";
import type { Queryable } from "~/lib/db.server";

export type AccountTokenPurpose = "email_verification" | "password_reset" | "sign_in";

export interface AccountTokenOwner {
  userId: string;
  email: string;
  name: string;
  expiresAt: Date;
}

/**
 * A new link token for the account, valid for `ttlMinutes`; only its hash is stored. Earlier unused links of the
 * same purpose stop working, so only the newest email's link does anything.
 */
export async function issueAccountToken(
  sql: Queryable,
  input: { userId: string; email: string; purpose: AccountTokenPurpose; ttlMinutes: number },
): Promise<{ token: string; expiresAt: Date }> {
  await sql`delete from account_tokens where user_id = ${input.userId} and purpose = ${input.purpose} and used_at is null`;
  const token = randomToken();
  const [row] = await sql<{ expiresAt: Date }[]>`
    insert into account_tokens (user_id, purpose, token_hash, email, expires_at)
    values (${input.userId}, ${input.purpose}, ${hashToken(token)}, ${input.email.toLowerCase()},
            now() + make_interval(mins => ${input.ttlMinutes}))
    returning expires_at`;
  return { token, expiresAt: row.expiresAt };
}

/**
 * The account a link is for, if the link is unused, unexpired, and the account's address is still the one it was
 * sent to. Reading does not use it up: pages show a button first, so mail scanners following links change nothing.
 */
export async function findAccountToken(sql: Queryable, token: string, purpose: AccountTokenPurpose): Promise<AccountTokenOwner | undefined> {
  const [owner] = await sql<AccountTokenOwner[]>`
    select t.user_id, t.email, u.name, t.expires_at
    from account_tokens t join users u on u.id = t.user_id and u.email = t.email
    where t.token_hash = ${hashToken(token)} and t.purpose = ${purpose} and t.used_at is null and t.expires_at > now()`;
  return owner;
}

/** Uses the link up, once: of two concurrent uses only one gets the account back. */
export async function consumeAccountToken(sql: Queryable, token: string, purpose: AccountTokenPurpose): Promise<AccountTokenOwner | undefined> {
  const [owner] = await sql<AccountTokenOwner[]>`
    update account_tokens t set used_at = now()
    from users u
    where t.token_hash = ${hashToken(token)} and t.purpose = ${purpose} and t.used_at is null and t.expires_at > now()
      and u.id = t.user_id and u.email = t.email
    returning t.user_id, t.email, u.name, t.expires_at`;
  return owner;
}

/** Whether a link of this purpose went to the account within the last `minutes`: the resend throttle. */
export async function issuedWithin(sql: Queryable, userId: string, purpose: AccountTokenPurpose, minutes: number): Promise<boolean> {
  const [row] = await sql`
    select 1 from account_tokens
    where user_id = ${userId} and purpose = ${purpose} and created_at > now() - make_interval(mins => ${minutes})
    limit 1`;
  return !!row;
}
