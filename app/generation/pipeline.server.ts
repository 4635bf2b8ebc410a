import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "~/lib/config.server";
import type { EpisodeActor } from "~/models/episodes.server";
import type { CompletedMessage } from "./contract";
import { GenerationError, type Generator } from "./generator.server";
import { applyProgress, heartbeat, publishGeneration, type ClaimedGeneration } from "./lifecycle.server";
import type { GenerationRequest } from "./contract";

const PIPELINE: EpisodeActor = { kind: "system", label: "built-in pipeline" };

/** The lease the pipeline holds and renews at each step: a dead process's attempt is recovered within it. */
const PIPELINE_LEASE_MS = 60_000;

export const OFFLINE_NOTICE = "Offline preview — configure an LLM or n8n for researched episodes";

/** A clearly labelled preview composed from what the project already knows: no model, no network, no cost. */
export function composeOfflineEpisode(request: GenerationRequest): Omit<CompletedMessage, "type" | "episodeId" | "organizationId" | "attempt"> {
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

/**
 * The built-in pipeline: Research → Writing → Review in this process, reporting progress and publishing through
 * the same functions n8n's callbacks reach. Each step renews the lease; a lost lease stops the run.
 */
export function builtinGenerator(config: Pick<Config, "GENERATION_OFFLINE_STAGE_MS">): Generator {
  const stageMs = config.GENERATION_OFFLINE_STAGE_MS;
  return {
    kind: "builtin",
    leaseMs: PIPELINE_LEASE_MS,
    async run(claim: ClaimedGeneration, { db, signal }) {
      const { episodeId, organizationId, attempt } = claim.request;
      const step = async (stage: "research" | "writing" | "review", percent: number, message: string, extra: { findings?: string[] } = {}) => {
        if (!(await heartbeat(db, claim, PIPELINE_LEASE_MS))) throw new GenerationError("the attempt was taken over after its lease ran out", false);
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
      if (!(await heartbeat(db, claim, PIPELINE_LEASE_MS))) throw new GenerationError("the attempt was taken over after its lease ran out", false);
      const outcome = await db.begin((sql) => publishGeneration(sql, { episodeId, organizationId, attempt, ...episode }, PIPELINE));
      if (!outcome.ok) throw new GenerationError(`the episode could not be published (${outcome.reason})`, false);
      return "finished";
    },
  };
}
