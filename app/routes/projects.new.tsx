import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { Field, FormMessage } from "~/components/form";
import { TimeZoneSelect } from "~/components/time-zone-select";
import { requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { assembleBrief, isQuestionKey, MAX_ANSWER_LENGTH, nextQuestion, QUESTIONS, type QuestionKey } from "~/lib/futura";
import { jsonResponse, requestMeta } from "~/lib/http.server";
import { projectCreateSchema } from "~/lib/project-input.server";
import { timeZoneOptions } from "~/lib/schedule.server";
import { formValues, parseWith } from "~/lib/validation";
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
  answer: z
    .string({ error: "Write an answer before sending." })
    .trim()
    .min(1, "Write an answer before sending.")
    .max(MAX_ANSWER_LENGTH, `Keep each answer under ${MAX_ANSWER_LENGTH} characters.`),
});

export async function action({ request, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const db = getDb();
  const meta = requestMeta(request, context);
  const values = formValues(await request.formData());

  if (values.intent === "start-over") {
    await startOver(db, actor, meta);
    return redirect("/projects/new");
  }

  if (values.intent === "confirm") {
    // The form sends title, brief and time zone; the schedule starts at the defaults (weekly, Monday 07:00).
    const parsed = parseWith(projectCreateSchema, values);
    if (!parsed.ok) return jsonResponse({ errors: parsed.errors, values }, { status: 400 });
    const result = await completeConversation(db, actor, parsed.data, meta);
    if (!result.ok && result.reason === "incomplete") return redirect("/projects/new");
    if (!result.ok && result.reason === "conversation_closed") {
      return redirect(result.projectId ? `/projects/${result.projectId}` : "/projects/new");
    }
    if (!result.ok) return jsonResponse({ errors: result.errors, values }, { status: 400 });
    return redirect(`/projects/${result.project.id}`);
  }

  const parsed = parseWith(answerSchema, values);
  if (!parsed.ok) return jsonResponse({ errors: parsed.errors, values }, { status: 400 });
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

export default function NewProjectPage() {
  const { answers, current, editing, review } = useLoaderData<typeof loader>();
  const actionData = useActionData<{ errors: Record<string, string>; values: Record<string, string> }>();
  const errors = actionData?.errors ?? {};
  const answered = QUESTIONS.filter((q) => answers[q.key]);

  return (
    <div className="stack">
      <Breadcrumbs items={[{ label: "Projects", to: "/projects" }, { label: "New project" }]} />
      <h1>A new project with Futura</h1>
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
              <AnswerForm question={q.key} value={actionData?.values?.answer ?? answers[q.key] ?? ""} error={errors.answer} editing />
            ) : null}
          </li>
        ))}
        {current && !editing ? (
          <li className="stack">
            <div className="bubble bubble--futura" aria-live="polite">
              <span className="bubble__who">Futura</span>
              <p>{QUESTIONS.find((q) => q.key === current)!.prompt}</p>
            </div>
            <AnswerForm question={current} value={actionData?.values?.answer ?? ""} error={errors.answer} editing={false} />
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
          <FormMessage>{errors.form ?? errors.cadenceDays}</FormMessage>
          <Form method="post">
            <input type="hidden" name="intent" value="confirm" />
            <Field label="Title" name="title" required defaultValue={actionData?.values?.title ?? review.title} error={errors.title} />
            <div className="field">
              <label htmlFor="brief">Brief (markdown)</label>
              <textarea id="brief" name="brief" rows={14} defaultValue={actionData?.values?.brief ?? review.brief} />
              {errors.brief ? <p className="field__error">{errors.brief}</p> : null}
            </div>
            <TimeZoneSelect zones={review.zones} defaultValue={actionData?.values?.timezone ?? "UTC"} preferBrowserZone={!actionData} error={errors.timezone} />
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
