import { createCookie } from "@remix-run/node";

// The value is a random token whose hash is looked up in `sessions`; it needs no signature of its own.
const sessionCookie = createCookie("mf_session", { httpOnly: true, sameSite: "lax", path: "/" });

/** Secure whenever the request came over HTTPS (directly or through a trusted proxy), as it does in production. */
function isHttps(request: Request): boolean {
  return new URL(request.url).protocol === "https:";
}

export async function readSessionToken(request: Request): Promise<string | null> {
  const value: unknown = await sessionCookie.parse(request.headers.get("Cookie"));
  return typeof value === "string" && value.length > 0 ? value : null;
}

export function serializeSessionCookie(request: Request, token: string, expiresAt: Date): Promise<string> {
  return sessionCookie.serialize(token, { expires: expiresAt, secure: isHttps(request) });
}

export function clearSessionCookie(request: Request): Promise<string> {
  return sessionCookie.serialize("", { expires: new Date(0), secure: isHttps(request) });
}
