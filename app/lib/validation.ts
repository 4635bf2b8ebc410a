import { z } from "zod";

export type FieldErrors = Record<string, string>;

export type ParseResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

export const NUL_MESSAGE = "This contains a NUL character (\\0), which cannot be saved. Remove it and try again.";

function containsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === "object") return Object.values(value).some(containsNul);
  return false;
}

/**
 * Validates input against a schema; errors come back keyed by field, the first message for each. A NUL
 * character anywhere in a field is that field's error whatever the schema says: PostgreSQL cannot store it in
 * text or jsonb, so it must never get as far as a query.
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): ParseResult<z.infer<S>> {
  const errors: FieldErrors = {};
  if (input && typeof input === "object" && !Array.isArray(input)) {
    for (const [field, value] of Object.entries(input)) if (containsNul(value)) errors[field] = NUL_MESSAGE;
  }
  const result = schema.safeParse(input);
  if (result.success && !Object.keys(errors).length) return { ok: true, data: result.data };
  for (const issue of result.error?.issues ?? []) {
    // Forms and the API are flat: an error inside a list (cadenceDays[0]) belongs to the list's field.
    const field = issue.path.length ? String(issue.path[0]) : "form";
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}

/** A form's fields as a plain object (repeated names become arrays), for parsing and for re-filling the form. */
export function formValues(formData: FormData | URLSearchParams): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  for (const [key, value] of formData) {
    if (typeof value !== "string") continue;
    const existing = values[key];
    values[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return values;
}

export type FormFields = ReturnType<typeof formValues>;

export const OUT_OF_DATE_MESSAGE = "This form is out of date. Reload the page and try again.";

/**
 * Errors as a page can show them: an error on a field the form does not show (a hidden id, a stale version,
 * an unknown intent) cannot be fixed by the person, so it becomes one page-level message under `form`.
 */
export function visibleErrors(errors: FieldErrors, shownFields: readonly string[]): FieldErrors {
  const visible: FieldErrors = {};
  for (const [field, message] of Object.entries(errors)) {
    if (field === "form" || shownFields.includes(field)) visible[field] = message;
    else visible.form ??= OUT_OF_DATE_MESSAGE;
  }
  return visible;
}

/** Browsers send a textarea's line breaks as CRLF; one form of line break means an unchanged text stays equal. */
export function normalizeLineBreaks(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/** Multi-line text from a textarea or the API, with line breaks normalised before any length check. */
export function multilineText(messages: { type: string }) {
  return z.string({ error: messages.type }).transform(normalizeLineBreaks);
}

/**
 * Addresses we accept at sign-up, sign-in and invitation. 200 characters, not RFC's 254: a failed sign-in is
 * recorded (and throttled) by address in the audit trail, whose target holds 200, and no real address is longer.
 */
export const MAX_EMAIL_LENGTH = 200;

export const emailField = z
  .string({ error: "Enter your email address." })
  .trim()
  .toLowerCase()
  .min(1, "Enter your email address.")
  .max(MAX_EMAIL_LENGTH, `That email address is too long: use one of at most ${MAX_EMAIL_LENGTH} characters.`)
  .pipe(z.email({ error: "Enter an email address like name@example.com." }));
