import postgres from "postgres";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { applyProgress, type ClaimedGeneration } from "../../app/generation/lifecycle.server";
import { createDb, type Db } from "../../app/lib/db.server";
import { createLogger } from "../../app/lib/logger.server";
import { EpisodeHub, type EpisodeSubscriber, type EpisodeUpdate } from "../../app/realtime/episode-hub.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { claimNext, insertOwner, insertProject, publish, queueEpisode, reportProgress, waitFor, type Owner } from "../support/episodes";

const logger = createLogger("silent");

let database: TestDatabase;
let owner: Owner;
let projectId: string;
const hubs: EpisodeHub[] = [];

/** The hub's database, counting every query it runs: reads per change are measured, not reported by the hub. */
function countingDb(db: Db): { db: Db; queries: () => number } {
  let queries = 0;
  const proxy = new Proxy(db, {
    apply(target, thisArg, args) {
      queries++;
      return Reflect.apply(target, thisArg, args);
    },
  });
  return { db: proxy, queries: () => queries };
}

function hubWith(options: Partial<ConstructorParameters<typeof EpisodeHub>[0]> = {}) {
  const counted = countingDb(database.db);
  const hub = new EpisodeHub({ db: counted.db, directUrl: database.url, logger, heartbeatMs: 60_000, ...options });
  hubs.push(hub);
  return { hub, queries: counted.queries };
}

function watcher() {
  const updates: EpisodeUpdate[] = [];
  const state = { heartbeats: 0, closed: false };
  const subscriber: EpisodeSubscriber = {
    deliver: (update) => updates.push(update),
    heartbeat: () => state.heartbeats++,
    close: () => (state.closed = true),
  };
  return {
    subscriber,
    updates,
    state,
    last: () => updates.at(-1),
    reached: (version: number) => (updates.at(-1)?.version ?? -1) >= version,
  };
}

async function listenerPids(): Promise<number[]> {
  const rows = await database.db<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen %'`;
  return rows.map((row) => row.pid);
}

async function subscribe(hub: EpisodeHub, organizationId: string, episodeId: string, w = watcher()) {
  const result = await hub.subscribe(organizationId, episodeId, w.subscriber);
  if (!result.ok) throw new Error(`not subscribed: ${result.reason}`);
  return { ...w, current: result.current, unsubscribe: result.unsubscribe };
}

beforeAll(async () => {
  database = await createTestDatabase();
  owner = await insertOwner(database.db);
  projectId = await insertProject(database.db, owner);
});
afterAll(() => database.drop());
beforeEach(async () => {
  await database.db`delete from episode_schedule_queue`;
  await database.db`delete from episodes`;
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.stop()));
});

