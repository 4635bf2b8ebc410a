import crypto from "node:crypto";
import type { Queryable } from "~/lib/db.server";

/**
 * A secret the app made for itself, shared by every process through the database: the first to ask creates it,
 * the rest read the same one. Used when no secret is configured, so links signed today still work after a restart.
 */
export async function getOrCreateAppSecret(sql: Queryable, name: string): Promise<string> {
  const candidate = crypto.randomBytes(32).toString("base64url");
  await sql`insert into app_secrets (name, secret) values (${name}, ${candidate}) on conflict (name) do nothing`;
  const [row] = await sql<{ secret: string }[]>`select secret from app_secrets where name = ${name}`;
  return row!.secret;
}
