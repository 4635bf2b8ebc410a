import { afterAll, beforeAll } from "vitest";
import { setDb, type Db } from "../../app/lib/db.server";
import { createTestDatabase, type TestDatabase } from "./database";

/**
 * A fresh database for one test file, installed as the app's pool so the built routes (called through
 * TestClient) use it. Read `.db` inside tests.
 */
export function useRouteDatabase(): { readonly db: Db } {
  process.env.LOG_LEVEL = "silent";
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    setDb(database.db);
  });
  afterAll(() => database.drop());
  return {
    get db() {
      return database.db;
    },
  };
}
