import { createReadableStreamFromReadable, type LoaderFunctionArgs } from "@remix-run/node";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { ledgerCsvStream } from "~/budget/ledger-csv.server";
import { getDb } from "~/lib/db.server";
import { canManageBudget } from "~/lib/roles";

/** GET /usage.csv: the ledger as a download, streamed. Owners and admins, like the ledger on /usage. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  if (!canManageBudget(actor.role)) throw forbiddenResponse(request, "The ledger is for owners and admins of this organization.");
  const day = new Date().toISOString().slice(0, 10);
  return new Response(createReadableStreamFromReadable(ledgerCsvStream(getDb(), actor.organizationId)), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="many-futures-usage-${day}.csv"`,
      "Cache-Control": "private, no-store",
    },
  });
}

/**
 * Anything but GET. This is a resource route, so no error boundary renders a thrown refusal inside the layout:
 * the page that explains it is written here.
 */
export function action() {
  return new Response(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Method not allowed · Many Futures</title></head>
<body>
<main>
<section class="error-page" aria-labelledby="error-title">
<h1 id="error-title">Method not allowed</h1>
<p>The usage CSV is a download: open it from the link on the usage page. There is nothing here to send a form or data to.</p>
<p><a href="/usage">Go to the usage page</a></p>
</section>
</main>
</body>
</html>
`,
    { status: 405, headers: { Allow: "GET, HEAD", "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" } },
  );
}
