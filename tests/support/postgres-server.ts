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

export const SUPABASE_API_ROLES = ["anon", "authenticated", "service_role"] as const;

const DUPLICATE_OBJECT = "42710";
const UNIQUE_VIOLATION = "23505";

/**
 * Supabase's roles, as its image creates them: `anon` and `authenticated` (what its REST API runs browser requests
 * as), `service_role` (bypasses row level security), and `authenticator` (logs in, then becomes one of them). Roles
 * belong to the whole server, so they are made once, idempotently, even when another run on a shared
 * TEST_DATABASE_URL makes them at the same moment. The admin role must be able to SET ROLE to them, as Supabase's
 * `postgres` can, for the tests that act as them.
 */
async function ensureSupabaseRoles(admin: postgres.Sql): Promise<void> {
  const [me] = await admin`
    select current_user as name, rolsuper as superuser, rolcreaterole as createrole
    from pg_roles where rolname = current_user`;
  const wanted: [string, string][] = [
    ["anon", "nologin noinherit"],
    ["authenticated", "nologin noinherit"],
    ["service_role", "nologin noinherit bypassrls"],
    ["authenticator", "login noinherit"],
  ];
  const setUp = [
    ...wanted.map(([name, options]) => `create role ${name} ${options};`),
    "grant anon, authenticated, service_role to authenticator;",
    `grant anon, authenticated to ${me.name};`,
  ];
  const cannot = (what: string) =>
    new Error(
      `The test database role ${me.name} ${what}, which the tests need. Give it CREATEROLE, or run this once as a ` +
        `superuser:\n${setUp.map((line) => `  ${line}`).join("\n")}`,
    );
  const existing = new Set(
    (await admin`select rolname from pg_roles where rolname in ${admin(wanted.map(([name]) => name))}`).map((r) => r.rolname),
  );
  const missing = wanted.filter(([name]) => !existing.has(name));
  if (missing.length && !me.superuser && !me.createrole) {
    throw cannot(`cannot create Supabase's roles (${missing.map(([name]) => name).join(", ")})`);
  }
  for (const [name, options] of missing) {
    // Only a superuser may hand out BYPASSRLS; the tests do not rely on it.
    const granted = me.superuser ? options : options.replace(" bypassrls", "");
    await admin.unsafe(`create role ${name} ${granted}`).catch((error: { code?: string }) => {
      if (error.code !== DUPLICATE_OBJECT && error.code !== UNIQUE_VIOLATION) throw error;
    });
  }
  if (missing.some(([name]) => name === "authenticator")) {
    await admin.unsafe("grant anon, authenticated, service_role to authenticator");
  }
  if (!me.superuser) {
    for (const role of ["anon", "authenticated"]) {
      const [{ can }] = await admin`select pg_has_role(current_user, ${role}, 'SET') as can`;
      if (can) continue;
      await admin.unsafe(`grant ${role} to current_user with inherit false, set true`).catch(() => {
        throw cannot(`cannot SET ROLE ${role}`);
      });
    }
  }
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
  await ensureSupabaseRoles(admin).catch(async (error: unknown) => {
    await admin.end({ timeout: 5 });
    await stopServer();
    throw error;
  });
  await admin.unsafe(`create database ${templateDatabase}`);
  const template = createDb(databaseUrl(adminUrl, templateDatabase), { max: 1 });
  // As Supabase sets up `public` (supabase/postgres, 00000000000000-initial-schema.sql), before anything is created.
  await template.unsafe(`
    grant usage on schema public to ${SUPABASE_API_ROLES.join(", ")};
    alter default privileges in schema public grant all on tables to ${SUPABASE_API_ROLES.join(", ")};
    alter default privileges in schema public grant all on functions to ${SUPABASE_API_ROLES.join(", ")};
    alter default privileges in schema public grant all on sequences to ${SUPABASE_API_ROLES.join(", ")};`);
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
