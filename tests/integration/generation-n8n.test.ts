import http from "node:http";
import { openNotificationListener, type NotificationListener } from "../../app/lib/notifications.server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CallbackMessage, GenerationRequest } from "../../app/generation/contract";
import { claimNextGeneration, generateNow, type GenerationSettings } from "../../app/generation/lifecycle.server";
import { CALLBACK_BODY_LIMIT, handleCallback, n8nGenerator } from "../../app/generation/n8n.server";
import { generationDispatcher } from "../../app/jobs/generation.server";
import type { RunningWorker } from "../../app/jobs/workers.server";
import { setDb } from "../../app/lib/db.server";
import { createLogger } from "../../app/lib/logger.server";
import { getEpisode, type EpisodeRow } from "../../app/models/episodes.server";
import { startEdgeApp, type EdgeApp } from "../support/edge";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertOwner } from "../support/episodes";
import {
  completedMessage,
  newWebhookSecret,
  progressMessages,
  researchSources,
  signedHeaders,
  startFakeN8n,
  type FakeN8n,
} from "../support/fake-n8n";
import { freePort } from "../support/ports";

/**
 * n8n in production, played by a local fake that speaks its protocol: the real dispatcher signs and POSTs each
 * attempt to it, and it calls the real callback route of the built app, over HTTP, with signed reports.
 */

const secret = newWebhookSecret();
// The built route reads its configuration from the environment the first time it is called.
process.env.LOG_LEVEL = "silent";
process.env.GENERATION_WEBHOOK_SECRET = secret;
process.env.GENERATION_RETRY_BASE_MS = "20";

const logger = createLogger("silent");
const meta = { ip: null, userAgent: null, requestId: null };

let database: TestDatabase;
let app: EdgeApp;
let fake: FakeN8n;
let callbackUrl: string;
let organizationId: string;
let userId: string;
const dispatchers: RunningWorker[] = [];
let notifications: NotificationListener | undefined;

const settings = (): GenerationSettings => ({
  maxAttempts: 3,
  timeoutMs: 60_000,
  dispatchTimeoutMs: 2_000,
  retryBaseMs: 40,
  callbackUrl,
  maxCostGbpMicros: 1_000_000,
});

beforeAll(async () => {
  database = await createTestDatabase();
  setDb(database.db);
  app = await startEdgeApp();
  callbackUrl = `${app.baseUrl}/api/episodes/callback`;
  ({ organizationId, userId } = await insertOwner(database.db));
});
afterAll(async () => {
  await notifications?.close();
  await app.close();
  await database.drop();
});
beforeEach(async () => {
  fake = await startFakeN8n(secret);
});
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.stop()));
  await fake.idle();
  await fake.close();
});

async function makeProject(title = "Grid storage"): Promise<string> {
  const [project] = await database.db<{ id: string }[]>`
    insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days, next_scheduled_at)
    values (${organizationId}, ${userId}, ${title}, 'Watch long-duration storage.', 'weekly', '{1}', now() + interval '1 day')
    returning id`;
  return project.id;
}

/** "Generate now" by the owner: a QUEUED episode with its pending job. */
async function queueEpisode(projectId?: string): Promise<EpisodeRow> {
  const result = await generateNow(database.db, { userId, organizationId, role: "owner", label: "owner@example.com" }, projectId ?? (await makeProject()), meta, settings());
  if (!result.ok) throw new Error(`not queued: ${result.reason}`);
  return result.episode;
}

/** A GENERATING episode at attempt 1, claimed by hand, and the request n8n would have received. */
async function generatingEpisode(): Promise<GenerationRequest> {
  const episode = await queueEpisode();
  const claimed = await claimNextGeneration(database.db, { owner: "test", leaseMs: 60_000, generatedBy: "n8n" }, settings());
  if (claimed.kind !== "claimed" || claimed.claim.episode.id !== episode.id) throw new Error("not claimed");
  return claimed.claim.request;
}

