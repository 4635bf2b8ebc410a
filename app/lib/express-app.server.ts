import crypto from "node:crypto";
import path from "node:path";
import compression from "compression";
import express, { type RequestHandler } from "express";
import helmet from "helmet";
import type { Logger } from "./logger.server";

export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

export interface HttpAppOptions {
  /** Handles everything that is not a static file or a probe: the Remix request handler. */
  handler: RequestHandler;
  logger: Logger;
  checkReadiness: () => Promise<Readiness>;
  publicDir?: string;
  production: boolean;
}

declare module "http" {
  interface IncomingMessage {
    requestId: string;
  }
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;

function requestIdMiddleware(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get("x-request-id");
    req.requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
    res.setHeader("X-Request-Id", req.requestId);
    next();
  };
}

function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      logger.info(
        {
          requestId: req.requestId,
          method: req.method,
          path: req.originalUrl.split("?")[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        "request",
      );
    });
    next();
  };
}

/** Never compress server-sent events: compression buffers its output, and an event stream must flow. */
function shouldCompress(req: express.Request, res: express.Response): boolean {
  const type = String(res.getHeader("Content-Type") ?? "");
  if (type.startsWith("text/event-stream")) return false;
  return compression.filter(req, res);
}

export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  const publicDir = options.publicDir ?? path.resolve(process.cwd(), "public");

  app.disable("x-powered-by");
  app.set("trust proxy", options.production ? 1 : false);
  app.use(requestIdMiddleware());
  app.use(accessLog(options.logger));

  app.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const readiness = await options.checkReadiness();
    res
      .status(readiness.ready ? 200 : 503)
      .set("Cache-Control", "no-store")
      .json({ status: readiness.ready ? "ready" : "not ready", checks: readiness.checks });
  });

  app.use(compression({ filter: shouldCompress }));
  app.use((_req, res, next) => {
    res.locals.cspNonce = crypto.randomBytes(16).toString("base64");
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          "script-src": ["'strict-dynamic'", (_req, res) => `'nonce-${(res as express.Response).locals.cspNonce}'`],
          "connect-src": ["'self'"],
          "img-src": ["'self'", "data:"],
          "form-action": ["'self'"],
          // Plain-HTTP local runs would break if the browser upgraded every request; HSTS covers production.
          "upgrade-insecure-requests": null,
        },
      },
      crossOriginEmbedderPolicy: false,
      // Not helmet's no-referrer: with it browsers send `Origin: null` on same-site form posts, and Remix's CSRF
      // check then refuses every form submitted without JavaScript.
      referrerPolicy: { policy: "strict-origin-when-cross-origin" },
    }),
  );

  // Fingerprinted bundles never change; everything else in public/ may.
  app.use("/build", express.static(path.join(publicDir, "build"), { immutable: true, maxAge: "1y" }));
  app.use(express.static(publicDir, { maxAge: "1h" }));

  app.all("*", options.handler);
  app.use(errorHandler(options.logger));
  return app;
}

/**
 * Last resort for errors Remix did not render itself. A cross-site form post (Remix's CSRF check) is the
 * client's fault and gets 403; anything else is logged with the request id and answered without internals.
 */
function errorHandler(logger: Logger): express.ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const message = error instanceof Error ? error.message : String(error);
    const crossSite = /does not match `origin` header|headers are not provided/.test(message);
    const status = crossSite ? 403 : 500;
    if (!crossSite) logger.error({ requestId: req.requestId, err: error }, "unhandled error");
    const text = crossSite
      ? "This form was submitted from another site, so it was refused."
      : `Something went wrong on our side. Please try again; if it keeps happening, quote request ${req.requestId}.`;
    if (req.path.startsWith("/api/")) {
      res.status(status).json({ error: text });
    } else {
      res.status(status).type("text").send(text);
    }
  };
}
