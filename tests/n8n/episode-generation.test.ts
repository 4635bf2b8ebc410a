import crypto from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateNow, generationSettings } from "../../app/generation/lifecycle.server";
import { getEpisode, type EpisodeRow } from "../../app/models/episodes.server";
import { CREDENTIAL, WEBHOOK_PATH, WORKFLOW_ID, WORKFLOW_PATH, renderWorkflow } from "../../scripts/build-n8n-workflow.mjs";
import { startAppProcess, type AppProcess } from "../support/app-process";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { newWebhookSecret, signedHeaders } from "../support/fake-n8n";
import { listen } from "../support/http";
import { startN8n, type N8nInstance } from "../support/n8n";
import { startOpenAiStub, type ChatCompletionRequest, type OpenAiStub, type StubReply } from "../support/openai-stub";
import { freePort } from "../support/ports";

/**
 * The shipped workflow in a real n8n 1.123.81, against the built app (its dispatcher and callback route) and a
 * local OpenAI-compatible stub. Run by `npm run test:n8n`, which installs n8n first.
 */

const secret = newWebhookSecret();
const API_KEY = "stub-key";
const PRICES = { prompt: 0.5, completion: 1.5 };

let database: TestDatabase;
let app: AppProcess;
let n8n: N8nInstance;
let stub: OpenAiStub;
let organizationId: string;
let userId: string;

/** What the episode looked like when each agent asked the model: proof of the progress reported before it. */
interface Sighting {
  agent: string;
  episodeId: string;
  stage: string | null;
  percent: number;
  findings: number;
  sources: number;
}
const sightings: Sighting[] = [];

const research = {
  findings: ["Sodium-ion pilots doubled in 2026", "Long-duration storage tenders opened in three markets"],
  sources: [
    { title: "Grid-scale storage outlook", url: "https://example.org/storage-outlook", publisher: "Example Institute", publishedAt: "2026-10-01" },
    { title: "Not a web page", url: "ftp://example.org/file", publisher: null, publishedAt: null },
  ],
};
const usage = { research: [1000, 200], writer: [2000, 800], qa: [1500, 100] } as const;

function agentOf(request: ChatCompletionRequest): "research" | "writer" | "qa" {
  const system = String(request.messages[0]?.content ?? "");
  if (system.includes("research agent")) return "research";
  if (system.includes("writer")) return "writer";
  return "qa";
}

/** The model: answers each agent as a real one would, in the JSON the prompts ask for. */
async function respondAsModel(request: ChatCompletionRequest): Promise<StubReply> {
  const agent = agentOf(request);
  const episodes = await database.db<EpisodeRow[]>`
    select * from episodes where organization_id = ${organizationId} and status = 'GENERATING'`;
  for (const episode of episodes) {
    sightings.push({
      agent,
      episodeId: episode.id,
      stage: episode.generationStage,
      percent: episode.generationPercent,
      findings: episode.generationFindings.length,
      sources: episode.generationSources.length,
    });
  }
  const [promptTokens, completionTokens] = usage[agent];
  const content =
    agent === "research"
      ? JSON.stringify(research)
      : agent === "writer"
        ? "```json\n" +
          JSON.stringify({
            title: "Storage gets long",
            summary: "Long-duration storage moved from pilots to tenders.",
            content: "## Signals\n\nSodium-ion pilots doubled (Grid-scale storage outlook).\n\n## What could follow\n\nCheaper evening power.",
          }) +
          "\n```"
        : JSON.stringify({ passed: true, notes: "Every claim traces to a finding." });
  return { content, promptTokens, completionTokens };
}

async function makeProject(title: string): Promise<string> {
  const [project] = await database.db<{ id: string }[]>`
    insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
    values (${organizationId}, ${userId}, ${title}, 'Watch long-duration storage in the UK.', 'weekly', '{1}', now() + interval '1 day')
    returning id`;
  return project.id;
}

const MAX_ATTEMPTS = 2;

/** "Generate now" by the owner, against the app's database; the app's dispatcher takes it from there. */
async function generate(projectId: string): Promise<string> {
  const owner = { userId, organizationId, role: "owner" as const, label: "owner@example.com" };
  const meta = { ip: null, userAgent: null, requestId: null };
  const result = await generateNow(database.db, owner, projectId, meta, { ...generationSettings(), maxAttempts: MAX_ATTEMPTS });
  if (!result.ok) throw new Error(`not queued: ${result.reason}`);
  return result.episode.id;
}

