import { redirect, type AppLoadContext } from "@remix-run/node";
import { getDb } from "~/lib/db.server";
import { notFound } from "~/lib/http.server";
import { requireId } from "~/lib/route-params.server";
import { archiveAccess, type ArchiveProject } from "~/models/archive.server";
import { getViewer } from "./context.server";

/**
 * The project whose archive the request may read, or a thrown answer: sign-in for a private archive without a
 * session (returning here after), 404 for a project this person's organization does not have.
 */
export async function requireArchiveProject(request: Request, context: AppLoadContext, projectIdParam: string | undefined): Promise<ArchiveProject> {
  const projectId = requireId(request, projectIdParam);
  const viewer = await getViewer(request, context);
  const access = await archiveAccess(getDb(), projectId, viewer?.organization?.organizationId ?? null);
  if (access.ok) return access.project;
  if (access.reason === "not_found") throw notFound(request);
  const url = new URL(request.url);
  throw redirect(`/signin?redirectTo=${encodeURIComponent(`${url.pathname}${url.search}`)}`);
}
