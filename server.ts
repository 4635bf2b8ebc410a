import fs from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { appOrigin } from "./app/lib/app-url.server";
import { ConfigError, emailProviderName, loadConfig, type Config } from "./app/lib/config.server";
import { openDatabase } from "./app/lib/open-database.server";
import { openNotificationListener, setNotificationListener } from "./app/lib/notifications.server";
import { createHttpApp, type Readiness } from "./app/lib/express-app.server";
import { createLogger } from "./app/lib/logger.server";
import { createRemixHandler } from "./app/lib/remix-handler.server";
import { migrationStatus } from "./app/lib/migrate.server";
import { makeGraceful } from "./app/lib/shutdown.server";
import { backgroundWorkers } from "./app/jobs/index.server";
import { startWorkers } from "./app/jobs/workers.server";
import { startEpisodeHub, stopEpisodeHub } from "./app/realtime/episode-hub.server";

function readConfig(): Config {
  if (fs.existsSync(".env")) process.loadEnvFile(".env");
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

const config = readConfig();
const logger = createLogger(config.LOG_LEVEL);
if (config.NODE_ENV === "production" && !config.APP_URL) {
  logger.warn(
    { appUrl: appOrigin(config) },
    "APP_URL is not set: links in invitations and emails point to this default. Set APP_URL to the app's public address.",
  );
}
if (config.APP_ROLE !== "web" && emailProviderName(config) === "outbox") {
  logger.info("no email provider configured (RESEND_API_KEY or SMTP_URL): emails stay in the built-in outbox, shown at /dev/outbox");
}
const runsWeb = config.APP_ROLE !== "worker";
const runsWorkers = config.APP_ROLE !== "web";

let shuttingDown = false;
const database = await openDatabase(config, logger).catch((error: unknown) => {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
});
const notifications = openNotificationListener({ directUrl: database.directUrl, logger });
setNotificationListener(notifications);
const workerList = runsWorkers ? backgroundWorkers(config) : [];
const workers = runsWorkers
  ? await startWorkers(workerList, { db: database.db, directUrl: database.directUrl, logger, notifications })
  : undefined;

async function checkReadiness(): Promise<Readiness> {
  if (shuttingDown) return { ready: false, checks: { process: "shutting down" } };
  try {
    await database.db`select 1`;
    const { pending } = await migrationStatus(database.db, database.migrations);
    if (pending.length) return { ready: false, checks: { database: "ok", migrations: `pending: ${pending.join(", ")}` } };
    return { ready: true, checks: { database: "ok", migrations: "ok" } };
  } catch (error) {
    logger.warn({ err: error }, "readiness check failed");
    return { ready: false, checks: { database: error instanceof Error ? error.message : "unreachable" } };
  }
}

async function startWeb() {
  // The Remix build sits beside this file once bundled (build/server.js next to build/index.js).
  const buildUrl = pathToFileURL(path.resolve(path.dirname(new URL(import.meta.url).pathname), "index.js")).href;
  const build = (await import(buildUrl)) as ServerBuild;
  const app = createHttpApp({
    logger,
    checkReadiness,
    trustProxy: config.TRUST_PROXY,
    appOrigin: config.APP_URL,
    clerkPublishableKey: config.CLERK_PUBLISHABLE_KEY,
    handler: createRemixHandler(build, config.NODE_ENV),
  });
  const server = createServer(app);
  const graceful = makeGraceful(server);
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.PORT;
  logger.info({ port, role: config.APP_ROLE, url: `http://localhost:${port}` }, "listening");
  return graceful;
}

// Live episode updates: one LISTEN connection for the whole process, opened when the first browser watches.
if (runsWeb) startEpisodeHub({ db: database.db, directUrl: database.directUrl, logger, source: notifications });
const web = runsWeb ? await startWeb() : undefined;
// A worker-only process has no server holding the event loop open; it lives until it is told to stop.
const keepAlive = runsWeb ? undefined : setInterval(() => {}, 60_000);
if (!runsWeb) logger.info({ role: config.APP_ROLE, workers: workerList.length }, "worker process started");

async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, "shutting down");
  try {
    // Event streams never finish on their own: end them first so closing the server does not wait for them.
    await stopEpisodeHub();
    await web?.close(config.SHUTDOWN_TIMEOUT_MS);
    clearInterval(keepAlive);
    await workers?.stop();
    await notifications.close();
    await database.close();
    logger.info("shut down cleanly");
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
