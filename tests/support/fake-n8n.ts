import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";
import type { CallbackMessage, GenerationRequest } from "../../app/generation/contract";

/**
 * A stand-in for the n8n workflow, speaking its real protocol on 127.0.0.1: it verifies each signed dispatch
 * with the `standardwebhooks` library (401 when the signature is wrong), answers on receipt, then calls the
 * request's callbackUrl with signed progress reports and a completion — or fails, answers 500, or never answers,
 * as the test tells it.
 */

export type DispatchBehaviour =
  /** Acknowledge, then report research, writing and review, then `completed`. */
  | { kind: "complete"; progress?: boolean }
  /** Acknowledge, report research, then send `failed`. */
  | { kind: "fail"; error: string; retryable: boolean }
  /** Acknowledge and never call back (n8n lost the execution). */
  | { kind: "silent" }
  /** Answer with this status and no callback. */
  | { kind: "status"; status: number }
  /** Hold the request open without answering (until the client gives up or `close`). */
  | { kind: "hang" };

export interface ReceivedDispatch {
  webhookId: string;
  request: GenerationRequest;
  /** False when the client went away before the fake answered (a timeout, a killed process). */
  answered: boolean;
}

export interface SentCallback {
  message: CallbackMessage;
  webhookId: string;
  status: number;
  body: unknown;
}

export interface FakeN8n {
  /** The webhook URL the app dispatches to (GENERATION_WEBHOOK_URL). */
  url: string;
  /** Dispatches whose signature verified, in arrival order. */
  dispatches: ReceivedDispatch[];
  /** How many dispatches were refused for their signature. */
  rejectedDispatches: number;
  /** Every callback the fake sent, with the app's answer. */
  callbacks: SentCallback[];
  /** Chooses what happens to each dispatch (default: complete). */
  behave(choose: (request: GenerationRequest, index: number) => DispatchBehaviour): void;
  /** Sends one signed callback (or a deliberately mis-signed one) to `callbackUrl`. */
  send(callbackUrl: string, message: unknown, options?: SignOptions): Promise<{ status: number; body: unknown }>;
  /** Resolves once every callback sequence started so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface SignOptions {
  webhookId?: string;
  /** Signing time (default now). */
  at?: Date;
  /** Sign with this secret instead of the shared one. */
  secret?: string;
  /** Leave these headers out. */
  omit?: ("webhook-id" | "webhook-timestamp" | "webhook-signature")[];
}

