import { pino, type Logger } from "pino";
import { getConfig } from "./config.server";

/** One JSON object per line on stdout, so any log shipper can read it. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "many-futures" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

let shared: Logger | undefined;

/** The process's logger for code inside the Remix build, at the configured level. */
export function getLogger(): Logger {
  shared ??= createLogger(getConfig().LOG_LEVEL);
  return shared;
}

export type { Logger };
