import { z } from "zod";
import { CADENCE_TYPES, canonicalTimeZone, type Cadence, type Weekday } from "./schedule.server";
import { multilineText, type FieldErrors } from "./validation";

/**
 * The fields a project is made of, named the same in forms and in the JSON API, so both go through one
 * validation. Forms send `cadenceDays` as repeated checkboxes and `deliveryTime` from a time input.
 */
const title = z
  .string({ error: "Give the project a title." })
  .trim()
  .min(1, "Give the project a title.")
  .max(200, "Keep the title under 200 characters.");
const brief = multilineText({ type: "The brief must be text." }).pipe(z.string().max(20_000, "Keep the brief under 20,000 characters."));
const cadenceType = z.enum(CADENCE_TYPES, { error: "Choose weekly, custom days, daily or paused." });
const cadenceDays = z.preprocess(
  (value) => (value === undefined || value === "" ? [] : Array.isArray(value) ? value : [value]),
  z.array(z.coerce.number({ error: "Days are numbers from 1 (Monday) to 7 (Sunday)." }).int().min(1, "Days are numbers from 1 (Monday) to 7 (Sunday).").max(7, "Days are numbers from 1 (Monday) to 7 (Sunday).")),
);
const deliveryTime = z
  .string({ error: "Give a time such as 07:00." })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Give a time such as 07:00, in 24-hour form.");
const timezone = z.string({ error: "Choose a time zone." }).transform((zone, ctx) => {
  const canonical = canonicalTimeZone(zone);
  if (canonical) return canonical;
  ctx.addIssue({ code: "custom", message: "Choose a time zone from the list, such as Europe/London." });
  return z.NEVER;
});
const status = z.enum(["ACTIVE", "ARCHIVED"], { error: "Status is ACTIVE or ARCHIVED." });
const version = z.coerce
  .number({ error: "The form is missing the project's version; reload the page." })
  .int()
  .min(1, "The form is missing the project's version; reload the page.");

export const projectCreateSchema = z.object({
  title,
  brief: brief.default(""),
  cadenceType: cadenceType.default("weekly"),
  cadenceDays: cadenceDays.optional(),
  deliveryTime: deliveryTime.default("07:00"),
  timezone: timezone.default("UTC"),
});

export const projectUpdateSchema = z.object({
  version,
  title: title.optional(),
  brief: brief.optional(),
  cadenceType: cadenceType.optional(),
  cadenceDays: cadenceDays.optional(),
  deliveryTime: deliveryTime.optional(),
  timezone: timezone.optional(),
  status: status.optional(),
});

export type ProjectCreateInput = z.infer<typeof projectCreateSchema>;
export type ProjectUpdateInput = z.infer<typeof projectUpdateSchema>;

/** Checks the rules that join fields: weekly is one day, custom at least one. Returns errors by field. */
export function cadenceErrors(cadence: Pick<Cadence, "type" | "days">): FieldErrors {
  if (cadence.type === "weekly" && cadence.days.length !== 1) {
    return { cadenceDays: "For a weekly brief, choose exactly one day (or choose custom days)." };
  }
  if (cadence.type === "custom" && cadence.days.length === 0) {
    return { cadenceDays: "Choose at least one day for custom days." };
  }
  return {};
}

export function parseTime(time: string): { hour: number; minute: number } {
  const [hour, minute] = time.split(":").map(Number);
  return { hour, minute };
}

export function uniqueDays(days: number[]): Weekday[] {
  return [...new Set(days)].sort() as Weekday[];
}
