import { CsvError, parse } from "csv-parse/sync";
import { emailField } from "./validation";

/** One import at most: a list this long is a mailing, not a project's readers, and belongs in smaller files. */
export const MAX_IMPORT_ROWS = 2_000;
const MAX_NAME_LENGTH = 200;

export interface ImportRow {
  /** The line the row starts on in the file, as a spreadsheet numbers it (1 is the first line). */
  line: number;
  email: string;
  name: string;
}

export interface InvalidRow {
  line: number;
  value: string;
  reason: string;
}

export type ParsedImport = { ok: true; rows: ImportRow[]; invalid: InvalidRow[] } | { ok: false; error: string };

const EMAIL_HEADERS = new Set(["email", "e-mail", "email address", "e-mail address", "address"]);
const NAME_HEADERS = new Set(["name", "full name", "display name"]);

/**
 * Addresses from a CSV file (parsed by csv-parse, so quoting, escaped quotes, commas inside quotes, CRLF and a BOM
 * all work): the email in the column headed "email" (or the first column without a header row), an optional name
 * in the column headed "name" (or the second). Rows that are not usable come back in `invalid` with their line and
 * why, and repeats of an address after its first row count as invalid too.
 */
export function parseSubscriberCsv(text: string): ParsedImport {
  let parsedRecords: { record: string[]; info: { lines: number } }[];
  try {
    // Empty lines are kept (and dropped below) so every line belongs to a record: a record then starts on the line
    // after the previous one ended, even when a quoted value spans lines (csv-parse reports where records end).
    parsedRecords = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: false, trim: true, info: true });
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      return { ok: false, error: `The file is not valid CSV${line ? ` (near line ${line})` : ""}: ${error.message.replace(/^Invalid [^:]+:\s*/, "")}` };
    }
    throw error;
  }
  const records: { record: string[]; line: number }[] = [];
  let previousEnd = 0;
  for (const { record, info } of parsedRecords) {
    const line = previousEnd + 1;
    previousEnd = info.lines;
    if (record.length === 1 && record[0] === "") continue;
    records.push({ record, line });
  }
  if (!records.length) return { ok: false, error: "The file has no addresses in it." };

  const first = records[0].record.map((cell) => cell.toLowerCase());
  const hasHeader = first.some((cell) => EMAIL_HEADERS.has(cell));
  const emailColumn = hasHeader ? first.findIndex((cell) => EMAIL_HEADERS.has(cell)) : 0;
  const nameColumn = hasHeader ? first.findIndex((cell) => NAME_HEADERS.has(cell)) : 1;
  const body = hasHeader ? records.slice(1) : records;
  if (body.length > MAX_IMPORT_ROWS) {
    return { ok: false, error: `The file has ${body.length} rows; import at most ${MAX_IMPORT_ROWS} at a time.` };
  }

  const rows: ImportRow[] = [];
  const invalid: InvalidRow[] = [];
  const seen = new Map<string, number>();
  for (const { record, line } of body) {
    const value = record[emailColumn] ?? "";
    const parsed = emailField.safeParse(value);
    if (!parsed.success) {
      invalid.push({ line, value, reason: value ? (parsed.error.issues[0]?.message ?? "Not an email address.") : "No email address in this row." });
      continue;
    }
    const earlier = seen.get(parsed.data);
    if (earlier !== undefined) {
      invalid.push({ line, value, reason: `The same address as line ${earlier}.` });
      continue;
    }
    const name = nameColumn >= 0 ? (record[nameColumn] ?? "") : "";
    if (name.length > MAX_NAME_LENGTH || name.includes("\u0000")) {
      invalid.push({ line, value, reason: `The name is longer than ${MAX_NAME_LENGTH} characters or contains a NUL character.` });
      continue;
    }
    seen.set(parsed.data, line);
    rows.push({ line, email: parsed.data, name });
  }
  return { ok: true, rows, invalid };
}
