import crypto from "node:crypto";

/** A new unguessable token for a link or a cookie: 256 random bits, URL-safe. */
export function randomToken(): string {
  return crypto.randomBytes(32).toString("base64url");
}

/** Tokens are stored only as this hash, so a copy of the database cannot be used to sign in or accept a link. */
export function hashToken(token: string): string {
  return crypto.createHash("sha256").update(token).digest("hex");
}