describe("the episode hub", () => {
  it("delivers every committed change to all its subscribers from one LISTEN connection and one read per change", async () => {
    const { hub, queries } = hubWith();
    const queued = await queueEpisode(database.db, owner, projectId);
    const watchers = await Promise.all(Array.from({ length: 25 }, () => subscribe(hub, owner.organizationId, queued.id)));
    expect(watchers.every((w) => w.current.version === queued.version && w.current.state.status === "QUEUED")).toBe(true);
    expect(hub.stats()).toMatchObject({ mode: "listen", episodes: 1, subscribers: 25 });

    let claim!: ClaimedGeneration;
    const changes = [
      async () => (claim = await claimNext(database.db)).episode,
      () => reportProgress(database.db, claim, { stage: "research", percent: 30, message: "Reading", findings: ["Iron-air is cheap"] }),
      () => publish(database.db, claim),
    ];
    for (const change of changes) {
      const before = queries();
      const row = await change();
      await waitFor(() => watchers.every((w) => w.reached(row.version)), Boolean, `version ${row.version} everywhere`);
      // One read for 25 subscribers, and every one of them handed the same serialized event.
      expect(queries() - before).toBe(1);
      expect(new Set(watchers.map((w) => w.last())).size).toBe(1);
      expect(JSON.parse(watchers[0].last()!.data)).toMatchObject({ id: queued.id, version: row.version, status: row.status });
    }
    expect(watchers[0].last()).toMatchObject({ final: true, state: { status: "PUBLISHED", percent: 100 } });
    expect(watchers[0].updates.map((u) => u.state.findings)).toContainEqual(["Iron-air is cheap"]);

    // Never a connection per client: the hub's one LISTEN connection beside the pool.
    expect(await listenerPids()).toHaveLength(1);
    const [{ connections }] = await database.db<{ connections: number }[]>`
      select count(*)::int as connections from pg_stat_activity where datname = current_database()`;
    expect(connections).toBeLessThanOrEqual(4 + 1);

    watchers.forEach((w) => w.unsubscribe());
    expect(hub.stats()).toMatchObject({ episodes: 0, subscribers: 0 });
  });

  it("never announces a change that was rolled back", async () => {
    const { hub, queries } = hubWith();
    await queueEpisode(database.db, owner, projectId);
    const claim = await claimNext(database.db);
    const w = await subscribe(hub, owner.organizationId, claim.episode.id);
    const before = queries();
    const { episodeId, organizationId, attempt } = claim.request;

    await expect(
      database.db.begin(async (sql) => {
        await applyProgress(sql, { episodeId, organizationId, attempt, stage: "writing", percent: 60, message: "Rolled back" });
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    const committed = await reportProgress(database.db, claim, { stage: "writing", percent: 50, message: "Committed" });

    // Notifications arrive in commit order: once the committed change is here, a rolled-back one would have been too.
    await waitFor(() => w.reached(committed.version), Boolean, "the committed change");
    expect(w.updates.map((u) => u.state.message)).toEqual(["Starting research", "Committed"]);
    expect(queries() - before).toBe(1);
  });

  it("reads every watched episode again once its LISTEN connection is back, so a change made while it was down is not missed", async () => {
    const { hub } = hubWith();
    await queueEpisode(database.db, owner, projectId);
    const claim = await claimNext(database.db);
    const w = await subscribe(hub, owner.organizationId, claim.episode.id);
    const [listener] = await listenerPids();
    expect(listener).toBeTypeOf("number");

    // Connections of our own, open before new ones are refused: the hub cannot reconnect until we allow it again.
    const server = postgres(inject("adminDatabaseUrl"), { max: 1, onnotice: () => {} });
    const own = createDb(database.url, { max: 1 });
    try {
      await own`select 1`;
      await server.unsafe(`alter database ${database.name} allow_connections false`);
      const [{ terminated }] = await own<{ terminated: boolean }[]>`select pg_terminate_backend(${listener}, 5000) as terminated`;
      expect(terminated).toBe(true);
      const { episodeId, organizationId, attempt } = claim.request;
      await own.begin((sql) =>
        applyProgress(sql, { episodeId, organizationId, attempt, stage: "writing", percent: 55, message: "Written while nobody listened" }),
      );
    } finally {
      await server.unsafe(`alter database ${database.name} allow_connections true`);
      await Promise.all([server.end({ timeout: 5 }), own.end({ timeout: 5 })]);
    }

    await waitFor(() => w.last()?.state.message, (message) => message === "Written while nobody listened", "the change made while disconnected");
    const [again] = await waitFor(listenerPids, (pids) => pids.length === 1, "a new LISTEN connection");
    expect(again).not.toBe(listener);

    // And it keeps listening: the next change arrives by notification.
    const next = await reportProgress(database.db, claim, { stage: "review", percent: 90, message: "Reviewing" });
    await waitFor(() => w.reached(next.version), Boolean, "the next change");
  });

  it("polls the watched episodes instead when there is no direct URL for LISTEN", async () => {
    const { hub } = hubWith({ directUrl: null, pollIntervalMs: 50 });
    await queueEpisode(database.db, owner, projectId);
    const claim = await claimNext(database.db);
    const w = await subscribe(hub, owner.organizationId, claim.episode.id);
    expect(hub.stats().mode).toBe("polling");
    const row = await reportProgress(database.db, claim, { stage: "research", percent: 20, message: "Polled" });
    await waitFor(() => w.reached(row.version), Boolean, "the polled change");
    expect(w.last()!.state.message).toBe("Polled");
    expect(await listenerPids()).toEqual([]);
  });

  it("keeps organizations apart: another organization's episode id is not found and its changes reach nobody else", async () => {
    const { hub } = hubWith();
    const other = await insertOwner(database.db, "Other");
    const queued = await queueEpisode(database.db, owner, projectId);
    const stranger = watcher();
    expect(await hub.subscribe(other.organizationId, queued.id, stranger.subscriber)).toEqual({ ok: false, reason: "not_found" });
    expect(hub.stats()).toMatchObject({ episodes: 0, subscribers: 0 });

    const w = await subscribe(hub, owner.organizationId, queued.id);
    const claim = await claimNext(database.db);
    await waitFor(() => w.reached(claim.episode.version), Boolean, "the owner's update");
    expect(stranger.updates).toEqual([]);
  });

  it("sends heartbeats to every subscriber, and on stop closes every stream and refuses new ones", async () => {
    const { hub } = hubWith({ heartbeatMs: 20 });
    const queued = await queueEpisode(database.db, owner, projectId);
    const [a, b] = [await subscribe(hub, owner.organizationId, queued.id), await subscribe(hub, owner.organizationId, queued.id)];
    await waitFor(() => Math.min(a.state.heartbeats, b.state.heartbeats), (count) => count >= 2, "heartbeats");

    await hub.stop();
    expect(a.state.closed && b.state.closed).toBe(true);
    expect(hub.stats()).toMatchObject({ episodes: 0, subscribers: 0 });
    expect(await hub.subscribe(owner.organizationId, queued.id, watcher().subscriber)).toEqual({ ok: false, reason: "stopped" });
    // The server ends the backend a moment after the client closes its connection.
    expect(await waitFor(listenerPids, (pids) => pids.length === 0, "the LISTEN backend to end")).toEqual([]);
  });
});
