import type { Db } from "./db.server";
import type { Logger } from "./logger.server";

export interface WorkerContext {
  db: Db;
  directUrl: string;
  logger: Logger;
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
 * The background workers a process runs when APP_ROLE is `all` or `worker`. The generation queue, the
 * scheduler and the email outbox register here as they arrive.
 */
export const backgroundWorkers: BackgroundWorker[] = [];

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
