import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { Config } from "~/lib/config.server";
import type { Logger } from "~/lib/logger.server";

/**
 * A client for the one endpoint every OpenAI-compatible server speaks (OpenAI, Ollama, vLLM, llama.cpp's server):
 * POST {base}/chat/completions. It retries what can succeed later (429, 5xx, timeouts, refused connections) a few
 * times with backoff, gives up at once on what cannot (a wrong key, model or request) with a reason naming the
 * setting to fix, and returns the call's token usage and cost. docs/decisions/0010-llm-client.md says why fetch
 * rather than the `openai` package.
 */

export type LlmConfig = Pick<
  Config,
  | "LLM_BASE_URL"
  | "LLM_API_KEY"
  | "LLM_MODEL"
  | "LLM_PRICES"
  | "LLM_TIMEOUT_MS"
  | "LLM_MAX_TOKENS_RESEARCH"
  | "LLM_MAX_TOKENS_WRITING"
  | "LLM_MAX_TOKENS_REVIEW"
  | "LLM_JSON_MODE"
>;

/** GBP per million tokens, which is the same number as micro-GBP per token. */
export interface ModelPrice {
  prompt: number;
  completion: number;
}

export interface LlmSettings {
  baseUrl: string;
  apiKey: string | null;
  model: string;
  prices: Record<string, ModelPrice>;
  timeoutMs: number;
  maxTokens: { research: number; writing: number; review: number };
  jsonMode: boolean;
}

/** The model settings, or null when none is configured (the pipeline then writes offline previews). */
export function llmSettings(config: Partial<LlmConfig>): LlmSettings | null {
  if (!config.LLM_BASE_URL || !config.LLM_MODEL) return null;
  return {
    baseUrl: config.LLM_BASE_URL.replace(/\/+$/, ""),
    apiKey: config.LLM_API_KEY || null,
    model: config.LLM_MODEL,
    prices: config.LLM_PRICES ?? {},
    timeoutMs: config.LLM_TIMEOUT_MS ?? 120_000,
    maxTokens: {
      research: config.LLM_MAX_TOKENS_RESEARCH ?? 1_500,
      writing: config.LLM_MAX_TOKENS_WRITING ?? 3_000,
      review: config.LLM_MAX_TOKENS_REVIEW ?? 800,
    },
    jsonMode: config.LLM_JSON_MODE ?? true,
  };
}

// ——— Cost ———

/** The price of the first of `models` the table knows (a server may answer with a dated variant of the name asked for). */
export function priceFor(prices: Record<string, ModelPrice>, ...models: string[]): ModelPrice | undefined {
  for (const model of models) if (Object.hasOwn(prices, model)) return prices[model];
  return undefined;
}

/**
 * A call's cost in integer micro-GBP: tokens × GBP per million tokens, rounded once per call to the nearest
 * micro-GBP. No price: zero.
 */
export function callCostGbpMicros(price: ModelPrice | undefined, promptTokens: number, completionTokens: number): number {
  if (!price) return 0;
  return Math.round(promptTokens * price.prompt + completionTokens * price.completion);
}

const unpricedModels = new Set<string>();

/** Warns once per process and model that its calls cost nothing in the ledger, so the gap is noticed. */
function warnUnpriced(logger: Pick<Logger, "warn"> | undefined, model: string): void {
  if (unpricedModels.has(model)) return;
  unpricedModels.add(model);
  logger?.warn({ model }, "LLM_PRICES has no price for this model: its calls are recorded at zero cost");
}

// ——— Calls ———

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatCall {
  /** Unique per call: the ledger counts each call id once. */
  callId: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  /** Ask for a JSON object (response_format json_object), when the settings allow it. */
  json?: boolean;
  signal?: AbortSignal;
}

export interface ChatResult {
  callId: string;
  text: string;
  /** The model that answered, as the server names it. */
  model: string;
  promptTokens: number;
  completionTokens: number;
  costGbpMicros: number;
  /** "length" when the answer was cut off at maxTokens. */
  finishReason: string | null;
  tries: number;
}

/** A call that did not succeed, with a reason a person can act on and whether a later attempt could succeed. */
export class LlmError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status: number | null,
    readonly tries: number,
  ) {
    super(message);
    this.name = "LlmError";
  }
}

export interface LlmClientOptions {
  /** Tries per call, the first included. */
  maxTries?: number;
  /** Backoff before retry n: base · 2^(n−1), then 50–100 % of that (jitter). */
  retryBaseMs?: number;
  /** The longest a server's retry-after is honoured; longer requests are cut to this. */
  maxRetryAfterMs?: number;
  logger?: Pick<Logger, "warn">;
  /** Injected in unit tests to see the delays without waiting them. */
  wait?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  random?: () => number;
}

export interface LlmClient {
  model: string;
  chat(call: ChatCall): Promise<ChatResult>;
}

const completionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().min(0).optional(),
      completion_tokens: z.number().int().min(0).optional(),
    })
    .nullish(),
});

/** How long the server asked us to wait: `retry-after-ms` (OpenAI), `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | null {
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.get("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = headers.get("retry-after")?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The server's own explanation from an error body, short and on one line; never more than 200 characters. */
function errorDetail(body: string): string | null {
  let detail: unknown = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    detail = (typeof parsed.error === "object" ? parsed.error?.message : parsed.error) ?? parsed.message ?? parsed.detail;
  } catch {
    // Not JSON: the body itself is the explanation.
  }
  if (typeof detail !== "string") return null;
  const line = detail.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  if (!line) return null;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

