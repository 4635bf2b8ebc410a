import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { keepRefusalHeaders, ProjectErrorBoundary } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { GenerateNowForm, generationRequestMessage, generationRequestStatus } from "~/components/episode-actions";
import { TextAreaField } from "~/components/form";
import { Markdown } from "~/components/markdown";
import { StatusBadge } from "~/components/project-status";
import { requireOrgContext } from "~/auth/context.server";
import { canRequestGeneration, generateNow } from "~/generation/lifecycle.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { requireId } from "~/lib/route-params.server";
import { describeCadence, formatInZone } from "~/lib/schedule.server";
import { multilineText, parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";
import { listEpisodes } from "~/models/episodes.server";
import { addPlanningNote, deletePlanningNote, listPlanningNotes, updatePlanningNote } from "~/models/planning-notes.server";
import { cadenceOf, getProject } from "~/models/projects.server";
import { memberSubscription, setMemberSubscription } from "~/models/subscribers.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.project.title ?? "Project"} · Many Futures` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const { organizationId, role } = actor;
  const projectId = requireId(request, params.projectId);
  const db = getDb();
  const project = await getProject(db, organizationId, projectId);
  if (!project) throw notFound(request);
  const [episodes, notes, subscription] = await Promise.all([
    listEpisodes(db, organizationId, projectId),
    listPlanningNotes(db, organizationId, projectId),
    memberSubscription(db, actor, projectId),
  ]);
  const when = (at: Date) => formatInZone(at, project.timezone);
  return {
    project: {
      id: project.id,
      title: project.title,
      brief: project.onboardingBrief,
      status: project.status,
      cadence: describeCadence(cadenceOf(project)),
      nextScheduled: project.nextScheduledAt ? when(project.nextScheduledAt) : null,
    },
    canGenerate: project.status === "ACTIVE" && canRequestGeneration(role),
    subscription,
    episodes: episodes.map((e) => ({
      id: e.id,
      title: e.title,
      status: e.status,
      date: when(e.publishedAt ?? e.scheduledFor),
      published: !!e.publishedAt,
      stage: e.generationStage,
    })),
    notes: notes.map((n) => ({
      id: n.id,
      body: n.body,
      kind: n.kind,
      version: n.version,
      author: n.authorName,
      createdAt: when(n.createdAt),
    })),
  };
}

const body = multilineText({ type: "Write the note first." }).pipe(
  z.string().trim().min(1, "Write the note first.").max(20_000, "Keep notes under 20,000 characters."),
);
const noteAction = z.discriminatedUnion(
  "intent",
  [
    z.object({ intent: z.literal("add-note"), body }),
    z.object({ intent: z.literal("edit-note"), noteId: z.uuid(), body, version: z.coerce.number().int().min(1) }),
    z.object({ intent: z.literal("delete-note"), noteId: z.uuid() }),
  ],
  { error: "Unknown action." },
);

/**
 * Which form answered: the new-note form, the edit form of one note, or "Generate now". Each form shows only its
 * own errors and values.
 */
type ActionData = {
  form: "add-note" | "generate-now" | "subscription" | `note-${string}`;
  errors: FieldErrors;
  values?: FormFields;
  current?: string;
};

const SUBSCRIPTION_MESSAGES = {
  unverified: "Confirm your email address first: open the link in the email we sent when you signed up.",
  no_email: "Your account has no email address to send episodes to.",
} as const;

/** The element an error links to: the new note's box, the box of the note being edited, or the Generate button. */
function fieldIdsFor(form: ActionData["form"]): Record<string, string> {
  if (form === "subscription") return { form: "member-subscription" };
  return form === "generate-now" ? { form: "generate-now" } : { body: form === "add-note" ? "new-note" : form };
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const projectId = requireId(request, params.projectId);
  const values = await readForm(request);

  // Generate now: queue an episode at once and watch it on its page.
  if (values.intent === "generate-now") {
    const result = await generateNow(getDb(), actor, projectId, requestMeta(request, context));
    if (result.ok) return redirect(`/episodes/${result.episode.id}`);
    if (result.reason === "not_found") throw notFound(request);
    return jsonResponse({ form: "generate-now", errors: { form: generationRequestMessage(result.reason) } } satisfies ActionData, {
      status: generationRequestStatus(result.reason),
    });
  }
  // The members' checkbox: an unticked box sends nothing, so its absence means "stop sending".
  if (values.intent === "subscription") {
    const result = await setMemberSubscription(getDb(), actor, projectId, values.subscribed === "on", requestMeta(request, context));
    if (!result.ok) {
      if (result.reason === "not_found") throw notFound(request);
      return jsonResponse({ form: "subscription", errors: { form: SUBSCRIPTION_MESSAGES[result.reason] } } satisfies ActionData, { status: 403 });
    }
    const message =
      result.status === "confirmed"
        ? "New episodes of this project will arrive in your inbox."
        : result.status === "unsubscribed"
          ? "You will no longer get this project's episodes by email."
          : "Mail to your address bounced or was marked as spam, so nothing is sent to it.";
    return redirectWithFlash(request, `/projects/${projectId}`, { message });
  }
  const parsed = parseWith(noteAction, values);
  if (!parsed.ok) {
    const noteId = values.intent !== "add-note" && typeof values.noteId === "string" ? values.noteId : undefined;
    const form: ActionData["form"] = noteId && /^[0-9a-f-]{36}$/i.test(noteId) ? `note-${noteId}` : "add-note";
    const shown = values.intent === "add-note" || values.intent === "edit-note" ? ["body"] : [];
    return jsonResponse({ form, errors: visibleErrors(parsed.errors, shown), values } satisfies ActionData, { status: 400 });
  }
  const db = getDb();
  const meta = requestMeta(request, context);
  const input = parsed.data;
  const here = `/projects/${projectId}`;
  switch (input.intent) {
    case "add-note": {
      const added = await addPlanningNote(db, actor, projectId, input.body, meta);
      if (!added.ok) throw notFound(request);
      return redirectWithFlash(request, here, { message: "Note added." });
    }
    case "edit-note": {
      const result = await updatePlanningNote(db, actor, { projectId, noteId: input.noteId, body: input.body, version: input.version }, meta);
      if (!result.ok && result.reason === "not_found") throw notFound(request);
      if (!result.ok) {
        return jsonResponse(
          {
            form: `note-${input.noteId}`,
            values,
            current: result.current.body,
            errors: { body: "Someone else changed this note while you were editing. Their version is shown; nothing was overwritten." },
          } satisfies ActionData,
          { status: 409 },
        );
      }
      return redirectWithFlash(request, here, { message: "Note saved." });
    }
    case "delete-note": {
      if (!(await deletePlanningNote(db, actor, { projectId, noteId: input.noteId }, meta)).ok) throw notFound(request);
      return redirectWithFlash(request, here, { message: "Note deleted." });
    }
  }
}

