/**
 * Keeps requests to a provider within its limit as the provider counts it: no more than the allowed number in any
 * window (for 2 requests a second: two, then the next a second later). The provider counts a request when it
 * arrives, which the client cannot see but which is never later than the answer; so a request holds its slot from
 * `take` until its answer arrived plus the window, and network delays cannot squeeze three into one second.
 * `pauseFor` holds every caller back, as a 429 with Retry-After asks.
 */
export class RateLimiter {
  readonly #perWindow: number;
  readonly #windowMs: number;
  /** When each recent request's answer arrived; Infinity while it is still in flight. */
  readonly #slots: number[] = [];
  #pausedUntil = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #wakeWaiting: (() => void) | undefined;

  constructor(
    requestsPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(requestsPerSecond > 0)) throw new Error("requestsPerSecond must be above zero");
    this.#perWindow = Math.max(1, Math.floor(requestsPerSecond));
    this.#windowMs = (this.#perWindow * 1000) / requestsPerSecond;
  }

  /**
   * Waits for a free slot (or until `signal` aborts), then takes it; call the returned function when the answer
   * arrives. Callers are served in order.
   */
  take(signal?: AbortSignal): Promise<() => void> {
    const turn = this.#queue.then(async () => {
      for (;;) {
        const now = this.now();
        for (let i = this.#slots.length - 1; i >= 0; i--) if (this.#slots[i]! <= now - this.#windowMs) this.#slots.splice(i, 1);
        const oldest = Math.min(...this.#slots);
        const freeAt = Math.max(this.#pausedUntil, this.#slots.length < this.#perWindow ? now : oldest + this.#windowMs);
        if (freeAt <= now || signal?.aborted) break;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", wake);
            this.#wakeWaiting = undefined;
            resolve();
          };
          // An answer arriving may free a slot sooner than an in-flight one's Infinity suggests.
          const timer = setTimeout(wake, Number.isFinite(freeAt) ? freeAt - now : 1000);
          this.#wakeWaiting = wake;
          signal?.addEventListener("abort", wake, { once: true });
        });
      }
      this.#slots.push(Infinity);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        // Any in-flight slot will do: they are alike until answered.
        const index = this.#slots.indexOf(Infinity);
        if (index >= 0) this.#slots[index] = this.now();
        this.#wakeWaiting?.();
      };
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
