// Not re-exported from the package index; 2.17.5 is pinned and the last v2 release, so this path holds.
import { createRemixRequest, sendRemixResponse } from "@remix-run/express/dist/server.js";
import { createRequestHandler, type ServerBuild } from "@remix-run/node";
import type express from "express";
import { attachEventStream } from "./event-stream.server";
import { canonicalPath, clientAddress, isApiPath } from "./request-guards.server";

interface RouteMethods {
  segments: string[];
  methods: string[];
}

/** Each route's full path and the methods it answers (a loader: GET, HEAD; an action: the unsafe ones). */
function routeMethods(build: ServerBuild): RouteMethods[] {
  const fullPath = (id: string | undefined): string => {
    const route = id ? build.routes[id] : undefined;
    return route ? [fullPath(route.parentId), route.path ?? ""].filter(Boolean).join("/") : "";
  };
  return Object.values(build.routes).map((route) => ({
    segments: fullPath(route.id).toLowerCase().split("/").filter(Boolean),
    methods: [
      ...(route.module.loader ? ["GET", "HEAD"] : []),
      ...(route.module.action ? ["POST", "PUT", "PATCH", "DELETE"] : []),
    ],
  }));
}

function allowedMethods(routes: RouteMethods[], path: string): string | undefined {
  const segments = path.toLowerCase().split("/").filter(Boolean);
  const route = routes.find(
    (candidate) =>
      candidate.segments.length === segments.length &&
      candidate.segments.every((part, i) => part.startsWith(":") || part === segments[i]),
  );
  return route?.methods.join(", ");
}

function jsonError(status: number, error: string, headers: Headers): Response {
  headers.set("Content-Type", "application/json; charset=utf-8");
  headers.delete("Content-Length");
  headers.delete("X-Remix-Error");
  return new Response(JSON.stringify({ error }), { status, headers });
}

/**
 * What every answer from the app gets unless it says otherwise. Pages and API answers are about a signed-in
 * person: no shared cache may keep them, and the browser need not either. Under /api/ a program gets JSON it
 * can read where Remix itself answered (a method the route has no function for); a path no API route matches
 * is routes/api.$'s.
 */
function finishResponse(req: express.Request, response: Response, routes: RouteMethods[]): Response {
  const headers = new Headers(response.headers);
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "private, no-store");
  const path = canonicalPath(req);
  // Remix's own 405 (a method the route has no function for, such as a POST to the event stream): HTTP wants
  // the methods it does take, and a program under /api/ wants JSON it can read, not "Unexpected Server Error".
  if (response.status === 405 && headers.has("X-Remix-Error")) {
    void response.body?.cancel();
    const allow = allowedMethods(routes, path);
    if (allow) headers.set("Allow", allow);
    const message = `${req.method} is not allowed here.${allow ? ` Use ${allow}.` : ""}`;
    if (isApiPath(path)) return jsonError(405, message, headers);
    headers.set("Content-Type", "text/plain; charset=utf-8");
    headers.delete("Content-Length");
    headers.delete("X-Remix-Error");
    return new Response(message, { status: 405, headers });
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * The Remix request handler as express calls it: @remix-run/express's request and response conversion, with
 * the load context every route reads (request id, CSP nonce, a validated client address) and the defaults of
 * `finishResponse`. An event stream skips the conversion and is written straight to the socket.
 */
export function createRemixHandler(build: ServerBuild, mode: string): express.RequestHandler {
  const handle = createRequestHandler(build, mode);
  const routes = routeMethods(build);
  return async (req, res, next) => {
    try {
      const response = await handle(createRemixRequest(req, res), {
        requestId: req.requestId,
        cspNonce: res.locals.cspNonce as string,
        clientIp: clientAddress(req),
      });
      const finished = finishResponse(req, response, routes);
      if (attachEventStream(res, finished.status, finished.headers, finished.body)) return;
      await sendRemixResponse(res, finished);
    } catch (error) {
      next(error);
    }
  };
}
