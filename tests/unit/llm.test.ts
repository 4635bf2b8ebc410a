import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../app/lib/config.server";
import {
  callCostGbpMicros,
  createLlmClient,
  LlmError,
  llmSettings,
  priceFor,
  retryAfterMs,
  type LlmSettings,
} from "../../app/generation/llm.server";
import { episodeCallLimits, estimateMaxCostGbpMicros } from "../../app/generation/pipeline.server";
import { maxPromptChars } from "../../app/generation/prompts";
import { freePort } from "../support/ports";
import { startOpenAiStub, type OpenAiStub } from "../support/openai-stub";

function problemsFor(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a configuration error");
}

describe("LLM configuration", () => {
  it("is off with nothing set, and reads every setting when given", () => {
    expect(llmSettings(loadConfig({}))).toBeNull();
    const config = loadConfig({
      LLM_BASE_URL: "http://localhost:11434/v1/",
      LLM_MODEL: "llama3.1",
      LLM_PRICES: '{"llama3.1": {"prompt": 0, "completion": 0}, "gpt-4o-mini": {"prompt": 0.12, "completion": 0.48}}',
      LLM_TIMEOUT_MS: "30000",
      LLM_MAX_TOKENS_WRITING: "4000",
      LLM_JSON_MODE: "false",
    });
    expect(llmSettings(config)).toEqual({
      baseUrl: "http://localhost:11434/v1",
      apiKey: null,
      model: "llama3.1",
      prices: { "llama3.1": { prompt: 0, completion: 0 }, "gpt-4o-mini": { prompt: 0.12, completion: 0.48 } },
      timeoutMs: 30_000,
      maxTokens: { research: 1_500, writing: 4_000, review: 800 },
      jsonMode: false,
    });
  });

  it("needs LLM_BASE_URL and LLM_MODEL together, and a base URL for a key", () => {
    expect(problemsFor({ LLM_BASE_URL: "https://api.openai.com/v1" }).map((p) => p.variable)).toEqual(["LLM_MODEL"]);
    expect(problemsFor({ LLM_MODEL: "gpt-4o-mini" }).map((p) => p.variable)).toEqual(["LLM_BASE_URL"]);
    expect(problemsFor({ LLM_API_KEY: "sk-secret-value" }).map((p) => p.variable)).toEqual(["LLM_BASE_URL"]);
  });

  it.each([
    ["not JSON", "{gpt: 1}"],
    ["a price that is not a number", '{"gpt-4o-mini": {"prompt": "cheap", "completion": 0.48}}'],
    ["a negative price", '{"gpt-4o-mini": {"prompt": -1, "completion": 0.48}}'],
    ["a missing completion price", '{"gpt-4o-mini": {"prompt": 0.12}}'],
    ["an unknown field", '{"gpt-4o-mini": {"prompt": 0.12, "completion": 0.48, "input": 1}}'],
    ["a list", "[1, 2]"],
  ])("refuses LLM_PRICES with %s, showing the expected shape", (_case, value) => {
    const problems = problemsFor({ LLM_PRICES: value });
    expect(problems.map((p) => p.variable)).toEqual(["LLM_PRICES"]);
    expect(problems[0].message).toContain('{"gpt-4o-mini": {"prompt": 0.12, "completion": 0.48}}');
  });

  it("refuses a base URL that is not http(s) or holds credentials, and never echoes them", () => {
    expect(problemsFor({ LLM_BASE_URL: "ftp://models.example/v1", LLM_MODEL: "m" }).map((p) => p.variable)).toEqual(["LLM_BASE_URL"]);
    const withCredentials = problemsFor({ LLM_BASE_URL: "https://user:sk-in-url@models.example/v1", LLM_MODEL: "m" });
    expect(withCredentials.map((p) => p.variable)).toEqual(["LLM_BASE_URL"]);
    expect(JSON.stringify(withCredentials)).not.toContain("sk-in-url");
    const problems = problemsFor({ LLM_API_KEY: "sk-very-secret" });
    expect(JSON.stringify(problems)).not.toContain("sk-very-secret");
  });
});

