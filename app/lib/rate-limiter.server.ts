/**
 * Spaces requests to a provider's limit: at most `requestsPerSecond` start in any second, one after another.
 * `pauseFor` holds every caller back, as a provider's 429 with Retry-After asks.
 */
export class RateLimiter {
  readonly #intervalMs: number;
  #nextAt = 0;

  constructor(requestsPerSecond: number, private readonly now: () => number = Date.now) {
    if (!(requestsPerSecond > 0)) throw new Error("requestsPerSecond must be above zero");
    this.#intervalMs = 1000 / requestsPerSecond;
  }

  /** Waits for the next free slot (or until `signal` aborts), then takes it. */
  async take(signal?: AbortSignal): Promise<void> {
    const at = Math.max(this.now(), this.#nextAt);
    this.#nextAt = at + this.#intervalMs;
    const wait = at - this.now();
    if (wait > 0) await sleep(wait, signal);
  }

  pauseFor(ms: number): void {
    this.#nextAt = Math.max(this.#nextAt, this.now() + ms);
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
