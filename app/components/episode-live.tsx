import { useRevalidator } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import type { EpisodeLiveState } from "~/realtime/episode-state";

/**
 * The episode's live state: the loader's, then each newer state from the server-sent event stream while the episode
 * is being made. On the final state the stream is closed and the page's data reloaded, so the published episode (or
 * the failure and its form) replaces the progress. Without JavaScript none of this runs and the page refreshes itself.
 */
export function useEpisodeLive(initial: EpisodeLiveState): EpisodeLiveState {
  const [streamed, setStreamed] = useState<EpisodeLiveState | null>(null);
  // Bumped to open a new stream after the browser gave up on one (a 503 while the server restarts).
  const [reopen, setReopen] = useState(0);
  const revalidator = useRevalidator();
  const revalidate = useRef(revalidator.revalidate);
  revalidate.current = revalidator.revalidate;
  const watching = !initial.final && initial.status !== "DRAFT";

  useEffect(() => {
    if (!watching) return;
    const source = new EventSource(`/episodes/${initial.id}/events`);
    source.onmessage = (event: MessageEvent<string>) => {
      const next = JSON.parse(event.data) as EpisodeLiveState;
      setStreamed((current) => (next.id === initial.id && (!current || next.version > current.version) ? next : current));
      if (next.final) {
        source.close();
        revalidate.current();
      }
    };
    let retry: ReturnType<typeof setTimeout> | undefined;
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return;
      retry = setTimeout(() => {
        revalidate.current();
        setReopen((count) => count + 1);
      }, 10_000);
    };
    return () => {
      clearTimeout(retry);
      source.close();
    };
  }, [initial.id, watching, reopen]);

  // Newer data from the loader (a reload, or another episode) wins over what the stream said.
  return streamed && streamed.id === initial.id && streamed.version > initial.version ? streamed : initial;
}

/** The server's clock, ticking on the client: elapsed times read the same on the server and after hydration. */
export function useServerNow(serverNow: number, ticking: boolean): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    setNow(serverNow);
    if (!ticking) return;
    const offset = serverNow - Date.now();
    const timer = setInterval(() => setNow(Date.now() + offset), 1_000);
    return () => clearInterval(timer);
  }, [serverNow, ticking]);
  return now;
}
