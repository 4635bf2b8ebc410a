import fs from "node:fs/promises";
import path from "node:path";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { startAppProcess, type AppProcess } from "../support/app-process";
import { freePort } from "../support/ports";

/**
 * /usage in a real browser. The ledger only fills when a priced model reports its calls, so this file runs an app
 * of its own whose embedded database it can reach, and books the calls there as the publishing transaction would.
 */

let app: AppProcess;
let sql: postgres.Sql;

test.skip(({ javaScriptEnabled }) => javaScriptEnabled, "the page is server-rendered: JavaScript off is the case that matters");

test.beforeAll(async ({}, testInfo) => {
  // A fresh embedded PostgreSQL is initialised first: slow on a busy machine.
  testInfo.setTimeout(120_000);
  const databasePort = await freePort();
  app = await startAppProcess({ env: { EMBEDDED_DATABASE_PORT: String(databasePort), LOG_LEVEL: "warn" } });
  const { password } = JSON.parse(await fs.readFile(path.join(app.dataDir, "postgres.credentials.json"), "utf8")) as { password: string };
  sql = postgres(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${databasePort}/many_futures`, { max: 1, onnotice: () => {} });
});

test.afterAll(async () => {
  await sql?.end({ timeout: 5 });
  if (!app) return;
  await app.stop();
  await fs.rm(app.dataDir, { recursive: true, force: true });
});

test("an owner reads today's budget, the 30-day chart and its table without JavaScript, and downloads the ledger as CSV", async ({ page }, testInfo) => {
  const email = `usage-${Date.now()}@example.com`;
  await page.goto(`${app.baseUrl}/signup`);
  await page.getByLabel("Name").fill("Uma Usage");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Check your inbox");
  // This app's own outbox: the confirmation link a newcomer follows from their inbox.
  const [verification] = await sql<{ verifyUrl: string }[]>`
    select payload->>'verifyUrl' as "verifyUrl" from email_deliveries where kind = 'email_verification' and to_email = ${email}`;
  const verifyUrl = new URL(verification.verifyUrl);
  await page.goto(`${app.baseUrl}${verifyUrl.pathname}${verifyUrl.search}`);
  await page.getByRole("button", { name: "Confirm my address" }).click();
  const me = (await (await page.request.get(`${app.baseUrl}/api/me`)).json()) as { organizationId: string; userId: string };

  const [project] = await sql<{ id: string }[]>`
    insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days)
    values (${me.organizationId}, ${me.userId}, ${'Ports, "shipping" and tides'}, 'Watch ports.', 'weekly', '{1}') returning id`;
  const [episode] = await sql<{ id: string }[]>`
    insert into episodes (organization_id, project_id, scheduled_for, status) values (${me.organizationId}, ${project.id}, now(), 'DRAFT') returning id`;
  const calls = [
    { callId: "e2e-research", agent: "research", model: "gpt-4o-mini", cost: 2_500_000 },
    { callId: "e2e-writer", agent: "writer", model: "gpt-4o-mini", cost: 1_250_000 },
  ];
  for (const call of calls) {
    await sql`
      insert into token_usage (organization_id, episode_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
      values (${me.organizationId}, ${episode.id}, ${call.callId}, ${call.agent}, ${call.model}, 1200, 300, ${call.cost}, organization_usage_date(${me.organizationId}, now()))`;
  }
  await sql`
    insert into token_usage_daily (organization_id, usage_date, prompt_tokens, completion_tokens, cost_gbp_micros)
    values (${me.organizationId}, organization_usage_date(${me.organizationId}, now()), 2400, 600, 3750000)`;

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Usage" })).toBeVisible();
  const today = page.getByTestId("usage-today");
  await expect(today.getByText("£3.75")).toBeVisible();
  await expect(today.getByText("£50.00")).toBeVisible();
  await expect(today.getByText("£46.25")).toBeVisible();

  const chart = page.getByRole("img", { name: "Spend per day, last 30 days" });
  await expect(chart).toBeVisible();
  await expect(chart.locator("rect.usage-chart__bar")).toHaveCount(30);
  const lastBar = chart.locator("rect.usage-chart__bar").last();
  expect(Number(await lastBar.getAttribute("height"))).toBeGreaterThan(0);
  await expect(page.getByTestId("usage-chart-limit")).toBeAttached();
  const days = page.getByRole("table", { name: "Spend per day" });
  await expect(days.getByRole("row")).toHaveCount(31);
  await expect(days.getByRole("row").nth(1)).toContainText("£3.75");
  await expect(page.getByRole("table", { name: "By project" })).toContainText('Ports, "shipping" and tides');
  await expect(page.getByTestId("usage-ledger").getByRole("row")).toHaveCount(3);

  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download the ledger as CSV" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^many-futures-usage-\d{4}-\d\d-\d\d\.csv$/);
  const file = testInfo.outputPath("ledger.csv");
  await download.saveAs(file);
  const lines = (await fs.readFile(file, "utf8")).split("\r\n").filter(Boolean);
  expect(lines).toHaveLength(3);
  expect(lines[0]).toBe("usage_date,recorded_at,project,episode_id,call_id,stage,model,prompt_tokens,completion_tokens,cost_gbp");
  expect(lines[1]).toContain(`,"Ports, ""shipping"" and tides",${episode.id},e2e-research,research,gpt-4o-mini,1200,300,2.500000`);
  expect(lines[2]).toContain(`,e2e-writer,writer,gpt-4o-mini,1200,300,1.250000`);
});
