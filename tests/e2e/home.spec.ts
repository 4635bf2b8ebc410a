import { expect, test } from "@playwright/test";

test("the home page explains the product and is reachable by keyboard", async ({ page }) => {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));

  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle(/Many Futures/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("See the futures that matter to your decisions");
  await expect(page.getByRole("heading", { level: 2, name: "How it works" })).toBeVisible();

  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();

  expect(problems).toEqual([]);
});

test("the app hydrates when JavaScript is on, and works without it when off", async ({ page, javaScriptEnabled }) => {
  await page.goto("/");
  if (javaScriptEnabled) {
    await expect.poll(() => page.evaluate(() => "__remixContext" in window && "__remixRouter" in window)).toBe(true);
  } else {
    await expect(page.locator("script[nonce]").first()).toBeAttached();
  }
  await page.getByRole("link", { name: "Many Futures" }).click();
  await expect(page).toHaveURL(/\/$/);
});

test("an unknown address shows a helpful 404 inside the site layout", async ({ page }) => {
  const response = await page.goto("/projects/not-a-real-one/anything");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("See the futures that matter to your decisions");
});
