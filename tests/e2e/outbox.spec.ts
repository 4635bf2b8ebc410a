import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { signUpAndConfirm } from "./outbox";

/**
 * With no email provider configured, a published episode's email lands in the built-in outbox, and the owner reads
 * it there as it would have been sent: the subject in the list, then its headers, its HTML in a sandboxed frame
 * and its plain-text part. The subscriber is put in place through the database until the subscriber pages exist.
 */
test("the outbox page shows the episode email, whose feedback and unsubscribe links work", async ({ page, javaScriptEnabled }, testInfo) => {
  test.setTimeout(90_000);
  const tag = `${testInfo.project.name}-${Date.now()}`;
  await signUpAndConfirm(page, { name: "Olive Outbox", email: `outbox-${tag}@example.com`, password: "a long enough password" });
  await expect(page).toHaveURL(/\/projects$/);

  const title = `Tidal futures ${tag}`;
  const created = await page.request.post("/api/projects", { data: { title, brief: "## Focus\n\nTidal power in the Severn." } });
  expect(created.status()).toBe(201);
  const { project } = (await created.json()) as { project: { id: string; organizationId?: string } };

  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await sql`
      insert into subscribers (organization_id, project_id, email, status, confirmed_at)
      select organization_id, id, ${`reader-${tag}@example.com`}, 'confirmed', now() from projects where id = ${project.id}`;
  } finally {
    await sql.end({ timeout: 5 });
  }

  await page.goto(`/projects/${project.id}`);
  await page.getByRole("button", { name: "Generate now" }).click();
  await expect(page).toHaveURL(/\/episodes\/[0-9a-f-]{36}$/);
  await expect(page.getByText(/min read/)).toBeVisible({ timeout: 45_000 });
  const episodeTitle = (await page.getByRole("heading", { level: 1 }).textContent())!.trim();

  const subject = `${episodeTitle} · ${title}`;
  await expect(async () => {
    await page.goto("/dev/outbox");
    await expect(page.getByRole("link", { name: subject })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByRole("heading", { level: 1, name: "Outbox" })).toBeVisible();
  await expect(page.getByText("nothing leaves this machine")).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: subject })).toContainText(`reader-${tag}@example.com`);

  await page.getByRole("link", { name: subject }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(subject);
  await expect(page.getByText("List-Unsubscribe=One-Click")).toBeVisible();
  const frame = page.frameLocator(`iframe[title="HTML part of “${subject}”"]`);
  await expect(frame.getByRole("link", { name: "Read on the web" })).toBeVisible();
  await expect(frame.getByRole("link", { name: /^Unsubscribe from/ })).toBeVisible();
  await expect(frame.getByText("How useful was this episode?")).toBeVisible();
  const text = page.getByRole("region", { name: "Plain text" });
  await expect(text).toContainText(`You get this because reader-${tag}@example.com subscribed to ${title}`);
  await expect(text).toContainText("/unsubscribe/");

  // The reader rates the episode and leaves, from the email's links, without signing in.
  const feedbackHref = await frame.getByRole("link", { name: "4", exact: true }).getAttribute("href");
  const unsubscribeHref = await frame.getByRole("link", { name: /^Unsubscribe from/ }).getAttribute("href");
  const reader = await page.context().browser()!.newContext({ javaScriptEnabled, baseURL: testInfo.project.use.baseURL });
  const readerPage = await reader.newPage();
  await readerPage.goto(new URL(feedbackHref!).pathname);
  await expect(readerPage.getByRole("heading", { level: 1 })).toHaveText(`How useful was “${episodeTitle}”?`);
  await expect(readerPage.getByRole("radio", { name: "4", exact: true })).toBeChecked();
  await readerPage.getByRole("radio", { name: "5 – Very useful" }).check();
  await readerPage.getByLabel("Anything to add? (optional)").fill("Clear and useful.");
  await readerPage.getByRole("button", { name: "Send feedback" }).click();
  await expect(readerPage.getByRole("status").filter({ hasText: "5 out of 5" })).toBeVisible();

  await readerPage.goto(new URL(unsubscribeHref!).pathname);
  await expect(readerPage.getByRole("heading", { level: 1 })).toHaveText(`Unsubscribe from ${title}?`);
  await readerPage.getByRole("button", { name: "Unsubscribe" }).click();
  await expect(readerPage.getByRole("heading", { level: 1 })).toHaveText("You are unsubscribed");
  await expect(readerPage.getByText(`reader-${tag}@example.com gets no more emails from ${title}.`)).toBeVisible();
  await reader.close();
});
