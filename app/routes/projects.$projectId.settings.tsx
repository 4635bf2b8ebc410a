import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { Field, FormMessage } from "~/components/form";
import { TimeZoneSelect } from "~/components/time-zone-select";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, notFound, requestMeta } from "~/lib/http.server";
import { projectUpdateSchema } from "~/lib/project-input.server";
import { requireId } from "~/lib/route-params.server";
import { CADENCE_TYPES, WEEKDAY_NAMES, type Weekday } from "~/lib/cadence";
import { describeCadence, formatInZone, timeZoneOptions } from "~/lib/schedule.server";
import { formValues, parseWith } from "~/lib/validation";
import { cadenceOf, deleteProject, getProject, projectView, updateProject, type ProjectRow } from "~/models/projects.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Settings: ${data?.project.title ?? "Project"} · Many Futures` }];

const CADENCE_LABELS: Record<(typeof CADENCE_TYPES)[number], string> = {
  weekly: "Weekly",
  custom: "Custom days",
  daily: "Daily",
  paused: "Paused",
};

function settingsView(project: ProjectRow) {
  return {
    ...projectView(project),
    schedule: describeCadence(cadenceOf(project)),
    nextScheduled: project.nextScheduledAt ? formatInZone(project.nextScheduledAt, project.timezone) : null,
  };
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { organizationId } = await requireOrgContext(request, context);
  const project = await getProject(getDb(), organizationId, requireId(request, params.projectId));
  if (!project) throw notFound(request);
  return { project: settingsView(project), zones: timeZoneOptions(), saved: new URL(request.url).searchParams.has("saved") };
}

const deleteSchema = z.object({
  intent: z.literal("delete"),
  confirm: z.literal("yes", { error: "Tick the box to confirm that the project and its episodes go for good." }),
});

type ActionData = {
  errors: Record<string, string>;
  values?: Record<string, unknown>;
  conflict?: ReturnType<typeof settingsView>;
};