describe("cost", () => {
  it("is tokens times GBP per million tokens, in whole micro-GBP rounded once per call", () => {
    expect(callCostGbpMicros({ prompt: 0.15, completion: 0.6 }, 1_000, 300)).toBe(330);
    // 1201 × 0.125 + 333 × 1.1 = 150.125 + 366.3 = 516.425
    expect(callCostGbpMicros({ prompt: 0.125, completion: 1.1 }, 1_201, 333)).toBe(516);
    // £2.50 and £10 per million (a large model): 1 M prompt tokens and 100 k completion tokens = £3.50
    expect(callCostGbpMicros({ prompt: 2.5, completion: 10 }, 1_000_000, 100_000)).toBe(3_500_000);
    expect(Number.isInteger(callCostGbpMicros({ prompt: 0.1, completion: 0.2 }, 3, 7))).toBe(true);
    expect(callCostGbpMicros(undefined, 5_000, 5_000)).toBe(0);
  });

  it("prices a dated variant by the name asked for", () => {
    const prices = { "gpt-4o-mini": { prompt: 0.12, completion: 0.48 } };
    expect(priceFor(prices, "gpt-4o-mini-2024-07-18", "gpt-4o-mini")).toEqual(prices["gpt-4o-mini"]);
    expect(priceFor(prices, "other")).toBeUndefined();
    expect(priceFor(prices, "toString")).toBeUndefined();
  });

  it("estimates an episode's most expensive run from the model's prices and every stage's max tokens, revision included", () => {
    const config = loadConfig({
      LLM_BASE_URL: "https://api.openai.com/v1",
      LLM_MODEL: "gpt-4o-mini",
      LLM_PRICES: '{"gpt-4o-mini": {"prompt": 0.12, "completion": 0.48}}',
      LLM_MAX_TOKENS_RESEARCH: "1000",
      LLM_MAX_TOKENS_WRITING: "2000",
      LLM_MAX_TOKENS_REVIEW: "500",
    });
    const calls = episodeCallLimits(llmSettings(config)!);
    expect(calls.map((c) => c.agent)).toEqual(["research", "writer", "qa", "writer", "qa"]);
    expect(calls.map((c) => c.completionTokens)).toEqual([1000, 2000, 500, 2000, 500]);
    const ours = (stage: Parameters<typeof maxPromptChars>[0]) => Math.ceil(maxPromptChars(stage) / 3);
    expect(calls.map((c) => c.promptTokens)).toEqual([
      ours("research"),
      ours("writer") + 1000,
      ours("review") + 1000 + 2000,
      ours("revision") + 1000 + 2000 + 500,
      ours("review") + 1000 + 2000,
    ]);
    const promptTokens = calls.reduce((sum, c) => sum + c.promptTokens, 0);
    expect(estimateMaxCostGbpMicros(config)).toBe(Math.ceil(promptTokens * 0.12 + 6_000 * 0.48));
    // A bigger writing limit raises the ceiling: the estimate follows the settings.
    expect(estimateMaxCostGbpMicros({ ...config, LLM_MAX_TOKENS_WRITING: 4000 })).toBeGreaterThan(estimateMaxCostGbpMicros(config));
    expect(estimateMaxCostGbpMicros(loadConfig({}))).toBe(0);
    expect(estimateMaxCostGbpMicros({ ...config, LLM_PRICES: {} })).toBe(0);
  });

  it("bounds every prompt: the most a project can put in is a fixed number of characters", () => {
    for (const stage of ["research", "writer", "revision", "review"] as const) {
      expect(maxPromptChars(stage)).toBeGreaterThan(10_000);
      expect(maxPromptChars(stage)).toBeLessThan(30_000);
    }
  });
});

describe("retry-after", () => {
  it("reads retry-after-ms, seconds and HTTP dates", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250" }))).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }))).toBe(2_000);
    expect(retryAfterMs(new Headers({ "retry-after": new Date(10_000).toUTCString() }), 4_000)).toBe(6_000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeNull();
    expect(retryAfterMs(new Headers())).toBeNull();
  });
});

