import { jsonResponse } from "~/lib/http.server";

/** An API path that names no endpoint: JSON for the program that asked, whatever the method. */
function noEndpoint(): Response {
  return jsonResponse({ error: "There is no API endpoint at this path. The endpoints are listed in docs/api.md." }, { status: 404 });
}

export const loader = noEndpoint;
export const action = noEndpoint;
