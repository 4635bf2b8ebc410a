import { getConfig } from "~/lib/config.server";
import { getDb, type Queryable } from "~/lib/db.server";
import { getLogger, type Logger } from "~/lib/logger.server";
import { EPISODE_CHANNEL, getEpisode, type EpisodeAnnouncement } from "~/models/episodes.server";
import { episodeLiveState, type EpisodeLiveState } from "./episode-state";
import { openNotificationListener, type NotificationListener } from "~/lib/notifications.server";

/** One change of one episode as every watcher receives it. */
export interface EpisodeUpdate {
  version: number;
  final: boolean;
  state: EpisodeLiveState;
  /** The state as JSON on one line. */
  data: string;
  /** The whole server-sent event (`id:` and `data:`), encoded once per change and written as is to every stream. */
  frame: Buffer;
}

export interface EpisodeSubscriber {
  deliver(update: EpisodeUpdate): void;
  heartbeat(): void;
  /** The hub is stopping, or the episode is gone: end the stream. */
  close(): void;
}

export type SubscribeResult =
  | { ok: true; current: EpisodeUpdate; unsubscribe(): void }
  | { ok: false; reason: "not_found" | "stopped" };

export interface EpisodeHubOptions {
  /** Where episodes are read: the pool (reads are a single query each, never a transaction). */
  db: Queryable;
  /** A URL LISTEN works on; null behind a transaction pooler, and the hub then polls. Ignored when `source` is given. */
  directUrl: string | null;
  logger: Logger;
  /** A notification listener shared with the rest of the process, instead of opening one here. */
  source?: NotificationListener;
  pollIntervalMs?: number;
  heartbeatMs?: number;
}

export interface EpisodeHubStats {
  mode: "idle" | "listen" | "polling";
  /** Episodes with at least one subscriber. */
  episodes: number;
  subscribers: number;
  /** Episode reads since start: one per change per watched episode, however many watch it. */
  reads: number;
  /** Updates handed to subscribers since start. */
  deliveries: number;
}

interface Watched {
  key: string;
  organizationId: string;
  episodeId: string;
  subscribers: Set<EpisodeSubscriber>;
  latest?: EpisodeUpdate;
  /** The newest version announced and not yet read (Infinity: unknown, read anyway). */
  wanted: number;
  reading?: Promise<void>;
  readError?: unknown;
}

const DEFAULT_POLL_INTERVAL_MS = 3_000;
const DEFAULT_HEARTBEAT_MS = 15_000;

const keyOf = (organizationId: string, episodeId: string) => `${organizationId}/${episodeId}`;

/**
 * Live episode state for every watcher in this process, from one LISTEN connection: a notification for a watched
 * episode triggers one read of its state (tenant-scoped by the announcement's organization), serialized once and
 * handed to every subscriber. Announcements are sent at commit, so a rolled-back change is never read. After the
 * connection comes back, every watched episode is read again, so nothing changed meanwhile is missed; without
 * LISTEN the same catch-up runs on a timer. One heartbeat timer serves every subscriber.
 */
export class EpisodeHub {
  private readonly watched = new Map<string, Watched>();
  private readonly pollIntervalMs: number;
  readonly heartbeatMs: number;
  private source?: NotificationListener;
  private listening?: Promise<void>;
  private subscription?: { stop(): Promise<void> };
  private heartbeatTimer?: NodeJS.Timeout;
  private subscriberCount = 0;
  private reads = 0;
  private deliveries = 0;
  private stopped = false;

