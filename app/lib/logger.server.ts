import { pino, type Logger } from "pino";

/** One JSON object per line on stdout, so any log shipper can read it. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "many-futures" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

export type { Logger };
