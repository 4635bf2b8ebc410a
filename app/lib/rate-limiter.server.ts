/**
 * Keeps requests to a provider within its limit as the provider counts it: no more than the allowed number start
 * in any window (for 2 requests a second: two, then the next a second after the first), with a margin for the
 * time a request takes to arrive. `pauseFor` holds every caller back, as a 429 with Retry-After asks.
 */
export class RateLimiter {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #starts: number[] = [];
  #pausedUntil = 0;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    requestsPerSecond: number,
    private readonly marginMs = 50,
    private readonly now: () => number = Date.now,
  ) {
    if (!(requestsPerSecond > 0)) throw new Error("requestsPerSecond must be above zero");
    this.#perWindow = Math.max(1, Math.floor(requestsPerSecond));
    this.#windowMs = (this.#perWindow * 1000) / requestsPerSecond;
  }

  /** Waits for a free slot (or until `signal` aborts), then takes it. Callers are served in order. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(async () => {
      for (;;) {
        const now = this.now();
        while (this.#starts.length && this.#starts[0]! <= now - this.#windowMs - this.marginMs) this.#starts.shift();
        const freeAt = Math.max(
          this.#pausedUntil,
          this.#starts.length < this.#perWindow ? now : this.#starts[0]! + this.#windowMs + this.marginMs,
        );
        if (freeAt <= now || signal?.aborted) break;
        await sleep(freeAt - now, signal);
      }
      this.#starts.push(this.now());
    });
    this.#queue = turn;
    return turn;
  }

  pauseFor(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.now() + ms);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
