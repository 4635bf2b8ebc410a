import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import { createHttpApp } from "../../app/lib/express-app.server";
import { createLogger } from "../../app/lib/logger.server";
import { listen } from "./http";

export interface AppServer {
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The built app (`npm run build`) served over real HTTP in this process, the way server.ts serves it: express,
 * its middleware and the Remix build. Routes use the pool installed with `setDb`, and read their configuration
 * from process.env the first time they need it, so set the environment first.
 */
export async function startAppServer(): Promise<AppServer> {
  const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as ServerBuild;
  const app = createHttpApp({
    logger: createLogger("silent"),
    production: false,
    checkReadiness: async () => ({ ready: true, checks: {} }),
    handler: createRequestHandler({
      build,
      mode: "production",
      getLoadContext: (req, res) => ({ requestId: req.requestId, cspNonce: res.locals.cspNonce as string, clientIp: req.ip ?? null }),
    }),
  });
  const server = http.createServer(app);
  const baseUrl = await listen(server);
  return {
    baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