type Failure =
  | { kind: "http"; status: number; retryAfterMs: number | null; detail: string | null }
  | { kind: "timeout" }
  | { kind: "network"; code: string }
  | { kind: "bad_response"; detail: string };

function triesText(tries: number): string {
  return `${tries} ${tries === 1 ? "try" : "tries"}`;
}

/** The server's address without any credentials in it, for messages. */
function serverName(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.protocol}//${url.host}`;
}

export function createLlmClient(settings: LlmSettings, options: LlmClientOptions = {}): LlmClient {
  const maxTries = options.maxTries ?? 3;
  const retryBaseMs = options.retryBaseMs ?? 1_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const random = options.random ?? Math.random;
  const wait = options.wait ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  const endpoint = `${settings.baseUrl}/chat/completions`;
  const server = serverName(settings.baseUrl);

  function refusal(status: number, detail: string | null, tries: number): LlmError {
    const said = detail ? `: ${detail}` : "";
    if (status === 401 || status === 403) {
      // The server's text can echo part of the key: leave it out.
      return new LlmError(`The language model at ${server} refused the API key (HTTP ${status}): check LLM_API_KEY`, false, status, tries);
    }
    if (status === 404) {
      return new LlmError(
        `The language model at ${server} has no model "${settings.model}" or no chat completions endpoint (HTTP 404${said}): check LLM_MODEL and LLM_BASE_URL`,
        false,
        status,
        tries,
      );
    }
    return new LlmError(
      `The language model rejected the request (HTTP ${status}${said}): check LLM_MODEL ("${settings.model}") and the LLM_MAX_TOKENS_* settings`,
      false,
      status,
      tries,
    );
  }

  function exhausted(failure: Failure, tries: number): LlmError {
    const after = `after ${triesText(tries)}`;
    switch (failure.kind) {
      case "http":
        return new LlmError(
          failure.status === 429
            ? `The language model kept refusing for its rate limit (HTTP 429) ${after}`
            : `The language model did not answer (HTTP ${failure.status}) ${after}`,
          true,
          failure.status,
          tries,
        );
      case "timeout":
        return new LlmError(
          `The language model did not answer within ${Math.round(settings.timeoutMs / 1000)} s (LLM_TIMEOUT_MS) ${after}`,
          true,
          null,
          tries,
        );
      case "network":
        return new LlmError(`The language model could not be reached at ${server} (${failure.code}) ${after}`, true, null, tries);
      case "bad_response":
        return new LlmError(`The language model's answer was not a chat completion (${failure.detail}) ${after}`, true, null, tries);
    }
  }

  async function once(body: string, signal: AbortSignal | undefined): Promise<{ ok: true; data: z.infer<typeof completionSchema> } | { ok: false; failure: Failure }> {
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
        },
        body,
        signal: combined,
      });
      const text = await response.text();
      if (!response.ok) {
        return { ok: false, failure: { kind: "http", status: response.status, retryAfterMs: retryAfterMs(response.headers), detail: errorDetail(text) } };
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { ok: false, failure: { kind: "bad_response", detail: "not JSON" } };
      }
      const parsed = completionSchema.safeParse(json);
      if (!parsed.success) return { ok: false, failure: { kind: "bad_response", detail: "no choices[0].message" } };
      return { ok: true, data: parsed.data };
    } catch (error) {
      if (signal?.aborted) throw new LlmError("The generation was stopped while the language model was answering", true, null, 0);
      if (timeout.aborted) return { ok: false, failure: { kind: "timeout" } };
      const cause = (error as { cause?: { code?: string } }).cause;
      return { ok: false, failure: { kind: "network", code: cause?.code ?? (error as Error).name } };
    }
  }

  return {
    model: settings.model,
    async chat(call: ChatCall): Promise<ChatResult> {
      const body = JSON.stringify({
        model: settings.model,
        messages: call.messages,
        max_tokens: call.maxTokens,
        temperature: call.temperature,
        stream: false,
        ...(call.json && settings.jsonMode ? { response_format: { type: "json_object" } } : {}),
      });
      for (let tries = 1; ; tries++) {
        const outcome = await once(body, call.signal);
        if (outcome.ok) {
          const { data } = outcome;
          const model = data.model || settings.model;
          const promptTokens = data.usage?.prompt_tokens ?? 0;
          const completionTokens = data.usage?.completion_tokens ?? 0;
          const price = priceFor(settings.prices, model, settings.model);
          if (!price) warnUnpriced(options.logger, model);
          return {
            callId: call.callId,
            text: data.choices[0].message.content ?? "",
            model,
            promptTokens,
            completionTokens,
            costGbpMicros: callCostGbpMicros(price, promptTokens, completionTokens),
            finishReason: data.choices[0].finish_reason ?? null,
            tries,
          };
        }
        const { failure } = outcome;
        const retryable = failure.kind !== "http" || failure.status === 408 || failure.status === 409 || failure.status === 429 || failure.status >= 500;
        if (!retryable) throw refusal(failure.status, failure.detail, tries);
        if (tries >= maxTries) throw exhausted(failure, tries);
        const backoff = Math.round(Math.min(retryBaseMs * 2 ** (tries - 1), 30_000) * (0.5 + random() * 0.5));
        const asked = failure.kind === "http" ? failure.retryAfterMs : null;
        try {
          await wait(asked === null ? backoff : Math.min(asked, maxRetryAfterMs), call.signal);
        } catch {
          throw new LlmError("The generation was stopped while waiting to ask the language model again", true, null, tries);
        }
      }
    },
  };
}
