import crypto from "node:crypto";
import { expect } from "vitest";
import { getDb } from "../../app/lib/db.server";
import { location, TestClient } from "./remix";

export interface SignedIn {
  client: TestClient;
  email: string;
  userId: string;
  organizationId: string;
  role: string;
}

/** The newest email of `kind` in the outbox for `email`, as the sender would render it. */
export async function latestEmail(kind: string, email: string): Promise<{ id: string; payload: Record<string, string> } | undefined> {
  const [row] = await getDb()<{ id: string; payload: Record<string, string> }[]>`
    select id, payload from email_deliveries where kind = ${kind} and to_email = ${email.toLowerCase()}
    order by created_at desc limit 1`;
  return row;
}

/** The path of an absolute link from an email, for the in-process client. */
export function linkPath(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/**
 * Signs a new person up through the real form without confirming the address: they land on "check your inbox"
 * with no session. Returns the verification link's path from the outbox.
 */
export async function signUpUnverified(name: string, email: string, client: TestClient): Promise<string> {
  const response = await client.post("/signup", { name, email, password: "correct horse battery" });
  expect(response.status, await response.clone().text()).toBe(302);
  expect(location(response)).toBe("/check-email");
  const verification = await latestEmail("email_verification", email);
  expect(verification, "the verification email in the outbox").toBeTruthy();
  return linkPath(verification!.payload.verifyUrl);
}

/**
 * Signs a new person up through the real form and confirms their address from the emailed link, which signs
 * them in; they land in their own organization as its owner.
 */
export async function signUp(name = "Ada Lovelace", email = `person-${crypto.randomBytes(6).toString("hex")}@example.com`, client = new TestClient()): Promise<SignedIn> {
  const link = await signUpUnverified(name, email, client);
  const confirmed = await client.post(link, {});
  expect(confirmed.status, await confirmed.clone().text()).toBe(302);
  const me = (await (await client.get("/api/me")).json()) as Omit<SignedIn, "client" | "email">;
  return { client, email, ...me };
}

/**
 * The owner invites `email` through the organization page the way a person does: the form redirects, and the
 * link is shown once on the page it lands on. Returns the link's path.
 */
export async function inviteLink(owner: SignedIn, email: string, role = "member"): Promise<string> {
  const response = await owner.client.post("/organization", { intent: "invite", email, role });
  expect(response.status, await response.clone().text()).toBe(302);
  expect(location(response)).toBe("/organization");
  const page = await (await owner.client.get("/organization")).text();
  const link = /\/invitations\/[A-Za-z0-9_-]{20,}/.exec(page)?.[0];
  expect(link, "the invitation link on the inviter's page").toBeTruthy();
  return link!;
}

/** Someone the owner invited with `role`, signed up from the link, accepted, and working in the owner's organization. */
export async function joinOrganization(owner: SignedIn, role: "admin" | "member", name = "Ivy Invitee"): Promise<SignedIn> {
  const email = `invitee-${crypto.randomBytes(4).toString("hex")}@example.com`;
  const link = await inviteLink(owner, email, role);
  const person = await signUp(name, email, new TestClient(`203.0.113.${50 + crypto.randomInt(100)}`));
  expect(location(await person.client.post(link, {}))).toBe("/organization");
  const me = (await (await person.client.get("/api/me")).json()) as Omit<SignedIn, "client" | "email">;
  expect(me).toMatchObject({ organizationId: owner.organizationId, role });
  return { ...person, ...me };
}
