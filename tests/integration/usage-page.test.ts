import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateNow, type GenerationSettings } from "../../app/generation/lifecycle.server";
import { builtinGenerator } from "../../app/generation/pipeline.server";
import { generationDispatcher } from "../../app/jobs/generation.server";
import type { RunningWorker } from "../../app/jobs/workers.server";
import { createLogger } from "../../app/lib/logger.server";
import { getEpisode } from "../../app/models/episodes.server";
import { joinOrganization, signUp, type SignedIn } from "../support/accounts";
import { testSettings, waitFor } from "../support/episodes";
import { location } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

const database = useRouteDatabase();
const logger = createLogger("silent");
const meta = { ip: null, userAgent: null, requestId: null };
const dispatchers: RunningWorker[] = [];

let owner: SignedIn;
let member: SignedIn;
let projectId: string;
let episodeId: string;

/** Ledger rows as the publishing transaction writes them, on the organization's today. */
async function recordCalls(organizationId: string, calls: { callId: string; model: string; cost: number; episode?: string | null }[]) {
  for (const call of calls) {
    await database.db`
      insert into token_usage (organization_id, episode_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
      values (${organizationId}, ${call.episode === undefined ? episodeId : call.episode}, ${call.callId}, 'writer', ${call.model}, 1000, 500, ${call.cost},
              organization_usage_date(${organizationId}, now()))`;
  }
  await database.db`
    insert into token_usage_daily (organization_id, usage_date, prompt_tokens, completion_tokens, cost_gbp_micros)
    select organization_id, usage_date, sum(prompt_tokens), sum(completion_tokens), sum(cost_gbp_micros) from token_usage
    where organization_id = ${organizationId} group by organization_id, usage_date
    on conflict (organization_id, usage_date) do update set
      prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, cost_gbp_micros = excluded.cost_gbp_micros`;
}

beforeAll(async () => {
  owner = await signUp("Olive Owner");
  member = await joinOrganization(owner, "member");
  const [project] = await database.db<{ id: string }[]>`
    insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
    values (${owner.organizationId}, ${owner.userId}, ${'Grid, "storage"'}, 'Watch storage.', 'weekly', '{1}', now() + interval '1 day')
    returning id`;
  projectId = project.id;
  const [episode] = await database.db<{ id: string }[]>`
    insert into episodes (organization_id, project_id, scheduled_for, status) values (${owner.organizationId}, ${projectId}, now() - interval '1 day', 'DRAFT')
    returning id`;
  episodeId = episode.id;
  await recordCalls(owner.organizationId, [
    { callId: "call-1", model: "gpt-4o-mini", cost: 1_234_567 },
    { callId: "call-2", model: "=cmd|' /C calc'!A0", cost: 288 },
    { callId: "call-3", model: "llama3", cost: 2_000_000, episode: null },
  ]);
});
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
});

