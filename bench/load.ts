import http from "node:http";

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  failures: number;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)] * 100) / 100;
}

function request(agent: http.Agent, url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
  });
}

/**
 * Closed-loop load: `connections` keep-alive clients each send a request as soon as the last one answers, for
 * `durationMs`. Every latency is kept, so the percentiles are exact rather than read off a histogram.
 */
export async function runLoad(options: {
  url: string;
  connections: number;
  durationMs: number;
  headers?: Record<string, string>;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const url = new URL(options.url);
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;

  async function client() {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const status = await request(agent, url, options.headers ?? {});
        if (status < 200 || status >= 300) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - sent);
    }
  }

  await Promise.all(Array.from({ length: options.connections }, client));
  const elapsedSeconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    requestsPerSecond: Math.round(latencies.length / elapsedSeconds),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    failures,
  };
}
