import type { Config } from "~/lib/config.server";
import { builtinGenerator } from "~/generation/pipeline.server";
import { n8nGenerator } from "~/generation/n8n.server";
import type { Generator } from "~/generation/generator.server";
import { generationSettings } from "~/generation/lifecycle.server";
import { selectEmailProvider } from "~/email/providers.server";
import { senderSettings } from "~/email/sender.server";
import { emailSender } from "./email.server";
import { generationDispatcher, generationReaper, generationScheduler } from "./generation.server";
import { housekeepingWorkers, type BackgroundWorker } from "./workers.server";

/** n8n when GENERATION_WEBHOOK_URL is set; otherwise the built-in pipeline, so a fresh machine generates too. */
export function selectGenerator(config: Config): Generator {
  if (config.GENERATION_WEBHOOK_URL && config.GENERATION_WEBHOOK_SECRET) {
    return n8nGenerator({
      webhookUrl: config.GENERATION_WEBHOOK_URL,
      secret: config.GENERATION_WEBHOOK_SECRET,
      dispatchTimeoutMs: config.GENERATION_DISPATCH_TIMEOUT_MS,
    });
  }
  return builtinGenerator(config);
}

/** The background workers a process runs when APP_ROLE is `all` or `worker`. */
export function backgroundWorkers(config: Config): BackgroundWorker[] {
  const settings = generationSettings(config);
  return [
    ...housekeepingWorkers,
    generationScheduler(settings, config.SCHEDULER_INTERVAL_MS),
    generationDispatcher({
      generator: selectGenerator(config),
      settings,
      concurrency: config.GENERATION_CONCURRENCY,
      pollIntervalMs: config.QUEUE_POLL_INTERVAL_MS,
    }),
    // Often enough that a lost attempt is retried well within the timeout, never busier than every second.
    generationReaper(settings, Math.max(1_000, Math.min(30_000, Math.round(settings.timeoutMs / 4)))),
    emailSender({ provider: selectEmailProvider(config), settings: senderSettings(config), pollIntervalMs: config.EMAIL_POLL_INTERVAL_MS }),
  ];
}