async function startDispatcher(webhookUrl: string, overrides: Partial<GenerationSettings> = {}): Promise<void> {
  const generationSettings = { ...settings(), ...overrides };
  const dispatcher = await generationDispatcher({
    generator: n8nGenerator({ webhookUrl, secret, dispatchTimeoutMs: generationSettings.dispatchTimeoutMs }),
    settings: generationSettings,
    concurrency: 4,
    pollIntervalMs: 25,
  }).start({
    db: database.db,
    directUrl: database.url,
    logger,
    notifications: (notifications ??= openNotificationListener({ directUrl: database.url, logger })),
  });
  dispatchers.push(dispatcher);
}

async function waitForEpisode(episodeId: string, done: (episode: EpisodeRow) => boolean): Promise<EpisodeRow> {
  for (;;) {
    const episode = await getEpisode(database.db, organizationId, episodeId);
    if (episode && done(episode)) return episode;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function auditActions(episodeId: string): Promise<string[]> {
  const rows = await database.db<{ action: string }[]>`
    select action from audit_log where target_type = 'episode' and target_id = ${episodeId} order by created_at, id`;
  return rows.map((row) => row.action);
}

/** Everything a callback could change about an episode, to show that a refused one changed nothing. */
async function snapshot(episodeId: string) {
  const [row] = await database.db`
    select
      (select version from episodes where id = ${episodeId}) as version,
      (select count(*)::int from webhook_receipts where source = 'n8n') as receipts,
      (select count(*)::int from audit_log where target_id = ${episodeId}) as audits,
      (select count(*)::int from token_usage where episode_id = ${episodeId}) as ledger`;
  return row;
}

function post(body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(callbackUrl, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
}

/**
 * POSTs chunk after chunk until the server answers or `chunks` are sent: chunked, or with a declared
 * Content-Length for the whole. A plain node:http client, because it reads an early answer while its upload is
 * still going (fetch may report the closed connection instead).
 */
function uploadUntilAnswered(
  headers: Record<string, string>,
  chunkBytes: number,
  chunks: number,
  options: { declareLength?: boolean } = {},
): Promise<{ status: number; body: string; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    const length = options.declareLength ? { "Content-Length": String(chunkBytes * chunks) } : {};
    const req = http.request(callbackUrl, { method: "POST", headers: { "Content-Type": "application/json", ...length, ...headers } }, (res) => {
      answered = true;
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body, sentBytes }));
    });
    req.on("error", (error) => (answered ? undefined : reject(error)));
    const chunk = Buffer.alloc(chunkBytes, "x");
    const writeNext = () => {
      if (answered || req.destroyed) return;
      if (sentBytes >= chunkBytes * chunks) return void req.end();
      sentBytes += chunkBytes;
      if (req.write(chunk)) setImmediate(writeNext);
      else req.once("drain", writeNext);
    };
    writeNext();
  });
}