export async function action({ request, params, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const projectId = requireId(request, params.projectId);
  const db = getDb();
  const meta = requestMeta(request, context);
  const values = formValues(await request.formData());

  if (values.intent === "delete") {
    const parsed = parseWith(deleteSchema, values);
    if (!parsed.ok) return jsonResponse({ errors: parsed.errors, values } satisfies ActionData, { status: 400 });
    const deleted = await deleteProject(db, actor, projectId, meta);
    if (!deleted.ok) throw deleted.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
    return redirect("/projects");
  }

  // Archive and restore send only the version and the new status; the settings form sends every field.
  const changes =
    values.intent === "archive" || values.intent === "restore"
      ? { version: values.version, status: values.intent === "archive" ? "ARCHIVED" : "ACTIVE" }
      : { ...values, cadenceDays: values.cadenceDays ?? [] };
  const parsed = parseWith(projectUpdateSchema, changes);
  if (!parsed.ok) return jsonResponse({ errors: parsed.errors, values } satisfies ActionData, { status: 400 });
  const result = await updateProject(db, actor, projectId, parsed.data, meta);
  if (!result.ok && result.reason === "not_found") throw notFound(request);
  if (!result.ok && result.reason === "forbidden") throw forbiddenResponse(request);
  if (!result.ok && result.reason === "invalid") return jsonResponse({ errors: result.errors, values } satisfies ActionData, { status: 400 });
  if (!result.ok && result.reason === "conflict") {
    return jsonResponse(
      {
        errors: {
          form: "Someone else changed this project while you were editing. The form now shows their version; your changes were not saved. Make them again and save.",
        },
        conflict: settingsView(result.current),
      } satisfies ActionData,
      { status: 409 },
    );
  }
  return redirect(`/projects/${projectId}/settings?saved`);
}

export default function ProjectSettingsPage() {
  const { project: saved, zones, saved: justSaved } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  // After a conflict the form shows the current row; after a validation error, what the person typed.
  const project = actionData?.conflict ?? saved;
  const typed = actionData?.conflict ? undefined : actionData?.values;
  const errors = actionData?.errors ?? {};
  const value = (field: string, fallback: string) => (typed && typeof typed[field] === "string" ? (typed[field] as string) : fallback);
  const typedDays = typed ? ([] as unknown[]).concat(typed.cadenceDays ?? []).map(Number) : undefined;
  const days = typedDays ?? project.cadenceDays;
  const cadence = value("cadenceType", project.cadenceType);

  return (
    <div className="stack">
      <Breadcrumbs items={[{ label: "Projects", to: "/projects" }, { label: project.title, to: `/projects/${project.id}` }, { label: "Settings" }]} />
      <h1>Settings</h1>
      <FormMessage>{errors.form}</FormMessage>
      {justSaved && !actionData ? <FormMessage tone="success">Settings saved.</FormMessage> : null}
      <dl className="facts" aria-label="Current schedule">
        <dt>Schedule</dt>
        <dd>{project.schedule}</dd>
        <dt>Next episode</dt>
        <dd data-testid="next-run">{project.nextScheduled ?? "None scheduled"}</dd>
      </dl>

      <Form method="post" className="narrow" noValidate key={`${project.version}`}>
        <input type="hidden" name="intent" value="save" />
        <input type="hidden" name="version" value={project.version} />
        <Field label="Title" name="title" required defaultValue={value("title", project.title)} error={errors.title} />
        <div className="field">
          <label htmlFor="brief">Brief (markdown)</label>
          <textarea id="brief" name="brief" rows={10} defaultValue={value("brief", project.brief)} aria-invalid={errors.brief ? true : undefined} />
          {errors.brief ? <p className="field__error">{errors.brief}</p> : null}
        </div>

        <fieldset>
          <legend>How often</legend>
          <div className="choices">
            {CADENCE_TYPES.map((type) => (
              <label key={type}>
                <input type="radio" name="cadenceType" value={type} defaultChecked={cadence === type} />
                {CADENCE_LABELS[type]}
              </label>
            ))}
          </div>
          {errors.cadenceType ? <p className="field__error">{errors.cadenceType}</p> : null}
        </fieldset>

        <fieldset aria-describedby={errors.cadenceDays ? "days-error" : "days-hint"}>
          <legend>Days</legend>
          <p className="field__hint" id="days-hint">
            Weekly uses one day; custom days uses every day you tick; daily and paused ignore these.
          </p>
          <div className="choices">
            {(Object.entries(WEEKDAY_NAMES) as [string, string][]).map(([day, name]) => (
              <label key={day}>
                <input type="checkbox" name="cadenceDays" value={day} defaultChecked={days.includes(Number(day) as Weekday)} />
                {name}
              </label>
            ))}
          </div>
          {errors.cadenceDays ? (
            <p className="field__error" id="days-error">
              {errors.cadenceDays}
            </p>
          ) : null}
        </fieldset>

        <Field label="Time of day" name="deliveryTime" type="time" required defaultValue={value("deliveryTime", project.deliveryTime)} error={errors.deliveryTime} />
        <TimeZoneSelect zones={zones} defaultValue={value("timezone", project.timezone)} error={errors.timezone} />
        <button type="submit" className="button">
          Save settings
        </button>
      </Form>

      <section aria-labelledby="archive-title" className="narrow">
        <h2 id="archive-title">{project.status === "ARCHIVED" ? "Restore" : "Archive"}</h2>
        <p className="muted">
          {project.status === "ARCHIVED"
            ? "Restoring starts the schedule again from the next slot."
            : "An archived project keeps its episodes and notes but sends nothing until restored."}
        </p>
        <Form method="post">
          <input type="hidden" name="intent" value={project.status === "ARCHIVED" ? "restore" : "archive"} />
          <input type="hidden" name="version" value={project.version} />
          <button type="submit" className="button button--secondary">
            {project.status === "ARCHIVED" ? "Restore project" : "Archive project"}
          </button>
        </Form>
      </section>

      <section aria-labelledby="delete-title" className="narrow">
        <fieldset className="danger-zone">
          <legend id="delete-title">Delete this project</legend>
          <Form method="post">
            <input type="hidden" name="intent" value="delete" />
            <div className="field">
              <label>
                <input type="checkbox" name="confirm" value="yes" aria-describedby={errors.confirm ? "confirm-error" : undefined} /> Yes, delete
                “{project.title}”, its episodes and its notes. This cannot be undone.
              </label>
              {errors.confirm ? (
                <p className="field__error" id="confirm-error">
                  {errors.confirm}
                </p>
              ) : null}
            </div>
            <button type="submit" className="button button--danger">
              Delete project
            </button>
          </Form>
        </fieldset>
      </section>
    </div>
  );
}
