import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireOrgContext } from "~/auth/context.server";
import { notFound } from "~/lib/http.server";
import { requireId } from "~/lib/route-params.server";
import { getEpisodeHub } from "~/realtime/episode-hub.server";
import { openEpisodeStream } from "~/realtime/episode-stream.server";

/** The episode's live state as server-sent events, for the episode page (see realtime/episode-stream). */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { organizationId } = await requireOrgContext(request, context);
  const episodeId = requireId(request, params.episodeId);
  const stream = await openEpisodeStream(getEpisodeHub(), request, organizationId, episodeId);
  if (stream.ok) return stream.response;
  if (stream.reason === "not_found") throw notFound(request);
  // Shutting down: the browser reconnects, to another instance behind a load balancer.
  return new Response("The server is restarting. Try again in a moment.", { status: 503, headers: { "Retry-After": "3" } });
}
