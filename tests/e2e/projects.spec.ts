import { expect, test } from "@playwright/test";
import { signUpAndConfirm } from "./outbox";

const answers = [
  "How will small modular reactors change Europe's energy mix?",
  "We decide in Q3 whether to bid for grid-balancing contracts.",
  "Head of strategy at a regional utility.",
  "2030 to 2040",
  "EU and UK; utilities and heavy industry.",
  "IEA and ENTSO-E; be careful with vendor press releases.",
  "Plain and direct, a five-minute read.",
];

/**
 * The next Tuesday or Thursday 08:30 on London's wall clock after `from`, found by stepping through instants
 * and reading each with Intl: independent of the app's own schedule code.
 */
function nextLondonTueThu0830(from: Date): Date {
  const format = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", weekday: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const start = Math.ceil(from.getTime() / 900_000) * 900_000;
  for (let t = start; t < start + 9 * 24 * 3600_000; t += 15 * 60_000) {
    const parts = Object.fromEntries(format.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    if ((parts.weekday === "Tuesday" || parts.weekday === "Thursday") && parts.hour === "08" && parts.minute === "30") return new Date(t);
  }
  throw new Error("no slot found");
}

test.use({ timezoneId: "Europe/London" });

test("a conversation with Futura becomes a project, then its schedule changes to Tuesday and Thursday 08:30 London", async ({
  page,
  javaScriptEnabled,
}, testInfo) => {
  // The whole journey in one test: about twenty page loads.
  test.setTimeout(90_000);
  await signUpAndConfirm(page, { name: "Pat Planner", email: `planner-${testInfo.project.name}-${Date.now()}@example.com`, password: "a long enough password" });

  await expect(page.getByRole("heading", { name: "Start your first project" })).toBeVisible();
  await page.getByRole("link", { name: "Talk to Futura" }).click();

  for (const [index, answer] of answers.entries()) {
    const box = page.getByRole("textbox", { name: /Your answer/ });
    await expect(box).toBeFocused();
    await box.fill(answer);
    await page.getByRole("button", { name: "Send answer" }).click();
    await expect(page.getByRole("listitem").filter({ hasText: answer }).first()).toBeVisible();
    if (index === 1) {
      // A reload keeps the conversation where it was.
      await page.reload();
      await expect(page.getByText(answers[1])).toBeVisible();
    }
  }

  await page.getByRole("link", { name: "Change your answer about time horizon" }).click();
  await page.getByRole("textbox", { name: /Your answer/ }).fill("The next 18 months");
  await page.getByRole("button", { name: "Save answer" }).click();

  await expect(page.getByRole("heading", { name: "Your brief" })).toBeVisible();
  await expect(page.getByLabel("Brief (markdown)")).toHaveValue(/The next 18 months/);
  await expect(page.getByLabel("Time zone")).toHaveValue(javaScriptEnabled ? "Europe/London" : "UTC");
  await page.getByLabel("Title").fill("SMRs in Europe");
  await page.getByLabel("Time zone").selectOption("Europe/London");
  await page.getByRole("button", { name: "Create project" }).click();

  await expect(page.getByRole("heading", { level: 1 })).toContainText("SMRs in Europe");
  await expect(page.getByRole("navigation", { name: "Breadcrumb" })).toContainText("Projects");
  // The brief's own headings sit one level under the page's "Brief" heading.
  await expect(page.getByRole("heading", { name: "Why it matters", level: 3 })).toBeVisible();
  await expect(page.getByText("Weekly on Monday at 07:00 (Europe/London)")).toBeVisible();
  await expect(page.getByRole("cell", { name: "Draft" })).toBeVisible();
  await expect(page.getByText("Conversation with Futura")).toBeVisible();

  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Custom days").check();
  await page.getByLabel("Monday").uncheck();
  await page.getByLabel("Tuesday").check();
  await page.getByLabel("Thursday").check();
  await page.getByLabel("Time of day").fill("08:30");
  await page.getByLabel("Time zone").selectOption("Europe/London");
  const before = new Date();
  await page.getByRole("button", { name: "Save settings" }).click();

  await expect(page.getByRole("status")).toHaveText("Settings saved.");
  await expect(page.getByText("Tuesday, Thursday at 08:30 (Europe/London)")).toBeVisible();
  const expected = nextLondonTueThu0830(before);
  const shown = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  }).format(expected);
  const [weekday, day, month, year] = shown.replace(",", "").split(" ");
  await expect(page.getByTestId("next-run")).toHaveText(new RegExp(`^${weekday} ${day} ${month} ${year}, 08:30 (GMT|BST|GMT\\+1)$`));

  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "SMRs in Europe" }).click();
  await expect(page.getByText("Tuesday, Thursday at 08:30 (Europe/London)")).toBeVisible();
  await page.getByRole("link", { name: "Projects", exact: true }).first().click();
  await expect(page.getByRole("link", { name: "SMRs in Europe" })).toBeVisible();
});