  constructor(private readonly options: EpisodeHubOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /**
   * Watches one episode of one organization. Resolves once changes are being heard, with the current state; an
   * episode that does not exist in that organization is `not_found`.
   */
  async subscribe(organizationId: string, episodeId: string, subscriber: EpisodeSubscriber): Promise<SubscribeResult> {
    if (this.stopped) return { ok: false, reason: "stopped" };
    const key = keyOf(organizationId, episodeId);
    let entry = this.watched.get(key);
    if (!entry) {
      entry = { key, organizationId, episodeId, subscribers: new Set(), wanted: -1 };
      this.watched.set(key, entry);
    }
    entry.subscribers.add(subscriber);
    this.subscriberCount++;
    this.startHeartbeat();
    const watched = entry;
    let subscribed = true;
    const unsubscribe = () => {
      if (!subscribed) return;
      subscribed = false;
      this.unsubscribe(watched, subscriber);
    };
    try {
      await this.listen();
      const current = await this.current(watched);
      if (this.stopped) {
        unsubscribe();
        return { ok: false, reason: "stopped" };
      }
      if (!current) {
        unsubscribe();
        return { ok: false, reason: "not_found" };
      }
      return { ok: true, current, unsubscribe };
    } catch (error) {
      unsubscribe();
      throw error;
    }
  }

  stats(): EpisodeHubStats {
    return {
      mode: this.source ? this.source.mode : "idle",
      episodes: this.watched.size,
      subscribers: this.subscriberCount,
      reads: this.reads,
      deliveries: this.deliveries,
    };
  }

  /** Ends every stream and stops listening. A stopped hub refuses new subscribers. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    const subscribers = [...this.watched.values()].flatMap((entry) => [...entry.subscribers]);
    this.watched.clear();
    this.subscriberCount = 0;
    subscribers.forEach((subscriber) => subscriber.close());
    await this.listening?.catch(() => {});
    await this.subscription?.stop();
    if (!this.options.source) await this.source?.close();
  }

  private unsubscribe(entry: Watched, subscriber: EpisodeSubscriber) {
    if (!entry.subscribers.delete(subscriber)) return;
    this.subscriberCount--;
    if (!entry.subscribers.size && this.watched.get(entry.key) === entry) this.watched.delete(entry.key);
    if (!this.subscriberCount) {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
    }
  }

  private listen(): Promise<void> {
    this.listening ??= (async () => {
      this.source ??=
        this.options.source ??
        openNotificationListener({ directUrl: this.options.directUrl, logger: this.options.logger, pollIntervalMs: this.pollIntervalMs });
      this.subscription = await this.source.subscribe(EPISODE_CHANNEL, {
        onNotify: (payload) => this.onNotify(payload),
        catchUp: () => this.catchUp(),
      });
    })().catch((error: unknown) => {
      // The next subscriber tries again.
      this.listening = undefined;
      throw error;
    });
    return this.listening;
  }

  private async current(entry: Watched): Promise<EpisodeUpdate | undefined> {
    while (entry.reading) await entry.reading;
    if (entry.latest) return entry.latest;
    this.requestRead(entry, Infinity);
    while (entry.reading) await entry.reading;
    if (!entry.latest && entry.readError) throw entry.readError;
    return entry.latest;
  }

  private onNotify(payload: string) {
    let announcement: EpisodeAnnouncement;
    try {
      announcement = JSON.parse(payload) as EpisodeAnnouncement;
    } catch {
      return;
    }
    const entry = this.watched.get(keyOf(announcement.organizationId, announcement.episodeId));
    if (!entry || (entry.latest && announcement.version <= entry.latest.version)) return;
    this.requestRead(entry, announcement.version);
  }

  private catchUp() {
    for (const entry of this.watched.values()) this.requestRead(entry, Infinity);
  }

  /**
   * Reads the episode unless a read is under way, in which case it reads once more afterwards if that read did not
   * reach `version`: a burst of changes costs at most one read each, and usually fewer.
   */
  private requestRead(entry: Watched, version: number) {
    entry.wanted = Math.max(entry.wanted, version);
    if (entry.reading) return;
    entry.reading = (async () => {
      while (entry.wanted > (entry.latest?.version ?? -1) && this.watched.get(entry.key) === entry) {
        entry.wanted = -1;
        try {
          await this.read(entry);
          entry.readError = undefined;
        } catch (error) {
          entry.readError = error;
          this.options.logger.error({ episodeId: entry.episodeId, err: error }, "reading an episode for its watchers failed");
          break;
        }
      }
    })().finally(() => {
      entry.reading = undefined;
    });
  }

  private async read(entry: Watched): Promise<void> {
    this.reads++;
    const row = await getEpisode(this.options.db, entry.organizationId, entry.episodeId);
    if (this.watched.get(entry.key) !== entry) return;
    if (!row) {
      // Deleted with its project: nothing more will come.
      if (entry.latest) {
        this.watched.delete(entry.key);
        [...entry.subscribers].forEach((subscriber) => subscriber.close());
      }
      return;
    }
    if (entry.latest && row.version <= entry.latest.version) return;
    const state = episodeLiveState(row);
    const data = JSON.stringify(state);
    const update: EpisodeUpdate = { version: row.version, final: state.final, state, data, frame: Buffer.from(`id: ${row.version}\ndata: ${data}\n\n`) };
    entry.latest = update;
    for (const subscriber of [...entry.subscribers]) {
      try {
        subscriber.deliver(update);
        this.deliveries++;
      } catch (error) {
        this.options.logger.error({ episodeId: entry.episodeId, err: error }, "delivering an episode update failed");
      }
    }
  }

  private startHeartbeat() {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      for (const entry of this.watched.values()) for (const subscriber of entry.subscribers) subscriber.heartbeat();
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }
}

const registry = globalThis as typeof globalThis & { __manyFuturesEpisodeHub?: EpisodeHub };

/**
 * The process's hub. server.ts starts it with the database's direct URL; otherwise the first subscriber makes one
 * from the configuration. It lives on globalThis because the Remix build is bundled apart from server.ts.
 */
export function getEpisodeHub(): EpisodeHub {
  if (!registry.__manyFuturesEpisodeHub) {
    const config = getConfig();
    registry.__manyFuturesEpisodeHub = new EpisodeHub({
      db: getDb(),
      directUrl: config.DATABASE_DIRECT_URL ?? (config.DATABASE_POOLED ? null : (config.DATABASE_URL ?? null)),
      logger: getLogger(),
    });
  }
  return registry.__manyFuturesEpisodeHub;
}

/** Installs the process's hub (server.ts at start, tests). It opens no connection until someone subscribes. */
export function startEpisodeHub(options: EpisodeHubOptions): EpisodeHub {
  const hub = new EpisodeHub(options);
  registry.__manyFuturesEpisodeHub = hub;
  return hub;
}

/** On shutdown: every stream ends (browsers reconnect elsewhere) and the LISTEN connection closes. */
export async function stopEpisodeHub(): Promise<void> {
  const hub = registry.__manyFuturesEpisodeHub;
  await hub?.stop();
}
