import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local OpenAI-compatible server for tests: POST /v1/chat/completions (non-streaming) answers with scripted
 * replies and real-looking `usage`, or with an HTTP error on command, and records every request it gets.
 *
 *   const stub = await startOpenAiStub();
 *   stub.enqueue({ content: "Findings…", promptTokens: 120, completionTokens: 40 }, { status: 429 });
 *   // LLM_BASE_URL = stub.url ("http://127.0.0.1:<port>/v1")
 *   stub.requests[0].body.messages …
 *   await stub.close();
 *
 * Replies are used in order, one per chat completion; when the queue is empty the `respond` function answers
 * (by default a short fixed text). GET /v1/models lists one model, for clients that check their credential.
 */

export interface StubCompletion {
  content: string;
  /** Counted from the text (about four characters a token) when left out. */
  promptTokens?: number;
  completionTokens?: number;
  /** The model name reported back; the requested model by default. */
  model?: string;
  /** Waits this long before answering (to test clients' timeouts). */
  delayMs?: number;
  /** "stop" by default; "length" plays an answer cut off at max_tokens. */
  finishReason?: string;
}

export interface StubFailure {
  status: number;
  /** The `error.message` of the OpenAI-style error body. */
  message?: string;
  /** Sent as Retry-After (seconds), e.g. with a 429. */
  retryAfterSeconds?: number;
  delayMs?: number;
}

export type StubReply = StubCompletion | StubFailure;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: ChatCompletionRequest | undefined;
  /** What the stub answered: the HTTP status. */
  status: number;
}

export interface ChatCompletionRequest {
  model: string;
  messages: { role: string; content: string | unknown }[];
  stream?: boolean;
  [key: string]: unknown;
}

export interface OpenAiStub {
  /** The base URL clients are configured with, ending in /v1. */
  url: string;
  /** Every request received, in order (chat completions and anything else). */
  requests: RecordedRequest[];
  /** Only the chat completion requests. */
  readonly completions: RecordedRequest[];
  /** Queues replies, used one per chat completion, before `respond` is asked. */
  enqueue(...replies: StubReply[]): void;
  /** Replaces the answer given when the queue is empty. */
  setRespond(respond: Respond): void;
  /** Requires `Authorization: Bearer <apiKey>` (401 otherwise); unset accepts any. */
  apiKey: string | null;
  close(): Promise<void>;
}

/** Answers a chat completion when the queue is empty; may wait (for a test to look at what happened meanwhile). */
export type Respond = (request: ChatCompletionRequest, index: number) => StubReply | Promise<StubReply>;

export function isFailure(reply: StubReply): reply is StubFailure {
  return "status" in reply;
}

const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === "string" ? part.text : "")).join("");
  return "";
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startOpenAiStub(
  options: { respond?: Respond; apiKey?: string } = {},
): Promise<OpenAiStub> {
  const queue: StubReply[] = [];
  const requests: RecordedRequest[] = [];
  let respond: Respond = options.respond ?? (() => ({ content: "A stub reply." }));
  let completionIndex = 0;
  const sockets = new Set<import("node:net").Socket>();

  const stub: OpenAiStub = {
    url: "",
    requests,
    get completions() {
      return requests.filter((r) => r.path.endsWith("/chat/completions"));
    },
    enqueue: (...replies) => void queue.push(...replies),
    setRespond: (next) => void (respond = next),
    apiKey: options.apiKey ?? null,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const path = (req.url ?? "/").split("?")[0];
      let body: ChatCompletionRequest | undefined;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = undefined;
      }
      const record: RecordedRequest = { method: req.method ?? "", path, headers: req.headers, body, status: 0 };
      requests.push(record);
      const answer = (status: number, json: unknown, headers?: Record<string, string>) => {
        record.status = status;
        sendJson(res, status, json, headers);
      };
      const error = (status: number, message: string, type = "invalid_request_error") =>
        answer(status, { error: { message, type, param: null, code: null } });

      if (stub.apiKey !== null && req.headers.authorization !== `Bearer ${stub.apiKey}`) {
        return error(401, "Incorrect API key provided.", "authentication_error");
      }
      if (req.method === "GET" && path === "/v1/models") {
        return answer(200, { object: "list", data: [{ id: "stub-model", object: "model", created: 0, owned_by: "stub" }] });
      }
      if (path !== "/v1/chat/completions") return error(404, `Unknown path ${path}`);
      if (req.method !== "POST") return error(405, "Use POST");
      if (!body || typeof body.model !== "string" || !Array.isArray(body.messages)) {
        return error(400, "A JSON body with model and messages is required");
      }
      if (body.stream === true) return error(400, "This stub does not stream");

      const index = completionIndex++;
      let reply: StubReply;
      try {
        reply = queue.shift() ?? (await respond(body, index));
      } catch (failure) {
        // A broken test script shows up as a server error, not as a client left hanging.
        reply = { status: 500, message: `stub respond() threw: ${String(failure)}` };
      }
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (res.destroyed) return;
      if (isFailure(reply)) {
        record.status = reply.status;
        const headers: Record<string, string> = reply.retryAfterSeconds !== undefined ? { "Retry-After": String(reply.retryAfterSeconds) } : {};
        const type = reply.status === 429 ? "rate_limit_error" : reply.status >= 500 ? "server_error" : "invalid_request_error";
        return answer(reply.status, { error: { message: reply.message ?? `stub failure ${reply.status}`, type, param: null, code: null } }, headers);
      }
      const promptTokens = reply.promptTokens ?? estimateTokens(body.messages.map((m) => messageText(m.content)).join("\n"));
      const completionTokens = reply.completionTokens ?? estimateTokens(reply.content);
      return answer(200, {
        id: `chatcmpl-stub-${index + 1}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: reply.model ?? body.model,
        choices: [{ index: 0, message: { role: "assistant", content: reply.content }, logprobs: null, finish_reason: reply.finishReason ?? "stop" }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return stub;
}
