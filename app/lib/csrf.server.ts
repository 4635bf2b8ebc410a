import type express from "express";
import type { Logger } from "./logger.server";
import { canonicalPath, requestHost, sendEdgeError } from "./request-guards.server";

/**
 * Routes that take unsafe requests from anywhere, because each request proves itself some other way. Only a
 * route whose every unsafe request is authenticated by a signature (a webhook, a callback) or is meant to be
 * posted from elsewhere and can do nothing a forged post could abuse belongs here. Patterns use the route
 * manifest's syntax: `:name` stands for one path segment.
 *
 * Such exemptions go in this list and nowhere else.
 */
export const CSRF_EXEMPT_ROUTES: readonly string[] = [
  "/api/webhooks/clerk", // svix-signed deliveries from Clerk
  "/api/episodes/callback", // Standard Webhooks-signed callbacks from n8n
  "/api/webhooks/resend", // svix-signed delivery events from Resend
  // RFC 8058 one-click unsubscribe, posted by mail clients with no Origin of ours; the signed token is the proof,
  // and the worst a forged post can do is what the link's holder may do anyway: leave one list.
  "/unsubscribe/:token",
];

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Whether a path (as Remix will route it) is one of the exempt routes. */
export function isCsrfExempt(path: string): boolean {
  const segments = path.replace(/\/+$/, "").split("/");
  return CSRF_EXEMPT_ROUTES.some((pattern) => {
    const expected = pattern.split("/");
    return (
      expected.length === segments.length &&
      expected.every((part, i) => (part.startsWith(":") ? segments[i] !== "" : part === segments[i]))
    );
  });
}

function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export interface CsrfOptions {
  /** APP_URL's origin when it is set: then the only origin allowed to post. */
  appOrigin?: string;
  logger: Logger;
}

type Verdict = { ok: true } | { ok: false; reason: string };

function judge(req: express.Request, options: CsrfOptions): Verdict {
  const site = req.get("sec-fetch-site");
  // The browser's own word on where the request comes from: another site, or a sibling origin of this site.
  if (site === "cross-site" || site === "same-site") return { ok: false, reason: `Sec-Fetch-Site: ${site}` };

  const origin = req.get("origin");
  // Browsers send Origin with every unsafe request. Without one (and without Sec-Fetch-Site saying otherwise)
  // this is a program such as curl or a server-side API client, whose requests a web page cannot forge.
  if (origin === undefined) return { ok: true };

  const claimed = originOf(origin);
  if (!claimed) return { ok: false, reason: `Origin: ${origin.slice(0, 100)}` };
  // The request's own origin as express sees it, with X-Forwarded-* only from a trusted proxy.
  const host = requestHost(req);
  const own = options.appOrigin ?? (host ? originOf(`${req.protocol}://${host}`) : undefined);
  if (claimed !== own) return { ok: false, reason: `Origin ${claimed} is not ${own}` };

  // Remix makes its own, narrower check after this one (document POSTs only): Origin's host against
  // X-Forwarded-Host or Host, whoever sent them, and it fails with a 500. Refuse here what it would refuse.
  const remixHost = req.get("x-forwarded-host")?.split(",")[0]?.trim() || req.get("host");
  if (new URL(claimed).host !== remixHost) return { ok: false, reason: `Origin ${claimed} does not match the Host ${remixHost}` };
  return { ok: true };
}

/**
 * Cross-site request forgery stops here, before Remix: every POST, PUT, PATCH and DELETE must come from this
 * app's own origin (APP_URL when set, else the origin the request was addressed to), whether it is a document
 * POST, a Remix data request (`?_data=`) or an API call. Refused requests get 403 and never reach a route.
 */
export function csrfGuard(options: CsrfOptions): express.RequestHandler {
  return (req, res, next) => {
    if (!UNSAFE_METHODS.has(req.method)) return next();
    if (isCsrfExempt(canonicalPath(req))) {
      // The route proves the request itself. Remix's own check would still refuse a foreign Origin on a page
      // route's document POST (a mail client's one-click unsubscribe) with a 500, so it does not see one.
      delete req.headers.origin;
      return next();
    }
    const verdict = judge(req, options);
    if (verdict.ok) return next();
    options.logger.warn({ requestId: req.requestId, method: req.method, reason: verdict.reason }, "cross-site request refused");
    sendEdgeError(
      req,
      res,
      403,
      "This request came from another site, so it was refused. If you sent it from this site, reload the page and try again.",
    );
  };
}
