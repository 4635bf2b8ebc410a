import { expect, type Page } from "@playwright/test";
import postgres from "postgres";

let sql: postgres.Sql | undefined;

function database(): postgres.Sql {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL is not set: global-setup sets it to the app's database.");
  sql ??= postgres(url, { max: 1, onnotice: () => {} });
  return sql;
}

/**
 * The path of a link from the newest email of `kind` to `email` in the app's outbox: what the person would click
 * in their inbox. `read` picks the link out of the row (its payload or the headers it was sent with). Waits for it,
 * since some emails are written by the app's background work.
 */
export async function linkFromOutbox(
  kind: string,
  email: string,
  read: (row: { payload: Record<string, string>; headers: Record<string, string> }) => string | undefined,
): Promise<string> {
  let url: string | undefined;
  await expect
    .poll(
      async () => {
        const [row] = await database()<{ payload: Record<string, string>; headers: Record<string, string> }[]>`
          select payload, headers from email_deliveries where kind = ${kind} and to_email = ${email.toLowerCase()}
          order by created_at desc limit 1`;
        url = row ? read(row) : undefined;
        return url;
      },
      { message: `a ${kind} email to ${email} in the outbox`, timeout: 20_000 },
    )
    .toBeTruthy();
  const parsed = new URL(url!);
  return `${parsed.pathname}${parsed.search}`;
}

/** Signs up through the form and confirms the address from the emailed link, as a newcomer does. */
export async function signUpAndConfirm(page: Page, person: { name: string; email: string; password: string }): Promise<void> {
  if (!page.url().startsWith("http") || new URL(page.url()).pathname !== "/signup") await page.goto("/signup");
  await page.getByLabel("Name").fill(person.name);
  await page.getByLabel("Email").fill(person.email);
  await page.getByLabel("Password").fill(person.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Check your inbox");
  await page.goto(await linkFromOutbox("email_verification", person.email, (row) => row.payload.verifyUrl));
  await page.getByRole("button", { name: "Confirm my address" }).click();
}
