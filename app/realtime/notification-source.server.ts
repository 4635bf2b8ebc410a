import postgres from "postgres";
import type { Logger } from "~/lib/logger.server";

/**
 * Where the hub hears about changes. The same shape as the process-wide notification listener (issue 11), so the
 * hub can be handed that one instead of opening its own.
 */
export interface NotificationSource {
  /** "polling" when LISTEN is impossible (a transaction pooler and no direct URL): `catchUp` runs on a timer. */
  readonly mode: "listen" | "polling";
  subscribe(channel: string, handlers: NotificationHandlers): Promise<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}

export interface NotificationHandlers {
  onNotify(payload: string): void;
  /** Re-reads what notifications are about: after every reconnect (notifications sent meanwhile are lost), or on each poll. */
  catchUp?(): unknown;
}

export interface NotificationSourceOptions {
  /** A direct or session-pooler URL (LISTEN does not work through a transaction pooler), or null to poll. */
  directUrl: string | null;
  logger: Logger;
  pollIntervalMs: number;
}

/**
 * One LISTEN connection (opened on the first subscription) shared by every channel subscribed here. postgres.js
 * keeps it apart from the pool and listens again after the connection drops; its `onlisten` callback runs after
 * every (re)listen, and from the second one on we catch up.
 */
export function openNotificationSource(options: NotificationSourceOptions): NotificationSource {
  const { directUrl, logger, pollIntervalMs } = options;
  const runCatchUp = (channel: string, catchUp: (() => unknown) | undefined) => {
    if (!catchUp) return;
    Promise.resolve()
      .then(catchUp)
      .catch((error: unknown) => logger.error({ channel, err: error }, "catching up after notifications failed"));
  };

  if (!directUrl) {
    logger.warn(`no direct database URL for LISTEN: live episode updates poll every ${pollIntervalMs / 1000} s`);
    const timers = new Set<NodeJS.Timeout>();
    return {
      mode: "polling",
      async subscribe(channel, { catchUp }) {
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
        timers.forEach(clearInterval);
        timers.clear();
      },
    };
  }

  let sql: postgres.Sql | undefined;
  return {
    mode: "listen",
    async subscribe(channel, handlers) {
      sql ??= postgres(directUrl, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { application_name: "many-futures-listen" } });
      let listens = 0;
      // postgres.js's unlisten misses a listener it re-registered after a reconnect, so a stopped one also goes quiet here.
      let active = true;
      const listening = await sql.listen(
        channel,
        (payload) => {
          if (!active) return;
          try {
            handlers.onNotify(payload);
          } catch (error) {
            logger.error({ channel, err: error }, "notification handler failed");
          }
        },
        () => {
          if (listens++ === 0 || !active) return;
          logger.info({ channel }, "listening again after the database connection came back");
          runCatchUp(channel, handlers.catchUp);
        },
      );
      return {
        async stop() {
          active = false;
          await listening.unlisten().catch(() => {});
        },
      };
    },
    async close() {
      await sql?.end({ timeout: 5 });
      sql = undefined;
    },
  };
}
