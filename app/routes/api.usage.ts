import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { requireOrgContext } from "~/auth/context.server";
import { usageApiView } from "~/budget/usage-view.server";
import { getDb } from "~/lib/db.server";
import { badRequest, jsonResponse, onlyGet } from "~/lib/http.server";
import { parseWith } from "~/lib/validation";

const PAGE_MESSAGE = "page is a whole number from 1.";
const query = z.strictObject(
  { page: z.coerce.number({ error: PAGE_MESSAGE }).int(PAGE_MESSAGE).min(1, PAGE_MESSAGE).max(1_000_000, PAGE_MESSAGE).default(1) },
  { error: "The only query parameter is page." },
);

/** GET /api/usage: today's budget, the last 30 days, and for owners and admins the breakdowns and a ledger page. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const parsed = parseWith(query, Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.ok) return badRequest("Some query parameters are not valid.", parsed.errors);
  return jsonResponse(await usageApiView(getDb(), actor, parsed.data.page));
}

export const action = onlyGet;
