import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDb } from "../../app/lib/db.server";
import { migrate, migrationStatus, MigrationError, readMigrations } from "../../app/lib/migrate.server";
import { createTestDatabase, throughTestPooler, type TestDatabase } from "../support/database";

const opened: TestDatabase[] = [];
async function emptyDatabase() {
  const database = await createTestDatabase({ migrated: false });
  opened.push(database);
  return database;
}
const copies: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((database) => database.drop()));
  await Promise.all(copies.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

async function copyOfMigrations() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "mf-migrations-"));
  copies.push(dir);
  await fs.cp(path.resolve("sql"), dir, { recursive: true });
  return dir;
}

describe("migrations", () => {
  it("builds the whole schema on an empty database, then re-runs as a no-op", async () => {
    const { db } = await emptyDatabase();
    const migrations = await readMigrations();
    expect(migrations.length).toBeGreaterThan(0);

    const first = await migrate(db, migrations);
    expect(first.applied).toEqual(migrations.map((m) => m.file));
    const tables = await db`select tablename from pg_tables where schemaname = 'public'`;
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(["organizations", "episodes", "audit_log", "webhook_receipts", "schema_migrations"]),
    );

    const second = await migrate(db, migrations);
    expect(second.applied).toEqual([]);
    expect(await migrationStatus(db, migrations)).toEqual({ pending: [] });
    const [{ count }] = await db`select count(*)::int as count from schema_migrations`;
    expect(count).toBe(migrations.length);
  });

  it.each([
    ["directly", false],
    ["through a transaction pooler, prepared statements off", true],
  ])("lets two migrators start together and applies each migration once, %s", async (_how, pooled) => {
    const database = await emptyDatabase();
    const url = pooled ? throughTestPooler(database.url) : database.url;
    const migrations = await readMigrations();
    const a = createDb(url, { max: 1, pooled });
    const b = createDb(url, { max: 1, pooled });
    try {
      const [fromA, fromB] = await Promise.all([migrate(a, migrations), migrate(b, migrations)]);
      expect([...fromA.applied, ...fromB.applied].sort()).toEqual(migrations.map((m) => m.file).sort());
      const rows = await a`select version from schema_migrations order by version`;
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it("reports pending migrations before they run", async () => {
    const { db } = await emptyDatabase();
    const migrations = await readMigrations();
    expect((await migrationStatus(db, migrations)).pending).toEqual(migrations.map((m) => m.file));
  });

  it("refuses to go on when an applied file was edited", async () => {
    const { db } = await emptyDatabase();
    const dir = await copyOfMigrations();
    await migrate(db, await readMigrations(dir));
    const file = path.join(dir, "0001_accounts.sql");
    await fs.appendFile(file, "\n-- an afterthought\n");

    const edited = await readMigrations(dir);
    await expect(migrate(db, edited)).rejects.toThrow(MigrationError);
    await expect(migrate(db, edited)).rejects.toThrow(/0001_accounts\.sql was edited after it was applied/);
    await expect(migrationStatus(db, edited)).rejects.toThrow(/0001_accounts\.sql/);
  });

  it("refuses to go on when an applied file is missing", async () => {
    const { db } = await emptyDatabase();
    const dir = await copyOfMigrations();
    await migrate(db, await readMigrations(dir));
    const [last] = (await fs.readdir(dir)).sort().reverse();
    await fs.rm(path.join(dir, last));
    await expect(migrate(db, await readMigrations(dir))).rejects.toThrow(/file is missing/);
  });

  it("rolls back a failing migration completely and records nothing", async () => {
    const { db } = await emptyDatabase();
    const dir = await copyOfMigrations();
    await fs.writeFile(path.join(dir, "9999_broken.sql"), "create table half_done (id int);\nselect * from no_such_table;");
    await expect(migrate(db, await readMigrations(dir))).rejects.toThrow(/no_such_table/);
    const [{ half, recorded }] = await db`
      select to_regclass('half_done') as half, (select count(*)::int from schema_migrations where version = 9999) as recorded`;
    expect(half).toBeNull();
    expect(recorded).toBe(0);
  });

  it("rejects a file that does not follow the naming rule", async () => {
    const dir = await copyOfMigrations();
    await fs.writeFile(path.join(dir, "add-things.sql"), "select 1;");
    await expect(readMigrations(dir)).rejects.toThrow(/add-things\.sql: migration files are named/);
  });
});
