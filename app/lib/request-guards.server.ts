import net from "node:net";
import type express from "express";

/**
 * Requests the app cannot make sense of are answered here, before Remix, with a 4xx a person or a program can
 * act on: an express or Remix failure on them would be a 500.
 */

/** What the edge lets through to Remix: pages take GET and POST; the JSON API also PUT, PATCH and DELETE. */
const PAGE_METHODS = ["GET", "HEAD", "POST"] as const;
const API_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

const URL_BASE = "http://edge.invalid";

/** The request target as Remix will read it (it appends the target to the origin, as here), or undefined. */
function targetUrl(req: express.Request): URL | undefined {
  if (!req.url.startsWith("/")) return undefined;
  try {
    return new URL(`${URL_BASE}${req.url}`);
  } catch {
    return undefined;
  }
}

/**
 * The path as Remix will see it: dot segments (also `%2e`) resolved, as `new URL` resolves them. Every decision
 * about a path at the edge uses this one, so `/api/../organization` is treated as the page it reaches.
 */
export function canonicalPath(req: express.Request): string {
  return targetUrl(req)?.pathname ?? "/";
}

export function isApiPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/");
}

/** A program's request: the JSON API, or a Remix data request (`?_data=routeId`) made by the page's JavaScript. */
function wantsJson(req: express.Request): boolean {
  return isApiPath(canonicalPath(req)) || isDataRequest(req);
}

function isDataRequest(req: express.Request): boolean {
  return targetUrl(req)?.searchParams.has("_data") ?? false;
}

const TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Refused",
  404: "Not found",
  405: "Method not allowed",
  500: "Something went wrong",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * An error answered at the edge: JSON `{ error }` for a program, a small self-contained page for a person. Data
 * requests carry `X-Remix-Catch` so Remix's client shows the route's error boundary with this status.
 */
export function sendEdgeError(
  req: express.Request,
  res: express.Response,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.status(status).set({ "Cache-Control": "no-store", ...headers });
  if (wantsJson(req)) {
    if (isDataRequest(req)) res.set("X-Remix-Catch", "yes");
    res.json({ error: message });
    return;
  }
  const title = TITLES[status] ?? "Error";
  res.type("html").send(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Many Futures</title></head>
<body>
<main>
<h1>${title}</h1>
<p>${escapeHtml(message)}</p>
<p><a href="/">Go to the Many Futures home page</a></p>
</main>
</body>
</html>
`,
  );
}

// A host name, an IPv4 address or a bracketed IPv6 address, then an optional port.
const HOST_PATTERN = /^(?:\[([0-9A-Fa-f:.]+)\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?)(?::(\d{1,5}))?$/;

function isValidHost(value: string): boolean {
  const match = HOST_PATTERN.exec(value);
  if (!match) return false;
  if (match[1] !== undefined && net.isIP(match[1]) !== 6) return false;
  return match[2] === undefined || Number(match[2]) <= 65535;
}

function listValues(header: string | undefined): string[] | undefined {
  return header === undefined ? undefined : header.split(",").map((value) => value.trim());
}

/** Whether express may believe this request's X-Forwarded-* headers (TRUST_PROXY). */
function trustsProxy(req: express.Request): boolean {
  const trust = req.app.get("trust proxy fn") as (address: string | undefined, hop: number) => boolean;
  return trust(req.socket.remoteAddress, 0);
}

/** The host the request was addressed to: a trusted proxy's X-Forwarded-Host, else Host. */
export function requestHost(req: express.Request): string | undefined {
  const forwarded = trustsProxy(req) ? listValues(req.get("x-forwarded-host"))?.[0] : undefined;
  return forwarded || req.get("host");
}

function problemWithRequest(req: express.Request): { status: number; message: string; headers?: Record<string, string> } | undefined {
  // Origin-form only: `GET http://host/ HTTP/1.1` (absolute form, for proxies) and `GET *` (OPTIONS only) are not ours.
  if (!req.url.startsWith("/")) return { status: 400, message: "The request target must be a path starting with /." };
  const host = req.get("host");
  if (host === undefined) return { status: 400, message: "A Host header is required." };
  if (!isValidHost(host)) return { status: 400, message: "The Host header is not a valid host name." };
  const forwardedHosts = listValues(req.get("x-forwarded-host"));
  if (forwardedHosts && !forwardedHosts.every(isValidHost)) {
    return { status: 400, message: "The X-Forwarded-Host header is not a valid host name." };
  }
  const forwardedProtos = listValues(req.get("x-forwarded-proto"));
  if (forwardedProtos && !forwardedProtos.every((proto) => /^https?$/i.test(proto))) {
    return { status: 400, message: "The X-Forwarded-Proto header must be http or https." };
  }

  const url = targetUrl(req);
  if (!url) return { status: 400, message: "The request target is not a valid path." };
  const path = url.pathname;
  try {
    decodeURIComponent(path);
  } catch {
    return { status: 400, message: "The path has a bad percent-encoding (such as %ZZ, or bytes that are not UTF-8)." };
  }

  const allowed: readonly string[] = isApiPath(path) ? API_METHODS : PAGE_METHODS;
  if (!allowed.includes(req.method)) {
    return {
      status: 405,
      message: `${req.method} is not allowed here. Use ${allowed.join(", ")}.`,
      headers: { Allow: allowed.join(", ") },
    };
  }
  return undefined;
}

/** Answers a malformed request, or a method no route takes, with its 4xx. */
export function rejectMalformedRequests(): express.RequestHandler {
  return (req, res, next) => {
    const problem = problemWithRequest(req);
    if (!problem) return next();
    sendEdgeError(req, res, problem.status, problem.message, problem.headers);
  };
}

/**
 * The client's address for throttling and audit rows: express's `req.ip` (X-Forwarded-For only behind a trusted
 * proxy) when it is an IP address, else the connection's own address. A forwarded header is text anyone can
 * write; `X-Forwarded-For: 1:2` must not reach an `inet` column.
 */
export function clientAddress(req: express.Request): string | null {
  if (req.ip && net.isIP(req.ip)) return req.ip;
  const peer = req.socket.remoteAddress;
  return peer && net.isIP(peer) ? peer : null;
}
