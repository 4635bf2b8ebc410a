import { Readable } from "node:stream";
import { stringify } from "csv-stringify";
import type { Queryable } from "~/lib/db.server";
import { exactGbp } from "~/lib/money";
import { getBudgetDay, ledgerBatches } from "~/models/usage.server";

export const LEDGER_CSV_COLUMNS = [
  "usage_date",
  "recorded_at",
  "project",
  "episode_id",
  "call_id",
  "stage",
  "model",
  "prompt_tokens",
  "completion_tokens",
  "cost_gbp",
] as const;

/**
 * The organization's whole ledger as CSV, oldest first, read from a cursor in batches and quoted by csv-stringify
 * (fields with commas, quotes or line breaks are quoted, quotes doubled): memory stays flat however long it is.
 * Cost is exact pounds (six decimals), so the column sums to the day's totals.
 */
function ledgerCsvStream(sql: Queryable, organizationId: string): Readable {
  const rows = Readable.from(
    (async function* () {
      for await (const batch of ledgerBatches(sql, organizationId)) {
        for (const row of batch) {
          yield [
            row.usageDate,
            row.createdAt.toISOString(),
            row.projectTitle ?? "",
            row.episodeId ?? "",
            row.callId,
            row.agent,
            row.model,
            row.promptTokens,
            row.completionTokens,
            exactGbp(row.costGbpMicros),
          ];
        }
      }
    })(),
  );
  const csv = stringify({ header: true, columns: [...LEDGER_CSV_COLUMNS], record_delimiter: "windows", quoted_match: /^[=+\-@\t\r]/ });
  rows.on("error", (error) => csv.destroy(error));
  return rows.pipe(csv);
}

/** The ledger as a download: its stream, and a file name dated by the organization's own day. */
export async function ledgerCsvDownload(sql: Queryable, organizationId: string): Promise<{ fileName: string; stream: Readable }> {
  const { usageDate } = await getBudgetDay(sql, organizationId);
  return { fileName: `many-futures-usage-${usageDate}.csv`, stream: ledgerCsvStream(sql, organizationId) };
}
