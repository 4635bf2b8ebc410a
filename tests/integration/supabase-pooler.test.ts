import fs from "node:fs/promises";
import { afterEach, describe, expect, inject, it } from "vitest";
import { ConfigError, loadConfig } from "../../app/lib/config.server";
import { createDb, probeTransactionPooler } from "../../app/lib/db.server";
import { createLogger } from "../../app/lib/logger.server";
import { readMigrations } from "../../app/lib/migrate.server";
import { openDatabase } from "../../app/lib/open-database.server";
import { startAppProcess, type AppProcess } from "../support/app-process";
import { createTestDatabase, throughTestPooler, type TestDatabase } from "../support/database";
import { startPgBouncer, startPoolerLoad, throughPooler, type PoolerLoad } from "../support/pgbouncer";

// Supabase's transaction pooler (port 6543) is played by a real PgBouncer in transaction mode (tests/support/pgbouncer.ts).
const logger = createLogger("silent");
const opened: TestDatabase[] = [];
const loads: PoolerLoad[] = [];
const apps: AppProcess[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (app) => {
    await app.stop();
    await fs.rm(app.dataDir, { recursive: true, force: true });
  }));
  await Promise.all(loads.splice(0).map((load) => load.stop()));
  await Promise.all(opened.splice(0).map((database) => database.drop()));
});

async function emptyDatabase() {
  const database = await createTestDatabase({ migrated: false });
  opened.push(database);
  return { ...database, pooledUrl: throughTestPooler(database.url) };
}
async function keepBusy(url: string) {
  const load = await startPoolerLoad(url);
  loads.push(load);
  return load;
}
async function schemaMigrationsExists(database: TestDatabase) {
  const [{ exists }] = await database.db`select to_regclass('schema_migrations') is not null as exists`;
  return exists as boolean;
}

describe("detecting a transaction pooler", () => {
  it("finds none on a direct connection", async () => {
    const { url } = await emptyDatabase();
    expect(await probeTransactionPooler(url)).toEqual({ transactionPooler: false });
  });

  it("finds none behind a session pooler (Supabase's port 5432), which DATABASE_DIRECT_URL may name", async () => {
    const { url } = await emptyDatabase();
    const sessionPooler = await startPgBouncer(inject("adminDatabaseUrl"), { poolMode: "session" });
    try {
      expect(await probeTransactionPooler(throughPooler(url, sessionPooler.address))).toEqual({ transactionPooler: false });
    } finally {
      await sessionPooler.stop();
    }
  });

  it("finds PgBouncer in transaction mode, idle and while another process keeps it busy", async () => {
    const { pooledUrl } = await emptyDatabase();
    expect(await probeTransactionPooler(pooledUrl)).toMatchObject({ transactionPooler: true });
    const load = await keepBusy(pooledUrl);
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(await probeTransactionPooler(pooledUrl)).toMatchObject({ transactionPooler: true });
    }
    expect(await load.stop()).toBeGreaterThan(0);
    loads.length = 0;
  });
});

describe("opening the database through the pooler", () => {
  it("runs the app's queries through the busy pooler with prepared statements off (DATABASE_POOLED)", async () => {
    const database = await emptyDatabase();
    await keepBusy(database.pooledUrl);
    const db = createDb(database.pooledUrl, { pooled: true, max: 4 });
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => db.begin((tx) => tx`select ${i}::int as i, pg_backend_pid() as pid`)),
      );
      expect(results.map(([row]) => row.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    } finally {
      await db.end({ timeout: 5 });
    }
  });

  it("with DATABASE_POOLED=true and no DATABASE_DIRECT_URL: three migrate at once under load, each migration once", async () => {
    const database = await emptyDatabase();
    await keepBusy(database.pooledUrl);
    const config = loadConfig({ DATABASE_URL: database.pooledUrl, DATABASE_POOLED: "true", DATABASE_POOL_MAX: "2" });
    const instances = await Promise.all([1, 2, 3].map(() => openDatabase(config, logger)));
    try {
      expect(instances.map((instance) => instance.directUrl)).toEqual([null, null, null]);
      const migrations = await readMigrations();
      const rows = await database.db`select version from schema_migrations order by xmin::text::bigint`;
      expect(rows.map((row) => row.version)).toEqual(migrations.map((m) => m.version));
      // The app's own pool works through the pooler too.
      const counts = await Promise.all(instances.map((instance) => instance.db`select count(*)::int as n from schema_migrations`));
      expect(counts.map(([row]) => row.n)).toEqual([migrations.length, migrations.length, migrations.length]);
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
  });

  it("refuses DATABASE_URL on the pooler without DATABASE_POOLED=true, before it writes anything", async () => {
    const database = await emptyDatabase();
    const opening = openDatabase(loadConfig({ DATABASE_URL: database.pooledUrl }), logger);
    await expect(opening).rejects.toThrow(ConfigError);
    await expect(opening).rejects.toThrow(/DATABASE_POOLED: must be true/);
    expect(await schemaMigrationsExists(database)).toBe(false);
  });

  it("refuses DATABASE_DIRECT_URL on the pooler: migrations and LISTEN need a session of their own", async () => {
    const database = await emptyDatabase();
    const config = loadConfig({ DATABASE_URL: database.pooledUrl, DATABASE_POOLED: "true", DATABASE_DIRECT_URL: database.pooledUrl });
    await expect(openDatabase(config, logger)).rejects.toThrow(/DATABASE_DIRECT_URL: must be a direct connection or a session pooler/);
    expect(await schemaMigrationsExists(database)).toBe(false);
  });

  it("with a direct DATABASE_DIRECT_URL beside the pooler, migrates over it and hands it on for LISTEN", async () => {
    const database = await emptyDatabase();
    const config = loadConfig({ DATABASE_URL: database.pooledUrl, DATABASE_POOLED: "true", DATABASE_DIRECT_URL: database.url });
    const instance = await openDatabase(config, logger);
    try {
      expect(instance.directUrl).toBe(database.url);
      const [{ n }] = await instance.db`select count(*)::int as n from schema_migrations`;
      expect(n).toBe((await readMigrations()).length);
    } finally {
      await instance.close();
    }
  });
});

