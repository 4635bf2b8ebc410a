import type { AppLoadContext } from "@remix-run/node";
import { formValues, type FieldErrors, type FormFields } from "./validation";

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
 * which cannot send JSON, away from the API); a body over MAX_JSON_BYTES is 413 and unparseable JSON 400.
 */
export async function readJsonBody(request: Request): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const type = request.headers.get("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return {
      ok: false,
      response: jsonResponse({ error: "Send the body as JSON with Content-Type: application/json." }, { status: 415 }),
    };
  }
  const body = await readBodyWithin(request, MAX_JSON_BYTES);
  if (!body) {
    return { ok: false, response: jsonResponse({ error: `The body is too large: send at most ${MAX_JSON_BYTES / 1024} KB.` }, { status: 413 }) };
  }
  try {
    return { ok: true, body: JSON.parse(new TextDecoder().decode(body)) };
  } catch {
    return { ok: false, response: badRequest("The body is not valid JSON.") };
  }
}

export function methodNotAllowed(allowed: string[]): Response {
  return jsonResponse({ error: `Use ${allowed.join(", ")}.` }, { status: 405, headers: { Allow: allowed.join(", ") } });
}

/**
 * A client error with a message someone can act on: JSON `{ error }` for the API, plain text for pages, where
 * the route's error boundary shows it inside the site layout.
 */
export function clientError(request: Request, status: number, message: string, headers: HeadersInit = {}): Response {
  if (isApiRequest(request)) return jsonResponse({ error: message }, { status, headers });
  const textHeaders = new Headers(headers);
  textHeaders.set("Content-Type", "text/plain; charset=utf-8");
  return new Response(message, { status, headers: textHeaders });
}

/**
 * The action of a route that only shows something: anything but GET and HEAD is a 405 saying so, with the
 * `Allow` header HTTP requires (Remix's own answer has none, and for the API is not `{ error }`).
 */
export function onlyGet({ request }: { request: Request }): never {
  throw clientError(request, 405, "This address only shows information: there is nothing here to send a form or data to.", {
    Allow: "GET, HEAD",
  });
}

/** The largest bodies accepted. The biggest real one (a 20,000-character brief) is a small part of either. */
export const MAX_FORM_BYTES = 512 * 1024;
export const MAX_JSON_BYTES = 512 * 1024;

const FORM_TYPES_MESSAGE =
  "This form could not be read: send it as application/x-www-form-urlencoded or multipart/form-data (reload the page and submit it again).";

/** The whole body, or null as soon as it passes `limit` bytes (declared or actually sent). */
async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(request.headers.get("Content-Length"));
  if (Number.isFinite(declared) && declared > limit) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Every page action's first step: the submitted form's fields, or a thrown 4xx the person can read. Only POST
 * carries a form here (405 otherwise); only the two form encodings are read (415 for text/plain, JSON, a
 * multipart body without its boundary, or no type); bodies over MAX_FORM_BYTES are 413 and broken ones 400.
 */
export async function readForm(request: Request): Promise<FormFields> {
  if (request.method !== "POST") {
    throw clientError(request, 405, "This page takes only form submissions (POST).", { Allow: "GET, HEAD, POST" });
  }
  const contentType = request.headers.get("Content-Type") ?? "";
  const [mediaType, ...parameters] = contentType.split(";").map((part) => part.trim());
  const type = mediaType.toLowerCase();
  const hasBoundary = parameters.some((parameter) => /^boundary=("?)[^"\s]+\1$/i.test(parameter));
  if (type !== "application/x-www-form-urlencoded" && !(type === "multipart/form-data" && hasBoundary)) {
    throw clientError(request, 415, FORM_TYPES_MESSAGE);
  }
  const body = await readBodyWithin(request, MAX_FORM_BYTES);
  if (!body) {
    throw clientError(request, 413, `This form is too large: send at most ${MAX_FORM_BYTES / 1024} KB.`);
  }
  if (type === "application/x-www-form-urlencoded") {
    return formValues(new URLSearchParams(new TextDecoder().decode(body)));
  }
  try {
    return formValues(await new Response(body, { headers: { "Content-Type": contentType } }).formData());
  } catch {
    throw clientError(request, 400, "This form's multipart body is broken, so it could not be read. Reload the page and try again.");
  }
}
