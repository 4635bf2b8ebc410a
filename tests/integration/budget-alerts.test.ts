import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bookGenerationSpend, claimNextGeneration, publishGeneration, type GenerationSettings } from "../../app/generation/lifecycle.server";
import { listBudgetAlerts } from "../../app/models/budget-alerts.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertOwner, insertProject, queueEpisode, resetGenerationAndBudget, testSettings, type Owner } from "../support/episodes";

let database: TestDatabase;
let owner: Owner;
let projectId: string;
let call = 0;

// Unpriced work (an estimate of zero) reserves nothing, so these episodes run until spend itself reaches the limit.
const settings: GenerationSettings = { ...testSettings, maxCostGbpMicros: 0 };

async function alertRows() {
  return database.db<{ usageDate: string; thresholdPercent: number; costGbpMicros: number }[]>`
    select usage_date::text, threshold_percent, cost_gbp_micros from budget_alerts
    where organization_id = ${owner.organizationId} order by usage_date, threshold_percent`;
}

/** An episode generated and published through the lifecycle, reporting `costGBP`; returns the thresholds it raised. */
async function generateCosting(costGBP: number): Promise<number[]> {
  const episode = await queueEpisode(database.db, owner, projectId);
  const claimed = await claimNextGeneration(database.db, { owner: "test", leaseMs: 60_000, generatedBy: "n8n" }, settings);
  if (claimed.kind !== "claimed" || claimed.claim.episode.id !== episode.id) throw new Error("not claimed");
  const before = (await alertRows()).length;
  const outcome = await database.db.begin((sql) =>
    publishGeneration(
      sql,
      {
        episodeId: episode.id,
        organizationId: owner.organizationId,
        attempt: claimed.claim.request.attempt,
        title: "Week",
        summary: "What changed.",
        content: "## What changed\n\nSomething.",
        sources: [],
        qa: { passed: true, notes: "" },
        tokenUsage: [{ callId: `call-${++call}`, agent: "writer", model: "m", promptTokens: 1, completionTokens: 1, costGBP }],
      },
      { kind: "system", label: "n8n" },
    ),
  );
  if (!outcome.ok) throw new Error(outcome.reason);
  return (await alertRows()).slice(before).map((row) => row.thresholdPercent);
}

beforeAll(async () => {
  database = await createTestDatabase();
  owner = await insertOwner(database.db);
  await database.db`update organizations set daily_cost_limit_gbp_micros = 1000000 where id = ${owner.organizationId}`;
});
afterAll(() => database.drop());
beforeEach(async () => {
  await resetGenerationAndBudget(database.db);
  projectId = await insertProject(database.db, owner);
});

