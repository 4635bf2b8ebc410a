import { expect, test, type Page } from "@playwright/test";
import { signUpAndConfirm } from "./outbox";

const answers = [
  "How will long-duration energy storage change Britain's grid?",
  "We decide next spring whether to build a storage site.",
  "Head of strategy at a regional utility.",
  "The next five years",
  "Great Britain; utilities and developers.",
  "Ofgem and National Grid ESO; be careful with vendor press releases.",
  "Plain and direct, a five-minute read.",
];

/** A newcomer signs up, talks to Futura and creates a project, landing on its page. */
async function createProjectThroughFutura(page: Page, who: string, javaScriptEnabled: boolean): Promise<void> {
  await signUpAndConfirm(page, { name: "Sam Storage", email: `generation-${who}-${Date.now()}@example.com`, password: "a long enough password" });
  await page.getByRole("link", { name: "Talk to Futura" }).click();
  for (const answer of answers) {
    const box = page.getByRole("textbox", { name: /Your answer/ });
    // The next question's box takes focus once its page is in place; typing earlier could be lost.
    if (javaScriptEnabled) await expect(box).toBeFocused();
    await box.fill(answer);
    await page.getByRole("button", { name: "Send answer" }).click();
    await expect(page.getByRole("listitem").filter({ hasText: answer }).first()).toBeVisible();
  }
  await expect(page.getByRole("heading", { name: "Your brief" })).toBeVisible();
  await page.getByLabel("Title").fill("Grid storage futures");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Grid storage futures");
}

const published = { level: 1, name: "Grid storage futures: offline preview" } as const;

test("Generate now: the stages advance in place over server-sent events, research findings appear, then the episode", async ({
  page,
  javaScriptEnabled,
}, testInfo) => {
  test.skip(!javaScriptEnabled, "live updates need JavaScript; without it the page refreshes itself (next test)");
  test.setTimeout(90_000);
  // Stages last well under a second here: record every change as it happens rather than hoping to look at the
  // right moment.
  await page.addInitScript(() => {
    const seen = { steps: [] as string[], announcements: [] as string[], findings: false };
    (window as unknown as { seen: typeof seen }).seen = seen;
    new MutationObserver(() => {
      const step = document.querySelector('[aria-current="step"]')?.firstChild?.textContent?.trim();
      if (step && seen.steps.at(-1) !== step) seen.steps.push(step);
      const said = document.querySelector('.generation [aria-live="polite"]')?.textContent?.trim();
      if (said && seen.announcements.at(-1) !== said) seen.announcements.push(said);
      if (document.querySelector(".findings li")) seen.findings = true;
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  const streams: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "eventsource") streams.push(new URL(request.url()).pathname);
  });

  await createProjectThroughFutura(page, testInfo.project.name, javaScriptEnabled);
  await page.getByRole("button", { name: "Generate now" }).click();
  await expect(page).toHaveURL(/\/episodes\/[0-9a-f-]{36}$/);
  const episodePath = new URL(page.url()).pathname;
  // Set once on this document: still there at the end means nothing reloaded the page.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  await expect(page.getByRole("heading", published)).toBeVisible({ timeout: 30_000 });
  const seen = await page.evaluate(() => (window as unknown as { seen: { steps: string[]; announcements: string[]; findings: boolean } }).seen);
  expect(seen.steps).toEqual(["Research", "Writing", "Review"]);
  expect(seen.announcements).toEqual(expect.arrayContaining(["Now: researching.", "Now: writing.", "Now: reviewing."]));
  expect(seen.findings).toBe(true);
  expect(streams).toContain(`${episodePath}/events`);
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);

  await expect(page.getByText(/min read/)).toBeVisible();
  await expect(page.getByText("Offline preview — configure an LLM or n8n for researched episodes")).toBeVisible();
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Grid storage futures" }).click();
  await expect(page.getByRole("row").filter({ hasText: "Grid storage futures: offline preview" })).toContainText("Published");
});

test("without JavaScript the episode page refreshes itself until the episode is published", async ({ page, javaScriptEnabled }, testInfo) => {
  test.skip(javaScriptEnabled, "covers the page without JavaScript");
  test.setTimeout(90_000);
  await createProjectThroughFutura(page, testInfo.project.name, javaScriptEnabled);
  await page.getByRole("button", { name: "Generate now" }).click();
  await expect(page).toHaveURL(/\/episodes\/[0-9a-f-]{36}$/);
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveAttribute("content", "10");
  await expect(page.getByText("typically take 2–5 minutes", { exact: false })).toBeVisible();

  // Nothing here reloads the page but its own refresh.
  await expect(page.getByRole("heading", published)).toBeVisible({ timeout: 45_000 });
  await expect(page.getByText(/min read/)).toBeVisible();
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveCount(0);
});
