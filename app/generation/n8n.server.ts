import type { Db, Queryable } from "~/lib/db.server";
import { signWebhook, verifyWebhook } from "~/lib/signing.server";
import { postWebhook, WebhookRequestError, type WebhookAnswer } from "~/lib/webhook-client.server";
import { parseWith, type FieldErrors } from "~/lib/validation";
import type { EpisodeActor } from "~/models/episodes.server";
import { processWebhookOnce } from "~/models/webhook-receipts.server";
import { callbackMessage, type CallbackMessage } from "./contract";
import { GenerationError, type Generator } from "./generator.server";
import {
  applyFailure,
  applyProgress,
  publishGeneration,
  type ClaimedGeneration,
  type GenerationSettings,
  type ReportOutcome,
} from "./lifecycle.server";

export interface N8nOptions {
  webhookUrl: string;
  secret: string;
  dispatchTimeoutMs: number;
}

function describeNetworkError(error: unknown): string {
  const code = error instanceof WebhookRequestError ? error.code : undefined;
  if (code === "ECONNREFUSED") return "n8n refused the connection";
  if (code === "ENOTFOUND") return "n8n's address could not be found";
  if (code) return `n8n could not be reached (${code})`;
  return "n8n could not be reached";
}

function describeDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Dispatch to n8n: the request, signed with Standard Webhooks headers, POSTed to the workflow's webhook. Any 2xx
 * within the timeout is an acknowledgement; anything else is a failed dispatch, retried by the dispatcher. The
 * webhook id is the attempt's, so n8n can tell a resend from a new attempt.
 */
export function n8nGenerator(options: N8nOptions): Generator {
  const webhookUrl = new URL(options.webhookUrl);
  return {
    kind: "n8n",
    // The dispatch plus a margin for the acknowledgement's write. A lease that runs out early costs a spare
    // attempt, never a second publication (reports are bound to the attempt), while a dead process's claim
    // comes back this soon.
    leaseMs: options.dispatchTimeoutMs + 5_000,
    async run(claim: ClaimedGeneration, { signal }) {
      const body = JSON.stringify(claim.request);
      const headers = signWebhook(options.secret, body, `dispatch_${claim.episode.id}_${claim.request.attempt}`);
      const timeout = AbortSignal.timeout(options.dispatchTimeoutMs);
      let response: WebhookAnswer;
      try {
        response = await postWebhook(webhookUrl, body, { "Content-Type": "application/json", ...headers }, AbortSignal.any([signal, timeout]));
      } catch (error) {
        if (timeout.aborted) {
          throw new GenerationError(`n8n did not answer within ${describeDuration(options.dispatchTimeoutMs)}`, true);
        }
        if (signal.aborted) throw new GenerationError("the app stopped while dispatching", true);
        throw new GenerationError(describeNetworkError(error), true);
      }
      if (response.status < 200 || response.status > 299) throw new GenerationError(`n8n answered ${response.status} ${response.statusText}`.trim(), true);
      return "dispatched";
    },
  };
}

// ——— Callbacks ———

/** The largest callback accepted: a long episode with its sources is well under this. */
export const CALLBACK_BODY_LIMIT = 1024 * 1024;

const N8N: EpisodeActor = { kind: "system", label: "n8n" };

export type CallbackBody =
  | { result: "applied" | "ignored" | "already_published"; duplicate: boolean }
  | { error: string; reason?: string; fields?: FieldErrors };

export interface CallbackResponse {
  status: 200 | 400 | 401 | 404 | 405 | 409 | 413;
  body: CallbackBody;
  headers?: Record<string, string>;
}

const CONFLICTS: Record<"unknown_episode" | "stale_attempt", string> = {
  unknown_episode: "No such episode in that organization.",
  stale_attempt: "That attempt is not the episode's current one.",
};

function fromOutcome(outcome: ReportOutcome): { status: 200 | 409; body: CallbackBody } {
  if (outcome.ok) return { status: 200, body: { result: outcome.result, duplicate: false } };
  return { status: 409, body: { error: CONFLICTS[outcome.reason], reason: outcome.reason } };
}

