import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "~/lib/config.server";
import type { Db } from "~/lib/db.server";
import { getLogger, type Logger } from "~/lib/logger.server";
import type { EpisodeActor } from "~/models/episodes.server";
import type { CompletedMessage, GenerationRequest } from "./contract";
import { GenerationError, type Generator } from "./generator.server";
import { applyProgress, bookGenerationSpend, heartbeat, publishGeneration, type ClaimedGeneration } from "./lifecycle.server";
import {
  createLlmClient,
  LlmError,
  llmSettings,
  type ChatResult,
  type LlmClient,
  type LlmClientOptions,
  type LlmConfig,
  type LlmSettings,
} from "./llm.server";
import {
  parseDraft,
  parseResearch,
  parseReview,
  researchPrompt,
  reviewPrompt,
  screenLinks,
  writerPrompt,
  type ChatPrompt,
  type Draft,
  type PromptInput,
  type Research,
} from "./prompts";

type Agent = "research" | "writer" | "qa";

const PIPELINE: EpisodeActor = { kind: "system", label: "built-in pipeline" };

/** The lease the pipeline holds and renews at each step: a dead process's attempt is recovered within it. */
const PIPELINE_LEASE_MS = 60_000;

export const OFFLINE_NOTICE = "Offline preview — configure an LLM or n8n for researched episodes";

type EpisodeContent = Omit<CompletedMessage, "type" | "episodeId" | "organizationId" | "attempt">;

