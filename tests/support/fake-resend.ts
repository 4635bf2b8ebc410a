import crypto from "node:crypto";
import http from "node:http";
import { Webhook } from "svix";
import { listen } from "./http";

/**
 * A Resend-compatible API on 127.0.0.1, as far as the app uses it: POST /emails and POST /emails/batch (at most
 * 100), Bearer authentication, and Resend's idempotency rules — the same Idempotency-Key with the same body
 * answers the first response again and sends nothing; with a different body it is 409. It records every request,
 * keeps the emails it "sent", can answer 429 (with Retry-After) or 500 on command, can enforce a requests-per-
 * second limit the way Resend's 2/s team limit works, and can accept a request and then never answer (for killing
 * a sender mid-send).
 */

export interface SentEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  tags: { name: string; value: string }[];
  idempotencyKey: string | null;
}

export interface RecordedRequest {
  path: string;
  idempotencyKey: string | null;
  emails: number;
  status: number;
  at: number;
  /** True when the answer was a replay of an earlier request with the same key. */
  replayed: boolean;
}

export type Forced = { status: 429; retryAfterSeconds?: number } | { status: 500 | 502 | 503 } | { status: "accept-and-hang" };

export interface FakeResend {
  baseUrl: string;
  apiKey: string;
  requests: RecordedRequest[];
  sent: SentEmail[];
  /** The next requests get these answers, in order, before normal service resumes. */
  force(...answers: Forced[]): void;
  /** Resend's per-team limit: more than this many requests within one second get 429 with Retry-After: 1. */
  limitPerSecond(limit: number | null): void;
  /** Resolves when a request is hanging after being accepted. */
  hanging(): Promise<void>;
  close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export async function startFakeResend(options: { apiKey?: string } = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? `re_test_${crypto.randomBytes(8).toString("hex")}`;
  const requests: RecordedRequest[] = [];
  const sent: SentEmail[] = [];
  const forced: Forced[] = [];
  const idempotent = new Map<string, { bodyHash: string; status: number; response: unknown }>();
  const hangs: http.ServerResponse[] = [];
  let onHang: (() => void) | undefined;
  let perSecond: number | null = null;
  const windowStarts: number[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const path = req.url ?? "/";
      const key = (req.headers["idempotency-key"] as string | undefined) ?? null;
      const record = (status: number, emails: number, replayed = false) =>
        requests.push({ path, idempotencyKey: key, emails, status, at: Date.now(), replayed });

      if (req.method !== "POST" || (path !== "/emails" && path !== "/emails/batch")) {
        record(404, 0);
        return json(res, 404, { statusCode: 404, name: "not_found", message: "The requested endpoint does not exist." });
      }
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        record(401, 0);
        return json(res, 401, { statusCode: 401, name: "missing_api_key", message: "Missing or invalid API key" });
      }
      const now = Date.now();
      while (windowStarts.length && windowStarts[0]! <= now - 1000) windowStarts.shift();
      if (perSecond !== null && windowStarts.length >= perSecond) {
        record(429, 0);
        return json(res, 429, { statusCode: 429, name: "rate_limit_exceeded", message: "Too many requests." }, { "retry-after": "1" });
      }
      windowStarts.push(now);

      const next = forced.shift();
      if (next && next.status !== "accept-and-hang") {
        record(next.status, 0);
        if (next.status === 429) {
          return json(res, 429, { statusCode: 429, name: "rate_limit_exceeded", message: "Too many requests." }, {
            "retry-after": String(next.retryAfterSeconds ?? 1),
          });
        }
        return json(res, next.status, { statusCode: next.status, name: "application_error", message: "Internal server error." });
      }

      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        record(400, 0);
        return json(res, 400, { statusCode: 400, name: "validation_error", message: "Invalid JSON." });
      }
      const batch = path === "/emails/batch";
      const list = (batch ? body : [body]) as Record<string, unknown>[];
      if (!Array.isArray(list) || list.length === 0 || list.length > 100) {
        record(422, 0);
        return json(res, 422, { statusCode: 422, name: "validation_error", message: "A batch holds 1 to 100 emails." });
      }
      if (key && (key.length < 1 || key.length > 256)) {
        record(400, 0);
        return json(res, 400, { statusCode: 400, name: "invalid_idempotency_key", message: "1 to 256 characters." });
      }
      const bodyHash = crypto.createHash("sha256").update(`${path}\n${raw}`).digest("hex");
      if (key) {
        const earlier = idempotent.get(key);
        if (earlier && earlier.bodyHash !== bodyHash) {
          record(409, 0);
          return json(res, 409, {
            statusCode: 409,
            name: "invalid_idempotent_request",
            message: "Same idempotency key used with a different request payload.",
          });
        }
        if (earlier) {
          record(earlier.status, 0, true);
          return json(res, earlier.status, earlier.response);
        }
      }
      for (const email of list) {
        if (typeof email.from !== "string" || !email.to || typeof email.subject !== "string") {
          record(422, 0);
          return json(res, 422, { statusCode: 422, name: "validation_error", message: "from, to and subject are required." });
        }
      }
      const ids = list.map((email) => {
        const id = crypto.randomUUID();
        sent.push({
          id,
          from: email.from as string,
          to: ([] as string[]).concat(email.to as string | string[]),
          subject: email.subject as string,
          html: (email.html as string) ?? "",
          text: (email.text as string) ?? "",
          headers: (email.headers as Record<string, string>) ?? {},
          tags: (email.tags as SentEmail["tags"]) ?? [],
          idempotencyKey: key,
        });
        return id;
      });
      const response = batch ? { data: ids.map((id) => ({ id })) } : { id: ids[0] };
      if (key) idempotent.set(key, { bodyHash, status: 200, response });
      record(200, list.length);
      if (next?.status === "accept-and-hang") {
        hangs.push(res);
        onHang?.();
        return;
      }
      json(res, 200, response);
    });
  });
  const baseUrl = await listen(server);

  return {
    baseUrl,
    apiKey,
    requests,
    sent,
    force: (...answers) => forced.push(...answers),
    limitPerSecond: (limit) => {
      perSecond = limit;
      windowStarts.length = 0;
    },
    hanging: () =>
      new Promise<void>((resolve) => {
        if (hangs.length) return resolve();
        onHang = resolve;
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hangs) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fresh svix signing secret, as Resend shows one for a webhook endpoint. */
export function newSvixSecret(): string {
  return `whsec_${crypto.randomBytes(24).toString("base64")}`;
}

/** The svix-id, svix-timestamp and svix-signature headers Resend sends with `body`. */
export function svixHeaders(secret: string, body: string, options: { id?: string; at?: Date } = {}): Record<string, string> {
  const id = options.id ?? `msg_${crypto.randomBytes(12).toString("hex")}`;
  const at = options.at ?? new Date();
  return {
    "svix-id": id,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": new Webhook(secret).sign(id, at, body),
  };
}