describe("app processes through the pooler", () => {
  it("refuses to start without DATABASE_POOLED=true, naming the variable, and writes nothing", async () => {
    const database = await emptyDatabase();
    await expect(startAppProcess({ env: { DATABASE_URL: database.pooledUrl } })).rejects.toThrow(
      /DATABASE_POOLED: must be true: DATABASE_URL leads to a transaction pooler[^]*Set DATABASE_POOLED=true/,
    );
    expect(await schemaMigrationsExists(database)).toBe(false);
  });

  it("five started at once through the pooler only, while another process keeps it busy: all ready, each migration once and in order, no acknowledged write lost", async () => {
    const database = await emptyDatabase();
    const load = await keepBusy(database.pooledUrl);
    const env = { DATABASE_URL: database.pooledUrl, DATABASE_POOLED: "true", DATABASE_POOL_MAX: "3" };
    const started = await Promise.all(
      ["all", "web", "all", "web", "all"].map((role) => startAppProcess({ env: { ...env, APP_ROLE: role } })),
    );
    apps.push(...started);

    const migrations = await readMigrations();
    // xmin orders the rows by the transactions that wrote them: the order they were applied in.
    const rows = await database.db`select version from schema_migrations order by xmin::text::bigint`;
    expect(rows.map((row) => row.version)).toEqual(migrations.map((m) => m.version));
    const appliedByEach = started.map((app) => {
      const line = app.output.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; applied?: string[] }).find((entry) => entry.applied);
      return line!.applied!;
    });
    expect(appliedByEach.flat().sort()).toEqual(migrations.map((m) => m.file));
    for (const app of started) {
      const fallbacks = app.output.filter((line) => line.includes("fall back to polling"));
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]).toContain("DATABASE_POOLED is on and DATABASE_DIRECT_URL is unset");
    }

    // Sign-ups spread over the five while the pooler is still busy: every one acknowledged is stored.
    const emails = Array.from({ length: 10 }, (_, i) => `pooled-${i}@example.com`);
    const statuses = await Promise.all(
      emails.map(async (email, i) => {
        const { baseUrl } = started[i % started.length];
        const response = await fetch(`${baseUrl}/signup`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: baseUrl },
          body: new URLSearchParams({ name: "Pooled", email, password: "correct horse battery" }),
          redirect: "manual",
        });
        return response.status;
      }),
    );
    expect(statuses).toEqual(emails.map(() => 302));
    const stored = await database.db`select email from users where email in ${database.db(emails)} order by email`;
    expect(stored.map((row) => row.email)).toEqual([...emails].sort());
    expect(await load.stop()).toBeGreaterThan(0);
    loads.length = 0;

    expect(await Promise.all(started.map((app) => app.stop()))).toEqual([0, 0, 0, 0, 0]);
    // Five Node processes loading the build at once take a while on a small shared machine; this is no speed test.
  }, 180_000);
});

describe("the direct path, next to it", () => {
  it("opens a direct DATABASE_URL without DATABASE_POOLED, and LISTEN gets the same URL", async () => {
    const database = await emptyDatabase();
    const instance = await openDatabase(loadConfig({ DATABASE_URL: database.url }), logger);
    try {
      expect(instance.directUrl).toBe(database.url);
      expect(await schemaMigrationsExists(database)).toBe(true);
    } finally {
      await instance.close();
    }
  });
});
