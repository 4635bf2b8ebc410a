import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireOrgContext } from "~/auth/context.server";
import { jsonResponse, onlyGet } from "~/lib/http.server";

/** Who the API sees: the caller's user, organization and role. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { userId, organizationId, role } = await requireOrgContext(request, context);
  return jsonResponse({ userId, organizationId, role });
}

export const action = onlyGet;
