import net from "node:net";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../app/lib/db.server";
import { openNotificationListener, type NotificationListener } from "../../app/lib/notifications.server";
import { createTestDatabase, throughTestPooler, type TestDatabase } from "../support/database";

let database: TestDatabase;
let pooled: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  // Notifications are sent the way the app sends them: pg_notify inside a transaction, through the pooler.
  pooled = createDb(throughTestPooler(database.url), { pooled: true, max: 2 });
});
afterAll(async () => {
  await pooled.end({ timeout: 5 });
  await database.drop();
});
const listeners: NotificationListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

function capturingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const logger = pino(
    { level: "info", formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );
  return { logger, lines };
}
function open(directUrl: string | null, options: { pollIntervalMs?: number } = {}) {
  const { logger, lines } = capturingLogger();
  const listener = openNotificationListener({ directUrl, logger, ...options });
  listeners.push(listener);
  return { listener, lines };
}
async function notifyCommitted(channel: string, payload: string) {
  await pooled.begin((tx) => tx`select pg_notify(${channel}, ${payload})`);
}
async function notifyRolledBack(channel: string, payload: string) {
  await pooled
    .begin(async (tx) => {
      await tx`select pg_notify(${channel}, ${payload})`;
      throw new Error("rolled back");
    })
    .catch(() => undefined);
}

describe("pooled, with no direct URL", () => {
  it("says once, at start, that it falls back to polling, and calls catch-up on a timer instead", async () => {
    const { listener, lines } = open(null, { pollIntervalMs: 20 });
    expect(listener.mode).toBe("polling");
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        msg: "DATABASE_POOLED is on and DATABASE_DIRECT_URL is unset: live updates and queue wake-ups fall back to polling every 0.02 s",
      }),
    ]);
    let catchUps = 0;
    const received: string[] = [];
    const subscription = await listener.subscribe("episode_status", { onNotify: (p) => received.push(p), catchUp: () => catchUps++ });
    await notifyCommitted("episode_status", "never heard");
    await expect.poll(() => catchUps).toBeGreaterThanOrEqual(3);
    await subscription.stop();
    const afterStop = catchUps;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(catchUps).toBe(afterStop);
    expect(received).toEqual([]);
    expect(lines.filter((line) => line.msg.includes("polling"))).toHaveLength(1);
  });
});

describe("with a direct URL", () => {
  it("receives what committed transactions notify through the pooler, and nothing from rolled-back ones", async () => {
    const { listener, lines } = open(database.url);
    expect(listener.mode).toBe("listen");
    const received: string[] = [];
    let catchUps = 0;
    await listener.subscribe("episode_status", { onNotify: (p) => received.push(p), catchUp: () => catchUps++ });
    await notifyRolledBack("episode_status", "rolled back");
    await notifyCommitted("episode_status", "first");
    await notifyCommitted("other_channel", "not ours");
    await notifyCommitted("episode_status", "second");
    await expect.poll(() => received).toEqual(["first", "second"]);
    expect(catchUps).toBe(1);
    expect(lines.some((line) => line.msg.includes("polling"))).toBe(false);
  });

  it("fans out to every subscriber on one connection, and a stopped one hears nothing more", async () => {
    const { listener } = open(database.url);
    const a: string[] = [];
    const b: string[] = [];
    const subscriptionA = await listener.subscribe("queue_wake", { onNotify: (p) => a.push(p) });
    await listener.subscribe("queue_wake", { onNotify: (p) => b.push(p) });
    const [{ listeners: connections }] = await database.db`
      select count(*)::int as listeners from pg_stat_activity where datname = current_database() and query ilike 'listen%'`;
    expect(connections).toBe(1);
    await notifyCommitted("queue_wake", "1");
    await expect.poll(() => [a, b]).toEqual([["1"], ["1"]]);
    await subscriptionA.stop();
    await notifyCommitted("queue_wake", "2");
    await expect.poll(() => b).toEqual(["1", "2"]);
    expect(a).toEqual(["1"]);
  });

  it("listens again after losing its connection, and runs catch-up for what it missed", async () => {
    // A TCP relay between the listener and the server, to cut the connection and refuse new ones for a while.
    const target = new URL(database.url);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const server = net.connect(Number(target.port), target.hostname);
      for (const [from, to] of [[client, server], [server, client]] as const) {
        from.pipe(to);
        from.on("error", () => to.destroy());
        from.on("close", () => to.destroy());
        sockets.add(from);
      }
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const viaRelay = new URL(database.url);
    viaRelay.port = String(relayPort);

    const { listener, lines } = open(viaRelay.toString());
    const received: string[] = [];
    let catchUps = 0;
    await listener.subscribe("episode_status", { onNotify: (p) => received.push(p), catchUp: () => catchUps++ });
    await notifyCommitted("episode_status", "before");
    await expect.poll(() => received).toEqual(["before"]);

    const closed = new Promise<void>((resolve) => relay.close(() => resolve()));
    sockets.forEach((socket) => socket.destroy());
    await closed;
    await notifyCommitted("episode_status", "while down");
    await new Promise<void>((resolve) => relay.listen(relayPort, "127.0.0.1", resolve));

    await expect.poll(() => catchUps, { timeout: 15_000 }).toBe(2);
    await notifyCommitted("episode_status", "after");
    await expect.poll(() => received).toEqual(["before", "after"]);
    expect(lines.some((line) => line.msg === "listening again after the database connection came back")).toBe(true);
    relay.close();
    sockets.forEach((socket) => socket.destroy());
  });
});
