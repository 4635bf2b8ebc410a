import { describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { createLogger } from "../../app/lib/logger.server";
import { periodicWorker } from "../../app/jobs/workers.server";

const context = { db: {} as Db, directUrl: "", logger: createLogger("silent") };

describe("periodic workers", () => {
  it("run at once, then every interval, never overlapping; stop waits for the run in progress", async () => {
    const events: string[] = [];
    let runs = 0;
    const worker = periodicWorker("test", 20, async () => {
      const run = ++runs;
      events.push(`start ${run}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      events.push(`end ${run}`);
    });
    const running = await worker.start(context);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await running.stop();
    const stoppedAt = events.length;
    await new Promise((resolve) => setTimeout(resolve, 60));

    expect(runs).toBeGreaterThanOrEqual(2);
    expect(events.length).toBe(stoppedAt);
    expect(events.at(-1)).toMatch(/^end /);
    // Each run ends before the next starts.
    events.forEach((event, index) => expect(event).toBe(`${index % 2 ? "end" : "start"} ${Math.floor(index / 2) + 1}`));
  });

  it("keeps running after a failed run", async () => {
    let runs = 0;
    const worker = periodicWorker("flaky", 10, async () => {
      runs++;
      throw new Error("database away");
    });
    const running = await worker.start(context);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await running.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
  });
});
