import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { createDb } from "../../app/lib/db.server";
import { startEmbeddedPostgres } from "../../app/lib/embedded-postgres.server";
import { createLogger } from "../../app/lib/logger.server";
import { migrate, readMigrations } from "../../app/lib/migrate.server";
import { freePort } from "./ports";

export interface TestPostgres {
  /** A connection URL with the right to create databases. */
  adminUrl: string;
  /** A migrated database to copy for each test file. */
  templateDatabase: string;
  stop(): Promise<void>;
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * One PostgreSQL for a whole test run: TEST_DATABASE_URL when set, else an embedded server in a temporary
 * folder. A migrated template database is made once so each file can copy it cheaply.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stopServer = async () => {};
  if (!adminUrl) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "many-futures-test-"));
    await fs.chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({
      dataDir: path.join(dir, "postgres"),
      port: await freePort(),
      database: "many_futures_test",
      logger: createLogger("silent"),
      ephemeral: true,
    });
    adminUrl = server.adminUrl;
    stopServer = async () => {
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    };
  }

  const templateDatabase = `mf_template_${process.pid}_${Date.now()}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${templateDatabase}`);
  const template = createDb(databaseUrl(adminUrl, templateDatabase), { max: 1 });
  await migrate(template, await readMigrations());
  await template.end({ timeout: 5 });

  return {
    adminUrl,
    templateDatabase,
    async stop() {
      await admin.unsafe(`drop database if exists ${templateDatabase} with (force)`);
      await admin.end({ timeout: 5 });
      await stopServer();
    },
  };
}
