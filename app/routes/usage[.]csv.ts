import { createReadableStreamFromReadable, type LoaderFunctionArgs } from "@remix-run/node";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { ledgerCsvDownload } from "~/budget/ledger-csv.server";
import { getDb } from "~/lib/db.server";
import { canManageBudget } from "~/lib/roles";

/**
 * GET /usage.csv: the ledger as a download, streamed. Owners and admins, like the ledger on /usage. Like the event
 * stream it has no action: it is no page, and the edge answers any other method with a readable 405 and Allow.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  if (!canManageBudget(actor.role)) throw forbiddenResponse(request, "The ledger is for owners and admins of this organization.");
  const { fileName, stream } = await ledgerCsvDownload(getDb(), actor.organizationId);
  return new Response(createReadableStreamFromReadable(stream), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${fileName}"`,
      "Cache-Control": "private, no-store",
    },
  });
}
