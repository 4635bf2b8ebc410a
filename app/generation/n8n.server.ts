import { signWebhook } from "~/lib/signing.server";
import { GenerationError, type Generator } from "./generator.server";
import type { ClaimedGeneration } from "./lifecycle.server";

export interface N8nOptions {
  webhookUrl: string;
  secret: string;
  dispatchTimeoutMs: number;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause;
  if (cause?.code === "ECONNREFUSED") return "n8n refused the connection";
  if (cause?.code === "ENOTFOUND") return "n8n's address could not be found";
  if (cause?.code) return `n8n could not be reached (${cause.code})`;
  return "n8n could not be reached";
}

/**
 * Dispatch to n8n: the request, signed with Standard Webhooks headers, POSTed to the workflow's webhook. Any 2xx
 * within the timeout is an acknowledgement; anything else is a failed dispatch, retried by the dispatcher. The
 * webhook id is the attempt's, so n8n can tell a resend from a new attempt.
 */
export function n8nGenerator(options: N8nOptions): Generator {
  return {
    kind: "n8n",
    leaseMs: options.dispatchTimeoutMs + 30_000,
    async run(claim: ClaimedGeneration, { signal }) {
      const body = JSON.stringify(claim.request);
      const headers = signWebhook(options.secret, body, `dispatch_${claim.episode.id}_${claim.request.attempt}`);
      const timeout = AbortSignal.timeout(options.dispatchTimeoutMs);
      let response: Response;
      try {
        response = await fetch(options.webhookUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...headers },
          body,
          signal: AbortSignal.any([signal, timeout]),
          redirect: "error",
        });
      } catch (error) {
        if (timeout.aborted) {
          throw new GenerationError(`n8n did not answer within ${Math.round(options.dispatchTimeoutMs / 1000)} s`, true);
        }
        if (signal.aborted) throw new GenerationError("the app stopped while dispatching", true);
        throw new GenerationError(describeNetworkError(error), true);
      }
      // Drain the body so the connection is reused; its content does not matter.
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new GenerationError(`n8n answered ${response.status} ${response.statusText}`.trim(), true);
      return "dispatched";
    },
  };
}
