import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Generator } from "../../app/generation/generator.server";
import { generateNow, reapExpiredLeases, type GenerationSettings } from "../../app/generation/lifecycle.server";
import { builtinGenerator, OFFLINE_NOTICE } from "../../app/generation/pipeline.server";
import { generationDispatcher } from "../../app/jobs/generation.server";
import { selectGenerator } from "../../app/jobs/index.server";
import { loadConfig } from "../../app/lib/config.server";
import { createLogger } from "../../app/lib/logger.server";
import { getEpisode, type EpisodeRow } from "../../app/models/episodes.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertOwner, testSettings } from "../support/episodes";
import { startOpenAiStub, type ChatCompletionRequest, type OpenAiStub, type StubReply } from "../support/openai-stub";

/**
 * The built-in pipeline against a local OpenAI-compatible server (real HTTP on 127.0.0.1), driven the way the
 * product drives it: "Generate now", then the dispatcher claims the episode and runs the generator, which
 * publishes through the one publishing function.
 */

const settings = testSettings;
const meta = { ip: null, userAgent: null, requestId: null };
const logger = createLogger("silent");
const API_KEY = "sk-test-pipeline";

let database: TestDatabase;
let stub: OpenAiStub;
let organizationId: string;
let userId: string;

type Agent = "research" | "writer" | "qa";

/** Which stage asked: each stage's instructions say what the task is. */
function agentOf(request: ChatCompletionRequest | undefined): Agent {
  const system = String(request?.messages[0]?.content ?? "");
  if (system.includes("Your task now is research")) return "research";
  if (system.includes("Your task now is to write")) return "writer";
  if (system.includes("Your task now is to review")) return "qa";
  throw new Error(`a request from no known stage: ${system.slice(0, 80)}`);
}

const agents = () => stub.completions.map((r) => agentOf(r.body));
const lastUserMessage = (request: ChatCompletionRequest | undefined) => String(request?.messages.at(-1)?.content ?? "");

const SOURCES = [
  { title: "Storage outlook 2026", url: "https://research.example/outlook", publisher: "Research Example", publishedAt: "2026-10-01" },
  { title: "Eight-hour tender notice", url: "https://grid.example/tenders/8h", publisher: "Grid Example", publishedAt: "2026-11-02" },
];
const FINDINGS = ["Sodium-ion pilots doubled in 2026.", "Two grid operators opened tenders for eight-hour storage."];
const RESEARCH: StubReply = {
  content: `Here is what I found:\n\`\`\`json\n${JSON.stringify({ findings: FINDINGS, sources: SOURCES })}\n\`\`\``,
  promptTokens: 1_200,
  completionTokens: 300,
};
const DRAFT_TEXT = [
  "# Storage gets longer",
  "",
  "Eight-hour storage tenders have appeared. That changes what your 2030 plan should assume.",
  "",
  "## What changed",
  "",
  "Sodium-ion pilots doubled ([Storage outlook](https://research.example/outlook)), and two operators opened",
  "tenders for eight-hour storage (https://grid.example/tenders/8h).",
  "",
  "## Signposts to watch",
  "",
  "- More tenders naming durations above four hours.",
].join("\n");
const draft = (text = DRAFT_TEXT): StubReply => ({ content: text, promptTokens: 2_000, completionTokens: 900 });
const verdict = (passed: boolean, notes: string, problems: string[] = []): StubReply => ({
  content: JSON.stringify({ passed, notes, problems }),
  promptTokens: 2_500,
  completionTokens: 150,
});
const PASS = verdict(true, "Supported by the research and on brief.");
const FAIL = verdict(false, "The draft never says what this means by 2030.", ["Add what the tenders mean for a 2030 plan."]);

/** Answers each stage from its own list, in order; the last answer repeats. */
function script(replies: Partial<Record<Agent, StubReply[]>>, onRequest?: (agent: Agent) => Promise<void>) {
  const used: Record<Agent, number> = { research: 0, writer: 0, qa: 0 };
  stub.setRespond(async (request) => {
    const agent = agentOf(request);
    await onRequest?.(agent);
    const list = replies[agent] ?? [];
    const reply = list[Math.min(used[agent]++, list.length - 1)];
    if (!reply) throw new Error(`no scripted reply for ${agent}`);
    return reply;
  });
}

