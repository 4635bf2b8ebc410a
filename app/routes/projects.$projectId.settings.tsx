import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { keepRefusalHeaders, ProjectErrorBoundary } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field, TextAreaField } from "~/components/form";
import { TimeZoneSelect } from "~/components/time-zone-select";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { projectUpdateSchema } from "~/lib/project-input.server";
import { canManageProjectLifecycle } from "~/lib/roles";
import { requireId } from "~/lib/route-params.server";
import { CADENCE_TYPES, WEEKDAY_NAMES, type Weekday } from "~/lib/cadence";
import { describeCadence, formatInZone, timeZoneOptions } from "~/lib/schedule.server";
import { parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";
import {
  cadenceOf,
  deleteProject,
  getProject,
  projectView,
  setProjectPublicAccess,
  updateProject,
  type ProjectRow,
} from "~/models/projects.server";

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
    publicSubscribe: project.publicSubscribe,
    publicArchive: project.publicArchive,
    nextScheduled: project.nextScheduledAt ? formatInZone(project.nextScheduledAt, project.timezone) : null,
  };
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { organizationId, role } = await requireOrgContext(request, context);
  const project = await getProject(getDb(), organizationId, requireId(request, params.projectId));
  if (!project) throw notFound(request);
  return { project: settingsView(project), zones: timeZoneOptions(), canManageLifecycle: canManageProjectLifecycle(role) };
}

const deleteSchema = z.object({
  intent: z.literal("delete"),
  confirm: z.literal("yes", { error: "Tick the box to confirm that the project and its episodes go for good." }),
});

// An unticked checkbox sends nothing, so absence means "off".
const publicAccessSchema = z.object({
  intent: z.literal("public-access"),
  publicSubscribe: z.literal("on").optional(),
  publicArchive: z.literal("on").optional(),
});

/** The four forms on the page, and the element each of their errors links to. */
const FORM_FIELDS = {
  settings: {
    title: "field-title",
    brief: "brief",
    cadenceType: "cadence-weekly",
    cadenceDays: "day-1",
    deliveryTime: "field-deliveryTime",
    timezone: "timezone",
  },
  status: {},
  public: {},
  delete: { confirm: "delete-confirm" },
} as const;

type FormName = keyof typeof FORM_FIELDS;

/** Which form answered, so each form shows only its own submission. */
type ActionData = {
  form: FormName;
  errors: FieldErrors;
  values?: FormFields;
  conflict?: ReturnType<typeof settingsView>;
};

function invalid(form: FormName, errors: FieldErrors, values: FormFields): Response {
  return jsonResponse({ form, errors: visibleErrors(errors, Object.keys(FORM_FIELDS[form])), values } satisfies ActionData, { status: 400 });
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const projectId = requireId(request, params.projectId);
  const values = await readForm(request);
  const db = getDb();
  const meta = requestMeta(request, context);

  if (values.intent === "delete") {
    const parsed = parseWith(deleteSchema, values);
    if (!parsed.ok) return invalid("delete", parsed.errors, values);
    const deleted = await deleteProject(db, actor, projectId, meta);
    if (!deleted.ok) throw deleted.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
    return redirectWithFlash(request, "/projects", { message: "Project deleted." });
  }

  if (values.intent === "public-access") {
    const parsed = parseWith(publicAccessSchema, values);
    if (!parsed.ok) return invalid("public", parsed.errors, values);
    const access = { publicSubscribe: parsed.data.publicSubscribe === "on", publicArchive: parsed.data.publicArchive === "on" };
    const result = await setProjectPublicAccess(db, actor, projectId, access, meta);
    if (!result.ok) throw result.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
    return redirectWithFlash(request, `/projects/${projectId}/settings`, {
      message: result.changed ? "Public access saved." : "Nothing to save: public access was already like this.",
    });
  }

  // Archive and restore send only the version and the new status; the settings form sends every field.
  const form: FormName = values.intent === "archive" || values.intent === "restore" ? "status" : "settings";
  if (form === "settings" && values.intent !== "save") return invalid("settings", { intent: "Unknown action." }, values);
  const changes =
    form === "status"
      ? { version: values.version, status: values.intent === "archive" ? "ARCHIVED" : "ACTIVE" }
      : { ...values, cadenceDays: values.cadenceDays ?? [] };
  const parsed = parseWith(projectUpdateSchema, changes);
  if (!parsed.ok) return invalid(form, parsed.errors, values);
  const result = await updateProject(db, actor, projectId, parsed.data, meta);
  if (!result.ok && result.reason === "invalid") return invalid(form, result.errors, values);
  if (!result.ok && result.reason === "conflict") {
    return jsonResponse(
      {
        form,
        errors: {
          form: "Someone else changed this project while you were editing. The form now shows their version; your changes were not saved. Make them again and save.",
        },
        conflict: settingsView(result.current),
      } satisfies ActionData,
      { status: 409 },
    );
  }
  if (!result.ok) throw result.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
  const message =
    form === "status"
      ? result.project.status === "ARCHIVED"
        ? "Project archived: it sends nothing until you restore it."
        : "Project restored: its schedule starts again from the next slot."
      : result.changed.length
        ? "Settings saved."
        : "Nothing to save: the settings were already like this.";
  return redirectWithFlash(request, `/projects/${projectId}/settings`, { message });
}

