import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../app/auth/password.server";
import { signInWithPassword } from "../../app/auth/sign-in.server";
import type { Db } from "../../app/lib/db.server";
import {
  deleteOldSignInAttempts,
  EMAIL_SLOW_DOWN_AFTER,
  emailDelayMs,
  MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS,
  MAX_EMAIL_DELAY_MS,
} from "../../app/models/sign-in-attempts.server";
import { signUpWithPassword } from "../../app/auth/account-email.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.drop());

const PASSWORD = "correct horse battery";

async function account() {
  const email = `person-${crypto.randomBytes(6).toString("hex")}@example.com`;
  await signUpWithPassword(db, { name: "Ada", email, password: PASSWORD }, { ip: null, userAgent: null, requestId: null });
  const [user] = await db`select id from users where email = ${email}`;
  expect(user, "the account exists").toBeTruthy();
  return email;
}

/** Counts password checks and records the slow-down's waits instead of sleeping through them. */
function instrumented() {
  const calls = { verify: 0, waits: [] as number[] };
  return {
    calls,
    dependencies: {
      verify: (password: string, stored: string) => {
        calls.verify++;
        return verifyPassword(password, stored);
      },
      wait: async (ms: number) => {
        calls.waits.push(ms);
      },
    },
  };
}

function attempt(email: string, password: string, ip: string, dependencies: ReturnType<typeof instrumented>["dependencies"]) {
  return signInWithPassword(db, { email, password, ttlDays: 1 }, { ip, userAgent: "vitest", requestId: null }, dependencies);
}

describe("sign-in throttling under concurrency", () => {
  it("checks at most the limit of twenty wrong passwords sent at once from one address", async () => {
    const email = await account();
    const { calls, dependencies } = instrumented();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(email, `wrong ${i}`, "198.51.100.20", dependencies)));
    expect(calls.verify).toBe(MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS);
    expect(results.filter((r) => !r.ok && r.reason === "invalid")).toHaveLength(MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS);
    expect(results.filter((r) => !r.ok && r.reason === "rate_limited")).toHaveLength(20 - MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS);
  });

  it("an attacker failing on purpose from many addresses slows the owner down but never locks them out", async () => {
    const email = await account();
    const attacker = instrumented();
    const addresses = Array.from({ length: 6 }, (_, i) => `198.51.100.${100 + i}`);
    await Promise.all(
      addresses.flatMap((ip) => Array.from({ length: MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS + 3 }, (_, i) => attempt(email, `guess ${i}`, ip, attacker.dependencies))),
    );
    // Every address got its five checks, and no more.
    expect(attacker.calls.verify).toBe(addresses.length * MAX_ATTEMPTS_PER_EMAIL_AND_ADDRESS);

    const owner = instrumented();
    const result = await attempt(email, PASSWORD, "203.0.113.200", owner.dependencies);
    expect(result.ok).toBe(true);
    expect(owner.calls.waits).toHaveLength(1);
    expect(owner.calls.waits[0]).toBeGreaterThan(0);
    expect(owner.calls.waits[0]).toBeLessThanOrEqual(MAX_EMAIL_DELAY_MS);
  });

  it("the per-email wait grows with the attempts and stays bounded", () => {
    expect(emailDelayMs(EMAIL_SLOW_DOWN_AFTER)).toBe(0);
    const waits = Array.from({ length: 10 }, (_, i) => emailDelayMs(EMAIL_SLOW_DOWN_AFTER + 1 + i));
    expect(waits[0]).toBeGreaterThan(0);
    waits.slice(1).forEach((wait, i) => expect(wait).toBeGreaterThanOrEqual(waits[i]));
    expect(Math.max(...waits)).toBe(MAX_EMAIL_DELAY_MS);
  });

  it("a failed sign-in with a 320-character email is recorded without overflowing the audit row", async () => {
    const email = `${"a".repeat(64)}@${"b".repeat(251)}.com`;
    expect(email).toHaveLength(320);
    const { dependencies } = instrumented();
    const result = await attempt(email, "anything", "198.51.100.77", dependencies);
    expect(result).toEqual({ ok: false, reason: "invalid" });
    const [row] = await db`select actor_label, after from audit_log where action = 'auth.sign_in_failed' and actor_label = ${email}`;
    expect(row.after).toEqual({ email });
  });

  it("the sweeper removes counters of windows long gone and keeps the current ones", async () => {
    const key = (c: string) => c.repeat(64);
    await db`
      insert into sign_in_attempts (scope, key_hash, window_start, count)
      values ('email', ${key("a")}, now() - interval '2 hours', 3), ('email', ${key("b")}, now(), 1)`;
    expect(await deleteOldSignInAttempts(db)).toBeGreaterThanOrEqual(1);
    const left = await db`select key_hash from sign_in_attempts where key_hash in (${key("a")}, ${key("b")})`;
    expect(left.map((row) => row.keyHash)).toEqual([key("b")]);
  });
});
