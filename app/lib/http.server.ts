import type { AppLoadContext } from "@remix-run/node";
import type { RequestMeta } from "~/models/audit.server";

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

export function requestMeta(request: Request, context: Partial<AppLoadContext>): RequestMeta {
  return {
    ip: context.clientIp ?? null,
    userAgent: request.headers.get("user-agent"),
    requestId: context.requestId ?? null,
  };
}
