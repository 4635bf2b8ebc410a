import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { badRequest, methodNotAllowed, readJsonBody } from "~/lib/http.server";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, notFound, requestMeta } from "~/lib/http.server";
import { projectUpdateSchema } from "~/lib/project-input.server";
import { requireId } from "~/lib/route-params.server";
import { parseWith } from "~/lib/validation";
import { deleteProject, getProject, projectView, updateProject } from "~/models/projects.server";

/** GET /api/projects/:id */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { organizationId } = await requireOrgContext(request, context);
  const project = await getProject(getDb(), organizationId, requireId(request, params.projectId));
  if (!project) return notFound(request);
  return jsonResponse({ project: projectView(project) });
}

/** PATCH /api/projects/:id (with the version last read) and DELETE /api/projects/:id */
export async function action({ request, params, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const projectId = requireId(request, params.projectId);
  const db = getDb();
  const meta = requestMeta(request, context);

  if (request.method === "DELETE") {
    const deleted = await deleteProject(db, actor, projectId, meta);
    if (!deleted.ok) return deleted.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
    return new Response(null, { status: 204 });
  }
  if (request.method !== "PATCH") return methodNotAllowed(["GET", "PATCH", "DELETE"]);

  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const parsed = parseWith(projectUpdateSchema, read.body);
  if (!parsed.ok) return badRequest("Some fields are not valid.", parsed.errors);
  const result = await updateProject(db, actor, projectId, parsed.data, meta);
  if (result.ok) return jsonResponse({ project: projectView(result.project), changed: result.changed });
  switch (result.reason) {
    case "not_found":
      return notFound(request);
    case "forbidden":
      return forbiddenResponse(request);
    case "invalid":
      return badRequest("Some fields are not valid.", result.errors);
    case "conflict":
      return jsonResponse(
        { error: "The project changed since you read it: nothing was saved. Apply your change to this version.", current: projectView(result.current) },
        { status: 409 },
      );
  }
}
