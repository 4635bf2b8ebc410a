import crypto from "node:crypto";

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

/** Fails the test run's network: any fetch is recorded and refused. */
export function forbidNetwork() {
  const attempts: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    attempts.push(String(input instanceof Request ? input.url : input));
    throw new Error(`network call attempted during an offline test: ${String(input)}`);
  }) as typeof fetch;
  return {
    attempts,
    restore() {
      globalThis.fetch = original;
    },
  };
}