describe("generation through n8n, end to end", () => {
  it("dispatches a signed request, takes signed progress and the completion, and publishes once with its ledger", async () => {
    const projectId = await makeProject("Grid storage");
    await database.db`
      insert into planning_notes (organization_id, project_id, author_user_id, body)
      values (${organizationId}, ${projectId}, ${userId}, 'Focus on the UK market.')`;
    const queued = await queueEpisode(projectId);
    await startDispatcher(fake.url);

    const episode = await waitForEpisode(queued.id, (e) => e.status === "PUBLISHED");
    await fake.idle();

    expect(fake.rejectedDispatches).toBe(0);
    expect(fake.dispatches).toHaveLength(1);
    expect(fake.dispatches[0].webhookId).toBe(`dispatch_${queued.id}_1`);
    expect(fake.dispatches[0].request).toEqual({
      episodeId: queued.id,
      projectId,
      organizationId,
      attempt: 1,
      brief: "# Grid storage\n\nWatch long-duration storage.",
      planningNotes: ["Focus on the UK market."],
      recentEpisodes: [],
      callbackUrl,
      maxCostGBP: 1,
    });
    // Every report arrived while the episode was generating, and was applied, in order.
    expect(fake.callbacks.map((c) => [c.message.type, c.status, c.body])).toEqual([
      ...progressMessages(fake.dispatches[0].request).map(() => ["progress", 200, { result: "applied", duplicate: false }]),
      ["completed", 200, { result: "applied", duplicate: false }],
    ]);
    expect(episode).toMatchObject({
      status: "PUBLISHED",
      title: "Storage gets long",
      generatedBy: "n8n",
      generationAttempts: 1,
      qaPassed: true,
      readingMinutes: 1,
      generationFindings: ["Sodium-ion pilots doubled in 2026", "Long-duration storage tenders opened in three markets"],
      generationSources: researchSources,
      sources: researchSources,
    });
    expect(await auditActions(queued.id)).toEqual(["episode.queued", "episode.generating", "episode.published"]);

    const ledger = await database.db`select call_id, agent, cost_gbp_micros from token_usage where episode_id = ${queued.id} order by agent`;
    expect(ledger).toEqual([
      { callId: `${queued.id}:1:qa`, agent: "qa", costGbpMicros: 1_200 },
      { callId: `${queued.id}:1:research`, agent: "research", costGbpMicros: 2_100 },
      { callId: `${queued.id}:1:writer`, agent: "writer", costGbpMicros: 4_400 },
    ]);
    const [job] = await database.db`select status, attempts from episode_schedule_queue where episode_id = ${queued.id}`;
    expect(job).toEqual({ status: "completed", attempts: 1 });
    const receipts = await database.db`
      select event_type, organization_id from webhook_receipts where source = 'n8n' and webhook_id = any(${fake.callbacks.map((c) => c.webhookId)})`;
    expect(receipts).toHaveLength(5);
    expect(new Set(receipts.map((r) => r.organizationId))).toEqual(new Set([organizationId]));
    const drafts = await database.db`select 1 from episodes where project_id = ${projectId} and status = 'DRAFT'`;
    expect(drafts).toHaveLength(1);
  });

  const failures = [
    { name: "refuses connections", reason: "n8n refused the connection", setUp: async () => `http://127.0.0.1:${await freePort()}/webhook/x` },
    {
      name: "answers 500",
      reason: "n8n answered 500 Internal Server Error",
      setUp: async () => {
        fake.behave(() => ({ kind: "status", status: 500 }));
        return fake.url;
      },
    },
    {
      name: "does not answer in time",
      reason: "n8n did not answer within 300 ms",
      setUp: async () => {
        fake.behave(() => ({ kind: "hang" }));
        return fake.url;
      },
    },
  ];
  it.each(failures)("n8n that $name is retried with backoff, then the episode FAILS with a readable reason", async ({ reason, setUp, name }) => {
    const queued = await queueEpisode();
    const retryBaseMs = 40;
    await startDispatcher(await setUp(), { dispatchTimeoutMs: 300, retryBaseMs });

    const episode = await waitForEpisode(queued.id, (e) => e.status === "FAILED");
    expect(episode.failureReason).toBe(reason);
    expect(episode.generationErrors.map((e) => [e.attempt, e.reason])).toEqual([
      [1, reason],
      [2, reason],
      [3, reason],
    ]);
    expect(await auditActions(queued.id)).toEqual([
      "episode.queued",
      "episode.generating",
      "episode.retry_scheduled",
      "episode.generating",
      "episode.retry_scheduled",
      "episode.generating",
      "episode.failed",
    ]);
    // Backoff: each retry waited at least half of base · 2^(attempt − 1) (the jitter's floor) after its failure.
    const at = episode.generationErrors.map((e) => new Date(e.at).getTime());
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(retryBaseMs / 2);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(retryBaseMs);
    const [job] = await database.db`select status, attempts, last_error from episode_schedule_queue where episode_id = ${queued.id}`;
    expect(job).toEqual({ status: "failed", attempts: 3, lastError: reason });
    if (name !== "refuses connections") expect(fake.dispatches.map((d) => d.request.attempt)).toEqual([1, 2, 3]);
  });

  it("n8n's own failed report ends the attempt: retried when retryable, then published by the next attempt", async () => {
    const queued = await queueEpisode();
    fake.behave((_request, index) => (index === 0 ? { kind: "fail", error: "The research model was overloaded.", retryable: true } : { kind: "complete" }));
    await startDispatcher(fake.url);

    const episode = await waitForEpisode(queued.id, (e) => e.status === "PUBLISHED");
    await fake.idle();
    expect(episode.generationAttempts).toBe(2);
    expect(episode.generationErrors.map((e) => [e.attempt, e.reason])).toEqual([[1, "The research model was overloaded."]]);
    expect(fake.dispatches.map((d) => d.request.attempt)).toEqual([1, 2]);
    const ledger = await database.db<{ callId: string }[]>`select call_id from token_usage where episode_id = ${queued.id}`;
    expect(ledger.map((row) => row.callId).sort()).toEqual([`${queued.id}:2:qa`, `${queued.id}:2:research`, `${queued.id}:2:writer`]);
  });

  it("a failed report that is not worth retrying fails the episode at once with n8n's reason", async () => {
    const queued = await queueEpisode();
    fake.behave(() => ({ kind: "fail", error: "The brief breaks the content policy.", retryable: false }));
    await startDispatcher(fake.url);

    const episode = await waitForEpisode(queued.id, (e) => e.status === "FAILED");
    await fake.idle();
    expect(episode.failureReason).toBe("The brief breaks the content policy.");
    expect(fake.dispatches).toHaveLength(1);
    expect(fake.callbacks.at(-1)).toMatchObject({ status: 200, body: { result: "applied" } });
  });
});