describe("/usage", () => {
  it("shows owners today's figures in words, the 30-day chart with its table, breakdowns and the ledger", async () => {
    const response = await owner.client.get("/usage");
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("<h1>Usage</h1>");
    expect(html).toMatch(/<dt>Spent<\/dt><dd>£3\.23<\/dd>/);
    expect(html).toMatch(/<dt>Daily limit<\/dt><dd>£50\.00<\/dd>/);
    expect(html).toMatch(/<dt>Left today<\/dt><dd>£46\.77<\/dd>/);
    expect(html).toContain("£46.77 is left today");
    expect(html).toMatch(/<svg[^>]*role="img"[^>]*aria-labelledby="usage-chart-title usage-chart-desc"/);
    expect(html).toContain('<title id="usage-chart-title">Spend per day, last 30 days</title>');
    expect(html).toMatch(/<desc id="usage-chart-desc">30 bars, one per day[^<]*daily limit of £50\.00[^<]*<\/desc>/);
    expect(html.match(/class="usage-chart__bar"/g)).toHaveLength(30);
    expect(html).toContain('data-testid="usage-chart-limit"');
    expect(html.match(/<tr><th scope="row">\d{4}-\d\d-\d\d<\/th>/g)).toHaveLength(30);
    // By project: the titled project and the deleted episode's call, largest first.
    expect(html).toMatch(/By project[\s\S]*Deleted episodes[\s\S]*Grid, &quot;storage&quot;/);
    expect(html).toMatch(/By model[\s\S]*llama3[\s\S]*gpt-4o-mini/);
    expect(html).toContain("under £0.01");
    expect(html).toContain('href="/usage.csv"');
    expect(html).toContain('href="/usage"');
  });

  it("shows members the totals only", async () => {
    const html = await (await member.client.get("/usage")).text();
    expect(html).toContain("£3.23");
    expect(html).toContain('data-testid="usage-chart"');
    expect(html).not.toContain('data-testid="usage-ledger"');
    expect(html).not.toContain("gpt-4o-mini");
    expect(html).toContain("Owners and admins see spend by project and model");
    expect((await member.client.get("/usage.csv")).status).toBe(403);
  });

  it("pages the ledger, and shows the first page for a page number that is not one", async () => {
    await recordCalls(
      owner.organizationId,
      Array.from({ length: 60 }, (_, i) => ({ callId: `bulk-${String(i).padStart(2, "0")}`, model: "bulk-model", cost: 1_000 })),
    );
    const first = await (await owner.client.get("/usage")).text();
    expect(first).toContain("Page 1 of 2");
    expect(first).toContain('href="/usage?page=2"');
    const second = await (await owner.client.get("/usage?page=2")).text();
    expect(second).toContain("Page 2 of 2");
    expect(second.match(/<td>\d{4}-\d\d-\d\d<\/td><td>/g)).toHaveLength(13);
    expect((await owner.client.get("/usage?page=nope")).status).toBe(200);
    await database.db`delete from token_usage where call_id like 'bulk-%'`;
    await recordCalls(owner.organizationId, []);
  });

  it("dates the CSV's file name by the organization's day, not UTC's", async () => {
    // A zone whose date differs from UTC's at this hour: 14 hours ahead late in the UTC day, 11 behind early in it.
    const zone = new Date().getUTCHours() >= 12 ? "Pacific/Kiritimati" : "Pacific/Pago_Pago";
    const [before] = await database.db<{ timeZone: string }[]>`select time_zone from organizations where id = ${owner.organizationId}`;
    await database.db`update organizations set time_zone = ${zone} where id = ${owner.organizationId}`;
    try {
      const [today] = await database.db<{ day: string }[]>`select (now() at time zone ${zone})::date::text as day`;
      expect(today.day).not.toBe(new Date().toISOString().slice(0, 10));
      const response = await owner.client.get("/usage.csv");
      expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="many-futures-usage-${today.day}.csv"`);
      await response.text();
    } finally {
      await database.db`update organizations set time_zone = ${before.timeZone} where id = ${owner.organizationId}`;
    }
  });

  it("streams the ledger as CSV with a download name and correct quoting", async () => {
    const response = await owner.client.get("/usage.csv");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename="many-futures-usage-\d{4}-\d\d-\d\d\.csv"$/);
    const lines = (await response.text()).split("\r\n").filter(Boolean);
    expect(lines[0]).toBe("usage_date,recorded_at,project,episode_id,call_id,stage,model,prompt_tokens,completion_tokens,cost_gbp");
    expect(lines).toHaveLength(4);
    const first = lines.find((line) => line.includes("call-1"))!;
    expect(first).toContain(`,"Grid, ""storage""",${episodeId},call-1,writer,gpt-4o-mini,1000,500,1.234567`);
    // A value a spreadsheet would run as a formula is quoted, not left bare.
    expect(lines.find((line) => line.includes("call-2"))).toContain(`,"=cmd|' /C calc'!A0",1000,500,0.000288`);
    expect(lines.find((line) => line.includes("call-3"))).toMatch(/,,,call-3,writer,llama3,1000,500,2\.000000$/);
  });

  it("GET /api/usage carries the same figures as JSON, and refuses a bad query or method with JSON", async () => {
    const response = await owner.client.get("/api/usage");
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.today).toMatchObject({ spentGbpMicros: 3_234_855, reservedGbpMicros: 0, limitGbpMicros: 50_000_000, leftGbpMicros: 46_765_145, timeZone: "UTC" });
    expect(body.days).toHaveLength(30);
    expect(body.days.at(-1)).toMatchObject({ spentGbpMicros: 3_234_855 });
    expect(body.byModel.map((m: { key: string }) => m.key)).toEqual(["llama3", "gpt-4o-mini", "=cmd|' /C calc'!A0"]);
    expect(body.ledger).toMatchObject({ page: 1, total: 3 });

    const asMember = (await (await member.client.get("/api/usage")).json()) as any;
    expect(asMember.today.spentGbpMicros).toBe(3_234_855);
    expect(asMember.ledger).toBeNull();
    expect(asMember.byProject).toBeNull();

    const bad = await owner.client.get("/api/usage?page=0");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "Some query parameters are not valid.", fields: { page: "page is a whole number from 1." } });
    const unknown = await owner.client.get("/api/usage?from=2026-01-01");
    expect(unknown.status).toBe(400);
    const post = await owner.client.request("/api/usage", { method: "POST", headers: { Origin: "http://app.test" } });
    expect(post.status).toBe(405);
    expect(post.headers.get("Content-Type")).toMatch(/application\/json/);
  });
});

describe("the daily budget on /organization", () => {
  it("owners set the limit in pounds and the time zone; each change is audited", async () => {
    const response = await owner.client.post("/organization", { intent: "budget", dailyLimit: "£12.34", timezone: "europe/london" });
    expect(response.status, await response.clone().text()).toBe(302);
    expect(location(response)).toBe("/organization");
    const [organization] = await database.db`select daily_cost_limit_gbp_micros, time_zone from organizations where id = ${owner.organizationId}`;
    expect(organization).toEqual({ dailyCostLimitGbpMicros: 12_340_000, timeZone: "Europe/London" });
    const [audit] = await database.db`
      select action, before, after from audit_log where organization_id = ${owner.organizationId} and action = 'organization.budget_updated'`;
    expect(audit).toEqual({
      action: "organization.budget_updated",
      before: { dailyLimitGbpMicros: 50_000_000, timeZone: "UTC" },
      after: { dailyLimitGbpMicros: 12_340_000, timeZone: "Europe/London" },
    });
    const page = await (await owner.client.get("/organization")).text();
    expect(page).toContain("Daily budget saved: £12.34 a day, counted in Europe/London.");
    expect(page).toContain('value="12.34"');
    await owner.client.post("/organization", { intent: "budget", dailyLimit: "50", timezone: "UTC" });
  });

  it("bad amounts and zones are explained beside their fields and change nothing", async () => {
    for (const [dailyLimit, timezone, field] of [
      ["twelve", "UTC", "dailyLimit"],
      ["-5", "UTC", "dailyLimit"],
      ["12.345", "UTC", "dailyLimit"],
      ["100001", "UTC", "dailyLimit"],
      ["12", "Mars/Olympus", "timezone"],
    ]) {
      const response = await owner.client.post("/organization", { intent: "budget", dailyLimit, timezone });
      expect(response.status).toBe(400);
      const html = await response.text();
      const id = field === "dailyLimit" ? "field-dailyLimit" : "timezone";
      expect(html).toMatch(new RegExp(`id="${id}"[^>]*aria-describedby="[^"]*${id}-error`));
      expect(html).toContain(`href="#${id}"`);
    }
    const missing = await owner.client.post("/organization", { intent: "budget" });
    expect(missing.status).toBe(400);
    const [organization] = await database.db`select daily_cost_limit_gbp_micros, time_zone from organizations where id = ${owner.organizationId}`;
    expect(organization).toEqual({ dailyCostLimitGbpMicros: 50_000_000, timeZone: "UTC" });
  });

  it("members see the budget but may not change it", async () => {
    const page = await (await member.client.get("/organization")).text();
    expect(page).toContain("Owners and admins set the daily limit");
    expect(page).not.toContain('name="dailyLimit"');
    const response = await member.client.post("/organization", { intent: "budget", dailyLimit: "1000", timezone: "UTC" });
    expect(response.status).toBe(403);
    const [organization] = await database.db`select daily_cost_limit_gbp_micros from organizations where id = ${owner.organizationId}`;
    expect(organization.dailyCostLimitGbpMicros).toBe(50_000_000);
  });
});

describe("an organization at its limit, through the real dispatcher", () => {
  it("keeps the episode QUEUED with the reason on its page, and starts it once the limit is raised", async () => {
    const settings: GenerationSettings = { ...testSettings, maxCostGbpMicros: 1_000_000 };
    // Today's spend already fills the limit exactly.
    await database.db`update organizations set daily_cost_limit_gbp_micros = 3234855 where id = ${owner.organizationId}`;
    const queued = await generateNow(database.db, { userId: owner.userId, organizationId: owner.organizationId, role: "owner", label: "owner" }, projectId, meta, settings);
    if (!queued.ok) throw new Error(`not queued: ${queued.reason}`);
    const dispatcher = await generationDispatcher({
      generator: builtinGenerator({ GENERATION_OFFLINE_STAGE_MS: 0 }),
      settings,
      concurrency: 2,
      pollIntervalMs: 50,
    }).start({ db: database.db, directUrl: null, logger });
    dispatchers.push(dispatcher);

    const waiting = await waitFor(
      () => getEpisode(database.db, owner.organizationId, queued.episode.id),
      (e) => e?.generationMessage === "Daily budget reached — resumes tomorrow",
      "the budget's refusal",
    );
    expect(waiting).toMatchObject({ status: "QUEUED", generationAttempts: 0 });
    const page = await (await owner.client.get(`/episodes/${queued.episode.id}`)).text();
    expect(page).toContain("Waiting to start");
    expect(page).toContain("Daily budget reached — resumes tomorrow");
    const [job] = await database.db<{ runAt: Date; attempts: number }[]>`
      select run_at, attempts from episode_schedule_queue where episode_id = ${queued.episode.id}`;
    expect(job.attempts).toBe(0);
    expect(job.runAt.getTime()).toBeGreaterThan(Date.now());

    expect((await owner.client.post("/organization", { intent: "budget", dailyLimit: "50", timezone: "UTC" })).status).toBe(302);
    const published = await waitFor(
      () => getEpisode(database.db, owner.organizationId, queued.episode.id),
      (e) => e?.status === "PUBLISHED",
      "the episode to start once the limit was raised",
    );
    expect(published?.generationAttempts).toBe(1);
    const [reservation] = await database.db`
      select status, amount_gbp_micros, settled_gbp_micros from generation_budget_reservations where episode_id = ${queued.episode.id}`;
    expect(reservation).toEqual({ status: "settled", amountGbpMicros: 1_000_000, settledGbpMicros: 0 });
  });
});