describe("the chat completions client", () => {
  let stub: OpenAiStub;
  let waits: number[];
  const warnings: unknown[][] = [];
  const logger = { warn: (...args: unknown[]) => void warnings.push(args) };

  beforeAll(async () => {
    stub = await startOpenAiStub({ apiKey: "sk-test" });
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    stub.requests.length = 0;
    waits = [];
    warnings.length = 0;
  });

  const settings = (overrides: Partial<LlmSettings> = {}): LlmSettings => ({
    baseUrl: stub.url,
    apiKey: "sk-test",
    model: "stub-model",
    prices: { "stub-model": { prompt: 0.15, completion: 0.6 } },
    timeoutMs: 5_000,
    maxTokens: { research: 100, writing: 100, review: 100 },
    jsonMode: true,
    ...overrides,
  });
  const client = (overrides: Partial<LlmSettings> = {}) =>
    createLlmClient(settings(overrides), {
      logger,
      random: () => 1,
      retryBaseMs: 100,
      wait: async (ms) => void waits.push(ms),
    });
  const call = { callId: "c1", messages: [{ role: "user" as const, content: "Hello" }], maxTokens: 64, temperature: 0.2 };

  it("posts the chat completion and returns the text, tokens and cost", async () => {
    stub.enqueue({ content: "Hi there", promptTokens: 1_000, completionTokens: 300 });
    const result = await client().chat({ ...call, json: true });
    expect(result).toEqual({
      callId: "c1",
      text: "Hi there",
      model: "stub-model",
      promptTokens: 1_000,
      completionTokens: 300,
      costGbpMicros: 330,
      finishReason: "stop",
      tries: 1,
    });
    expect(stub.completions).toHaveLength(1);
    expect(stub.completions[0].headers.authorization).toBe("Bearer sk-test");
    expect(stub.completions[0].body).toEqual({
      model: "stub-model",
      messages: call.messages,
      max_tokens: 64,
      temperature: 0.2,
      stream: false,
      response_format: { type: "json_object" },
    });
  });

  it("asks for JSON only when the call wants it and LLM_JSON_MODE allows it", async () => {
    stub.enqueue({ content: "{}" }, { content: "{}" });
    await client().chat(call);
    await client({ jsonMode: false }).chat({ ...call, json: true });
    expect(stub.completions.map((r) => r.body?.response_format)).toEqual([undefined, undefined]);
  });

  it("waits as long as a 429's retry-after asks, up to a cap, then succeeds", async () => {
    stub.enqueue({ status: 429, retryAfterSeconds: 2 }, { status: 429, retryAfterSeconds: 3600 }, { content: "ok" });
    const result = await client().chat(call);
    expect(result.text).toBe("ok");
    expect(result.tries).toBe(3);
    expect(waits).toEqual([2_000, 60_000]);
  });

  it("backs off exponentially on 5xx, then gives up after three tries with a readable, retryable reason", async () => {
    stub.enqueue({ status: 500 }, { status: 502 }, { status: 503 });
    const error = await client().chat(call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({
      message: "The language model did not answer (HTTP 503) after 3 tries",
      retryable: true,
      status: 503,
      tries: 3,
    });
    expect(waits).toEqual([100, 200]);
    expect(stub.completions).toHaveLength(3);
  });

  it("jitters the backoff between half and all of it", async () => {
    stub.enqueue({ status: 500 }, { content: "ok" });
    await createLlmClient(settings(), { random: () => 0, retryBaseMs: 100, wait: async (ms) => void waits.push(ms) }).chat(call);
    expect(waits).toEqual([50]);
  });

  it("says a rate limit that never lifts is a rate limit", async () => {
    stub.enqueue({ status: 429 }, { status: 429 }, { status: 429 });
    await expect(client().chat(call)).rejects.toMatchObject({
      message: "The language model kept refusing for its rate limit (HTTP 429) after 3 tries",
      retryable: true,
    });
  });

  it("does not retry a refused key, and names LLM_API_KEY without echoing the server's text", async () => {
    const error = await client({ apiKey: "sk-wrong" }).chat(call).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, status: 401, tries: 1 });
    expect((error as Error).message).toContain("check LLM_API_KEY");
    expect((error as Error).message).not.toContain("Incorrect API key");
    expect(stub.completions).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("does not retry a bad request or an unknown model, and names LLM_MODEL with the server's reason", async () => {
    stub.enqueue({ status: 400, message: "max_tokens is too large: 100000" }, { status: 404, message: "model 'nope' not found" });
    await expect(client().chat(call)).rejects.toMatchObject({
      message: 'The language model rejected the request (HTTP 400: max_tokens is too large: 100000): check LLM_MODEL ("stub-model") and the LLM_MAX_TOKENS_* settings',
      retryable: false,
    });
    await expect(client({ model: "nope" }).chat(call)).rejects.toMatchObject({
      message: expect.stringMatching(/has no model "nope".*HTTP 404: model 'nope' not found.*check LLM_MODEL and LLM_BASE_URL/),
      retryable: false,
    });
    expect(stub.completions).toHaveLength(2);
  });

  it("times out a call that does not answer, and retries it", async () => {
    stub.enqueue({ content: "late", delayMs: 2_000 }, { content: "on time" });
    const result = await client({ timeoutMs: 200 }).chat(call);
    expect(result).toMatchObject({ text: "on time", tries: 2 });
  });

  it("reports a server that cannot be reached, after its tries", async () => {
    const port = await freePort();
    await expect(client({ baseUrl: `http://127.0.0.1:${port}/v1` }).chat(call)).rejects.toMatchObject({
      message: `The language model could not be reached at http://127.0.0.1:${port} (ECONNREFUSED) after 3 tries`,
      retryable: true,
    });
  });

  it("prices a model missing from LLM_PRICES at zero, warning once per model", async () => {
    stub.enqueue({ content: "a", model: "mystery-model-1" }, { content: "b", model: "mystery-model-1" }, { content: "c", model: "dated-variant" });
    const first = await client({ model: "mystery-model-1", prices: {} }).chat(call);
    await client({ model: "mystery-model-1", prices: {} }).chat(call);
    const dated = await client({ prices: { "stub-model": { prompt: 1, completion: 1 } } }).chat(call);
    expect(first.costGbpMicros).toBe(0);
    expect(dated.model).toBe("dated-variant");
    expect(dated.costGbpMicros).toBe(dated.promptTokens + dated.completionTokens);
    expect(warnings).toHaveLength(1);
    expect(warnings[0][0]).toEqual({ model: "mystery-model-1" });
  });

  it("stops waiting when the run is aborted", async () => {
    stub.enqueue({ content: "slow", delayMs: 2_000 });
    const abort = new AbortController();
    const pending = client().chat({ ...call, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await expect(pending).rejects.toMatchObject({ retryable: true, message: expect.stringContaining("stopped") });
    expect(stub.completions).toHaveLength(1);
  });
});
