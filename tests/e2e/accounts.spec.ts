import { expect, test } from "@playwright/test";
import { linkFromOutbox, signUpAndConfirm } from "./outbox";

function uniqueEmail(prefix: string, project: string) {
  return `${prefix}-${project}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

test("sign up, invite a second person who joins through the link, both see the organization, sign out", async ({
  page,
  browser,
  javaScriptEnabled,
}, testInfo) => {
  // Two people, two sign-ups and an invitation: about a dozen page loads, more than the default allows on a busy machine.
  test.setTimeout(90_000);
  const ownerEmail = uniqueEmail("owner", testInfo.project.name);
  const inviteeEmail = uniqueEmail("invitee", testInfo.project.name);

  await page.goto("/");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/signup/);
  await signUpAndConfirm(page, { name: "Olive Owner", email: ownerEmail, password: "a long enough password" });
  await expect(page).toHaveURL(/\/projects$/);
  await page.getByRole("link", { name: "Olive Owner's organization" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Olive Owner's organization");

  await page.getByLabel("Email").fill(inviteeEmail);
  await page.getByLabel("Role", { exact: true }).selectOption("member");
  await page.getByRole("button", { name: "Send invitation" }).click();
  const link = (await page.getByTestId("invite-link").textContent())!.trim();
  expect(link).toMatch(/\/invitations\/[A-Za-z0-9_-]+$/);

  const inviteeContext = await browser.newContext({ javaScriptEnabled, baseURL: testInfo.project.use.baseURL });
  const invitee = await inviteeContext.newPage();
  await invitee.goto(new URL(link).pathname);
  await expect(invitee.getByRole("heading", { level: 1 })).toHaveText("Join Olive Owner's organization");
  await invitee.getByRole("link", { name: "Create an account to join" }).click();
  await expect(invitee.getByLabel("Email")).toHaveValue(inviteeEmail);
  await invitee.getByLabel("Name").fill("Ivy Invitee");
  await invitee.getByLabel("Password").fill("another long password");
  await invitee.getByRole("button", { name: "Create account" }).click();
  // The address is confirmed from the emailed link before the invitation can be accepted; the link leads back to it.
  await expect(invitee.getByRole("heading", { level: 1 })).toHaveText("Check your inbox");
  await invitee.goto(await linkFromOutbox("email_verification", inviteeEmail, (row) => row.payload.verifyUrl));
  await invitee.getByRole("button", { name: "Confirm my address" }).click();
  await invitee.getByRole("button", { name: "Join Olive Owner's organization" }).click();
  await expect(invitee).toHaveURL(/\/organization$/);
  await expect(invitee.getByRole("heading", { level: 1 })).toHaveText("Olive Owner's organization");
  await expect(invitee.getByRole("cell", { name: ownerEmail })).toBeVisible();

  await page.goto("/organization");
  await expect(page.getByRole("cell", { name: inviteeEmail })).toBeVisible();

  await invitee.getByRole("button", { name: "Sign out" }).click();
  await expect(invitee).toHaveURL(/\/$/);
  await expect(invitee.getByRole("link", { name: "Sign in" })).toBeVisible();
  await invitee.goto("/organization");
  await expect(invitee).toHaveURL(/\/signin\?redirectTo=%2Forganization$/);
  await inviteeContext.close();
});

test("a wrong password shows an error and keeps the email filled in", async ({ page }, testInfo) => {
  const email = uniqueEmail("forgetful", testInfo.project.name);
  await signUpAndConfirm(page, { name: "Forgetful Fred", email, password: "the right password" });
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("the wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("don't match an account");
  await expect(page.getByLabel("Email")).toHaveValue(email);

  await page.getByLabel("Password").fill("the right password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByRole("link", { name: "Forgetful Fred's organization" })).toBeVisible();
});
