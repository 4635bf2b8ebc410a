import crypto from "node:crypto";
import fs from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { startAppProcess, type AppProcess } from "../support/app-process";
import { cookieFrom, send } from "../support/edge";

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

    const owner = await send(`${base}/signup`, {
      method: "POST",
      headers,
      body: form({ name: "Olive Owner", email: `olive-${crypto.randomBytes(4).toString("hex")}@example.com`, password: "correct horse battery" }),
    });
    expect(owner.status).toBe(302);
    const ownerCookie = cookieFrom(owner, "mf_session");

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
    const invitee = await send(`${base}/signup`, {
      method: "POST",
      headers,
      body: form({ name: "Ivy Invitee", email: inviteeEmail, password: "another long password", redirectTo: `/invitations/${token}` }),
    });
    expect(invitee.status).toBe(302);
    expect(invitee.headers.location).toBe(`/invitations/${token}`);
    const accepted = await send(`${base}/invitations/${token}`, {
      method: "POST",
      headers: { ...headers, Cookie: cookieFrom(invitee, "mf_session") },
      body: "",
    });
    expect(accepted.status).toBe(302);

    expect(await app.stop()).toBe(0);
    const log = app.output.join("\n");
    // The requests were logged (so the check below looks at something), with the token taken out.
    expect(log).toContain('"path":"/invitations/[redacted]"');
    expect(app.output.filter((line) => line.includes(token!))).toEqual([]);
  });
});