/** A clearly labelled preview composed from what the project already knows: no model, no network, no cost. */
export function composeOfflineEpisode(request: GenerationRequest): EpisodeContent {
  const title = request.brief.split("\n")[0].replace(/^#\s*/, "").trim() || "Your project";
  const notes = request.planningNotes.filter((note) => note.trim()).slice(-5);
  const previous = request.recentEpisodes.slice(0, 5);
  const sections = [
    `> ${OFFLINE_NOTICE}.`,
    "## What this brief covers",
    request.brief.replace(/^#.*\n?/, "").trim() || "No brief yet.",
    "## Planning notes",
    notes.length ? notes.map((note) => `- ${note.replace(/\s+/g, " ").slice(0, 300)}`).join("\n") : "No planning notes yet.",
    "## Earlier episodes",
    previous.length ? previous.map((e) => `- **${e.title}**${e.summary ? `: ${e.summary}` : ""}`).join("\n") : "This is the first episode.",
    "## What a researched episode adds",
    "Nothing here was researched: this preview only repeats what the project already holds. With a language model " +
      "configured (LLM_BASE_URL and LLM_MODEL) or an n8n workflow (GENERATION_WEBHOOK_URL), Futura researches recent " +
      "developments with their sources, writes a brief about possible futures and the signposts to watch, and " +
      "reviews it against the research before it is sent.",
  ];
  return {
    title: `${title}: offline preview`,
    summary: `An offline preview for ${title}, composed from the brief and planning notes.`,
    content: sections.join("\n\n"),
    sources: [],
    qa: { passed: true, notes: "Offline preview: no research was done, so there was nothing to check." },
    tokenUsage: [],
  };
}

export { episodeCallLimits, estimateMaxCostGbpMicros } from "./cost.server";

// ——— The review's own checks ———

export interface ReviewOutcome {
  passed: boolean;
  notes: string;
  problems: string[];
}

/**
 * What the app refuses in a draft whatever a reviewer says: an empty draft, one cut off at the token limit, and
 * any link to a source research did not produce.
 */
export function checkDraft(draft: Draft, research: Research, finishReason: string | null): string[] {
  const problems: string[] = [];
  if (!hasBody(draft)) problems.push("The draft is empty.");
  if (finishReason === "length") problems.push("The draft was cut off at the token limit (LLM_MAX_TOKENS_WRITING): write a shorter brief.");
  const { invented } = screenLinks(draft.content, research.sources.map((s) => s.url));
  if (invented.length) {
    problems.push(`The draft links to sources research did not produce: ${invented.slice(0, 5).join(", ")}. Link only to the research's sources.`);
  }
  return problems;
}

function hasBody(draft: Draft): boolean {
  return /[\p{L}\p{N}]/u.test(draft.content);
}

function firstWords(text: string, max: number): string {
  const flat = text.replace(/[#>*_`[\]()]/g, " ").replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

function projectTitle(request: GenerationRequest): string {
  return request.brief.split("\n")[0].replace(/^#\s*/, "").trim() || "Your project";
}

function reviewNotes(review: ReviewOutcome): string {
  const problems = review.problems.map((p) => `- ${p}`).join("\n");
  return [review.notes.trim(), problems].filter(Boolean).join("\n\n");
}

// ——— The run ———

export interface PipelineOptions {
  /** Where a model missing from LLM_PRICES is reported (once); the process logger by default. */
  logger?: Pick<Logger, "warn" | "error">;
  /** The lease held and renewed while running; one minute by default (tests shorten it). */
  leaseMs?: number;
  /** Retry tuning for the model client (tests shorten the backoff). */
  client?: Omit<LlmClientOptions, "logger">;
}

/**
 * Renews the lease every quarter of it while a run is in progress, so a slow model call never looks like a dead
 * process; `signal` aborts once the lease is lost or the app stops.
 */
function keepLease(db: Db, claim: ClaimedGeneration, leaseMs: number, outer: AbortSignal, logger: Pick<Logger, "error">) {
  const lost = new AbortController();
  const timer = setInterval(() => {
    heartbeat(db, claim, leaseMs).then(
      (held) => {
        if (!held) lost.abort();
      },
      (error: unknown) => logger.error({ err: error, episodeId: claim.episode.id }, "could not renew the pipeline's lease"),
    );
  }, leaseMs / 4);
  return {
    signal: AbortSignal.any([outer, lost.signal]),
    get lost() {
      return lost.signal.aborted;
    },
    stop: () => clearInterval(timer),
  };
}

const leaseLost = () => new GenerationError("the attempt was taken over after its lease ran out", false);

async function runOffline(claim: ClaimedGeneration, db: Db, signal: AbortSignal, stageMs: number, leaseMs: number): Promise<"finished"> {
  const { episodeId, organizationId, attempt } = claim.request;
  const step = async (stage: "research" | "writing" | "review", percent: number, message: string, extra: { findings?: string[] } = {}) => {
    if (!(await heartbeat(db, claim, leaseMs))) throw leaseLost();
    await db.begin((sql) => applyProgress(sql, { episodeId, organizationId, attempt, stage, percent, message, ...extra }));
    await sleep(stageMs, undefined, { signal }).catch(() => {
      throw new GenerationError("the app stopped during generation", true);
    });
  };
  const episode = composeOfflineEpisode(claim.request);
  await step("research", 10, "Gathering what the project already knows");
  await step("research", 33, "Read the brief and planning notes", {
    findings: [
      `Brief: ${claim.request.brief.split("\n").find((line) => line.trim() && !line.startsWith("#"))?.slice(0, 200) ?? "none yet"}`,
      `${claim.request.planningNotes.length} planning note${claim.request.planningNotes.length === 1 ? "" : "s"} and ${claim.request.recentEpisodes.length} earlier episode${claim.request.recentEpisodes.length === 1 ? "" : "s"}`,
    ],
  });
  await step("writing", 66, "Writing the offline preview");
  await step("review", 90, "Checking the draft against the brief");
  if (!(await heartbeat(db, claim, leaseMs))) throw leaseLost();
  const outcome = await db.begin((sql) => publishGeneration(sql, { episodeId, organizationId, attempt, ...episode }, PIPELINE));
  if (!outcome.ok) throw new GenerationError(`the episode could not be published (${outcome.reason})`, false);
  return "finished";
}

/**
 * Research → Writing → Review with a language model. Research's findings and sources are shown as soon as they
 * arrive. The review is the model's verdict plus the app's own checks (checkDraft); a failed review gets one
 * revision, and a second failure is published with the notes for the owners (links research did not produce
 * taken out), unless the draft is empty. Every call's tokens and cost are recorded, on failure too.
 */
async function runResearched(run: {
  client: LlmClient;
  settings: LlmSettings;
  claim: ClaimedGeneration;
  db: Db;
  outer: AbortSignal;
  leaseMs: number;
  timeoutMs: number;
  logger: Pick<Logger, "warn" | "error">;
}): Promise<"finished"> {
  const { client, settings, claim, db, outer, leaseMs, logger } = run;
  const { request } = claim;
  const { episodeId, organizationId, attempt } = request;
  const input: PromptInput = request;
  const calls: (ChatResult & { agent: Agent })[] = [];
  let published = false;
  // A run that keeps its lease (slow but alive) still ends within the generation timeout, as n8n's runs do.
  const deadline = AbortSignal.timeout(run.timeoutMs);
  const lease = keepLease(db, claim, leaseMs, AbortSignal.any([outer, deadline]), logger);

  const report = async (stage: "research" | "writing" | "review", percent: number, message: string, extra: Partial<Research> = {}) => {
    if (!(await heartbeat(db, claim, leaseMs))) throw leaseLost();
    await db.begin((sql) => applyProgress(sql, { episodeId, organizationId, attempt, stage, percent, message, ...extra }));
  };

  const ask = async (agent: Agent, n: number, call: { messages: ChatPrompt[]; maxTokens: number; temperature: number; json?: boolean }) => {
    try {
      const result = await client.chat({ ...call, callId: `${episodeId}:${attempt}:${agent}:${n}`, signal: lease.signal });
      calls.push({ ...result, agent });
      return result;
    } catch (error) {
      if (lease.lost) throw leaseLost();
      if (outer.aborted) throw new GenerationError("the app stopped during generation", true);
      if (deadline.aborted) {
        const minutes = run.timeoutMs / 60_000;
        const limit = minutes >= 1 ? `${Math.round(minutes)} minute${Math.round(minutes) === 1 ? "" : "s"}` : `${Math.round(run.timeoutMs / 1000)} s`;
        throw new GenerationError(`No episode within ${limit} (GENERATION_TIMEOUT): the language model is too slow`, true);
      }
      if (error instanceof LlmError) throw new GenerationError(error.message, error.retryable);
      throw error;
    }
  };

  const review = async (research: Research, draft: Draft, finishReason: string | null, n: number): Promise<ReviewOutcome> => {
    const refused = checkDraft(draft, research, finishReason);
    // The app's refusal stands whatever a reviewer would say: no call is spent on a draft that cannot pass.
    if (refused.length) return { passed: false, notes: "The app refused the draft before review.", problems: refused };
    const answer = await ask("qa", n, { messages: reviewPrompt(input, research, draft.content), maxTokens: settings.maxTokens.review, temperature: 0, json: true });
    return parseReview(answer.text);
  };

  try {
    await report("research", 5, "Researching recent developments");
    const researchAnswer = await ask("research", 1, { messages: researchPrompt(input), maxTokens: settings.maxTokens.research, temperature: 0.3, json: true });
    const parsed = parseResearch(researchAnswer.text);
    if (!parsed.ok) {
      const cutOff = researchAnswer.finishReason === "length" ? ", cut off at LLM_MAX_TOKENS_RESEARCH" : "";
      throw new GenerationError(`The research step's answer could not be used (${parsed.reason}${cutOff})`, true);
    }
    const research: Research = { findings: parsed.findings, sources: parsed.sources };
    await report(
      "research",
      30,
      `Found ${research.findings.length} finding${research.findings.length === 1 ? "" : "s"} and ${research.sources.length} source${research.sources.length === 1 ? "" : "s"}`,
      research,
    );

    await report("writing", 40, "Writing the brief");
    let answer = await ask("writer", 1, { messages: writerPrompt(input, research), maxTokens: settings.maxTokens.writing, temperature: 0.7 });
    let draft = parseDraft(answer.text);
    await report("review", 70, "Checking the draft against the brief and the research");
    let verdict = await review(research, draft, answer.finishReason, 1);
    let revised = false;
    if (!verdict.passed) {
      revised = true;
      await report("writing", 80, "Revising the draft with the reviewer's notes");
      answer = await ask("writer", 2, {
        messages: writerPrompt(input, research, { draft: draft.title ? `# ${draft.title}\n\n${draft.content}` : draft.content, review: verdict }),
        maxTokens: settings.maxTokens.writing,
        temperature: 0.5,
      });
      draft = parseDraft(answer.text);
      await report("review", 90, "Checking the revised draft");
      verdict = await review(research, draft, answer.finishReason, 2);
    }
    if (!hasBody(draft)) throw new GenerationError("The writer's draft was empty, even after a revision", true);

    let content = draft.content;
    let notes = reviewNotes(verdict);
    if (!verdict.passed) {
      const screened = screenLinks(content, research.sources.map((s) => s.url));
      content = screened.cleaned;
      if (screened.invented.length) notes += `\n\nLinks to sources research did not produce were taken out: ${screened.invented.join(", ")}`;
      notes = `Published without passing review, after one revision.\n\n${notes}`;
    } else if (revised) {
      notes = `Passed review after one revision.${notes ? `\n\n${notes}` : ""}`;
    }

    const episode: EpisodeContent = {
      title: draft.title ?? `${projectTitle(request)}: ${new Date().toISOString().slice(0, 10)}`,
      summary: draft.summary ?? firstWords(content, 300),
      content,
      sources: research.sources,
      qa: { passed: verdict.passed, notes: notes.slice(0, 5_000) },
      tokenUsage: calls.map((call) => ({
        callId: call.callId,
        agent: call.agent,
        model: call.model,
        promptTokens: call.promptTokens,
        completionTokens: call.completionTokens,
        costGBP: call.costGbpMicros / 1_000_000,
      })),
    };
    if (!(await heartbeat(db, claim, leaseMs))) throw leaseLost();
    const outcome = await db.begin((sql) => publishGeneration(sql, { episodeId, organizationId, attempt, ...episode }, PIPELINE));
    if (!outcome.ok) throw new GenerationError(`the episode could not be published (${outcome.reason})`, false);
    published = true;
    return "finished";
  } finally {
    lease.stop();
    // Tokens spent on an attempt that did not publish are still spent: the ledger has them (once per call id).
    if (!published && calls.length) {
      await db
        .begin((sql) =>
          bookGenerationSpend(
            sql,
            {
              organizationId,
              episodeId,
              attempt,
              calls: calls.map((call) => ({
                callId: call.callId,
                agent: call.agent,
                model: call.model,
                promptTokens: call.promptTokens,
                completionTokens: call.completionTokens,
                costGbpMicros: call.costGbpMicros,
              })),
            },
            { settle: false },
          ),
        )
        .catch((error: unknown) => logger.error({ err: error, episodeId }, "could not record the model calls of a failed attempt"));
    }
  }
}

/**
 * The built-in pipeline: Research → Writing → Review in this process, reporting progress and publishing through
 * the same functions n8n's callbacks reach. With LLM_BASE_URL and LLM_MODEL each stage asks the language model;
 * without them an offline preview is written. Each step renews the lease; a lost lease stops the run.
 */
export function builtinGenerator(
  config: Pick<Config, "GENERATION_OFFLINE_STAGE_MS"> & Partial<LlmConfig> & Partial<Pick<Config, "GENERATION_TIMEOUT">>,
  options: PipelineOptions = {},
): Generator {
  const settings = llmSettings(config);
  const logger = settings ? (options.logger ?? getLogger()) : undefined;
  const client = settings ? createLlmClient(settings, { ...options.client, logger }) : undefined;
  const leaseMs = options.leaseMs ?? PIPELINE_LEASE_MS;
  return {
    kind: "builtin",
    leaseMs,
    async run(claim: ClaimedGeneration, { db, signal }) {
      if (client && settings && logger) {
        const timeoutMs = config.GENERATION_TIMEOUT ?? 10 * 60_000;
        return runResearched({ client, settings, claim, db, outer: signal, leaseMs, timeoutMs, logger });
      }
      return runOffline(claim, db, signal, config.GENERATION_OFFLINE_STAGE_MS, leaseMs);
    },
  };
}
