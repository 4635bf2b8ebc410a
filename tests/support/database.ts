import crypto from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { createDb, type Db } from "../../app/lib/db.server";
import { throughPooler } from "./pgbouncer";
import { databaseUrl } from "./postgres-server";

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, so files run in parallel without seeing each other's rows.
 * `migrated: false` gives an empty one, for testing the migrations themselves.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `mf_test_${crypto.randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const template = options.migrated === false ? "template0" : inject("templateDatabase");
  await admin.unsafe(`create database ${name} template ${template}`);
  const url = databaseUrl(adminUrl, name);
  const db = createDb(url, { max: 4 });
  return {
    db,
    url,
    name,
    async drop() {
      await db.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/** The same database through the test run's transaction-mode PgBouncer (Supabase's port 6543 stands in for it). */
export function throughTestPooler(url: string): string {
  return throughPooler(url, inject("poolerAddress"));
}
