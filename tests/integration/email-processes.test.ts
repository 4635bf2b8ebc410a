import fs from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAppProcess, type AppProcess } from "../support/app-process";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertSubscriber } from "../support/email";
import { claimNext, insertOwner, insertProject, publish, queueEpisode, type Owner } from "../support/episodes";
import { startFakeResend, type FakeResend } from "../support/fake-resend";

/**
 * Worker processes of the built server sending the outbox to a Resend-compatible server: one killed with SIGKILL
 * while Resend holds its accepted request, then another that takes over; and two side by side on one outbox.
 */

const PROCESS_TEST_TIMEOUT_MS = 120_000;

let database: TestDatabase;
let resend: FakeResend;
const workers: AppProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.unsafe(`alter database ${database.name} set synchronous_commit = off`);
});
afterAll(() => database.drop());
afterEach(async () => {
  const stopping = workers.splice(0);
  await Promise.all(stopping.map((worker) => worker.stop()));
  await Promise.all(stopping.map((worker) => fs.rm(worker.dataDir, { recursive: true, force: true })));
  await resend.close();
});

async function startWorker(): Promise<AppProcess> {
  const worker = await startAppProcess({
    env: {
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: "4",
      APP_ROLE: "worker",
      APP_URL: "http://futures.test",
      RESEND_API_KEY: resend.apiKey,
      RESEND_BASE_URL: resend.baseUrl,
      RESEND_REQUESTS_PER_SECOND: "50",
      EMAIL_LEASE_MS: "1500",
      EMAIL_POLL_INTERVAL_MS: "100",
      EMAIL_RETRY_BASE_MS: "50",
      SCHEDULER_INTERVAL_MS: "3600000",
    },
    waitFor: /worker process started/,
  });
  workers.push(worker);
  return worker;
}

async function publishTo(owner: Owner, count: number, name: string): Promise<string> {
  const db = database.db;
  const projectId = await insertProject(db, owner, name);
  for (let i = 0; i < count; i++) await insertSubscriber(db, owner, projectId, `${name.toLowerCase().replace(/\W/g, "")}${i}@example.com`);
  await queueEpisode(db, owner, projectId);
  return (await publish(db, await claimNext(db))).id;
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const statuses = async (episodeId: string) =>
  database.db<{ status: string; attempts: number }[]>`select status, attempts from email_deliveries where episode_id = ${episodeId}`;

describe("sender processes", () => {
  it(
    "a sender killed after Resend accepted its batch: the next one repeats it under the same key and nobody gets two",
    async () => {
      resend = await startFakeResend();
      resend.force({ status: "accept-and-hang" });
      const owner = await insertOwner(database.db, "Killed");
      const episodeId = await publishTo(owner, 3, "Killed mid send");
      const doomed = await startWorker();
      await resend.hanging();
      expect(resend.sent).toHaveLength(3);
      expect(await doomed.stop("SIGKILL")).toBeNull();
      expect((await statuses(episodeId)).every((row) => row.status === "sending")).toBe(true);

      await startWorker();
      await until(async () => (await statuses(episodeId)).every((row) => row.status === "sent"), "the second sender to finish");
      expect(resend.sent).toHaveLength(3);
      expect(new Set(resend.sent.map((email) => email.to[0])).size).toBe(3);
      const accepted = resend.requests.filter((request) => request.status === 200);
      expect(accepted).toHaveLength(2);
      expect(accepted[1]).toMatchObject({ replayed: true, idempotencyKey: accepted[0]!.idempotencyKey });
      expect((await statuses(episodeId)).every((row) => row.attempts === 2)).toBe(true);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "two senders on one outbox send every email exactly once",
    async () => {
      resend = await startFakeResend();
      const owner = await insertOwner(database.db, "Crowd");
      await Promise.all([startWorker(), startWorker()]);
      const episodeId = await publishTo(owner, 450, "Crowded outbox");
      await until(async () => (await statuses(episodeId)).every((row) => row.status === "sent"), "every email sent");
      const recipients = resend.sent.map((email) => email.to[0]);
      expect(recipients).toHaveLength(450);
      expect(new Set(recipients).size).toBe(450);
      expect(resend.requests.every((request) => request.emails <= 100)).toBe(true);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