export const headers = keepRefusalHeaders;

export const ErrorBoundary = ProjectErrorBoundary;

export default function ProjectSettingsPage() {
  const { project: saved, zones, canManageLifecycle } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  // After a conflict the form shows the current row; after its own validation error, what the person typed.
  const project = actionData?.conflict ?? saved;
  const settingsFailed = actionData?.form === "settings" && !actionData.conflict ? actionData : undefined;
  const typed = settingsFailed?.values;
  const errors = settingsFailed?.errors ?? {};
  const value = (field: string, fallback: string) => (typed && typeof typed[field] === "string" ? (typed[field] as string) : fallback);
  const typedDays = typed ? ([] as unknown[]).concat(typed.cadenceDays ?? []).map(Number) : undefined;
  const days = typedDays ?? project.cadenceDays;
  const cadence = value("cadenceType", project.cadenceType);
  const deleteError = actionData?.form === "delete" ? actionData.errors.confirm : undefined;

  return (
    <div className="stack">
      <Breadcrumbs items={[{ label: "Projects", to: "/projects" }, { label: project.title, to: `/projects/${project.id}` }, { label: "Settings" }]} />
      <h1>Settings</h1>
      <ErrorSummary errors={actionData?.errors} fieldIds={actionData ? FORM_FIELDS[actionData.form] : {}} />
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
        <TextAreaField label="Brief (markdown)" id="brief" name="brief" rows={10} defaultValue={value("brief", project.brief)} error={errors.brief} />

        <fieldset aria-describedby={errors.cadenceType ? "cadence-error" : undefined}>
          <legend>How often</legend>
          <div className="choices">
            {CADENCE_TYPES.map((type) => (
              <label key={type}>
                <input type="radio" id={`cadence-${type}`} name="cadenceType" value={type} defaultChecked={cadence === type} />
                {CADENCE_LABELS[type]}
              </label>
            ))}
          </div>
          {errors.cadenceType ? (
            <p className="field__error" id="cadence-error">
              {errors.cadenceType}
            </p>
          ) : null}
        </fieldset>

        <fieldset aria-describedby={errors.cadenceDays ? "days-hint days-error" : "days-hint"}>
          <legend>Days</legend>
          <p className="field__hint" id="days-hint">
            Weekly uses one day; custom days uses every day you tick; daily and paused ignore these.
          </p>
          <div className="choices">
            {(Object.entries(WEEKDAY_NAMES) as [string, string][]).map(([day, name]) => (
              <label key={day}>
                <input type="checkbox" id={`day-${day}`} name="cadenceDays" value={day} defaultChecked={days.includes(Number(day) as Weekday)} />
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

      {canManageLifecycle ? (
        <>
          <section aria-labelledby="public-title" className="narrow">
            <h2 id="public-title">Public access</h2>
            <Form method="post">
              <input type="hidden" name="intent" value="public-access" />
              <div className="field">
                <label>
                  <input type="checkbox" name="publicSubscribe" defaultChecked={project.publicSubscribe} aria-describedby="public-subscribe-hint" /> Anyone
                  may subscribe by email
                </label>
                <p className="field__hint" id="public-subscribe-hint">
                  Opens the form at <a href={`/subscribe/${project.id}`}>/subscribe/{project.id}</a>. Each address confirms by email before anything is
                  sent to it.
                </p>
              </div>
              <div className="field">
                <label>
                  <input type="checkbox" name="publicArchive" defaultChecked={project.publicArchive} aria-describedby="public-archive-hint" /> Anyone may
                  read the archive and its feed
                </label>
                <p className="field__hint" id="public-archive-hint">
                  Otherwise the <a href={`/projects/${project.id}/archive`}>archive</a> and its Atom feed need a sign-in to this organization.
                </p>
              </div>
              <button type="submit" className="button button--secondary">
                Save public access
              </button>
            </Form>
          </section>

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
                    <input
                      type="checkbox"
                      id="delete-confirm"
                      name="confirm"
                      value="yes"
                      aria-invalid={deleteError ? true : undefined}
                      aria-describedby={deleteError ? "confirm-error" : undefined}
                    />{" "}
                    Yes, delete “{project.title}”, its episodes and its notes. This cannot be undone.
                  </label>
                  {deleteError ? (
                    <p className="field__error" id="confirm-error">
                      {deleteError}
                    </p>
                  ) : null}
                </div>
                <button type="submit" className="button button--danger">
                  Delete project
                </button>
              </Form>
            </fieldset>
          </section>
        </>
      ) : (
        <p className="muted narrow">Owners and admins of this organization can archive, restore or delete this project.</p>
      )}
    </div>
  );
}
