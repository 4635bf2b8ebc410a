import crypto from "node:crypto";
import path from "node:path";
import compression from "compression";
import express, { type RequestHandler } from "express";
import helmet from "helmet";
import { cspDirectives } from "./content-security-policy.server";
import { csrfGuard } from "./csrf.server";
import type { Logger } from "./logger.server";
import { redactPath } from "./redact-path";
import { rejectMalformedRequests, sendEdgeError } from "./request-guards.server";

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
  /** express's `trust proxy`: false (the default), true or a hop count (TRUST_PROXY). */
  trustProxy: boolean | number;
  /** APP_URL's origin when it is set: the one origin allowed to post. Unset: the origin each request was sent to. */
  appOrigin?: string;
  /** In Clerk mode, the CSP lets in what Clerk's UI needs from its frontend API (named by this key). */
  clerkPublishableKey?: string;
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
          // Tokens in paths (invitation links and the like) are secrets; query strings are dropped for the same reason.
          path: redactPath(req.originalUrl),
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
  // Off unless TRUST_PROXY says so: otherwise anyone could pick their address (throttling) and scheme.
  app.set("trust proxy", options.trustProxy);
  app.use(requestIdMiddleware());
  app.use(accessLog(options.logger));
  app.use((_req, res, next) => {
    res.locals.cspNonce = crypto.randomBytes(16).toString("base64");
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: { directives: cspDirectives({ clerkPublishableKey: options.clerkPublishableKey }) },
      crossOriginEmbedderPolicy: false,
      // Not helmet's no-referrer: with it browsers send `Origin: null` on same-origin form posts, and the CSRF
      // guard then refuses every form submitted without JavaScript.
      referrerPolicy: { policy: "strict-origin-when-cross-origin" },
    }),
  );
  // Probes first: a load balancer's health check may be HTTP/1.0 with no Host, which the guards would refuse.
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
  app.use(rejectMalformedRequests());

  app.use(compression({ filter: shouldCompress }));
  app.use(csrfGuard({ appOrigin: options.appOrigin, logger: options.logger }));

  // Fingerprinted bundles never change; everything else in public/ may.
  app.use("/build", express.static(path.join(publicDir, "build"), { immutable: true, maxAge: "1y" }));
  app.use(express.static(publicDir, { maxAge: "1h" }));

  app.all("*", options.handler);
  app.use(errorHandler(options.logger));
  return app;
}

/** A client error express or a body parser raised (such as 400 for a path it cannot decode), or undefined. */
function clientErrorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status < 500 ? status : undefined;
}

/** Last resort for errors Remix did not render itself: logged with the request id, answered without internals. */
function errorHandler(logger: Logger): express.ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const clientError = clientErrorStatus(error);
    if (clientError) {
      sendEdgeError(req, res, clientError, "This request could not be understood. Check its path, headers and body.");
      return;
    }
    logger.error({ requestId: req.requestId, err: error }, "unhandled error");
    sendEdgeError(
      req,
      res,
      500,
      `Something went wrong on our side. Please try again; if it keeps happening, quote request ${req.requestId}.`,
    );
  };
}
