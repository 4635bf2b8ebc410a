import fs from "node:fs";
import fsp from "node:fs/promises";
import { CHROMIUM_PATH } from "../../playwright.config";
import { startAppProcess } from "../support/app-process";
import { startTestPostgres, databaseUrl } from "../support/postgres-server";

/**
 * Starts the built app once for the whole browser run, on a free port with a fresh database: the embedded
 * one in a new folder, or a new database on TEST_DATABASE_URL's server.
 */
export default async function globalSetup() {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. Install Debian's build with \`apt-get install -y chromium\` ` +
        "(or set CHROMIUM_PATH); the tests never download a browser.",
    );
  }
  const external = process.env.TEST_DATABASE_URL ? await startTestPostgres() : undefined;
  const app = await startAppProcess({
    env: {
      ...(external ? { DATABASE_URL: databaseUrl(external.adminUrl, external.templateDatabase) } : {}),
      // The built-in pipeline's stages stay visible but quick; queued episodes are picked up at once.
      GENERATION_OFFLINE_STAGE_MS: "700",
      QUEUE_POLL_INTERVAL_MS: "250",
      SCHEDULER_INTERVAL_MS: "1000",
    },
  });
  process.env.E2E_BASE_URL = app.baseUrl;
  // The tests read what would have been emailed (links) from the app's outbox.
  process.env.E2E_DATABASE_URL = await app.databaseUrl();
  return async () => {
    await app.stop();
    await external?.stop();
    await fsp.rm(app.dataDir, { recursive: true, force: true });
  };
}
