import crypto from "node:crypto";
import os from "node:os";
import type { EmailProviderClient } from "~/email/providers.server";
import { sendDueEmails, type SenderSettings } from "~/email/sender.server";
import { RateLimiter, sleep } from "~/lib/rate-limiter.server";
import { OUTBOX_CHANNEL } from "~/models/email-deliveries.server";
import type { BackgroundWorker, RunningWorker, WorkerContext } from "./workers.server";

export interface EmailSenderOptions {
  provider: EmailProviderClient;
  settings: SenderSettings;
  pollIntervalMs: number;
}

/**
 * The email sender: sends rounds back to back while there is work, then sleeps until a new outbox row is
 * announced (NOTIFY at the enqueuing commit) or the poll interval passes (retries that come due, lost leases).
 * Requests are spaced to the provider's rate limit.
 */
export function emailSender(options: EmailSenderOptions): BackgroundWorker {
  return {
    name: "email-sender",
    async start(context: WorkerContext): Promise<RunningWorker> {
      const { db, logger } = context;
      const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString("hex")}`;
      const limiter = new RateLimiter(options.provider.requestsPerSecond);
      const abort = new AbortController();
      let wakeRequested = false;
      let endSleep: (() => void) | undefined;
      const wake = () => {
        wakeRequested = true;
        endSleep?.();
      };
      const subscription = await context.notifications?.subscribe(OUTBOX_CHANNEL, { onNotify: wake, catchUp: wake });

      const loop = (async () => {
        while (!abort.signal.aborted) {
          wakeRequested = false;
          const round = await sendDueEmails(db, { provider: options.provider, limiter, owner, settings: options.settings, logger, signal: abort.signal }).catch(
            (error: unknown) => {
              logger.error({ err: error }, "sending email failed");
              return { claimed: 0, sent: 0 };
            },
          );
          if (round.sent) logger.info({ sent: round.sent, claimed: round.claimed, provider: options.provider.name }, "emails sent");
          if (round.claimed || wakeRequested || abort.signal.aborted) continue;
          const interrupt = new AbortController();
          endSleep = () => interrupt.abort();
          await sleep(options.pollIntervalMs, AbortSignal.any([interrupt.signal, abort.signal]));
          endSleep = undefined;
        }
      })();

      return {
        async stop() {
          abort.abort();
          await loop;
          await subscription?.stop();
          await options.provider.close?.();
        },
      };
    },
  };
}
