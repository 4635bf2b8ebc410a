import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { TextAreaField } from "~/components/form";
import { readFeedbackLink, submitFeedbackByLink } from "~/email/reader-links.server";
import { getDb } from "~/lib/db.server";
import { clientError, jsonResponse, readForm } from "~/lib/http.server";
import { parseWith } from "~/lib/validation";

/**
 * Rating an episode from the links in its email. GET shows the rating the link carries, ready to send with an
 * optional comment (so a link scanner records nothing); POST records it. One rating per reader per episode: sending
 * again changes it.
 */

const INVALID_LINK = "This feedback link is not valid. Use the links in the episode's email.";

const feedbackForm = z.object({
  rating: z.coerce.number({ error: "Choose a rating from 1 to 5." }).int("Choose a rating from 1 to 5.").min(1, "Choose a rating from 1 to 5.").max(5, "Choose a rating from 1 to 5."),
  comment: z.string().max(2000, "Keep the comment to 2,000 characters.").default("").transform((value) => value.trim()),
});

export const meta: MetaFunction = () => [{ title: "Episode feedback · Many Futures" }, { name: "robots", content: "noindex" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const link = await readFeedbackLink(getDb(), params.token ?? "");
  if (!link) throw clientError(request, 404, INVALID_LINK);
  return {
    episodeTitle: link.context.episodeTitle,
    projectTitle: link.context.projectTitle,
    rating: link.rating,
    comment: link.context.current?.comment ?? "",
    rated: link.context.current !== null,
  };
}

type ActionData = { ok: true; rating: number } | { ok: false; errors: Record<string, string>; values: Record<string, unknown> };

export async function action({ request, params }: ActionFunctionArgs) {
  const fields = await readForm(request);
  const parsed = parseWith(feedbackForm, fields);
  if (!parsed.ok) {
    return jsonResponse({ ok: false, errors: parsed.errors, values: fields } satisfies ActionData, { status: 400 });
  }
  const result = await submitFeedbackByLink(getDb(), params.token ?? "", parsed.data);
  if (!result.ok) throw clientError(request, 404, INVALID_LINK);
  return { ok: true, rating: parsed.data.rating } satisfies ActionData;
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

const LABELS: Record<number, string> = { 1: "1 – Not useful", 2: "2", 3: "3", 4: "4", 5: "5 – Very useful" };

export default function FeedbackPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<ActionData>();
  if (result?.ok) {
    return (
      <section className="narrow stack" aria-labelledby="feedback-title">
        <h1 id="feedback-title">Thank you</h1>
        <p role="status">{`You rated “${data.episodeTitle}” ${result.rating} out of 5. Use any rating link in the email again to change it.`}</p>
      </section>
    );
  }
  const errors = result && !result.ok ? result.errors : undefined;
  const rating = Number(result && !result.ok ? result.values.rating : data.rating) || data.rating;
  const comment = String(result && !result.ok ? (result.values.comment ?? "") : data.comment);
  return (
    <section className="narrow stack" aria-labelledby="feedback-title">
      <h1 id="feedback-title">{`How useful was “${data.episodeTitle}”?`}</h1>
      <p>
        An episode of {data.projectTitle}.{data.rated ? " You rated it before: sending this replaces that rating." : ""}
      </p>
      <ErrorSummary errors={errors} fieldIds={{ rating: "rating-1", comment: "feedback-comment" }} />
      <Form method="post" className="stack">
        <fieldset aria-describedby={errors?.rating ? "rating-error" : undefined}>
          <legend>Your rating</legend>
          <div className="choices">
            {[1, 2, 3, 4, 5].map((value) => (
              <label key={value} htmlFor={`rating-${value}`}>
                <input type="radio" id={`rating-${value}`} name="rating" value={value} defaultChecked={value === rating} />
                {LABELS[value]}
              </label>
            ))}
          </div>
          {errors?.rating ? (
            <p className="field__error" id="rating-error">
              {errors.rating}
            </p>
          ) : null}
        </fieldset>
        <TextAreaField
          id="feedback-comment"
          label="Anything to add? (optional)"
          name="comment"
          rows={4}
          maxLength={2000}
          defaultValue={comment}
          error={errors?.comment}
        />
        <button type="submit" className="button">
          Send feedback
        </button>
      </Form>
    </section>
  );
}