function llmConfig(env: Record<string, string> = {}) {
  return loadConfig({
    LLM_BASE_URL: stub.url,
    LLM_API_KEY: API_KEY,
    LLM_MODEL: "stub-model",
    LLM_PRICES: JSON.stringify({ "stub-model": { prompt: 0.15, completion: 0.6 } }),
    LLM_TIMEOUT_MS: "5000",
    GENERATION_OFFLINE_STAGE_MS: "0",
    ...env,
  });
}

const pipeline = (env: Record<string, string> = {}) => builtinGenerator(llmConfig(env), { logger, client: { retryBaseMs: 10 } });

async function makeProject(): Promise<string> {
  const [project] = await database.db<{ id: string }[]>`
    insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
    values (${organizationId}, ${userId}, 'Grid storage', '## Time horizon

2030 to 2035', 'weekly', '{1}', ${new Date(Date.now() + 86_400_000)})
    returning id`;
  await database.db`
    insert into planning_notes (organization_id, project_id, author_user_id, body)
    values (${organizationId}, ${project.id}, ${userId}, 'Focus on durations above four hours.')`;
  return project.id;
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** "Generate now" as an owner, then the dispatcher runs the generator until the episode is published or failed. */
async function generate(generator: Generator, overrides: Partial<GenerationSettings> = {}): Promise<EpisodeRow> {
  const runSettings = { ...settings, ...overrides };
  const projectId = await makeProject();
  const queued = await generateNow(database.db, { userId, organizationId, role: "owner", label: "owner@example.com" }, projectId, meta, runSettings);
  if (!queued.ok) throw new Error(`not queued: ${queued.reason}`);
  const dispatcher = await generationDispatcher({ generator, settings: runSettings, concurrency: 1, pollIntervalMs: 20 }).start({
    db: database.db,
    directUrl: database.url,
    logger,
  });
  try {
    const episode = await waitFor(
      () => getEpisode(database.db, organizationId, queued.episode.id),
      (e) => e?.status === "PUBLISHED" || e?.status === "FAILED",
    );
    if (!episode) throw new Error("episode vanished");
    return episode;
  } finally {
    await dispatcher.stop();
  }
}

async function usageRows(episodeId: string) {
  return database.db<{ callId: string; agent: string; model: string; promptTokens: number; completionTokens: number; costGbpMicros: number }[]>`
    select call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros
    from token_usage where organization_id = ${organizationId} and episode_id = ${episodeId} order by created_at, call_id`;
}

beforeAll(async () => {
  [database, stub] = await Promise.all([createTestDatabase(), startOpenAiStub({ apiKey: API_KEY })]);
  ({ organizationId, userId } = await insertOwner(database.db));
});
afterAll(async () => {
  await Promise.all([database?.drop(), stub?.close()]);
});
beforeEach(async () => {
  await database.db`delete from token_usage`;
  await database.db`delete from token_usage_daily`;
  await database.db`delete from episode_schedule_queue`;
  await database.db`delete from episodes`;
  await database.db`delete from projects`;
  stub.requests.length = 0;
  stub.apiKey = API_KEY;
});

describe("the built-in pipeline with a language model", () => {
  it("researches, shows findings and sources before the writer answers, writes, reviews, publishes, and records every call's tokens and cost", async () => {
    const seen: Partial<Record<Agent, EpisodeRow>> = {};
    // What a reader of the episode sees at the moment each stage asks the model.
    script({ research: [RESEARCH], writer: [draft()], qa: [PASS] }, async (agent) => {
      const [generating] = await database.db<{ id: string }[]>`select id from episodes where status = 'GENERATING'`;
      seen[agent] = await getEpisode(database.db, organizationId, generating.id);
    });
    // Through selectGenerator, as the worker builds it from the environment.
    const generator = selectGenerator(llmConfig());
    expect(generator.kind).toBe("builtin");
    const episode = await generate(generator);

    expect(agents()).toEqual(["research", "writer", "qa"]);
    // While the writer worked, the reader could already see what research found.
    expect(seen.research).toMatchObject({ status: "GENERATING", generationStage: "research", generationFindings: [] });
    expect(seen.writer).toMatchObject({ status: "GENERATING", generationStage: "writing", generationFindings: FINDINGS, generationSources: SOURCES });
    expect(seen.qa).toMatchObject({ status: "GENERATING", generationStage: "review" });

    expect(episode).toMatchObject({
      status: "PUBLISHED",
      generatedBy: "builtin",
      title: "Storage gets longer",
      summary: "Eight-hour storage tenders have appeared. That changes what your 2030 plan should assume.",
      sources: SOURCES,
      qaPassed: true,
      qaNotes: "Supported by the research and on brief.",
    });
    expect(episode.content).toContain("[Storage outlook](https://research.example/outlook)");
    expect(episode.content).not.toContain("# Storage gets longer");

    const [research, writer, qa] = stub.completions.map((r) => r.body!);
    expect(stub.completions.every((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
    expect(research).toMatchObject({ model: "stub-model", max_tokens: 1_500, response_format: { type: "json_object" } });
    expect(lastUserMessage(research)).toContain("2030 to 2035");
    expect(lastUserMessage(research)).toContain("Focus on durations above four hours.");
    expect(writer).toMatchObject({ max_tokens: 3_000 });
    expect(writer.response_format).toBeUndefined();
    expect(lastUserMessage(writer)).toContain("https://grid.example/tenders/8h");
    expect(qa).toMatchObject({ max_tokens: 800, response_format: { type: "json_object" } });
    expect(lastUserMessage(qa)).toContain("<draft>");

    // £0.15 and £0.60 per million tokens are 0.15 and 0.6 micro-GBP a token.
    expect(await usageRows(episode.id)).toEqual([
      { callId: `${episode.id}:1:qa:1`, agent: "qa", model: "stub-model", promptTokens: 2_500, completionTokens: 150, costGbpMicros: 465 },
      { callId: `${episode.id}:1:research:1`, agent: "research", model: "stub-model", promptTokens: 1_200, completionTokens: 300, costGbpMicros: 360 },
      { callId: `${episode.id}:1:writer:1`, agent: "writer", model: "stub-model", promptTokens: 2_000, completionTokens: 900, costGbpMicros: 840 },
    ]);
    const daily = await database.db`select prompt_tokens, completion_tokens, cost_gbp_micros from token_usage_daily where organization_id = ${organizationId}`;
    expect(daily).toEqual([{ promptTokens: 5_700, completionTokens: 1_350, costGbpMicros: 1_665 }]);
  });

  it("waits out a 429 with retry-after and asks again", async () => {
    stub.enqueue({ status: 429, retryAfterSeconds: 1, message: "Rate limit reached" });
    script({ research: [RESEARCH], writer: [draft()], qa: [PASS] });
    const episode = await generate(pipeline());
    expect(episode).toMatchObject({ status: "PUBLISHED", qaPassed: true, generationAttempts: 1 });
    expect(stub.completions.map((r) => r.status)).toEqual([429, 200, 200, 200]);
    expect(agents()).toEqual(["research", "research", "writer", "qa"]);
    // The refused call cost nothing: three calls in the ledger.
    expect((await usageRows(episode.id)).map((row) => row.callId)).toEqual([
      `${episode.id}:1:qa:1`,
      `${episode.id}:1:research:1`,
      `${episode.id}:1:writer:1`,
    ]);
  });

  it("asks again after a 500", async () => {
    stub.enqueue({ status: 500, message: "upstream crashed" });
    script({ research: [RESEARCH], writer: [draft()], qa: [PASS] });
    const episode = await generate(pipeline());
    expect(stub.completions.map((r) => r.status)).toEqual([500, 200, 200, 200]);
    expect(agents()).toEqual(["research", "research", "writer", "qa"]);
    expect(episode).toMatchObject({ status: "PUBLISHED", generationAttempts: 1 });
    expect(await usageRows(episode.id)).toHaveLength(3);
  });

  it("revises once after the reviewer refuses, with the reviewer's notes, and publishes the revision that passes", async () => {
    const revised = DRAFT_TEXT.replace("## Signposts", "## By 2030\n\nTenders suggest eight-hour storage is bankable by 2030.\n\n## Signposts");
    script({ research: [RESEARCH], writer: [draft(), draft(revised)], qa: [FAIL, PASS] });
    const episode = await generate(pipeline());

    expect(agents()).toEqual(["research", "writer", "qa", "writer", "qa"]);
    const revision = stub.completions[3].body!;
    expect(revision.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(String(revision.messages[2].content)).toContain("# Storage gets longer");
    expect(lastUserMessage(revision)).toContain("The draft never says what this means by 2030.");
    expect(lastUserMessage(revision)).toContain("Add what the tenders mean for a 2030 plan.");
    expect(lastUserMessage(stub.completions[4].body)).toContain("bankable by 2030");

    expect(episode).toMatchObject({ status: "PUBLISHED", qaPassed: true });
    expect(episode.content).toContain("bankable by 2030");
    expect(episode.qaNotes).toMatch(/^Passed review after one revision\./);
    expect((await usageRows(episode.id)).map((row) => row.callId).sort()).toEqual(
      ["qa:1", "qa:2", "research:1", "writer:1", "writer:2"].map((suffix) => `${episode.id}:1:${suffix}`),
    );
  });

  it("refuses a draft that links to a source research did not produce, whatever the reviewer would say", async () => {
    const invented = `${DRAFT_TEXT}\n\nA [2025 study](https://invented.example/study) agrees.`;
    script({ research: [RESEARCH], writer: [draft(invented), draft()], qa: [PASS] });
    const episode = await generate(pipeline());

    // The reviewer, who would pass anything here, was not even asked about the first draft.
    expect(agents()).toEqual(["research", "writer", "writer", "qa"]);
    expect(lastUserMessage(stub.completions[2].body)).toContain("https://invented.example/study");
    expect(episode).toMatchObject({ status: "PUBLISHED", qaPassed: true });
    expect(episode.content).not.toContain("invented.example");
  });

  it("publishes after a second refusal with the reviewer's notes for the owners", async () => {
    script({ research: [RESEARCH], writer: [draft()], qa: [FAIL] });
    const episode = await generate(pipeline());
    expect(agents()).toEqual(["research", "writer", "qa", "writer", "qa"]);
    expect(episode).toMatchObject({ status: "PUBLISHED", qaPassed: false });
    expect(episode.qaNotes).toContain("Published without passing review, after one revision.");
    expect(episode.qaNotes).toContain("The draft never says what this means by 2030.");
    expect(episode.qaNotes).toContain("- Add what the tenders mean for a 2030 plan.");
    expect(await usageRows(episode.id)).toHaveLength(5);
  });

  it("takes invented links out of a revision that still has them, and says so in the notes", async () => {
    const invented = `${DRAFT_TEXT}\n\nA [2025 study](https://invented.example/study) agrees.`;
    script({ research: [RESEARCH], writer: [draft(invented)], qa: [PASS] });
    const episode = await generate(pipeline());
    expect(agents()).toEqual(["research", "writer", "writer"]);
    expect(episode).toMatchObject({ status: "PUBLISHED", qaPassed: false });
    expect(episode.content).toContain("A 2025 study agrees.");
    expect(episode.content).not.toContain("invented.example");
    expect(episode.content).toContain("(https://research.example/outlook)");
    expect(episode.qaNotes).toContain("taken out: https://invented.example/study");
  });

  it("fails when the writer's draft is still empty after the revision, and keeps the spent tokens in the ledger", async () => {
    script({ research: [RESEARCH], writer: [draft("   ")], qa: [PASS] });
    const episode = await generate(pipeline(), { maxAttempts: 1 });
    expect(agents()).toEqual(["research", "writer", "writer"]);
    expect(episode).toMatchObject({ status: "FAILED", failureReason: "The writer's draft was empty, even after a revision" });
    expect((await usageRows(episode.id)).map((row) => row.costGbpMicros)).toEqual([360, 840, 840]);
    const [daily] = await database.db`select cost_gbp_micros from token_usage_daily where organization_id = ${organizationId}`;
    expect(daily.costGbpMicros).toBe(2_040);
  });

  it("fails at once, without retrying, when the model refuses the API key", async () => {
    script({ research: [RESEARCH], writer: [draft()], qa: [PASS] });
    const episode = await generate(pipeline({ LLM_API_KEY: "sk-wrong" }));
    expect(stub.completions.map((r) => r.status)).toEqual([401]);
    expect(episode).toMatchObject({ status: "FAILED", generationAttempts: 1 });
    expect(episode.failureReason).toMatch(/refused the API key \(HTTP 401\): check LLM_API_KEY$/);
    expect(await usageRows(episode.id)).toEqual([]);
  });

  it("gives a model that keeps failing three tries per call, then retries the episode, then fails it with a readable reason", async () => {
    stub.enqueue(...Array.from({ length: 6 }, () => ({ status: 503, message: "overloaded" })));
    script({ research: [RESEARCH], writer: [draft()], qa: [PASS] });
    const episode = await generate(pipeline(), { maxAttempts: 2 });
    expect(stub.completions.map((r) => r.status)).toEqual([503, 503, 503, 503, 503, 503]);
    expect(episode).toMatchObject({
      status: "FAILED",
      generationAttempts: 2,
      failureReason: "The language model did not answer (HTTP 503) after 3 tries",
    });
  });

  it("keeps its lease while a slow model answers, so the reaper leaves a live attempt alone", async () => {
    script({ research: [RESEARCH], writer: [{ ...draft(), delayMs: 2_500 }], qa: [PASS] });
    let reaping = true;
    let reaped = 0;
    const reaper = (async () => {
      while (reaping) {
        reaped += await reapExpiredLeases(database.db, settings);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const episode = await generate(builtinGenerator(llmConfig(), { logger, leaseMs: 1_000, client: { retryBaseMs: 10 } }));
    reaping = false;
    await reaper;
    expect(reaped).toBe(0);
    expect(episode).toMatchObject({ status: "PUBLISHED", generationAttempts: 1, qaPassed: true });
    expect(agents()).toEqual(["research", "writer", "qa"]);
  });

  it("gives up on a run that keeps its lease but outlasts GENERATION_TIMEOUT, and retries it", async () => {
    script({ research: [RESEARCH], writer: [{ ...draft(), delayMs: 4_000 }], qa: [PASS] });
    const episode = await generate(pipeline({ GENERATION_TIMEOUT: "1s" }), { maxAttempts: 2 });
    expect(agents()).toEqual(["research", "writer", "research", "writer"]);
    expect(episode).toMatchObject({
      status: "FAILED",
      generationAttempts: 2,
      failureReason: "No episode within 1 s (GENERATION_TIMEOUT): the language model is too slow",
    });
    expect((await usageRows(episode.id)).map((row) => row.callId)).toEqual([`${episode.id}:1:research:1`, `${episode.id}:2:research:1`]);
  });
});

describe("the built-in pipeline with no language model", () => {
  it("publishes a clearly labelled offline preview at no cost, calling nothing", async () => {
    const generator = selectGenerator(loadConfig({ GENERATION_OFFLINE_STAGE_MS: "0" }));
    const episode = await generate(generator);
    expect(episode).toMatchObject({ status: "PUBLISHED", generatedBy: "builtin", title: "Grid storage: offline preview", sources: [] });
    expect(episode.content).toContain(OFFLINE_NOTICE);
    expect(episode.content).toContain("Focus on durations above four hours.");
    expect(stub.requests).toEqual([]);
    expect(await usageRows(episode.id)).toEqual([]);
  });
});
