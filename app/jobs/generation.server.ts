import crypto from "node:crypto";
import os from "node:os";
import { GenerationError, type Generator } from "~/generation/generator.server";
import {
  acknowledgeDispatches,
  claimGenerations,
  dispatchFailed,
  queueDueProjects,
  reapExpiredLeases,
  type ClaimedGeneration,
  type GenerationSettings,
} from "~/generation/lifecycle.server";
import { QUEUE_CHANNEL } from "~/models/generation-jobs.server";
import { periodicWorker, type BackgroundWorker, type RunningWorker, type WorkerContext } from "./workers.server";

/** The scheduler tick: due projects become queued episodes. */
export function generationScheduler(settings: GenerationSettings, intervalMs: number): BackgroundWorker {
  return periodicWorker("generation-scheduler", intervalMs, async ({ db, logger }) => {
    const queued = await queueDueProjects(db, settings);
    if (queued) logger.info({ queued }, "queued scheduled episodes");
  });
}

/** The reaper: expired leases and generations that never reported back. */
export function generationReaper(settings: GenerationSettings, intervalMs: number): BackgroundWorker {
  return periodicWorker("generation-reaper", intervalMs, async ({ db, logger }) => {
    const reaped = await reapExpiredLeases(db, settings);
    if (reaped) logger.warn({ reaped }, "recovered generation jobs whose lease expired");
  });
}

export interface DispatcherOptions {
  generator: Generator;
  settings: GenerationSettings;
  /** Attempts in hand at once in this process. */
  concurrency: number;
  /** How long to sleep with nothing to do when no wake-up arrives (the fallback when LISTEN is unavailable). */
  pollIntervalMs: number;
}

/**
 * The dispatcher: claims due jobs in batches of its free slots (one statement each, with the budget check) and
 * hands each to the generator, up to `concurrency` at once. A dispatch n8n acknowledged frees its slot at once and
 * is recorded by the next claim's statement, which follows immediately (a slot is free), so a busy dispatcher
 * commits once per batch; until then the short dispatch lease covers it. It wakes on NOTIFY from the queue, and
 * polls as a fallback. On stop it claims nothing new, aborts the attempts in hand (each then counts as a retryable
 * failure), records the last acknowledgements and waits.
 */
export function generationDispatcher(options: DispatcherOptions): BackgroundWorker {
  return {
    name: "generation-dispatcher",
    async start(context: WorkerContext): Promise<RunningWorker> {
      const { db, logger } = context;
      const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString("hex")}`;
      const abort = new AbortController();
      const inHand = new Set<Promise<void>>();
      let stopped = false;
      // A wake-up that arrives while claiming (a new job, a freed slot) means: claim again before sleeping.
      let wakeRequested = false;
      let endSleep: (() => void) | undefined;
      const wake = () => {
        wakeRequested = true;
        endSleep?.();
      };

      const subscription = await context.notifications?.subscribe(QUEUE_CHANNEL, { onNotify: () => wake(), catchUp: () => wake() });
      let acknowledged: string[] = [];

      async function runAttempt(claim: ClaimedGeneration): Promise<void> {
        try {
          const result = await options.generator.run(claim, { db, signal: abort.signal });
          if (result === "dispatched") acknowledged.push(claim.job.id);
          logger.info(
            { episodeId: claim.episode.id, attempt: claim.request.attempt, generator: options.generator.kind, result },
            result === "dispatched" ? "episode dispatched" : "episode generated",
          );
        } catch (error) {
          const log = logger.child({ episodeId: claim.episode.id, attempt: claim.request.attempt, generator: options.generator.kind });
          const failure =
            error instanceof GenerationError
              ? { reason: error.message, retryable: error.retryable }
              : { reason: "An unexpected error stopped the generation.", retryable: true };
          if (!(error instanceof GenerationError)) log.error({ err: error }, "generation attempt crashed");
          const outcome = await dispatchFailed(db, claim, failure, options.settings).catch((err: unknown) => {
            log.error({ err }, "could not record a failed attempt; the reaper will recover it");
            return "unrecorded";
          });
          log.warn({ reason: failure.reason, outcome }, "generation attempt failed");
        }
      }

      async function claimWhileFree(): Promise<void> {
        while (!stopped && inHand.size < options.concurrency) {
          const free = options.concurrency - inHand.size;
          const carried = acknowledged;
          acknowledged = [];
          const claims = await claimGenerations(
            db,
            { owner, leaseMs: options.generator.leaseMs, generatedBy: options.generator.kind, limit: free, acknowledged: carried },
            options.settings,
          ).catch((error: unknown) => {
            acknowledged.push(...carried);
            throw error;
          });
          for (const claim of claims) {
            const attempt = runAttempt(claim).finally(() => {
              inHand.delete(attempt);
              wake();
            });
            inHand.add(attempt);
          }
          if (claims.length < free) return;
        }
      }

      const loop = (async () => {
        while (!stopped) {
          wakeRequested = false;
          await claimWhileFree().catch((error: unknown) => logger.error({ err: error }, "claiming generation jobs failed"));
          if (stopped || wakeRequested) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, options.pollIntervalMs);
            endSleep = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          endSleep = undefined;
        }
      })();

      return {
        async stop() {
          stopped = true;
          wake();
          await loop;
          abort.abort();
          await Promise.allSettled([...inHand]);
          if (acknowledged.length) {
            await acknowledgeDispatches(db, owner, acknowledged, options.settings).catch((error: unknown) =>
              logger.error({ err: error }, "could not record the last dispatches; their leases run out and the reaper retries them"),
            );
          }
          await subscription?.stop();
        },
      };
    },
  };
}
