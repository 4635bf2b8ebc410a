import { ConfigError, type Config } from "./config.server";
import { createDb, probeTransactionPooler, setDb, type Db } from "./db.server";
import { startEmbeddedPostgres } from "./embedded-postgres.server";
import type { Logger } from "./logger.server";
import { migrate, readMigrations, type Migration } from "./migrate.server";

export interface OpenDatabase {
  db: Db;
  /**
   * A URL whose sessions are the server's own (a direct connection or a session pooler), for LISTEN; null when the
   * app only has a transaction pooler (DATABASE_POOLED=true without DATABASE_DIRECT_URL).
   */
  directUrl: string | null;
  migrations: Migration[];
  close(): Promise<void>;
}

/**
 * Refuses URLs that lead to a transaction pooler where the app would use session features through them: prepared
 * statements on DATABASE_URL without DATABASE_POOLED (statements run on the wrong server process, and acknowledged
 * writes go missing), LISTEN and prepared statements on DATABASE_DIRECT_URL.
 */
async function refuseTransactionPoolers(config: Config, logger: Logger): Promise<void> {
  const problems: { variable: string; message: string }[] = [];
  if (config.DATABASE_URL && !config.DATABASE_POOLED) {
    const probe = await probeTransactionPooler(config.DATABASE_URL);
    if (probe.transactionPooler) {
      logger.debug({ evidence: probe.evidence }, "DATABASE_URL leads to a transaction pooler");
      problems.push({
        variable: "DATABASE_POOLED",
        message:
          "must be true: DATABASE_URL leads to a transaction pooler (such as Supabase's port 6543), which cannot " +
          "run prepared statements. Set DATABASE_POOLED=true, or point DATABASE_URL at a direct connection",
      });
    }
  }
  if (config.DATABASE_DIRECT_URL) {
    const probe = await probeTransactionPooler(config.DATABASE_DIRECT_URL);
    if (probe.transactionPooler) {
      logger.debug({ evidence: probe.evidence }, "DATABASE_DIRECT_URL leads to a transaction pooler");
      problems.push({
        variable: "DATABASE_DIRECT_URL",
        message:
          "must be a direct connection or a session pooler (Supabase's port 5432), not a transaction pooler: " +
          "migrations and LISTEN need a session of their own",
      });
    }
  }
  if (problems.length) throw new ConfigError(problems);
}

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL when it is unset, then migrates. Throws ConfigError
 * when a URL leads to a transaction pooler the settings do not account for.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenDatabase> {
  await refuseTransactionPoolers(config, logger);
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.EMBEDDED_DATABASE_DIR,
        port: config.EMBEDDED_DATABASE_PORT,
        database: "many_futures",
        logger,
      });
  const url = config.DATABASE_URL ?? embedded!.url;
  const pooled = !!config.DATABASE_URL && config.DATABASE_POOLED;
  const directUrl = config.DATABASE_DIRECT_URL ?? (pooled ? null : url);
  const migrations = await readMigrations();

  if (config.MIGRATE_ON_START) {
    // Without a direct URL the migrator goes through the pooler too; its lock is transaction-scoped, so it holds.
    const migrator = directUrl ? createDb(directUrl, { max: 1 }) : createDb(url, { max: 1, pooled: true });
    try {
      const { applied } = await migrate(migrator, migrations);
      logger.info({ applied }, applied.length ? "migrations applied" : "migrations up to date");
    } finally {
      await migrator.end({ timeout: 5 });
    }
  }

  const db = createDb(url, { pooled, max: config.DATABASE_POOL_MAX });
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
