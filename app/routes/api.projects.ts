import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { badRequest, methodNotAllowed, readJsonBody } from "~/lib/http.server";
import { requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, requestMeta } from "~/lib/http.server";
import { projectCreateSchema } from "~/lib/project-input.server";
import { parseWith } from "~/lib/validation";
import { createProject, listProjects, projectView } from "~/models/projects.server";

/** GET /api/projects: the organization's projects, most recently updated first. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { organizationId } = await requireOrgContext(request, context);
  const projects = await listProjects(getDb(), organizationId);
  return jsonResponse({
    projects: projects.map((p) => ({
      ...projectView(p),
      episodeCount: p.episodeCount,
      lastPublishedAt: p.lastPublishedAt?.toISOString() ?? null,
    })),
  });
}

/** POST /api/projects: creates a project with its first draft episode, validated as the forms are. */
export async function action({ request, context }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
  const actor = await requireOrgContext(request, context);
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const parsed = parseWith(projectCreateSchema, read.body);
  if (!parsed.ok) return badRequest("Some fields are not valid.", parsed.errors);
  const result = await createProject(getDb(), actor, parsed.data, requestMeta(request, context));
  if (!result.ok) return badRequest("Some fields are not valid.", result.errors);
  return jsonResponse({ project: projectView(result.project) }, { status: 201, headers: { Location: `/api/projects/${result.project.id}` } });
}