describe("the callback route", () => {
  it("a resent callback gets the first answer back; a duplicate under a new id changes nothing", async () => {
    const request = await generatingEpisode();
    const completed = completedMessage(request);
    expect(await fake.send(callbackUrl, completed, { webhookId: "msg_first" })).toEqual({ status: 200, body: { result: "applied", duplicate: false } });
    const before = await snapshot(request.episodeId);
    expect(await fake.send(callbackUrl, completed, { webhookId: "msg_first" })).toEqual({ status: 200, body: { result: "applied", duplicate: true } });
    expect(await fake.send(callbackUrl, completed, { webhookId: "msg_second" })).toEqual({
      status: 200,
      body: { result: "already_published", duplicate: false },
    });
    expect(await snapshot(request.episodeId)).toEqual({ ...before, receipts: before.receipts + 1 });
    expect(await auditActions(request.episodeId)).toEqual(["episode.queued", "episode.generating", "episode.published"]);
  });

  it("50 completions at once, resent and duplicated, publish once with one set of ledger rows", async () => {
    const request = await generatingEpisode();
    const completed = completedMessage(request);
    const [dailyBefore] = await database.db`
      select coalesce(sum(prompt_tokens), 0)::int as prompt_tokens, coalesce(sum(cost_gbp_micros), 0)::int as cost
      from token_usage_daily where organization_id = ${organizationId}`;

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fake.send(callbackUrl, completed, { webhookId: i % 2 ? "msg_resent" : `msg_copy_${i}` })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const bodies = results.map((r) => r.body as { result: string; duplicate: boolean });
    expect(bodies.filter((b) => b.result === "applied" && !b.duplicate)).toHaveLength(1);
    expect(bodies.filter((b) => b.result !== "applied" && b.result !== "already_published")).toEqual([]);

    expect((await auditActions(request.episodeId)).filter((a) => a === "episode.published")).toHaveLength(1);
    const ledger = await database.db`select count(*)::int as calls from token_usage where episode_id = ${request.episodeId}`;
    expect(ledger[0].calls).toBe(3);
    const [dailyAfter] = await database.db`
      select sum(prompt_tokens)::int as prompt_tokens, sum(cost_gbp_micros)::int as cost
      from token_usage_daily where organization_id = ${organizationId}`;
    expect(dailyAfter.promptTokens - dailyBefore.promptTokens).toBe(1200 + 2000 + 1500);
    expect(dailyAfter.cost - dailyBefore.cost).toBe(2_100 + 4_400 + 1_200);
    const [receipts] = await database.db`
      select count(*)::int as n from webhook_receipts where webhook_id = 'msg_resent' or webhook_id like 'msg_copy_%'`;
    expect(receipts.n).toBe(26);
  });

  it("reports out of order: late progress never rewinds, and nothing after the final state changes it", async () => {
    const request = await generatingEpisode();
    const [research, withFindings, writing] = progressMessages(request);
    expect((await fake.send(callbackUrl, writing)).body).toEqual({ result: "applied", duplicate: false });
    expect((await fake.send(callbackUrl, withFindings)).body).toEqual({ result: "applied", duplicate: false });
    const running = await getEpisode(database.db, organizationId, request.episodeId);
    expect(running).toMatchObject({ generationPercent: 60, generationFindings: (withFindings as { findings: string[] }).findings });

    expect((await fake.send(callbackUrl, completedMessage(request))).body).toEqual({ result: "applied", duplicate: false });
    const published = await snapshot(request.episodeId);
    expect((await fake.send(callbackUrl, research)).body).toEqual({ result: "ignored", duplicate: false });
    const failed: CallbackMessage = { type: "failed", ...envelope(request), error: "late", retryable: false };
    expect((await fake.send(callbackUrl, failed)).body).toEqual({ result: "ignored", duplicate: false });
    expect(await snapshot(request.episodeId)).toEqual({ ...published, receipts: published.receipts + 2 });
    expect(await getEpisode(database.db, organizationId, request.episodeId)).toMatchObject({ status: "PUBLISHED", generationPercent: 100 });
  });

  it("refuses a missing, wrong, tampered or stale signature with 401 and changes nothing", async () => {
    const request = await generatingEpisode();
    const body = JSON.stringify(completedMessage(request));
    const before = await snapshot(request.episodeId);
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    const attempts: Record<string, string>[] = [
      {},
      signedHeaders(secret, body, { omit: ["webhook-signature"] }),
      signedHeaders(secret, body, { omit: ["webhook-id"] }),
      signedHeaders(secret, body, { omit: ["webhook-timestamp"] }),
      signedHeaders(secret, body, { secret: newWebhookSecret() }),
      signedHeaders(secret, body.replace("Storage gets long", "Storage gets short")),
      signedHeaders(secret, body, { at: minutes(-6) }),
      signedHeaders(secret, body, { at: minutes(6) }),
      { ...signedHeaders(secret, body), "webhook-signature": "v1,AAAA" },
    ];
    for (const [i, headers] of attempts.entries()) {
      const response = await post(body, headers);
      expect(response.status, `attempt ${i}`).toBe(401);
      expect((await response.json()).error).toMatch(/signature/);
    }
    expect(await snapshot(request.episodeId)).toEqual(before);
    // The same message, properly signed, goes through: the refusals were about the signature alone.
    expect((await post(body, signedHeaders(secret, body))).status).toBe(200);
  });

  it("refuses a body over 1 MB with 413 without reading it, declared or streamed", async () => {
    const request = await generatingEpisode();
    const before = await snapshot(request.episodeId);
    const tooLarge = { status: 413, body: JSON.stringify({ error: "The body is larger than 1 MB." }) };
    const total = 256 * 64 * 1024;

    // Declared: refused on the Content-Length alone, long before the 16 MB could arrive.
    const declared = await uploadUntilAnswered(signedHeaders(secret, "irrelevant"), 64 * 1024, 256, { declareLength: true });
    expect(declared).toMatchObject(tooLarge);
    expect(declared.sentBytes).toBeLessThan(total);

    // Streamed with no Content-Length: the route counts bytes as they come and answers once past the limit,
    // while the sender still has most of its 16 MB to go.
    const streamed = await uploadUntilAnswered(signedHeaders(secret, "irrelevant"), 64 * 1024, 256);
    expect(streamed).toMatchObject(tooLarge);
    expect(streamed.sentBytes).toBeLessThan(total);
    expect(await snapshot(request.episodeId)).toEqual(before);

    // Exactly at the limit the body is read and judged: signed junk of 1 MB is a bad message, not too large.
    const atLimit = JSON.stringify({ padding: "y".repeat(CALLBACK_BODY_LIMIT - 14) });
    expect(Buffer.byteLength(atLimit)).toBe(CALLBACK_BODY_LIMIT);
    expect((await post(atLimit, signedHeaders(secret, atLimit))).status).toBe(400);
  });

  it("answers a signed but bad body with 400 naming the field, and changes nothing", async () => {
    const request = await generatingEpisode();
    const completed = completedMessage(request) as Record<string, unknown>;
    const before = await snapshot(request.episodeId);
    const cases: [unknown, string][] = [
      [{ ...completed, title: undefined }, "title"],
      [{ ...completed, type: "finished" }, "type"],
      [{ ...completed, episodeId: "not-a-uuid" }, "episodeId"],
      [{ ...completed, attempt: 0 }, "attempt"],
      [{ ...completed, sources: [{ title: "x", url: "javascript:alert(1)" }] }, "sources"],
      [{ ...completed, tokenUsage: [{ callId: "c", agent: "writer", model: "m", promptTokens: -1, completionTokens: 0, costGBP: 0 }] }, "tokenUsage"],
      [{ ...progressMessages(request)[0], stage: "drafting" }, "stage"],
      [{ ...progressMessages(request)[0], message: "x".repeat(501) }, "message"],
      [[1, 2, 3], "form"],
    ];
    for (const [message, field] of cases) {
      const result = await fake.send(callbackUrl, message);
      expect(result.status, field).toBe(400);
      expect(result.body).toMatchObject({ error: expect.any(String), fields: { [field]: expect.any(String) } });
    }
    // Valid to the schema, refused by PostgreSQL (a lone surrogate in a jsonb value): still the sender's 400.
    const unstorable = await fake.send(callbackUrl, { ...completed, sources: [{ title: "\ud800", url: "https://example.org/x" }] });
    expect(unstorable).toEqual({ status: 400, body: { error: expect.any(String), fields: { body: expect.any(String) } } });
    const notJson = "{ not json";
    const response = await post(notJson, signedHeaders(secret, notJson));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "The body is not valid JSON.", fields: { body: "must be a JSON object" } });
    expect(await snapshot(request.episodeId)).toEqual(before);
  });

  it("answers a callback for an unknown episode, another organization's, or a stale attempt with 409 and a reason", async () => {
    const request = await generatingEpisode();
    const [other] = await database.db<{ id: string }[]>`insert into organizations (name) values ('Other') returning id`;
    const before = await snapshot(request.episodeId);
    const completed = completedMessage(request);
    const cases: [CallbackMessage, string][] = [
      [{ ...completed, episodeId: "00000000-0000-4000-8000-000000000000" }, "unknown_episode"],
      [{ ...completed, organizationId: other.id }, "unknown_episode"],
      [{ ...completed, attempt: 2 }, "stale_attempt"],
      [{ ...progressMessages(request)[0], attempt: 2 }, "stale_attempt"],
      [{ type: "failed", ...envelope(request), attempt: 3, error: "x", retryable: true }, "stale_attempt"],
    ];
    for (const [message, reason] of cases) {
      expect(await fake.send(callbackUrl, message)).toEqual({ status: 409, body: { error: expect.any(String), reason } });
    }
    // Only the receipts are new (so a resend gets the same 409); the episode is untouched.
    expect(await snapshot(request.episodeId)).toEqual({ ...before, receipts: before.receipts + cases.length });
  });

  it("takes only POST", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const response = await fetch(callbackUrl, { method, ...(method === "GET" ? {} : { body: "{}" }) });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("Allow")).toBe("POST");
    }
  });

  it("can be called without HTTP: the same rules in handleCallback", async () => {
    const request = await generatingEpisode();
    const body = JSON.stringify(progressMessages(request)[1]);
    const callbackSettings = { secret, settings: settings() };
    expect(await handleCallback(database.db, body, new Headers(), callbackSettings)).toMatchObject({ status: 401 });
    expect(await handleCallback(database.db, body, new Headers(signedHeaders(secret, body)), callbackSettings)).toEqual({
      status: 200,
      body: { result: "applied", duplicate: false },
    });
  });
});

function envelope(request: GenerationRequest) {
  return { episodeId: request.episodeId, organizationId: request.organizationId, attempt: request.attempt };
}
