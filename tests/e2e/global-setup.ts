import fs from "node:fs";
import fsp from "node:fs/promises";
import { CHROMIUM_PATH } from "../../playwright.config";
import { startAppProcess } from "../support/app-process";
import { startTestPostgres, databaseUrl } from "../support/postgres-server";

/**
 * Starts the built app once for the whole browser run, on a free port with a fresh database: a new database on
 * TEST_DATABASE_URL's server, or on a test PostgreSQL of its own. Specs that set up what the pages cannot yet
 * (such as subscribers) reach it through E2E_DATABASE_URL.
 */
export default async function globalSetup() {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. Install Debian's build with \`apt-get install -y chromium\` ` +
        "(or set CHROMIUM_PATH); the tests never download a browser.",
    );
  }
  const external = await startTestPostgres();
  process.env.E2E_DATABASE_URL = databaseUrl(external.adminUrl, external.templateDatabase);
  const app = await startAppProcess({
    env: {
      DATABASE_URL: process.env.E2E_DATABASE_URL,
      // The built-in pipeline's stages stay visible but quick; queued episodes are picked up at once.
      GENERATION_OFFLINE_STAGE_MS: "700",
      QUEUE_POLL_INTERVAL_MS: "250",
      SCHEDULER_INTERVAL_MS: "1000",
    },
  });
  process.env.E2E_BASE_URL = app.baseUrl;
  return async () => {
    await app.stop();
    await external.stop();
    await fsp.rm(app.dataDir, { recursive: true, force: true });
  };
}
