import crypto from "node:crypto";
import { expect } from "vitest";
import { TestClient } from "./remix";

export interface SignedIn {
  client: TestClient;
  email: string;
  userId: string;
  organizationId: string;
  role: string;
}

/** Signs a new person up through the real form; they land in their own organization as its owner. */
export async function signUp(name = "Ada Lovelace", email = `person-${crypto.randomBytes(6).toString("hex")}@example.com`, client = new TestClient()): Promise<SignedIn> {
  const response = await client.post("/signup", { name, email, password: "correct horse battery" });
  expect(response.status, await response.clone().text()).toBe(302);
  const me = (await (await client.get("/api/me")).json()) as Omit<SignedIn, "client" | "email">;
  return { client, email, ...me };
}
