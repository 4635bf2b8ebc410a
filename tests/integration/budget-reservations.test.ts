import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  claimNextGeneration,
  dispatchFailed,
  publishGeneration,
  reapExpiredLeases,
  type ClaimedGeneration,
  type GenerationSettings,
} from "../../app/generation/lifecycle.server";
import { createDb } from "../../app/lib/db.server";
import { getEpisode } from "../../app/models/episodes.server";
import { claimDueJobs } from "../../app/models/generation-jobs.server";
import { BUDGET_REFUSAL_REASON, releaseReservation } from "../../app/models/budget.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertOwner, insertProject, queueEpisode, resetGenerationAndBudget, testSettings, type Owner } from "../support/episodes";

let database: TestDatabase;
let owner: Owner;

const settings: GenerationSettings = { ...testSettings, maxCostGbpMicros: 1_000_000 };

async function setBudget(limitGbpMicros: number, timeZone = "UTC"): Promise<void> {
  await database.db`
    update organizations set daily_cost_limit_gbp_micros = ${limitGbpMicros}, time_zone = ${timeZone} where id = ${owner.organizationId}`;
}

async function today() {
  const [row] = await database.db<{ costGbpMicros: number; reservedGbpMicros: number; overshootGbpMicros: number; dispatchStoppedAt: Date | null }[]>`
    select cost_gbp_micros, reserved_gbp_micros, overshoot_gbp_micros, dispatch_stopped_at from token_usage_daily
    where organization_id = ${owner.organizationId} and usage_date = organization_usage_date(${owner.organizationId}, now())`;
  return row;
}

async function reservations(episodeId: string) {
  return database.db<{ attempt: number; status: string; amountGbpMicros: number; settledGbpMicros: number | null }[]>`
    select attempt, status, amount_gbp_micros, settled_gbp_micros from generation_budget_reservations
    where organization_id = ${owner.organizationId} and episode_id = ${episodeId} order by attempt`;
}

async function claim(): Promise<ClaimedGeneration | null> {
  const result = await claimNextGeneration(database.db, { owner: "test", leaseMs: 60_000, generatedBy: "n8n" }, settings);
  return result.kind === "claimed" ? result.claim : null;
}

async function publishWithCost(claimed: ClaimedGeneration, costGBP: number) {
  const { episodeId, organizationId, attempt } = claimed.request;
  return database.db.begin((sql) =>
    publishGeneration(
      sql,
      {
        episodeId,
        organizationId,
        attempt,
        title: "Storage week",
        summary: "What changed.",
        content: "## What changed\n\nA first grid contract.",
        sources: [],
        qa: { passed: true, notes: "" },
        tokenUsage: [{ callId: `${episodeId}:${attempt}:writer`, agent: "writer", model: "m", promptTokens: 10, completionTokens: 10, costGBP }],
      },
      { kind: "system", label: "n8n" },
    ),
  );
}

/** Ten thousand QUEUED episodes in one project, as fast as one statement makes them. */
async function insertQueuedEpisodes(count: number): Promise<string[]> {
  const projectId = await insertProject(database.db, owner, "Many episodes");
  const rows = await database.db<{ id: string }[]>`
    insert into episodes (organization_id, project_id, scheduled_for, status)
    select ${owner.organizationId}, ${projectId}, now() + make_interval(secs => n), 'QUEUED'
    from generate_series(1, ${count}) as n
    returning id`;
  return rows.map((row) => row.id);
}

beforeAll(async () => {
  database = await createTestDatabase();
  owner = await insertOwner(database.db);
});
afterAll(() => database.drop());
beforeEach(async () => {
  await resetGenerationAndBudget(database.db);
  await setBudget(50_000_000);
});