function applyMessage(sql: Queryable, message: CallbackMessage, settings: GenerationSettings): Promise<ReportOutcome> {
  switch (message.type) {
    case "progress": {
      const { type: _type, ...progress } = message;
      return applyProgress(sql, progress);
    }
    case "completed": {
      const { type: _type, ...completed } = message;
      return publishGeneration(sql, completed, N8N);
    }
    case "failed": {
      const { type: _type, ...failed } = message;
      return applyFailure(sql, failed, N8N, settings);
    }
  }
}

/** PostgreSQL's codes for a transaction that lost a race (deadlock, serialization): running it again is safe. */
const RETRYABLE_CODES = new Set(["40P01", "40001"]);
/** Data exceptions and constraint violations: the values were refused, which is the sender's doing. */
const isRefusedValue = (code: string | undefined) => !!code && (code.startsWith("22") || code.startsWith("23"));

/**
 * Verifies, parses and applies one callback from n8n, given its raw body and headers. The signature is checked
 * first, over the exact bytes (401 and nothing read otherwise); then the message is parsed (400 naming the
 * field); then, in one transaction, the webhook id is recorded and the report applied, so a resent message gets
 * the first response back and changes nothing twice.
 */
export async function handleCallback(
  db: Db,
  rawBody: string,
  headers: Headers,
  options: { secret: string; settings: GenerationSettings },
): Promise<CallbackResponse> {
  const verified = verifyWebhook(options.secret, rawBody, headers);
  if (!verified.ok) return { status: 401, body: { error: `The webhook signature was refused: ${verified.reason}.` } };
  if (verified.id.length > 200) {
    return { status: 400, body: { error: "The webhook id is too long.", fields: { "webhook-id": "must be at most 200 characters" } } };
  }
  if (verified.payload === undefined) {
    return { status: 400, body: { error: "The body is not valid JSON.", fields: { body: "must be a JSON object" } } };
  }
  const parsed = parseWith(callbackMessage, verified.payload);
  if (!parsed.ok) return { status: 400, body: { error: "The callback message is not valid.", fields: parsed.errors } };
  const message = parsed.data;

  for (let tries = 1; ; tries++) {
    try {
      const outcome = await processWebhookOnce(
        db,
        { source: "n8n", webhookId: verified.id, eventType: message.type, organizationId: message.organizationId },
        async (sql) => fromOutcome(await applyMessage(sql, message, options.settings)),
      );
      const { status, body } = outcome.response ?? { status: 200 as const, body: { result: "ignored" as const, duplicate: true } };
      return { status, body: "result" in body ? { ...body, duplicate: outcome.duplicate } : body };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code && RETRYABLE_CODES.has(code) && tries < 5) continue;
      if (isRefusedValue(code)) {
        // A value the schema let through but PostgreSQL cannot store (a lone UTF-16 surrogate in JSON, say).
        const column = (error as { column_name?: string }).column_name;
        return { status: 400, body: { error: "A value in the message cannot be stored.", fields: { [column ?? "body"]: "contains a value that cannot be stored" } } };
      }
      throw error;
    }
  }
}

/** Reads a body up to `limit` bytes; null when it is larger (the rest is not read). */
export async function readBodyWithLimit(request: Request, limit: number): Promise<string | null> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) return null;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > limit) {
      // Stop reading, but do not cancel: cancelling destroys the socket before the 413 can be sent.
      reader.releaseLock();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The callback route's work: POST only, at most 1 MB, then `handleCallback`. */
export async function handleCallbackRequest(
  db: Db,
  request: Request,
  options: { secret: string | undefined; settings: GenerationSettings },
): Promise<CallbackResponse> {
  if (request.method !== "POST") {
    return { status: 405, body: { error: "POST signed n8n callbacks here." }, headers: { Allow: "POST" } };
  }
  if (!options.secret) return { status: 404, body: { error: "n8n callbacks are not configured (GENERATION_WEBHOOK_SECRET)." } };
  let rawBody: string | null;
  try {
    rawBody = await readBodyWithLimit(request, CALLBACK_BODY_LIMIT);
  } catch {
    return { status: 400, body: { error: "The body could not be read." } };
  }
  // The unread rest of the body is still on the wire: closing the connection is the only clean way past it.
  if (rawBody === null) return { status: 413, body: { error: "The body is larger than 1 MB." }, headers: { Connection: "close" } };
  return handleCallback(db, rawBody, request.headers, { secret: options.secret, settings: options.settings });
}
