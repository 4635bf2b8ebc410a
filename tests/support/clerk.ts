import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Stands in for Clerk: a 2048-bit RSA key per run signs RS256 session tokens the way Clerk does, and a
 * webhook secret signs events the way Clerk's deliveries (svix / Standard Webhooks) are signed.
 */
export function createClerkFake(host = "clerk.example.test") {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const webhookSecret = `whsec_${crypto.randomBytes(24).toString("base64")}`;
  const env = {
    CLERK_PUBLISHABLE_KEY: `pk_live_${Buffer.from(`${host}$`).toString("base64")}`,
    CLERK_SECRET_KEY: "sk_live_offline_tests",
    CLERK_JWT_KEY: publicKey.export({ type: "spki", format: "pem" }).toString(),
    CLERK_WEBHOOK_SIGNING_SECRET: webhookSecret,
  };

  function base64url(value: object) {
    return Buffer.from(JSON.stringify(value)).toString("base64url");
  }

  function sessionToken(claims: Record<string, unknown>, options: { key?: crypto.KeyObject; ttlSeconds?: number } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: `https://${host}`,
      sid: "sess_test",
      iat: now - 5,
      nbf: now - 5,
      exp: now + (options.ttlSeconds ?? 60),
      ...claims,
    };
    const unsigned = `${base64url({ alg: "RS256", typ: "JWT", kid: "ins_test" })}.${base64url(payload)}`;
    const signature = crypto.sign("RSA-SHA256", Buffer.from(unsigned), options.key ?? privateKey).toString("base64url");
    return { token: `${unsigned}.${signature}`, iat: payload.iat };
  }

  /** Headers and body of a signed webhook delivery. */
  function webhook(event: object, options: { id?: string; timestamp?: number; secret?: string } = {}) {
    const id = options.id ?? `msg_${crypto.randomBytes(8).toString("hex")}`;
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const body = JSON.stringify(event);
    const key = Buffer.from((options.secret ?? webhookSecret).replace(/^whsec_/, ""), "base64");
    const signature = crypto.createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
    return {
      body,
      headers: {
        "Content-Type": "application/json",
        "svix-id": id,
        "svix-timestamp": String(timestamp),
        "svix-signature": `v1,${signature}`,
      },
    };
  }

  return { env, sessionToken, webhook };
}

/**
 * Clerk's Backend API as far as we call it (list and revoke sessions), on 127.0.0.1, checking the secret key
 * the way Clerk does. Every request is recorded.
 */
export async function startFakeClerkBackend(secretKey: string, sessions: Record<string, string[]>) {
  const requests: { method: string; path: string }[] = [];
  const session = (id: string, userId: string, status: string) => ({
    object: "session", id, user_id: userId, client_id: "client_test", status,
    last_active_at: Date.now(), expire_at: Date.now() + 3_600_000, abandon_at: Date.now() + 3_600_000,
    created_at: Date.now(), updated_at: Date.now(),
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://127.0.0.1");
    requests.push({ method: req.method!, path: `${url.pathname}${url.search}` });
    res.setHeader("Content-Type", "application/json");
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      res.statusCode = 401;
      return res.end(JSON.stringify({ errors: [{ code: "authentication_invalid", message: "bad key" }] }));
    }
    const revoke = /^\/v1\/sessions\/([^/]+)\/revoke$/.exec(url.pathname);
    if (req.method === "POST" && revoke) {
      const owner = Object.keys(sessions).find((user) => sessions[user].includes(revoke[1])) ?? "user_unknown";
      return res.end(JSON.stringify(session(revoke[1], owner, "revoked")));
    }
    if (req.method === "GET" && url.pathname === "/v1/sessions") {
      const userId = url.searchParams.get("user_id") ?? "";
      const data = (sessions[userId] ?? []).map((id) => session(id, userId, "active"));
      return res.end(JSON.stringify({ data, total_count: data.length }));
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ errors: [{ code: "resource_not_found", message: "not found" }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Keeps the test run off the network: any fetch beyond 127.0.0.1 is recorded and refused. */
export function forbidNetwork() {
  const attempts: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname === "127.0.0.1") return original(input, init);
    attempts.push(url.toString());
    throw new Error(`network call attempted during an offline test: ${url}`);
  }) as typeof fetch;
  return {
    attempts,
    restore() {
      globalThis.fetch = original;
    },
  };
}
