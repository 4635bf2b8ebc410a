import { abandonStaleConversations } from "~/models/conversations.server";
import { deleteExpiredSessions } from "~/models/sessions.server";
import { deleteOldSignInAttempts } from "~/models/sign-in-attempts.server";
import type { Db } from "~/lib/db.server";
import type { Logger } from "~/lib/logger.server";
import type { NotificationListener } from "~/lib/notifications.server";

export interface WorkerContext {
  db: Db;
  /** Null when only a transaction pooler is configured: LISTEN is then unavailable (see notifications.server). */
  directUrl: string | null;
  logger: Logger;
  /** The process's LISTEN connection (or its polling stand-in), for wake-ups; without it workers only poll. */
  notifications?: NotificationListener;
}

export interface RunningWorker {
  /** Finishes the job in hand, takes no new one, then resolves. */
  stop(): Promise<void>;
}

export interface BackgroundWorker {
  name: string;
  start(context: WorkerContext): Promise<RunningWorker>;
}

/**
 * Runs `task` at once, then `intervalMs` after each run ends, so runs never overlap. Stopping waits for a run in
 * progress. Safe with several instances: each task claims its rows with SKIP LOCKED.
 */
export function periodicWorker(name: string, intervalMs: number, task: (context: WorkerContext) => Promise<unknown>): BackgroundWorker {
  return {
    name,
    async start(context) {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let running: Promise<void> = Promise.resolve();
      const run = () => {
        running = task(context)
          .then(
            () => undefined,
            (error: unknown) => context.logger.error({ worker: name, err: error }, "worker run failed"),
          )
          .finally(() => {
            if (!stopped) timer = setTimeout(run, intervalMs);
          });
      };
      run();
      return {
        async stop() {
          stopped = true;
          clearTimeout(timer);
          await running;
        },
      };
    },
  };
}

/** Housekeeping that every worker process runs. */
export const housekeepingWorkers: BackgroundWorker[] = [
  periodicWorker("stale-conversation-sweeper", 60 * 60 * 1000, async ({ db, logger }) => {
    const abandoned = await abandonStaleConversations(db);
    if (abandoned) logger.info({ abandoned }, "abandoned stale project conversations");
  }),
  periodicWorker("expired-session-sweeper", 60 * 60 * 1000, async ({ db, logger }) => {
    const deleted = await deleteExpiredSessions(db);
    if (deleted) logger.info({ deleted }, "deleted expired sessions");
  }),
  periodicWorker("sign-in-attempt-sweeper", 15 * 60 * 1000, async ({ db, logger }) => {
    const deleted = await deleteOldSignInAttempts(db);
    if (deleted) logger.info({ deleted }, "deleted old sign-in attempt counters");
  }),
];

export async function startWorkers(workers: BackgroundWorker[], context: WorkerContext): Promise<RunningWorker> {
  const running: RunningWorker[] = [];
  for (const worker of workers) {
    running.push(await worker.start(context));
    context.logger.info({ worker: worker.name }, "worker started");
  }
  return {
    async stop() {
      await Promise.all(running.map((worker) => worker.stop()));
    },
  };
}
