import type { Db } from "~/lib/db.server";
import type { ClaimedGeneration } from "./lifecycle.server";

/**
 * What makes episodes: n8n (production) or the built-in pipeline (a fresh machine). The dispatcher claims an
 * attempt and hands it to `run`.
 */
export interface Generator {
  kind: "n8n" | "builtin";
  /** The lease taken at claim: long enough to dispatch (n8n) or to the first heartbeat (built-in). */
  leaseMs: number;
  /**
   * n8n: resolves "dispatched" once n8n has acknowledged the request; the result arrives later by callback.
   * Built-in: runs the stages and publishes, resolving "finished". Either throws GenerationError on failure.
   */
  run(claim: ClaimedGeneration, context: { db: Db; signal: AbortSignal }): Promise<"dispatched" | "finished">;
}

/** A failed attempt, with a reason a person can read and whether another attempt could succeed. */
export class GenerationError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "GenerationError";
  }
}
