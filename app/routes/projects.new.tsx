import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field, TextAreaField } from "~/components/form";
import { TimeZoneSelect } from "~/components/time-zone-select";
import { requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { assembleBrief, isQuestionKey, MAX_ANSWER_LENGTH, nextQuestion, QUESTIONS, type QuestionKey } from "~/lib/futura";
import { jsonResponse, readForm, requestMeta } from "~/lib/http.server";
import { projectCreateSchema } from "~/lib/project-input.server";
import { timeZoneOptions } from "~/lib/schedule.server";
import { multilineText, parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";
import { getActiveConversation, saveAnswer, startOver } from "~/models/conversations.server";
import { completeConversation } from "~/models/projects.server";

export const meta: MetaFunction = () => [{ title: "New project · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const conversation = await getActiveConversation(getDb(), actor);
  const answers = conversation?.answers ?? {};
  const edit = new URL(request.url).searchParams.get("edit");
  const editing = isQuestionKey(edit) && answers[edit] ? edit : null;
  const pending = nextQuestion(answers);
  return {
    answers,
    current: editing ?? pending?.key ?? null,
    editing: !!editing,
    review: !editing && !pending ? { ...assembleBrief(answers), zones: timeZoneOptions() } : null,
  };
}

const answerSchema = z.object({
  intent: z.literal("answer"),
  question: z.string().refine(isQuestionKey, "Unknown question."),
  answer: multilineText({ type: "Write an answer before sending." }).pipe(
    z
      .string()
      .trim()
      .min(1, "Write an answer before sending.")
      .max(MAX_ANSWER_LENGTH, `Keep each answer under ${MAX_ANSWER_LENGTH} characters.`),
  ),
});

/** The review form's fields and the answer box, by the element each error links to. */
const CONFIRM_FIELDS = { title: "field-title", brief: "brief", timezone: "timezone" };
const ANSWER_FIELDS = { answer: "answer" };

type ActionData = { form: "confirm" | "answer"; errors: FieldErrors; values: FormFields };

function invalid(form: ActionData["form"], errors: FieldErrors, values: FormFields): Response {
  const shown = Object.keys(form === "confirm" ? CONFIRM_FIELDS : ANSWER_FIELDS);
  return jsonResponse({ form, errors: visibleErrors(errors, shown), values } satisfies ActionData, { status: 400 });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const values = await readForm(request);
  const db = getDb();
  const meta = requestMeta(request, context);

  if (values.intent === "start-over") {
    await startOver(db, actor, meta);
    return redirect("/projects/new");
  }

  if (values.intent === "confirm") {
    // The form sends title, brief and time zone; the schedule starts at the defaults (weekly, Monday 07:00).
    const parsed = parseWith(projectCreateSchema, values);
    if (!parsed.ok) return invalid("confirm", parsed.errors, values);
    const result = await completeConversation(db, actor, parsed.data, meta);
    if (!result.ok && result.reason === "incomplete") return redirect("/projects/new");
    if (!result.ok && result.reason === "conversation_closed") {
      return redirect(result.projectId ? `/projects/${result.projectId}` : "/projects/new");
    }
    if (!result.ok) return invalid("confirm", result.errors, values);
    return redirectWithFlash(request, `/projects/${result.project.id}`, { message: "Project created. Futura starts on the first episode." });
  }

  const parsed = parseWith(answerSchema, values);
  if (!parsed.ok) return invalid("answer", parsed.errors, values);
  await saveAnswer(db, actor, parsed.data.question as QuestionKey, parsed.data.answer, meta);
  return redirect("/projects/new");
}

function AnswerForm({ question, value, error, editing }: { question: QuestionKey; value: string; error?: string; editing: boolean }) {
  const submitting = useNavigation().state === "submitting";
  const details = QUESTIONS.find((q) => q.key === question)!;
  return (
    <Form method="post" className="narrow" key={question} preventScrollReset>
      <input type="hidden" name="intent" value="answer" />
      <input type="hidden" name="question" value={question} />
      <div className="field">
        <label htmlFor="answer">Your answer: {details.label.toLowerCase()}</label>
        <p className="field__hint" id="answer-hint">
          {details.hint}
        </p>
        <textarea
          id="answer"
          name="answer"
          defaultValue={value}
          // The next question takes focus, with or without JavaScript.
          autoFocus
          required
          maxLength={MAX_ANSWER_LENGTH}
          aria-describedby={error ? "answer-hint answer-error" : "answer-hint"}
          aria-invalid={error ? true : undefined}
        />
        {error ? (
          <p className="field__error" id="answer-error">
            {error}
          </p>
        ) : null}
      </div>
      <button type="submit" className="button" disabled={submitting}>
        {editing ? "Save answer" : "Send answer"}
      </button>
      {editing ? (
        <>
          {" "}
          <Link to="/projects/new">Keep the answer as it was</Link>
        </>
      ) : null}
    </Form>
  );
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

/** A submitted value to put back in the form: only ever a string. */
function typed(values: FormFields | undefined, field: string): string | undefined {
  const value = values?.[field];
  return typeof value === "string" ? value : undefined;
}

export default function NewProjectPage() {
  const { answers, current, editing, review } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const answerFailed = actionData?.form === "answer" ? actionData : undefined;
  const confirmFailed = actionData?.form === "confirm" ? actionData : undefined;
  const answered = QUESTIONS.filter((q) => answers[q.key]);

  return (
    <div className="stack">
      <Breadcrumbs items={[{ label: "Projects", to: "/projects" }, { label: "New project" }]} />
      <h1>A new project with Futura</h1>
      <ErrorSummary errors={actionData?.errors} fieldIds={confirmFailed ? CONFIRM_FIELDS : ANSWER_FIELDS} />
      <ol className="transcript" aria-label="Conversation with Futura">
        {answered.map((q) => (
          <li key={q.key} className="stack">
            <div className="bubble bubble--futura">
              <span className="bubble__who">Futura</span>
              <p>{q.prompt}</p>
            </div>
            {current === q.key && editing ? null : (
              <div className="bubble bubble--person">
                <span className="bubble__who">You</span>
                <p>{answers[q.key]}</p>
                <Link to={`/projects/new?edit=${q.key}`} aria-label={`Change your answer about ${q.label.toLowerCase()}`}>
                  Change
                </Link>
              </div>
            )}
            {current === q.key && editing ? (
              <AnswerForm
                question={q.key}
                value={typed(answerFailed?.values, "answer") ?? answers[q.key] ?? ""}
                error={answerFailed?.errors.answer}
                editing
              />
            ) : null}
          </li>
        ))}
        {current && !editing ? (
          <li className="stack">
            <div className="bubble bubble--futura" aria-live="polite">
              <span className="bubble__who">Futura</span>
              <p>{QUESTIONS.find((q) => q.key === current)!.prompt}</p>
            </div>
            <AnswerForm question={current} value={typed(answerFailed?.values, "answer") ?? ""} error={answerFailed?.errors.answer} editing={false} />
          </li>
        ) : null}
      </ol>

      {review ? (
        <section aria-labelledby="review-title" className="stack">
          <div className="bubble bubble--futura">
            <span className="bubble__who">Futura</span>
            <p>Thank you. Here is the brief I will work from. Edit anything you like, then confirm.</p>
          </div>
          <h2 id="review-title">Your brief</h2>
          {/* Keyed by the brief: a changed answer writes a new one, and the fields must show it, not what they held. */}
          <Form method="post" key={review.brief}>
            <input type="hidden" name="intent" value="confirm" />
            <Field
              label="Title"
              name="title"
              required
              defaultValue={typed(confirmFailed?.values, "title") ?? review.title}
              error={confirmFailed?.errors.title}
            />
            <TextAreaField
              label="Brief (markdown)"
              id="brief"
              name="brief"
              rows={14}
              defaultValue={typed(confirmFailed?.values, "brief") ?? review.brief}
              error={confirmFailed?.errors.brief}
            />
            <TimeZoneSelect
              zones={review.zones}
              defaultValue={typed(confirmFailed?.values, "timezone") ?? "UTC"}
              preferBrowserZone={!confirmFailed}
              error={confirmFailed?.errors.timezone}
            />
            <p className="muted">Episodes arrive weekly on Monday at 07:00 in this time zone; you can change that in settings.</p>
            <button type="submit" className="button">
              Create project
            </button>
          </Form>
        </section>
      ) : null}

      {answered.length ? (
        <Form method="post">
          <input type="hidden" name="intent" value="start-over" />
          <button type="submit" className="link-button">
            Start the conversation over
          </button>
        </Form>
      ) : null}
    </div>
  );
}
