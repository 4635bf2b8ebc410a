import postgres from "postgres";
import type { Logger } from "./logger.server";

export const DEFAULT_POLL_INTERVAL_MS = 5_000;

export interface NotificationHandlers {
  /** A NOTIFY's payload on the channel, as sent. */
  onNotify(payload: string): void;
  /**
   * Re-reads whatever the notifications are about. Called once listening starts and after every reconnect, since
   * notifications sent while the connection was down are gone; when polling, called every `pollIntervalMs`.
   */
  catchUp?(): unknown;
}

export interface NotificationSubscription {
  stop(): Promise<void>;
}

export interface NotificationListener {
  /** "polling" when only a transaction pooler is configured: notifications never arrive, `catchUp` runs on a timer. */
  readonly mode: "listen" | "polling";
  readonly pollIntervalMs: number;
  subscribe(channel: string, handlers: NotificationHandlers): Promise<NotificationSubscription>;
  /** Stops every subscription and closes the LISTEN connection. */
  close(): Promise<void>;
}

export interface NotificationListenerOptions {
  /** A direct or session-pooler URL (LISTEN cannot work through a transaction pooler), or null to poll. */
  directUrl: string | null;
  logger: Logger;
  pollIntervalMs?: number;
}

/**
 * One LISTEN connection for the whole process, shared by every subscriber (SSE fan-out, queue wake-ups). postgres.js
 * keeps it on a connection of its own and listens again after a reconnect; `catchUp` covers what was missed.
 * Without a direct URL it says once, at start, that callers poll instead.
 */
export function openNotificationListener(options: NotificationListenerOptions): NotificationListener {
  const { directUrl, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const runCatchUp = (channel: string, catchUp: (() => unknown) | undefined) => {
    if (!catchUp) return;
    Promise.resolve()
      .then(catchUp)
      .catch((error: unknown) => logger.error({ channel, err: error }, "notification catch-up failed"));
  };

  if (!directUrl) {
    logger.warn(
      `DATABASE_POOLED is on and DATABASE_DIRECT_URL is unset: live updates and queue wake-ups fall back to polling every ${pollIntervalMs / 1000} s`,
    );
    const timers = new Set<NodeJS.Timeout>();
    return {
      mode: "polling",
      pollIntervalMs,
      async subscribe(channel, { catchUp }) {
        runCatchUp(channel, catchUp);
        const timer = setInterval(() => runCatchUp(channel, catchUp), pollIntervalMs);
        timer.unref();
        timers.add(timer);
        return {
          async stop() {
            clearInterval(timer);
            timers.delete(timer);
          },
        };
      },
      async close() {
        for (const timer of timers) clearInterval(timer);
        timers.clear();
      },
    };
  }

  const sql = postgres(directUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  // One postgres.js listener per channel, fanning out here: its own unlisten misses listeners it re-registered
  // after a reconnect, so subscribers come and go from this set instead.
  const channels = new Map<string, { handlers: Set<NotificationHandlers>; listening: Promise<unknown> }>();
  const listenTo = (channel: string) => {
    const handlers = new Set<NotificationHandlers>();
    let reconnects = 0;
    const listening = sql.listen(
      channel,
      (payload) =>
        handlers.forEach((handler) => {
          try {
            handler.onNotify(payload);
          } catch (error) {
            logger.error({ channel, err: error }, "notification handler failed");
          }
        }),
      () => {
        if (reconnects++ === 0) return;
        logger.info({ channel }, "listening again after the database connection came back");
        handlers.forEach((handler) => runCatchUp(channel, handler.catchUp));
      },
    );
    const entry = { handlers, listening };
    channels.set(channel, entry);
    // A channel that failed to start is forgotten, so the next subscriber tries again.
    listening.catch(() => channels.delete(channel));
    return entry;
  };
  return {
    mode: "listen",
    pollIntervalMs,
    async subscribe(channel, handlers) {
      const entry = channels.get(channel) ?? listenTo(channel);
      await entry.listening;
      const own = { ...handlers };
      entry.handlers.add(own);
      runCatchUp(channel, own.catchUp);
      return {
        async stop() {
          entry.handlers.delete(own);
        },
      };
    },
    async close() {
      channels.clear();
      await sql.end({ timeout: 5 });
    },
  };
}

const registry = globalThis as typeof globalThis & { __manyFuturesNotifications?: NotificationListener };

/** The process-wide listener, opened by server.ts; on globalThis for the same reason as the pool (see db.server). */
export function getNotificationListener(): NotificationListener {
  if (!registry.__manyFuturesNotifications) throw new Error("The notification listener is not open yet.");
  return registry.__manyFuturesNotifications;
}

export function setNotificationListener(listener: NotificationListener | undefined): void {
  registry.__manyFuturesNotifications = listener;
}
