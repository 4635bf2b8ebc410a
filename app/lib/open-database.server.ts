import type { Config } from "./config.server";
import { createDb, setDb, type Db } from "./db.server";
import { startEmbeddedPostgres } from "./embedded-postgres.server";
import type { Logger } from "./logger.server";
import { migrate, readMigrations, type Migration } from "./migrate.server";

export interface OpenDatabase {
  db: Db;
  /** URL for sessions that must bypass a transaction pooler: migrations now, LISTEN later. */
  directUrl: string;
  migrations: Migration[];
  close(): Promise<void>;
}

/** Connects to DATABASE_URL, or starts the embedded PostgreSQL when it is unset, then migrates. */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenDatabase> {
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.EMBEDDED_DATABASE_DIR,
        port: config.EMBEDDED_DATABASE_PORT,
        database: "many_futures",
        logger,
      });
  const url = config.DATABASE_URL ?? embedded!.url;
  const directUrl = config.DATABASE_DIRECT_URL ?? url;
  const migrations = await readMigrations();

  if (config.MIGRATE_ON_START) {
    const migrator = createDb(directUrl, { max: 1 });
    try {
      const { applied } = await migrate(migrator, migrations);
      logger.info({ applied }, applied.length ? "migrations applied" : "migrations up to date");
    } finally {
      await migrator.end({ timeout: 5 });
    }
  }

  const db = createDb(url, { pooled: config.DATABASE_POOLED, max: config.DATABASE_POOL_MAX });
  setDb(db);
  return {
    db,
    directUrl,
    migrations,
    async close() {
      setDb(undefined);
      await db.end({ timeout: 5 });
      await embedded?.stop();
    },
  };
}
