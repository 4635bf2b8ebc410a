import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Db } from "./db.server";

export const defaultMigrationsDir = path.resolve(process.cwd(), "sql");

/** Any number serialises migrators across every instance sharing the database; this one spells "mf-migr". */
const MIGRATION_LOCK_KEY = 0x6d662d6d69677200n;

export interface Migration {
  version: number;
  name: string;
  file: string;
  checksum: string;
  text: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Reads `NNNN_name.sql` files in version order; anything else in the folder is an error, not a silent skip. */
export async function readMigrations(dir: string = defaultMigrationsDir): Promise<Migration[]> {
  const entries = (await fs.readdir(dir)).filter((entry) => entry.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of entries) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`${file}: migration files are named NNNN_lower_snake_name.sql`);
    const text = await fs.readFile(path.join(dir, file), "utf8");
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new MigrationError(`${file}: version ${version} is used twice`);
    migrations.push({ version, name: match[2], file, text, checksum: crypto.createHash("sha256").update(text).digest("hex") });
  }
  return migrations;
}

interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

function verifyApplied(applied: AppliedMigration[], migrations: Migration[]): void {
  for (const row of applied) {
    const migration = migrations.find((m) => m.version === row.version);
    if (!migration) {
      throw new MigrationError(`migration ${row.version} (${row.name}) is applied in the database but its file is missing from sql/`);
    }
    if (migration.checksum !== row.checksum) {
      throw new MigrationError(
        `${migration.file} was edited after it was applied; add a new migration instead of changing an applied one`,
      );
    }
  }
}

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies pending migrations in order, each in its own transaction that also records it. Every transaction
 * first takes a transaction-scoped advisory lock and re-reads what is applied, so instances starting together
 * queue up and each migration runs exactly once. Nothing here outlives a transaction (no session lock, no SET, no
 * prepared statement the caller did not allow), so it runs the same through a transaction pooler.
 */
export async function migrate(db: Db, migrations: Migration[]): Promise<MigrationResult> {
  const applied: string[] = [];
  for (;;) {
    const next = await db.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
      // Created under the lock, so two first starts never race to create it.
      const [{ exists }] = await tx`select to_regclass('schema_migrations') is not null as exists`;
      if (!exists) {
        await tx`
          create table schema_migrations (
            version integer primary key,
            name text not null,
            checksum text not null,
            applied_at timestamptz not null default now()
          )`;
        await tx`alter table schema_migrations enable row level security`;
      }
      const done = await tx<AppliedMigration[]>`select version, name, checksum from schema_migrations order by version`;
      verifyApplied(done, migrations);
      const pending = migrations.find((m) => !done.some((row) => row.version === m.version));
      if (!pending) return null;
      await tx.unsafe(pending.text).simple();
      await tx`
        insert into schema_migrations (version, name, checksum)
        values (${pending.version}, ${pending.name}, ${pending.checksum})`;
      return pending;
    });
    if (!next) return { applied };
    applied.push(next.file);
  }
}

export interface MigrationStatus {
  pending: string[];
}

/** What is still to apply; throws MigrationError when applied migrations no longer match their files. */
export async function migrationStatus(db: Db, migrations: Migration[]): Promise<MigrationStatus> {
  const [table] = await db`select to_regclass('schema_migrations') as name`;
  const done = table.name ? await db<AppliedMigration[]>`select version, name, checksum from schema_migrations` : [];
  verifyApplied(done, migrations);
  return { pending: migrations.filter((m) => !done.some((row) => row.version === m.version)).map((m) => m.file) };
}