describe("budget alerts", () => {
  it("raise 80 % and 100 % once each per day, from the publishing transaction", async () => {
    expect(await generateCosting(0.5)).toEqual([]);
    expect(await generateCosting(0.3)).toEqual([80]);
    expect(await generateCosting(0.1)).toEqual([]);
    expect(await generateCosting(0.1)).toEqual([100]);
    const rows = await alertRows();
    expect(rows.map((r) => [r.thresholdPercent, r.costGbpMicros])).toEqual([
      [80, 800_000],
      [100, 1_000_000],
    ]);
    const [today] = await database.db<{ usageDate: string }[]>`select organization_usage_date(${owner.organizationId}, now())::text as usage_date`;
    expect((await listBudgetAlerts(database.db, owner.organizationId, today.usageDate)).map((a) => a.thresholdPercent)).toEqual([80, 100]);
    const events = await database.db`
      select event_data->>'thresholdPercent' as threshold from user_events
      where organization_id = ${owner.organizationId} and event_type = 'budget_alert' order by (event_data->>'thresholdPercent')::int`;
    expect(events.map((e) => e.threshold)).toEqual(["80", "100"]);
  });

  it("email each alert once to the owners and admins, not to members, in the transaction that raised it", async () => {
    const people = await database.db<{ id: string; role: string }[]>`
      insert into users (email, name, password_hash)
      values (${`admin-${owner.organizationId}@example.com`}, 'Admin', 'unused'), (${`member-${owner.organizationId}@example.com`}, 'Member', 'unused')
      returning id, case when email like 'admin-%' then 'admin' else 'member' end as role`;
    for (const person of people) {
      await database.db`insert into memberships (organization_id, user_id, role) values (${owner.organizationId}, ${person.id}, ${person.role})`;
    }
    try {
      await generateCosting(0.85);
      await generateCosting(0.05);
      await generateCosting(0.2);
      const emails = await database.db<{ toEmail: string; level: string; spent: string }[]>`
        select to_email, payload->>'level' as level, payload->>'spentGbpMicros' as spent from email_deliveries
        where organization_id = ${owner.organizationId} and kind = 'budget_alert' order by created_at, to_email`;
      expect(emails.map((e) => [e.toEmail.split("-")[0], e.level, e.spent])).toEqual([
        ["admin", "warning", "850000"],
        ["owner", "warning", "850000"],
        ["admin", "reached", "1100000"],
        ["owner", "reached", "1100000"],
      ]);
    } finally {
      await database.db`delete from memberships where user_id in ${database.db(people.map((p) => p.id))}`;
    }
  });

  it("one spend crossing both thresholds raises both at once", async () => {
    expect(await generateCosting(1.2)).toEqual([80, 100]);
  });

  it("concurrent settlements crossing a threshold together raise it exactly once", async () => {
    const [episode] = await database.db<{ id: string }[]>`
      insert into episodes (organization_id, project_id, scheduled_for, status) values (${owner.organizationId}, ${projectId}, now(), 'GENERATING')
      returning id`;
    const raised = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        database.db.begin((sql) =>
          bookGenerationSpend(
            sql,
            {
              organizationId: owner.organizationId,
              episodeId: episode.id,
              attempt: 1,
              calls: [{ callId: `parallel-${i}`, agent: "writer", model: "m", promptTokens: 1, completionTokens: 1, costGbpMicros: 60_000 }],
            },
            { settle: false },
          ),
        ),
      ),
    );
    const thresholds = raised.flatMap((spend) => spend.alerts.map((alert) => alert.thresholdPercent)).sort((a, b) => a - b);
    expect(thresholds).toEqual([80, 100]);
    expect((await alertRows()).map((r) => r.thresholdPercent)).toEqual([80, 100]);
  });

  it("each day has its own alerts: the day the spend is booked to, in the organization's zone", async () => {
    const [episode] = await database.db<{ id: string }[]>`
      insert into episodes (organization_id, project_id, scheduled_for, status) values (${owner.organizationId}, ${projectId}, now(), 'GENERATING')
      returning id`;
    // An attempt reserved yesterday and reporting today is yesterday's spend, and raises yesterday's alert.
    await database.db`
      insert into generation_budget_reservations (organization_id, episode_id, attempt, usage_date, amount_gbp_micros)
      values (${owner.organizationId}, ${episode.id}, 1, organization_usage_date(${owner.organizationId}, now()) - 1, 0)`;
    const book = (attempt: number, callId: string, costGbpMicros: number) =>
      database.db.begin((sql) =>
        bookGenerationSpend(
          sql,
          { organizationId: owner.organizationId, episodeId: episode.id, attempt, calls: [{ callId, agent: "writer", model: "m", promptTokens: 1, completionTokens: 1, costGbpMicros }] },
          { settle: true },
        ),
      );
    const yesterday = await book(1, "late", 900_000);
    const today = await book(2, "now", 900_000);
    expect(yesterday.alerts.map((a) => [a.usageDate, a.thresholdPercent])).toEqual([[yesterday.usageDate, 80]]);
    expect(today.alerts.map((a) => [a.usageDate, a.thresholdPercent])).toEqual([[today.usageDate, 80]]);
    expect(yesterday.usageDate).not.toBe(today.usageDate);
    // Booking the same call again records nothing and raises nothing.
    expect((await book(2, "now", 900_000)).alerts).toEqual([]);
  });
});
