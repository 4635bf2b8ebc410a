import { describe, expect, it } from "vitest";
import { formatInZone, nextScheduledAt, type Cadence } from "../../app/lib/schedule.server";

const weekly = (timezone: string, day: Cadence["days"][number], hour: number, minute = 0): Cadence => ({
  type: "weekly",
  days: [day],
  hour,
  minute,
  timezone,
});

describe("next scheduled delivery", () => {
  it.each([
    // Europe/London: BST ends Sun 25 Oct 2026 (02:00 BST → 01:00 GMT), starts Sun 29 Mar 2026.
    ["London, Monday 07:00, from a BST Friday", weekly("Europe/London", 1, 7), "2026-10-23T12:00:00Z", "2026-10-26T07:00:00.000Z"],
    ["London, Monday 07:00, the week before the change", weekly("Europe/London", 1, 7), "2026-10-16T12:00:00Z", "2026-10-19T06:00:00.000Z"],
    ["London, Sunday 07:00 on the autumn change day", weekly("Europe/London", 7, 7), "2026-10-24T12:00:00Z", "2026-10-25T07:00:00.000Z"],
    ["London, Sunday 07:00 on the spring change day", weekly("Europe/London", 7, 7), "2026-03-28T12:00:00Z", "2026-03-29T06:00:00.000Z"],
    ["London, Sunday 01:30 skipped by spring-forward moves on by the gap", weekly("Europe/London", 7, 1, 30), "2026-03-28T12:00:00Z", "2026-03-29T01:30:00.000Z"],
    ["London, Sunday 01:30 that happens twice in autumn is the first", weekly("Europe/London", 7, 1, 30), "2026-10-24T12:00:00Z", "2026-10-25T00:30:00.000Z"],
    // America/New_York: DST ends Sun 1 Nov 2026, starts Sun 8 Mar 2026.
    ["New York, Monday 09:00 across the autumn change", weekly("America/New_York", 1, 9), "2026-10-30T12:00:00Z", "2026-11-02T14:00:00.000Z"],
    ["New York, Monday 09:00 before it", weekly("America/New_York", 1, 9), "2026-10-23T12:00:00Z", "2026-10-26T13:00:00.000Z"],
    ["New York, Sunday 02:30 skipped in spring", weekly("America/New_York", 7, 2, 30), "2026-03-07T12:00:00Z", "2026-03-08T07:30:00.000Z"],
    // Australia/Sydney: DST starts Sun 4 Oct 2026 (+10 → +11).
    ["Sydney, Monday 07:00 after the spring change", weekly("Australia/Sydney", 1, 7), "2026-10-02T00:00:00Z", "2026-10-04T20:00:00.000Z"],
    ["Sydney, Monday 07:00 before it", weekly("Australia/Sydney", 1, 7), "2026-09-25T00:00:00Z", "2026-09-27T21:00:00.000Z"],
  ])("%s", (_name, cadence, after, expected) => {
    expect(nextScheduledAt(cadence, new Date(after))?.toISOString()).toBe(expected);
  });

  it("custom Tuesday and Thursday at 08:30 London picks the next of the two", () => {
    const cadence: Cadence = { type: "custom", days: [2, 4], hour: 8, minute: 30, timezone: "Europe/London" };
    expect(nextScheduledAt(cadence, new Date("2026-11-25T12:00:00Z"))?.toISOString()).toBe("2026-11-26T08:30:00.000Z");
    expect(nextScheduledAt(cadence, new Date("2026-11-26T08:30:00Z"))?.toISOString()).toBe("2026-12-01T08:30:00.000Z");
    expect(nextScheduledAt(cadence, new Date("2026-10-22T12:00:00Z"))?.toISOString()).toBe("2026-10-27T08:30:00.000Z");
  });

  it("daily is tomorrow when today's time has passed, today when it has not", () => {
    const cadence: Cadence = { type: "daily", days: [], hour: 6, minute: 0, timezone: "Asia/Tokyo" };
    expect(nextScheduledAt(cadence, new Date("2026-11-25T00:00:00Z"))?.toISOString()).toBe("2026-11-25T21:00:00.000Z");
    expect(nextScheduledAt(cadence, new Date("2026-11-24T20:00:00Z"))?.toISOString()).toBe("2026-11-24T21:00:00.000Z");
  });

  it("is strictly after the given instant, so a slot never repeats", () => {
    const cadence = weekly("UTC", 3, 7);
    expect(nextScheduledAt(cadence, new Date("2026-11-25T07:00:00Z"))?.toISOString()).toBe("2026-12-02T07:00:00.000Z");
  });

  it("has no next delivery when paused", () => {
    expect(nextScheduledAt({ ...weekly("UTC", 1, 7), type: "paused" }, new Date())).toBeNull();
  });
});

describe("formatting a delivery time in its zone", () => {
  it.each([
    ["2026-12-01T08:30:00Z", "Europe/London", "Tuesday 1 December 2026, 08:30 GMT"],
    ["2026-07-07T07:30:00Z", "Europe/London", "Tuesday 7 July 2026, 08:30 BST"],
    ["2026-11-02T14:00:00Z", "America/New_York", "Monday 2 November 2026, 09:00 GMT-5"],
    ["2026-11-25T21:00:00Z", "Asia/Tokyo", "Thursday 26 November 2026, 06:00 GMT+9"],
  ])("%s in %s reads %j", (at, zone, expected) => {
    expect(formatInZone(new Date(at), zone)).toBe(expected);
  });
});
