import { DateTime, IANAZone } from "luxon";

import { WEEKDAY_NAMES, type CadenceType, type Weekday } from "./cadence";

export { CADENCE_TYPES, WEEKDAY_NAMES, type CadenceType, type Weekday } from "./cadence";

export interface Cadence {
  type: CadenceType;
  days: Weekday[];
  hour: number;
  minute: number;
  timezone: string;
}

export const DEFAULT_CADENCE: Omit<Cadence, "timezone"> = { type: "weekly", days: [1], hour: 7, minute: 0 };

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** Every IANA zone this runtime knows, for the settings select, with UTC first. */
export function timeZoneOptions(): string[] {
  return ["UTC", ...Intl.supportedValuesOf("timeZone").filter((zone) => zone !== "UTC")];
}

const zonesByLowerCase = new Map(timeZoneOptions().map((zone) => [zone.toLowerCase(), zone]));

/**
 * The IANA name a zone is stored under, or null if it is not a zone. Names are matched without regard to case
 * and aliases resolve as Intl resolves them (`US/Eastern` is America/New_York, `GMT` is UTC), so what is
 * stored is always a name the settings select offers, and saving the form unchanged keeps it.
 */
export function canonicalTimeZone(input: string): string | null {
  const zone = input.trim();
  if (!zone || zone.length > 64) return null;
  const listed = zonesByLowerCase.get(zone.toLowerCase());
  if (listed) return listed;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  // Named zones only: newer runtimes also accept offsets such as "+01:00", which are not places.
  if (!/^[A-Za-z]/.test(resolved) || !isValidTimeZone(resolved)) return null;
  return zonesByLowerCase.get(resolved.toLowerCase()) ?? resolved;
}

function daysOf(cadence: Cadence): Weekday[] {
  return cadence.type === "daily" ? [1, 2, 3, 4, 5, 6, 7] : cadence.days;
}

/**
 * The first delivery strictly after `after`: the next chosen weekday at the chosen wall-clock time in the
 * project's zone. Luxon resolves the wall-clock time in that zone on that date, so the UTC instant follows
 * daylight-saving changes. A time that does not exist that day (skipped by a spring-forward) moves forward by
 * the gap; a time that happens twice (autumn) is the first occurrence.
 */
export function nextScheduledAt(cadence: Cadence, after: Date): Date | null {
  if (cadence.type === "paused") return null;
  const days = new Set(daysOf(cadence));
  if (!days.size) return null;
  const start = DateTime.fromJSDate(after, { zone: cadence.timezone });
  for (let offset = 0; offset <= 7; offset++) {
    const date = start.plus({ days: offset });
    const candidate = wallClock(date, cadence.hour, cadence.minute);
    if (days.has(candidate.weekday as Weekday) && candidate.toMillis() > after.getTime()) return candidate.toJSDate();
  }
  return null;
}

/** That date at hour:minute in its zone; of a time that happens twice, the first. */
function wallClock(date: DateTime, hour: number, minute: number): DateTime {
  const resolved = date.set({ hour, minute, second: 0, millisecond: 0 });
  // Luxon resolves a repeated time to the later offset; look for the same wall-clock time one shift earlier.
  const offsetBefore = resolved.minus({ hours: 6 }).offset;
  if (offsetBefore > resolved.offset) {
    const earlier = resolved.minus({ minutes: offsetBefore - resolved.offset });
    if (earlier.hour === hour && earlier.minute === minute && earlier.day === resolved.day) return earlier;
  }
  return resolved;
}

// Intl formatters are costly to build and cheap to use (about 2 µs against Luxon's 120 µs a date), so one is
// kept per zone: a project page formats dozens of dates.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** "Tuesday 1 December 2026, 08:30 GMT": how a delivery time reads in its own zone. */
export function formatInZone(at: Date, timezone: string): string {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: timezone,
      weekday: "long",
      day: "numeric",
      month: "long",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formatters.set(timezone, formatter);
  }
  const part = Object.fromEntries(formatter.formatToParts(at).map((p) => [p.type, p.value]));
  return `${part.weekday} ${part.day} ${part.month} ${part.year}, ${part.hour}:${part.minute} ${part.timeZoneName}`;
}

export function describeCadence(cadence: Cadence): string {
  const time = `${String(cadence.hour).padStart(2, "0")}:${String(cadence.minute).padStart(2, "0")}`;
  switch (cadence.type) {
    case "paused":
      return "Paused";
    case "daily":
      return `Daily at ${time} (${cadence.timezone})`;
    case "weekly":
      return `Weekly on ${WEEKDAY_NAMES[cadence.days[0]]} at ${time} (${cadence.timezone})`;
    case "custom":
      return `${[...cadence.days].sort().map((d) => WEEKDAY_NAMES[d]).join(", ")} at ${time} (${cadence.timezone})`;
  }
}
