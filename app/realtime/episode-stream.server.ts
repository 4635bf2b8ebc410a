import { EventStreamBody } from "~/lib/event-stream.server";
import type { EpisodeHub, EpisodeSubscriber, EpisodeUpdate } from "./episode-hub.server";

/** How long a browser waits before reconnecting: sent once at the start of every stream. */
export const RECONNECT_MS = 3_000;

export type EpisodeStreamResult = { ok: true; response: Response } | { ok: false; reason: "not_found" | "stopped" };

const RETRY_FRAME = Buffer.from(`retry: ${RECONNECT_MS}\n\n`);
const HEARTBEAT_FRAME = Buffer.from(": heartbeat\n\n");

function lastEventId(request: Request): number | undefined {
  const value = request.headers.get("Last-Event-ID");
  return value && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/**
 * A server-sent event stream of one episode: the current state at once, then every change, each with the
 * episode's version as its id. A browser reconnecting with Last-Event-ID gets the state only if it is newer. The
 * stream ends after the final state (a reconnect that already has it gets 204, which tells EventSource to stop),
 * when the client goes away, or when the hub stops.
 */
export async function openEpisodeStream(
  hub: EpisodeHub,
  request: Request,
  organizationId: string,
  episodeId: string,
): Promise<EpisodeStreamResult> {
  const resumeAfter = lastEventId(request);
  let sentVersion = resumeAfter ?? -1;
  let unsubscribe = () => {};
  // Ends once, from either side; the HTTP layer usually writes it straight to the socket (lib/event-stream).
  const body = new EventStreamBody(request.signal, () => unsubscribe());
  const close = () => body.end();
  const subscriber: EpisodeSubscriber = {
    deliver(update: EpisodeUpdate) {
      if (update.version <= sentVersion) return;
      sentVersion = update.version;
      body.write(update.frame);
      if (update.final) close();
    },
    heartbeat() {
      body.write(HEARTBEAT_FRAME);
    },
    close,
  };

  body.write(RETRY_FRAME);
  const subscribed = await hub.subscribe(organizationId, episodeId, subscriber);
  if (!subscribed.ok) {
    close();
    return subscribed;
  }
  unsubscribe = subscribed.unsubscribe;
  // The final state, or the client leaving, may have ended the stream while subscribing, before it could unsubscribe.
  if (body.isEnded) unsubscribe();

  const { current } = subscribed;
  if (current.final && resumeAfter !== undefined && resumeAfter >= current.version) {
    close();
    return { ok: true, response: new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } }) };
  }
  subscriber.deliver(current);
  return {
    ok: true,
    response: new Response(body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    }),
  };
}
