import crypto from "node:crypto";
import { createCookie, redirect, type Cookie } from "@remix-run/node";
import { getConfig } from "./config.server";

/**
 * What a successful form submission has to say on the page it redirects to (Post/Redirect/Get): shown once,
 * then gone, so reloading that page repeats nothing and says nothing twice.
 */
export interface Flash {
  message: string;
  /** An invitation link for the inviter to pass on as well as the email that carries it. */
  inviteLink?: string;
}

let flashCookie: Cookie | undefined;

// Signed, so a cookie set by a neighbouring site cannot put words in our pages; short-lived, because it only
// has to survive one redirect.
function cookie(): Cookie {
  flashCookie ??= createCookie("mf_flash", {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    maxAge: 300,
    secrets: [getConfig().SESSION_SECRET ?? crypto.randomBytes(32).toString("base64")],
  });
  return flashCookie;
}

function isHttps(request: Request): boolean {
  return new URL(request.url).protocol === "https:";
}

function isFlash(value: unknown): value is Flash {
  if (!value || typeof value !== "object") return false;
  const { message, inviteLink } = value as Record<string, unknown>;
  return typeof message === "string" && (inviteLink === undefined || typeof inviteLink === "string");
}

/** A 302 to `to` that carries `flash` across to the page there. */
export async function redirectWithFlash(request: Request, to: string, flash: Flash, headers: HeadersInit = {}): Promise<Response> {
  const responseHeaders = new Headers(headers);
  responseHeaders.append("Set-Cookie", await cookie().serialize(flash, { secure: isHttps(request) }));
  return redirect(to, { headers: responseHeaders });
}

/** The flash waiting for this request, if any, and the Set-Cookie that removes it once shown. */
export async function takeFlash(request: Request): Promise<{ flash: Flash | null; setCookie: string | null }> {
  const header = request.headers.get("Cookie");
  if (!header || !/(?:^|;\s*)mf_flash=/.test(header)) return { flash: null, setCookie: null };
  const value: unknown = await cookie().parse(header);
  const setCookie = await cookie().serialize("", { maxAge: 0, expires: new Date(0), secure: isHttps(request) });
  return { flash: isFlash(value) ? value : null, setCookie };
}
