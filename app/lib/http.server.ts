import type { AppLoadContext } from "@remix-run/node";
import type { FieldErrors } from "./validation";

/** A JSON response: for the API, where `json()` from Remix is deprecated. */
export function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { ...init, headers });
}

export function isApiRequest(request: Request): boolean {
  return new URL(request.url).pathname.startsWith("/api/");
}

/** A 404 that looks the same whether the thing is missing or belongs to another organization. */
export function notFound(request: Request): Response {
  return isApiRequest(request) ? jsonResponse({ error: "not found" }, { status: 404 }) : new Response("Not Found", { status: 404 });
}

/** Who asked, from where: carried from the request into every audit row. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export function requestMeta(request: Request, context: Partial<AppLoadContext>): RequestMeta {
  return {
    ip: context.clientIp ?? null,
    userAgent: request.headers.get("user-agent"),
    requestId: context.requestId ?? null,
  };
}
/** 400 with the fields at fault: the API's one shape for bad input. */
export function badRequest(error: string, fields: FieldErrors = {}): Response {
  return jsonResponse({ error, fields }, { status: 400 });
}

/**
 * The JSON body of an API write. Anything but application/json is 415 (this also keeps cross-site HTML forms,
 * which cannot send JSON, away from the API); unparseable JSON is 400.
 */
export async function readJsonBody(request: Request): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const type = request.headers.get("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return {
      ok: false,
      response: jsonResponse({ error: "Send the body as JSON with Content-Type: application/json." }, { status: 415 }),
    };
  }
  try {
    return { ok: true, body: JSON.parse(await request.text()) };
  } catch {
    return { ok: false, response: badRequest("The body is not valid JSON.") };
  }
}

export function methodNotAllowed(allowed: string[]): Response {
  return jsonResponse({ error: `Use ${allowed.join(", ")}.` }, { status: 405, headers: { Allow: allowed.join(", ") } });
}
