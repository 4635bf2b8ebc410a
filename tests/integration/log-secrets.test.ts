import crypto from "node:crypto";
import fs from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { startAppProcess, type AppProcess } from "../support/app-process";
import postgres from "postgres";
import { cookieFrom, send, signUpOverHttp } from "../support/edge";

let app: AppProcess | undefined;
afterAll(async () => {
  if (!app) return;
  await app.stop();
  await fs.rm(app.dataDir, { recursive: true, force: true });
});

function form(fields: Record<string, string>) {
  return new URLSearchParams(fields).toString();
}

describe("the server's log", () => {
  it("holds no invitation token after a sign-up, an invitation and a visit to its link", async () => {
    app = await startAppProcess();
    const base = app.baseUrl;
    const headers = { Origin: base, "Content-Type": "application/x-www-form-urlencoded" };

    const db = postgres(await app.databaseUrl(), { max: 1, onnotice: () => {} });
    const owner = await signUpOverHttp(base, db, {
      name: "Olive Owner",
      email: `olive-${crypto.randomBytes(4).toString("hex")}@example.com`,
      password: "correct horse battery",
    });
    const ownerCookie = owner.cookie;

    const inviteeEmail = `ivy-${crypto.randomBytes(4).toString("hex")}@example.com`;
    const invited = await send(`${base}/organization`, {
      method: "POST",
      headers: { ...headers, Cookie: ownerCookie },
      body: form({ intent: "invite", email: inviteeEmail, role: "member" }),
    });
    expect(invited.status).toBeLessThan(400);
    // Shown to the inviter on the page the form answers with, or on the page it redirects to.
    const shown = invited.headers.location
      ? (await send(new URL(invited.headers.location, base).toString(), { headers: { Cookie: `${ownerCookie}; ${cookieFrom(invited, "mf_flash")}` } })).body
      : invited.body;
    const token = /\/invitations\/([A-Za-z0-9_-]{20,})/.exec(shown)?.[1];
    expect(token, shown.slice(0, 500)).toBeTruthy();

    // The invitee follows the link, signs up from it and accepts.
    expect((await send(`${base}/invitations/${token}`)).status).toBe(200);
    expect((await send(`${base}/signup?redirectTo=${encodeURIComponent(`/invitations/${token}`)}&email=${inviteeEmail}`)).status).toBe(200);
    // The confirmation link carries the way back to the invitation; the address is confirmed before it is accepted.
    const invitee = await signUpOverHttp(base, db, {
      name: "Ivy Invitee",
      email: inviteeEmail,
      password: "another long password",
      redirectTo: `/invitations/${token}`,
    });
    expect(invitee.location).toBe(`/invitations/${token}`);
    const accepted = await send(`${base}/invitations/${token}`, {
      method: "POST",
      headers: { ...headers, Cookie: invitee.cookie },
      body: "",
    });
    expect(accepted.status).toBe(302);

    const verificationTokens = (await db`select payload->>'verifyUrl' as url from email_deliveries where kind = 'email_verification'`).map(
      (row) => new URL(row.url as string).pathname.split("/").pop()!,
    );
    expect(verificationTokens).toHaveLength(2);
    await db.end({ timeout: 5 });
    expect(await app.stop()).toBe(0);
    const log = app.output.join("\n");
    // The requests were logged (so the check below looks at something), with the token taken out.
    expect(log).toContain('"path":"/invitations/[redacted]"');
    expect(app.output.filter((line) => line.includes(token!))).toEqual([]);
    // Nor the links emailed to confirm the two addresses.
    expect(log).toContain('"path":"/verify-email/[redacted]"');
    expect(app.output.filter((line) => verificationTokens.some((secret) => line.includes(secret)))).toEqual([]);
  });
});