/** A fresh Standard Webhooks secret. */
export function newWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString("base64")}`;
}

/** The three webhook-* headers for `body`, as n8n's workflow computes them. */
export function signedHeaders(secret: string, body: string, options: SignOptions = {}): Record<string, string> {
  const id = options.webhookId ?? `msg_${crypto.randomUUID()}`;
  const at = options.at ?? new Date();
  const headers: Record<string, string> = {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(options.secret ?? secret).sign(id, at, body),
  };
  for (const name of options.omit ?? []) delete headers[name];
  return headers;
}

const envelope = (request: GenerationRequest) => ({
  episodeId: request.episodeId,
  organizationId: request.organizationId,
  attempt: request.attempt,
});

export const researchSources = [
  { title: "Grid-scale storage outlook", url: "https://example.org/storage-outlook", publisher: "Example Institute", publishedAt: "2026-10-01" },
  { title: "Sodium-ion pilot results", url: "https://example.org/sodium-ion", publisher: null, publishedAt: null },
];

/** The progress reports of a run, in order. */
export function progressMessages(request: GenerationRequest): CallbackMessage[] {
  return [
    { type: "progress", ...envelope(request), stage: "research", percent: 10, message: "Researching recent signals" },
    {
      type: "progress",
      ...envelope(request),
      stage: "research",
      percent: 40,
      message: "Research found 2 signals",
      findings: ["Sodium-ion pilots doubled in 2026", "Long-duration storage tenders opened in three markets"],
      sources: researchSources,
    },
    { type: "progress", ...envelope(request), stage: "writing", percent: 60, message: "Writing the episode" },
    { type: "progress", ...envelope(request), stage: "review", percent: 85, message: "Checking the draft against the research" },
  ];
}

/** The completion of a run: content, sources, QA and one ledger entry per agent call. */
export function completedMessage(request: GenerationRequest): CallbackMessage {
  const callId = (agent: string) => `${request.episodeId}:${request.attempt}:${agent}`;
  return {
    type: "completed",
    ...envelope(request),
    title: "Storage gets long",
    summary: "Long-duration storage moved from pilots to tenders.",
    content: "## Signals\n\nSodium-ion pilots doubled.\n\n## What it could mean\n\nCheaper evening power.",
    sources: researchSources,
    qa: { passed: true, notes: "Every claim traces to research." },
    tokenUsage: [
      { callId: callId("research"), agent: "research", model: "stub-model", promptTokens: 1200, completionTokens: 300, costGBP: 0.0021 },
      { callId: callId("writer"), agent: "writer", model: "stub-model", promptTokens: 2000, completionTokens: 900, costGBP: 0.0044 },
      { callId: callId("qa"), agent: "qa", model: "stub-model", promptTokens: 1500, completionTokens: 100, costGBP: 0.0012 },
    ],
  };
}

export async function startFakeN8n(secret: string): Promise<FakeN8n> {
  const dispatches: ReceivedDispatch[] = [];
  const callbacks: SentCallback[] = [];
  const running = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  let choose: (request: GenerationRequest, index: number) => DispatchBehaviour = () => ({ kind: "complete" });
  let rejectedDispatches = 0;

  async function send(callbackUrl: string, message: unknown, options: SignOptions = {}) {
    const body = JSON.stringify(message);
    const headers = signedHeaders(secret, body, options);
    const response = await fetch(callbackUrl, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for the assertion that catches it.
    }
    callbacks.push({ message: message as CallbackMessage, webhookId: headers["webhook-id"] ?? "", status: response.status, body: parsed });
    return { status: response.status, body: parsed };
  }

  async function runWorkflow(request: GenerationRequest, behaviour: DispatchBehaviour) {
    if (behaviour.kind === "complete") {
      if (behaviour.progress !== false) for (const message of progressMessages(request)) await send(request.callbackUrl, message);
      await send(request.callbackUrl, completedMessage(request));
    } else if (behaviour.kind === "fail") {
      await send(request.callbackUrl, progressMessages(request)[0]);
      await send(request.callbackUrl, { type: "failed", ...envelope(request), error: behaviour.error, retryable: behaviour.retryable });
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let request: GenerationRequest;
      try {
        request = new Webhook(secret).verify(body, {
          "webhook-id": String(req.headers["webhook-id"] ?? ""),
          "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
          "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
        }) as GenerationRequest;
      } catch {
        rejectedDispatches++;
        res.writeHead(401).end("bad signature");
        return;
      }
      const dispatch: ReceivedDispatch = { webhookId: String(req.headers["webhook-id"]), request, answered: false };
      dispatches.push(dispatch);
      const behaviour = choose(request, dispatches.length - 1);
      if (behaviour.kind === "hang") return;
      if (behaviour.kind === "status") {
        dispatch.answered = true;
        res.writeHead(behaviour.status).end();
        return;
      }
      // n8n's "respond on receipt": the answer goes first, the workflow runs after.
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ message: "Workflow was started" }));
      dispatch.answered = true;
      const run = runWorkflow(request, behaviour).catch(() => undefined);
      running.add(run);
      void run.finally(() => running.delete(run));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/episode-generation`,
    dispatches,
    get rejectedDispatches() {
      return rejectedDispatches;
    },
    callbacks,
    behave: (next) => void (choose = next),
    send,
    async idle() {
      while (running.size) await Promise.allSettled([...running]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
