// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database) and exits.
import { ConfigError, loadConfig } from "../app/lib/config.server";
import { openDatabase } from "../app/lib/open-database.server";
import { createLogger } from "../app/lib/logger.server";

try {
  const config = { ...loadConfig(), MIGRATE_ON_START: true };
  const database = await openDatabase(config, createLogger(config.LOG_LEVEL));
  await database.close();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