export const headers = keepRefusalHeaders;

export const ErrorBoundary = ProjectErrorBoundary;

export default function ProjectPage() {
  const { project, episodes, notes, canGenerate, subscription } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const adding = actionData?.form === "add-note" ? actionData : undefined;
  return (
    <div className="stack">
      <Breadcrumbs items={[{ label: "Projects", to: "/projects" }, { label: project.title }]} />
      <div className="page-header">
        <h1>
          {project.title} <StatusBadge status={project.status} />
        </h1>
        <Link to={`/projects/${project.id}/settings`} className="button button--secondary">
          Settings
        </Link>
      </div>
      <nav aria-label="This project">
        <Link to={`/projects/${project.id}/subscribers`}>Subscribers</Link> · <Link to={`/projects/${project.id}/archive`}>Archive</Link>
      </nav>
      <ErrorSummary errors={actionData?.errors} fieldIds={actionData ? fieldIdsFor(actionData.form) : {}} />
      <dl className="facts">
        <dt>Schedule</dt>
        <dd>{project.cadence}</dd>
        <dt>Next episode</dt>
        <dd>{project.nextScheduled ?? "None scheduled"}</dd>
      </dl>

      <Form method="post" id="member-subscription" className="inline-form" tabIndex={-1}>
        <input type="hidden" name="intent" value="subscription" />
        <label>
          <input type="checkbox" name="subscribed" defaultChecked={subscription === "confirmed"} key={subscription ?? "none"} /> Email me new
          episodes of this project
        </label>{" "}
        <button type="submit" className="button button--secondary">
          Save
        </button>
      </Form>

      <section aria-labelledby="brief-title">
        <h2 id="brief-title">Brief</h2>
        {project.brief ? <Markdown>{project.brief}</Markdown> : <p className="muted">No brief yet. Add one in settings.</p>}
      </section>

      <section aria-labelledby="episodes-title">
        <h2 id="episodes-title">Episodes</h2>
        {canGenerate ? <GenerateNowForm error={actionData?.form === "generate-now" ? actionData.errors.form : undefined} /> : null}
        {episodes.length ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Episode</th>
                <th scope="col">Status</th>
                <th scope="col">Date</th>
              </tr>
            </thead>
            <tbody>
              {episodes.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Link to={`/episodes/${e.id}`}>{e.title ?? "Upcoming episode"}</Link>
                  </td>
                  <td>
                    <StatusBadge status={e.status} />
                    {e.status === "GENERATING" && e.stage ? <span className="muted"> ({e.stage})</span> : null}
                  </td>
                  <td>
                    {e.published ? "Published " : "Scheduled for "}
                    {e.date}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No episodes yet: the schedule is paused or the project is archived.</p>
        )}
      </section>

      <section aria-labelledby="notes-title" className="stack">
        <h2 id="notes-title">Planning notes</h2>
        <p className="muted">Notes guide Futura's research for the coming episodes.</p>
        {notes.map((note) => {
          const failed = actionData?.form === `note-${note.id}` ? actionData : undefined;
          const typedBody = typeof failed?.values?.body === "string" ? failed.values.body : undefined;
          return (
            <article key={note.id} className="card stack" aria-label={`Note from ${note.createdAt}`}>
              <p className="muted">
                {note.kind === "conversation" ? "Conversation with Futura" : `Note by ${note.author ?? "a former member"}`}, {note.createdAt}
              </p>
              <Form method="post">
                <input type="hidden" name="intent" value="edit-note" />
                <input type="hidden" name="noteId" value={note.id} />
                <input type="hidden" name="version" value={note.version} />
                <TextAreaField
                  label="Note text"
                  id={`note-${note.id}`}
                  name="body"
                  defaultValue={failed?.current ?? typedBody ?? note.body}
                  key={`${note.id}-${note.version}`}
                  error={failed?.errors.body}
                />
                <button type="submit" className="button button--secondary">
                  Save note
                </button>
              </Form>
              <Form method="post">
                <input type="hidden" name="intent" value="delete-note" />
                <input type="hidden" name="noteId" value={note.id} />
                <button type="submit" className="link-button">
                  Delete note
                </button>
              </Form>
            </article>
          );
        })}
        <Form method="post" className="narrow" key={notes.length}>
          <input type="hidden" name="intent" value="add-note" />
          <TextAreaField
            label="New note"
            id="new-note"
            name="body"
            defaultValue={typeof adding?.values?.body === "string" ? adding.values.body : ""}
            error={adding?.errors.body}
          />
          <button type="submit" className="button">
            Add note
          </button>
        </Form>
      </section>
    </div>
  );
}
