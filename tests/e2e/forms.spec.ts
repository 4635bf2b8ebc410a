import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { signUpAndConfirm } from "./outbox";

const answers = [
  "Where will Europe's heat pumps come from in 2030?",
  "We choose a supplier for our retrofit programme next spring.",
  "Procurement lead at a housing association.",
  "The next five years",
  "EU and UK; manufacturers and installers.",
  "Trade statistics and installer surveys; treat vendor forecasts with care.",
  "Short and plain.",
];

async function signUp(page: Page, testInfo: TestInfo, name: string) {
  const email = `${name.split(" ")[0].toLowerCase()}-${testInfo.project.name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  await signUpAndConfirm(page, { name, email, password: "a long enough password" });
  await expect(page).toHaveURL(/\/projects$/);
}

/** Talks to Futura through every question and confirms the brief: a project made the way people make one. */
async function projectThroughConversation(page: Page, title: string) {
  await page.goto("/projects/new");
  for (const answer of answers) {
    await page.getByRole("textbox", { name: /Your answer/ }).fill(answer);
    await page.getByRole("button", { name: "Send answer" }).click();
    await expect(page.getByRole("listitem").filter({ hasText: answer }).first()).toBeVisible();
  }
  await expect(page.getByRole("heading", { name: "Your brief" })).toBeVisible();
  await page.getByLabel("Title").fill(title);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(title);
  await expect(page.getByRole("status")).toHaveText("Project created. Futura starts on the first episode.");
}

test("a project made through the conversation with Futura is deleted in its settings", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await signUp(page, testInfo, "Dana Deleter");
  await projectThroughConversation(page, "Heat pumps in Europe");
  await expect(page.getByText("Conversation with Futura")).toBeVisible();

  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("checkbox", { name: /Yes, delete “Heat pumps in Europe”/ }).check();
  await page.getByRole("button", { name: "Delete project" }).click();

  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByRole("status")).toHaveText("Project deleted.");
  await expect(page.getByRole("link", { name: "Heat pumps in Europe" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Start your first project" })).toBeVisible();
});

test("a note added and then reloaded is still one note, and its confirmation shows once", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await signUp(page, testInfo, "Pat Reloader");
  await projectThroughConversation(page, "Reload safety");

  await page.getByLabel("New note").fill("Watch the Dutch heat-pump subsidy.");
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(page.getByRole("status")).toHaveText("Note added.");
  const notes = page.getByRole("article").filter({ has: page.getByText("Note by Pat Reloader") });
  await expect(notes).toHaveCount(1);

  // Post/Redirect/Get: the page shown after adding is a GET, so reloading neither asks to resend nor adds again.
  await page.reload();
  await expect(notes).toHaveCount(1);
  await expect(page.getByRole("status")).toHaveText("");
  await expect(notes.getByLabel("Note text")).toHaveValue("Watch the Dutch heat-pump subsidy.");
});

test("an error far down the settings page is summed up at the top, linked to its field", async ({ page, javaScriptEnabled }, testInfo) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await signUp(page, testInfo, "Sam Summary");
  await projectThroughConversation(page, "Summary test");
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Tuesday").check();
  await page.getByRole("button", { name: "Delete project" }).click();

  const summary = page.getByRole("alert").filter({ hasText: "There is a problem" });
  await expect(summary).toBeVisible();
  await expect(summary).toBeInViewport();
  if (javaScriptEnabled) await expect(summary).toBeFocused();
  // The settings form is not re-filled from the delete form's submission: the saved Monday stays ticked. Without
  // JavaScript the page is rendered afresh from what is saved; with it, the unsaved tick stays where it was.
  await expect(page.getByLabel("Monday")).toBeChecked();
  if (javaScriptEnabled) await expect(page.getByLabel("Tuesday")).toBeChecked();
  else await expect(page.getByLabel("Tuesday")).not.toBeChecked();

  await summary.getByRole("link", { name: /Tick the box to confirm/ }).click();
  const confirm = page.getByRole("checkbox", { name: /Yes, delete “Summary test”/ });
  await expect(confirm).toBeInViewport();
  // Without JavaScript the link is a fragment; with it, the field takes focus and the errors stay on the page.
  if (javaScriptEnabled) await expect(confirm).toBeFocused();
  else await expect(page).toHaveURL(/#delete-confirm$/);
  await expect(confirm).toHaveAttribute("aria-describedby", "confirm-error");
  await expect(summary).toBeVisible();
});
