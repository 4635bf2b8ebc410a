// Not re-exported from the package index; 2.17.5 is pinned and the last v2 release, so this path holds.
import { createRemixRequest, sendRemixResponse } from "@remix-run/express/dist/server.js";
import { createRequestHandler, type ServerBuild } from "@remix-run/node";
import type express from "express";
import { canonicalPath, clientAddress, isApiPath } from "./request-guards.server";

/**
 * What every answer from the app gets unless it says otherwise. Pages and API answers are about a signed-in
 * person: no shared cache may keep them, and the browser need not either.
 */
function finishResponse(req: express.Request, response: Response): Response {
  const headers = new Headers(response.headers);
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "private, no-store");
  // An /api/ path that matches no route reaches the site's catch-all page: a program gets JSON instead.
  const type = headers.get("Content-Type") ?? "";
  if (response.status === 404 && isApiPath(canonicalPath(req)) && !/json/i.test(type)) {
    headers.set("Content-Type", "application/json; charset=utf-8");
    headers.delete("Content-Length");
    void response.body?.cancel();
    return new Response(JSON.stringify({ error: "not found" }), { status: 404, headers });
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * The Remix request handler as express calls it: @remix-run/express's request and response conversion, with
 * the load context every route reads (request id, CSP nonce, a validated client address) and the defaults of
 * `finishResponse`.
 */
export function createRemixHandler(build: ServerBuild, mode: string): express.RequestHandler {
  const handle = createRequestHandler(build, mode);
  return async (req, res, next) => {
    try {
      const response = await handle(createRemixRequest(req, res), {
        requestId: req.requestId,
        cspNonce: res.locals.cspNonce as string,
        clientIp: clientAddress(req),
      });
      await sendRemixResponse(res, finishResponse(req, response));
    } catch (error) {
      next(error);
    }
  };
}