async function waitForEpisode(episodeId: string, done: (episode: EpisodeRow) => boolean): Promise<EpisodeRow> {
  for (;;) {
    const episode = await getEpisode(database.db, organizationId, episodeId);
    if (episode && done(episode)) return episode;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function receipts(episodeId: string): Promise<{ webhookId: string; eventType: string; response: unknown }[]> {
  return database.db`
    select webhook_id, event_type, response from webhook_receipts
    where source = 'n8n' and webhook_id like ${`n8n_${episodeId}_%`}
    order by received_at, webhook_id`;
}

beforeAll(async () => {
  database = await createTestDatabase();
  const [org] = await database.db<{ id: string }[]>`insert into organizations (name) values ('Acme') returning id`;
  const [user] = await database.db<{ id: string }[]>`
    insert into users (email, name, password_hash) values ('owner@example.com', 'Owner', 'unused') returning id`;
  await database.db`insert into memberships (organization_id, user_id, role) values (${org.id}, ${user.id}, 'owner')`;
  organizationId = org.id;
  userId = user.id;

  stub = await startOpenAiStub({ apiKey: API_KEY, respond: respondAsModel });
  const n8nPort = await freePort();
  const appPort = await freePort();
  [app, n8n] = await Promise.all([
    startAppProcess({
      env: {
        DATABASE_URL: database.url,
        PORT: String(appPort),
        APP_URL: `http://127.0.0.1:${appPort}`,
        GENERATION_WEBHOOK_URL: `http://127.0.0.1:${n8nPort}/webhook/${WEBHOOK_PATH}`,
        GENERATION_WEBHOOK_SECRET: secret,
        GENERATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        GENERATION_RETRY_BASE_MS: "200",
        GENERATION_DISPATCH_TIMEOUT_MS: "60000",
        QUEUE_POLL_INTERVAL_MS: "250",
      },
    }),
    startN8n({
      port: n8nPort,
      workflowFile: WORKFLOW_PATH,
      workflowId: WORKFLOW_ID,
      webhookPath: WEBHOOK_PATH,
      credentials: [{ ...CREDENTIAL, type: "openAiApi", data: { apiKey: API_KEY, url: stub.url } }],
      env: {
        GENERATION_WEBHOOK_SECRET: secret,
        LLM_MODEL: "stub-model",
        LLM_MAX_RETRIES: "0",
        LLM_PRICE_PROMPT_GBP_PER_MTOK: String(PRICES.prompt),
        LLM_PRICE_COMPLETION_GBP_PER_MTOK: String(PRICES.completion),
      },
    }),
  ]);
});

afterAll(async () => {
  await n8n?.stop();
  await app?.stop();
  if (app) await fs.rm(app.dataDir, { recursive: true, force: true });
  await stub?.close();
  await database?.drop();
});

describe("the shipped n8n workflow, in n8n 1.123.81", () => {
  it("is the one scripts/build-n8n-workflow.mjs writes, and holds no secret", async () => {
    const shipped = await fs.readFile(WORKFLOW_PATH, "utf8");
    expect(shipped).toBe(renderWorkflow());
    expect(shipped).not.toMatch(/whsec_[A-Za-z0-9+/=]{8,}|sk-[A-Za-z0-9]{8,}/);
    expect(path.relative(process.cwd(), WORKFLOW_PATH)).toBe(path.join("n8n", "episode-generation.json"));
  });

  it("generates an episode: research, writing and review reported on the way, then published with its token usage", async () => {
    const episodeId = await generate(await makeProject("Grid storage"));
    const episode = await waitForEpisode(episodeId, (e) => e.status === "PUBLISHED" || e.status === "FAILED");

    expect(episode).toMatchObject({
      status: "PUBLISHED",
      generatedBy: "n8n",
      generationAttempts: 1,
      title: "Storage gets long",
      summary: "Long-duration storage moved from pilots to tenders.",
      qaPassed: true,
      qaNotes: "Every claim traces to a finding.",
      generationFindings: research.findings,
    });
    expect(episode.content).toContain("## Signals");
    // The source research could not vouch for (not http) never reaches the episode.
    expect(episode.sources).toEqual([research.sources[0]]);

    // Each agent ran while the episode showed the stage n8n had just reported.
    const seen = sightings.filter((s) => s.episodeId === episodeId).map(({ agent, stage, percent, findings, sources }) => ({ agent, stage, percent, findings, sources }));
    expect(seen).toEqual([
      { agent: "research", stage: "research", percent: 5, findings: 0, sources: 0 },
      { agent: "writer", stage: "writing", percent: 40, findings: 2, sources: 1 },
      { agent: "qa", stage: "review", percent: 75, findings: 2, sources: 1 },
    ]);
    expect((await receipts(episodeId)).map((r) => [r.webhookId.replace(`n8n_${episodeId}_`, ""), r.eventType, r.response])).toEqual([
      ["1_research", "progress", { status: 200, body: { result: "applied", duplicate: false } }],
      ["1_writing", "progress", { status: 200, body: { result: "applied", duplicate: false } }],
      ["1_review", "progress", { status: 200, body: { result: "applied", duplicate: false } }],
      ["1_completed", "completed", { status: 200, body: { result: "applied", duplicate: false } }],
    ]);

    const ledger = await database.db`
      select call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros from token_usage
      where episode_id = ${episodeId} order by prompt_tokens`;
    const micros = ([prompt, completion]: readonly [number, number]) => Math.round(prompt * PRICES.prompt + completion * PRICES.completion);
    expect(ledger).toEqual([
      { callId: `${episodeId}:1:research`, agent: "research", model: "stub-model", promptTokens: 1000, completionTokens: 200, costGbpMicros: micros(usage.research) },
      { callId: `${episodeId}:1:qa`, agent: "qa", model: "stub-model", promptTokens: 1500, completionTokens: 100, costGbpMicros: micros(usage.qa) },
      { callId: `${episodeId}:1:writer`, agent: "writer", model: "stub-model", promptTokens: 2000, completionTokens: 800, costGbpMicros: micros(usage.writer) },
    ]);

    // n8n reached the model through the credential: its base URL, its key, chat completions.
    const calls = stub.completions.filter((c) => c.status === 200);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of calls) {
      expect(call.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(call.body).toMatchObject({ model: "stub-model" });
      expect(call.body?.stream).not.toBe(true);
    }
  });

  it("a model that fails makes n8n report failed: retried, then the episode FAILS with the reason", async () => {
    stub.setRespond(() => ({ status: 500, message: "the model is down" }));
    const episodeId = await generate(await makeProject("Ocean shipping"));
    const episode = await waitForEpisode(episodeId, (e) => e.status === "FAILED" || e.status === "PUBLISHED");
    stub.setRespond(respondAsModel);

    expect(episode.status).toBe("FAILED");
    expect(episode.failureReason).toMatch(/^The research agent failed: /);
    expect(episode.generationErrors.map((e) => e.attempt)).toEqual([1, 2]);
    const failures = (await receipts(episodeId)).filter((r) => r.eventType === "failed");
    expect(failures.map((r) => [r.webhookId.replace(`n8n_${episodeId}_`, ""), r.response])).toEqual([
      ["1_failed", { status: 200, body: { result: "applied", duplicate: false } }],
      ["2_failed", { status: 200, body: { result: "applied", duplicate: false } }],
    ]);
    expect(await database.db`select 1 from token_usage where episode_id = ${episodeId}`).toHaveLength(0);
  });

  it("ignores a dispatch with a wrong or stale signature: only the genuine one calls back", async () => {
    const heard: string[] = [];
    const recorder = http.createServer((req, res) => {
      heard.push(String(req.headers["webhook-id"]));
      req.resume();
      // 409: the genuine run stops at its first report, before spending on a model.
      res.writeHead(409, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "stop", reason: "unknown_episode" }));
    });
    const recorderUrl = await listen(recorder);
    const dispatch = (attempt: number) =>
      JSON.stringify({
        episodeId: crypto.randomUUID(),
        projectId: crypto.randomUUID(),
        organizationId: crypto.randomUUID(),
        attempt,
        brief: "# Forged",
        planningNotes: [],
        recentEpisodes: [],
        callbackUrl: `${recorderUrl}/api/episodes/callback`,
        maxCostGBP: 1,
      });
    const post = (body: string, headers: Record<string, string>) =>
      fetch(n8n.webhookUrl, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });

    const forged = [
      (body: string) => signedHeaders(secret, body, { secret: newWebhookSecret() }),
      (body: string) => signedHeaders(secret, body, { at: new Date(Date.now() - 10 * 60_000) }),
      (body: string) => signedHeaders(secret, body, { omit: ["webhook-signature"] }),
      (body: string) => signedHeaders(secret, body.replace("Forged", "Tampered")),
    ];
    for (const [i, sign] of forged.entries()) {
      const body = dispatch(i + 1);
      // n8n answers on receipt, before the signature is checked.
      expect((await post(body, sign(body))).status).toBe(200);
    }
    const genuine = dispatch(9);
    expect((await post(genuine, signedHeaders(secret, genuine))).status).toBe(200);
    const genuineId = `n8n_${JSON.parse(genuine).episodeId}_9_research`;
    while (!heard.includes(genuineId)) await new Promise((resolve) => setTimeout(resolve, 200));
    recorder.close();
    expect(heard.filter((id) => id === genuineId).length).toBeGreaterThanOrEqual(1);
    expect(heard.filter((id) => id !== genuineId)).toEqual([]);
  });
});
