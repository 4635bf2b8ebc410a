import type { EpisodeHub, EpisodeSubscriber, EpisodeUpdate } from "./episode-hub.server";

/** How long a browser waits before reconnecting: sent once at the start of every stream. */
export const RECONNECT_MS = 3_000;

export type EpisodeStreamResult = { ok: true; response: Response } | { ok: false; reason: "not_found" | "stopped" };

const encoder = new TextEncoder();

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
  let closed = false;
  let unsubscribe = () => {};
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      close();
    },
  });

  function send(text: string) {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      close();
    }
  }
  function close() {
    if (closed) return;
    closed = true;
    request.signal.removeEventListener("abort", close);
    unsubscribe();
    try {
      controller.close();
    } catch {
      // Already cancelled by the client.
    }
  }
  const subscriber: EpisodeSubscriber = {
    deliver(update: EpisodeUpdate) {
      if (update.version <= sentVersion) return;
      sentVersion = update.version;
      send(`id: ${update.version}\ndata: ${update.data}\n\n`);
      if (update.final) close();
    },
    heartbeat() {
      send(": heartbeat\n\n");
    },
    close,
  };

  send(`retry: ${RECONNECT_MS}\n\n`);
  const subscribed = await hub.subscribe(organizationId, episodeId, subscriber);
  if (!subscribed.ok) {
    close();
    return subscribed;
  }
  unsubscribe = subscribed.unsubscribe;
  // The final state may have arrived while subscribing, closing the stream before it could unsubscribe.
  if (closed) unsubscribe();
  else if (request.signal.aborted) close();
  else request.signal.addEventListener("abort", close, { once: true });

  const { current } = subscribed;
  if (current.final && resumeAfter !== undefined && resumeAfter >= current.version) {
    close();
    return { ok: true, response: new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } }) };
  }
  subscriber.deliver(current);
  return {
    ok: true,
    response: new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    }),
  };
}
