import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setDb, type Db } from "../../app/lib/db.server";
import { signUp } from "../support/accounts";
import { createTestDatabase, type TestDatabase } from "../support/database";

let database: TestDatabase;
let counting: Db;
const queries: string[] = [];
beforeAll(async () => {
  process.env.LOG_LEVEL = "silent";
  database = await createTestDatabase();
  // The app's pool, with every query it sends recorded.
  counting = postgres(database.url, {
    max: 4,
    transform: postgres.camel,
    onnotice: () => {},
    debug: (_connection, query) => queries.push(query),
  }) as unknown as Db;
  setDb(counting);
});
afterAll(async () => {
  await counting.end({ timeout: 5 });
  await database.drop();
});

const sessionLookups = () => queries.filter((query) => /from sessions s join users u/.test(query)).length;

describe("who is asking, once per request", () => {
  it("a document request looks the viewer up once, though the root and the page both ask", async () => {
    const person = await signUp();
    queries.length = 0;
    const page = await person.client.get("/projects");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Projects");
    expect(sessionLookups()).toBe(1);
  });

  it("each request looks it up afresh: a second request sees the session's current state", async () => {
    const person = await signUp();
    queries.length = 0;
    await person.client.get("/projects");
    await person.client.get("/organization");
    expect(sessionLookups()).toBe(2);
    await person.client.post("/signout", {});
    expect((await person.client.get("/api/me")).status).toBe(401);
  });
});
