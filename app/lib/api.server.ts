import { jsonResponse } from "./http.server";
import type { FieldErrors } from "./validation";

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
