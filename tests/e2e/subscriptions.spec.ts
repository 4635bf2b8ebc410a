import { expect, test } from "@playwright/test";
import { linkFromOutbox, signUpAndConfirm } from "./outbox";

function uniqueEmail(prefix: string, project: string) {
  return `${prefix}-${project}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

const answers = [
  "How will tidal power change Britain's coasts?",
  "We decide next year whether to back a tidal lagoon.",
  "Planner at a coastal council.",
  "The next five years",
  "Great Britain; councils and developers.",
  "Government statistics; be careful with developer press releases.",
  "Plain and short.",
];

test("a subscriber added by the owner confirms by email, receives the episode, and unsubscribes from it", async ({
  page,
  browser,
  javaScriptEnabled,
}, testInfo) => {
  test.setTimeout(120_000);
  const ownerEmail = uniqueEmail("owner", testInfo.project.name);
  const readerEmail = uniqueEmail("reader", testInfo.project.name);
  await signUpAndConfirm(page, { name: "Tia Tidal", email: ownerEmail, password: "a long enough password" });
  await expect(page).toHaveURL(/\/projects$/);

  await page.getByRole("link", { name: "Talk to Futura" }).click();
  for (const answer of answers) {
    const box = page.getByRole("textbox", { name: /Your answer/ });
    if (javaScriptEnabled) await expect(box).toBeFocused();
    await box.fill(answer);
    await page.getByRole("button", { name: "Send answer" }).click();
    await expect(page.getByRole("listitem").filter({ hasText: answer }).first()).toBeVisible();
  }
  await page.getByLabel("Title").fill("Tidal futures");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Tidal futures");

  const projectPath = new URL(page.url()).pathname;
  await page.getByRole("link", { name: "Subscribers" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Subscribers");
  await page.getByLabel("Email", { exact: true }).fill(readerEmail);
  await page.getByLabel("Name (optional)").fill("Rory Reader");
  await page.getByRole("button", { name: "Add and send confirmation" }).click();
  await expect(page.getByRole("status")).toContainText(`${readerEmail} is added`);
  await expect(page.getByRole("row", { name: new RegExp(readerEmail) })).toContainText("Waiting for confirmation");

  // The reader, in their own browser, opens the link from the email and confirms with the button.
  const readerContext = await browser.newContext({ javaScriptEnabled, baseURL: testInfo.project.use.baseURL });
  const reader = await readerContext.newPage();
  await reader.goto(await linkFromOutbox("subscription_confirmation", readerEmail, (row) => row.payload.confirmUrl));
  await expect(reader.getByRole("heading", { level: 1 })).toHaveText("Confirm your subscription");
  await reader.getByRole("button", { name: "Yes, subscribe me" }).click();
  await expect(reader.getByRole("heading", { level: 1 })).toHaveText("You are subscribed");
  await expect(reader.getByRole("status").first()).toContainText("new episodes of Tidal futures will arrive in your inbox");

  await page.reload();
  await expect(page.getByRole("row", { name: new RegExp(readerEmail) })).toContainText("Confirmed");

  // An episode is published; its email to the reader carries the one-click unsubscribe link.
  await page.goto(projectPath);
  await page.getByRole("button", { name: "Generate now" }).click();
  const unsubscribe = await linkFromOutbox("episode", readerEmail, (row) => /<(https?:\/\/[^>]+\/unsubscribe\/[^>]+)>/.exec(row.headers["List-Unsubscribe"] ?? "")?.[1]);

  await reader.goto(unsubscribe);
  await expect(reader.getByRole("heading", { level: 1 })).toHaveText("Unsubscribe from Tidal futures?");
  await reader.getByRole("button", { name: "Unsubscribe" }).click();
  await expect(reader.getByRole("heading", { level: 1 })).toHaveText("You are unsubscribed");
  await readerContext.close();

  await page.goto(`${projectPath}/subscribers`);
  await expect(page.getByRole("row", { name: new RegExp(readerEmail) })).toContainText("Unsubscribed");
});

test("a forgotten password is reset from the emailed link, and the new one signs in", async ({ page }, testInfo) => {
  test.setTimeout(60_000);
  const email = uniqueEmail("forgetful", testInfo.project.name);
  await signUpAndConfirm(page, { name: "Fay Forgetful", email, password: "the old password" });
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  await page.goto("/signin");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Reset your password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  await expect(page.getByRole("status").filter({ hasText: "If an account uses that address" })).toBeVisible();

  await page.goto(await linkFromOutbox("password_reset", email, (row) => row.payload.resetUrl));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose a new password");
  await page.getByLabel("New password", { exact: true }).fill("the new password");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole("status").filter({ hasText: "Your password is changed" })).toBeVisible();

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("the old password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("don't match an account");
  await page.getByLabel("Password").fill("the new password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByRole("link", { name: "Fay Forgetful's organization" })).toBeVisible();
});
