// Cadence vocabulary shared by the server and the settings page (which cannot import .server modules).
export const CADENCE_TYPES = ["weekly", "custom", "daily", "paused"] as const;
export type CadenceType = (typeof CADENCE_TYPES)[number];

/** ISO weekdays, 1 = Monday … 7 = Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export const WEEKDAY_NAMES: Record<Weekday, string> = {
  1: "Monday",
  2: "Tuesday",
  3: "Wednesday",
  4: "Thursday",
  5: "Friday",
  6: "Saturday",
  7: "Sunday",
};