describe("the daily budget's reservations", () => {
  it("10,000 concurrent reservations from 8 connections never overrun the limit and grant exactly what it allows", async () => {
    const limit = 1_000_000;
    const estimate = 7_000;
    await setBudget(limit);
    const episodes = await insertQueuedEpisodes(10_000);
    const connections = Array.from({ length: 8 }, () => postgres(database.url, { max: 1, onnotice: () => {} }));
    let granted = 0;
    let refused = 0;
    try {
      // Every connection takes the next episode as soon as it is free, so all eight contend on the day row.
      let next = 0;
      await Promise.all(
        connections.map(async (sql) => {
          for (let i = next++; i < episodes.length; i = next++) {
            const [answer] = await sql<{ granted: boolean; reason: string | null }[]>`
              select granted, reason from reserve_generation_budget(${owner.organizationId}, ${episodes[i]}, 1, ${estimate})`;
            if (answer.granted) granted++;
            else {
              refused++;
              expect(answer.reason).toBe(BUDGET_REFUSAL_REASON);
            }
          }
        }),
      );
    } finally {
      await Promise.all(connections.map((sql) => sql.end({ timeout: 5 })));
    }
    const day = await today();
    const [held] = await database.db<{ count: number; amount: number }[]>`
      select count(*)::int as count, coalesce(sum(amount_gbp_micros), 0)::bigint as amount
      from generation_budget_reservations where organization_id = ${owner.organizationId} and status = 'held'`;
    const overrun = Math.max(0, day.costGbpMicros + day.reservedGbpMicros - limit);
    console.info(`budget concurrency: 10000 attempts on 8 connections, granted ${granted}, refused ${refused}, overrun ${overrun} micro-GBP`);
    expect(overrun).toBe(0);
    expect(granted).toBe(Math.floor(limit / estimate));
    expect(granted + refused).toBe(10_000);
    expect(held).toEqual({ count: granted, amount: granted * estimate });
    expect(day.reservedGbpMicros).toBe(granted * estimate);
    const [events] = await database.db<{ count: number }[]>`
      select count(*)::int as count from user_events where organization_id = ${owner.organizationId} and event_type = 'daily_limit_exceeded'`;
    expect(events.count).toBe(1);
  });

  it("8 dispatchers claiming at once through claim_generation_jobs start exactly what the limit allows", async () => {
    const estimate = 1_000_000;
    await setBudget(25 * estimate);
    const projects = await Promise.all(Array.from({ length: 60 }, (_, i) => insertProject(database.db, owner, `Project ${i}`)));
    for (const projectId of projects) await queueEpisode(database.db, owner, projectId);
    const dispatchers = Array.from({ length: 8 }, () => createDb(database.url, { max: 1 }));
    try {
      const claimed = await Promise.all(
        dispatchers.map(async (db, n) => {
          let count = 0;
          for (;;) {
            const batch = await claimDueJobs(db, { owner: `d${n}`, leaseMs: 60_000, limit: 3, generatedBy: "n8n", estimateGbpMicros: estimate });
            count += batch.length;
            if (batch.length < 3) return count;
          }
        }),
      );
      expect(claimed.reduce((a, b) => a + b, 0)).toBe(25);
    } finally {
      await Promise.all(dispatchers.map((db) => db.end({ timeout: 5 })));
    }
    const [statuses] = await database.db<{ generating: number; waiting: number }[]>`
      select count(*) filter (where status = 'GENERATING')::int as generating,
        count(*) filter (where status = 'QUEUED' and generation_message = ${BUDGET_REFUSAL_REASON})::int as waiting
      from episodes where organization_id = ${owner.organizationId}`;
    expect(statuses).toEqual({ generating: 25, waiting: 35 });
    const day = await today();
    expect(day.reservedGbpMicros + day.costGbpMicros).toBe(25 * estimate);
  });

  it("reservations, settlements and releases racing on 8 connections keep spent + reserved within the limit", async () => {
    const limit = 200_000;
    const estimate = 10_000;
    await setBudget(limit);
    const episodes = await insertQueuedEpisodes(2_000);
    const connections = Array.from({ length: 8 }, () => postgres(database.url, { max: 1, onnotice: () => {} }));
    let worst = 0;
    try {
      let next = 0;
      await Promise.all(
        connections.map(async (sql) => {
          for (let i = next++; i < episodes.length; i = next++) {
            const [answer] = await sql<{ granted: boolean }[]>`
              select granted from reserve_generation_budget(${owner.organizationId}, ${episodes[i]}, 1, ${estimate})`;
            if (answer.granted && i % 3 === 0) {
              await sql`select release_generation_budget(${owner.organizationId}, ${episodes[i]}, 1)`;
            } else if (answer.granted && i % 3 === 1) {
              // Completion as the publishing transaction books it: the cost on the day, then the reservation settled.
              await sql.begin(async (tx) => {
                await tx`update token_usage_daily set cost_gbp_micros = cost_gbp_micros + 4000
                  where organization_id = ${owner.organizationId} and usage_date = organization_usage_date(${owner.organizationId}, now())`;
                await tx`select * from settle_generation_budget(${owner.organizationId}, ${episodes[i]}, 1, 4000)`;
              });
            }
            const [day] = await sql<{ total: string }[]>`
              select (cost_gbp_micros + reserved_gbp_micros)::text as total from token_usage_daily
              where organization_id = ${owner.organizationId} and usage_date = organization_usage_date(${owner.organizationId}, now())`;
            worst = Math.max(worst, Number(day.total));
          }
        }),
      );
    } finally {
      await Promise.all(connections.map((sql) => sql.end({ timeout: 5 })));
    }
    const day = await today();
    const [byStatus] = await database.db<{ held: number; settled: number; released: number }[]>`
      select coalesce(sum(amount_gbp_micros) filter (where status = 'held'), 0)::bigint as held,
        (count(*) filter (where status = 'settled'))::int as settled, (count(*) filter (where status = 'released'))::int as released
      from generation_budget_reservations where organization_id = ${owner.organizationId}`;
    expect(worst).toBeLessThanOrEqual(limit);
    expect(day.costGbpMicros + day.reservedGbpMicros).toBeLessThanOrEqual(limit);
    // What the day says is set aside is exactly what the held reservations hold, and every settlement was counted.
    expect(day.reservedGbpMicros).toBe(byStatus.held);
    expect(day.costGbpMicros).toBe(byStatus.settled * 4000);
    expect(byStatus.released).toBeGreaterThan(0);
    // Releases and cheap settlements kept freeing budget, so far more than limit / estimate were let through.
    expect(byStatus.settled + byStatus.released).toBeGreaterThan(limit / estimate);
  });

  it("the day is the organization's local date, across both of Europe/London's daylight-saving changes", async () => {
    await setBudget(1_000_000, "Europe/London");
    const [a, b, c, d, e, f] = await insertQueuedEpisodes(6);
    const reserveAt = async (episodeId: string, at: string) => {
      const [answer] = await database.db<{ granted: boolean; reason: string | null; resumeAt: Date | null }[]>`
        select * from reserve_generation_budget_at(${owner.organizationId}, ${episodeId}, 1000000, ${at}::timestamptz)`;
      const [held] = await database.db<{ usageDate: string }[]>`
        select usage_date::text from generation_budget_reservations where organization_id = ${owner.organizationId} and episode_id = ${episodeId}`;
      return { ...answer, usageDate: held?.usageDate ?? null };
    };

    // Autumn: 25 October 2026 starts at 23:00 UTC the evening before (BST) and lasts 25 hours.
    expect(await reserveAt(a, "2026-10-24T22:30:00Z")).toMatchObject({ granted: true, usageDate: "2026-10-24" });
    const refusedLate = await reserveAt(b, "2026-10-24T22:59:00Z");
    expect(refusedLate).toMatchObject({ granted: false, reason: BUDGET_REFUSAL_REASON, usageDate: null });
    expect(refusedLate.resumeAt?.toISOString()).toBe("2026-10-24T23:00:00.000Z");
    expect(await reserveAt(b, "2026-10-24T23:00:00Z")).toMatchObject({ granted: true, usageDate: "2026-10-25" });
    const refusedLonger = await reserveAt(c, "2026-10-25T23:30:00Z");
    expect(refusedLonger.granted).toBe(false);
    expect(refusedLonger.resumeAt?.toISOString()).toBe("2026-10-26T00:00:00.000Z");

    // Spring: 30 March 2026 starts at 23:00 UTC on the 29th (the 29th is 23 hours long).
    expect(await reserveAt(d, "2026-03-29T00:30:00Z")).toMatchObject({ granted: true, usageDate: "2026-03-29" });
    const refusedSpring = await reserveAt(e, "2026-03-29T22:59:59Z");
    expect(refusedSpring.resumeAt?.toISOString()).toBe("2026-03-29T23:00:00.000Z");
    expect(await reserveAt(e, "2026-03-29T23:00:00Z")).toMatchObject({ granted: true, usageDate: "2026-03-30" });

    // 23:30 UTC on 1 June is 2 June in London, and still 1 June for an organization on UTC.
    await setBudget(1_000_000, "UTC");
    expect(await reserveAt(f, "2026-06-01T23:30:00Z")).toMatchObject({ granted: true, usageDate: "2026-06-01" });

    // The refusal is logged once per organization and day, however often it repeats.
    const logged = await database.db<{ usageDate: string }[]>`
      select event_data->>'usageDate' as usage_date from user_events
      where organization_id = ${owner.organizationId} and event_type = 'daily_limit_exceeded' order by 1`;
    expect(logged.map((row) => row.usageDate)).toEqual(["2026-03-29", "2026-10-24", "2026-10-25"]);
  });

  it("a zone that is not an IANA name is refused by the database", async () => {
    await expect(database.db`update organizations set time_zone = 'Mars/Olympus' where id = ${owner.organizationId}`).rejects.toThrow(
      /organizations_time_zone_check/,
    );
  });

  it("a released reservation frees the budget for the next episode, once, and wakes it", async () => {
    await setBudget(1_000_000);
    const first = await queueEpisode(database.db, owner, await insertProject(database.db, owner, "First"));
    const second = await queueEpisode(database.db, owner, await insertProject(database.db, owner, "Second"));
    const claimed = await claim();
    expect(claimed?.episode.id).toBe(first.id);
    expect(await claim()).toBeNull();
    const waiting = await getEpisode(database.db, owner.organizationId, second.id);
    expect(waiting).toMatchObject({ status: "QUEUED", generationMessage: BUDGET_REFUSAL_REASON });
    expect((await today()).reservedGbpMicros).toBe(1_000_000);

    expect(await dispatchFailed(database.db, claimed!, { reason: "n8n refused", retryable: false }, settings)).toBe("failed");
    expect(await reservations(first.id)).toEqual([{ attempt: 1, status: "released", amountGbpMicros: 1_000_000, settledGbpMicros: null }]);
    expect((await today()).reservedGbpMicros).toBe(0);
    // A second release of the same attempt frees nothing more.
    expect(await releaseReservation(database.db, { organizationId: owner.organizationId, episodeId: first.id, attempt: 1 })).toBe(0);
    expect((await today()).reservedGbpMicros).toBe(0);

    const next = await claim();
    expect(next?.episode.id).toBe(second.id);
    expect((await today()).reservedGbpMicros).toBe(1_000_000);
  });

  it("a retry reserves afresh for its new attempt; a reaped lease releases its own", async () => {
    const episode = await queueEpisode(database.db, owner, await insertProject(database.db, owner));
    const first = await claim();
    expect(await dispatchFailed(database.db, first!, { reason: "timeout", retryable: true }, settings)).toBe("retry");
    await database.db`update episode_schedule_queue set run_at = now() where episode_id = ${episode.id}`;
    const second = await claim();
    expect(second?.request.attempt).toBe(2);
    expect(await reservations(episode.id)).toEqual([
      { attempt: 1, status: "released", amountGbpMicros: 1_000_000, settledGbpMicros: null },
      { attempt: 2, status: "held", amountGbpMicros: 1_000_000, settledGbpMicros: null },
    ]);
    await database.db`update episode_schedule_queue set locked_until = now() - interval '1 second' where episode_id = ${episode.id}`;
    expect(await reapExpiredLeases(database.db, settings)).toBe(1);
    expect((await reservations(episode.id)).map((r) => r.status)).toEqual(["released", "released"]);
    expect((await today()).reservedGbpMicros).toBe(0);
  });

  it("completion turns the reservation into spend exactly once, however many callbacks arrive", async () => {
    const episode = await queueEpisode(database.db, owner, await insertProject(database.db, owner));
    const claimed = await claim();
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => publishWithCost(claimed!, 0.25)));
    expect(outcomes.filter((o) => o.ok && o.result === "applied")).toHaveLength(1);
    expect(await reservations(episode.id)).toEqual([{ attempt: 1, status: "settled", amountGbpMicros: 1_000_000, settledGbpMicros: 250_000 }]);
    expect(await today()).toMatchObject({ costGbpMicros: 250_000, reservedGbpMicros: 0, overshootGbpMicros: 0, dispatchStoppedAt: null });
  });

  it("spend is booked to the day its reservation was made, even when the result arrives after midnight", async () => {
    const episode = await queueEpisode(database.db, owner, await insertProject(database.db, owner));
    const claimed = await claim();
    // The reservation was made "yesterday": its day row and itself move back one day.
    await database.db`update token_usage_daily set usage_date = usage_date - 1 where organization_id = ${owner.organizationId}`;
    await database.db`update generation_budget_reservations set usage_date = usage_date - 1 where episode_id = ${episode.id}`;
    await publishWithCost(claimed!, 0.4);
    const days = await database.db<{ usageDate: string; costGbpMicros: number; reservedGbpMicros: number }[]>`
      select usage_date::text, cost_gbp_micros, reserved_gbp_micros from token_usage_daily
      where organization_id = ${owner.organizationId} order by usage_date`;
    const [{ yesterday }] = await database.db<{ yesterday: string }[]>`
      select (organization_usage_date(${owner.organizationId}, now()) - 1)::text as yesterday`;
    expect(days).toEqual([{ usageDate: yesterday, costGbpMicros: 400_000, reservedGbpMicros: 0 }]);
    const [ledger] = await database.db<{ usageDate: string }[]>`select usage_date::text from token_usage where episode_id = ${episode.id}`;
    expect(ledger.usageDate).toBe(yesterday);
  });

  it("a callback reporting more than was reserved is recorded truthfully and stops dispatch for the rest of the day", async () => {
    await setBudget(10_000_000);
    const first = await queueEpisode(database.db, owner, await insertProject(database.db, owner, "First"));
    const claimed = await claim();
    expect(await publishWithCost(claimed!, 1.5)).toEqual({ ok: true, result: "applied" });
    const day = await today();
    expect(day).toMatchObject({ costGbpMicros: 1_500_000, reservedGbpMicros: 0, overshootGbpMicros: 500_000 });
    expect(day.dispatchStoppedAt).toBeInstanceOf(Date);
    expect(await reservations(first.id)).toEqual([{ attempt: 1, status: "settled", amountGbpMicros: 1_000_000, settledGbpMicros: 1_500_000 }]);

    // Far below the limit, yet the next episode waits until tomorrow.
    const second = await queueEpisode(database.db, owner, await insertProject(database.db, owner, "Second"));
    expect(await claim()).toBeNull();
    expect(await getEpisode(database.db, owner.organizationId, second.id)).toMatchObject({ status: "QUEUED", generationMessage: BUDGET_REFUSAL_REASON });
    const [job] = await database.db<{ runAt: Date }[]>`select run_at from episode_schedule_queue where episode_id = ${second.id}`;
    const [{ midnight }] = await database.db<{ midnight: Date }[]>`
      select ((organization_usage_date(${owner.organizationId}, now()) + 1)::timestamp at time zone 'UTC') as midnight`;
    expect(job.runAt.getTime()).toBe(midnight.getTime());
    const [overshoot] = await database.db<{ count: number }[]>`
      select count(*)::int as count from user_events where organization_id = ${owner.organizationId} and event_type = 'budget_overshoot'`;
    expect(overshoot.count).toBe(1);
  });

  it("deleting a project with an episode in flight gives back what it held", async () => {
    const projectId = await insertProject(database.db, owner);
    const episode = await queueEpisode(database.db, owner, projectId);
    await claim();
    expect((await today()).reservedGbpMicros).toBe(1_000_000);
    await database.db`delete from projects where id = ${projectId}`;
    expect(await reservations(episode.id)).toEqual([{ attempt: 1, status: "released", amountGbpMicros: 1_000_000, settledGbpMicros: null }]);
    expect((await today()).reservedGbpMicros).toBe(0);
  });
});
