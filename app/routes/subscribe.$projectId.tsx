import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field } from "~/components/form";
import { getDb } from "~/lib/db.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { requireId } from "~/lib/route-params.server";
import { emailField, parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";
import { findPublicSubscribeProject, subscribePublicly } from "~/models/subscribers.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Subscribe: ${data?.project.title ?? "Many Futures"}` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const project = await findPublicSubscribeProject(getDb(), requireId(request, params.projectId));
  // A project that keeps its form closed looks exactly like one that does not exist.
  if (!project) throw notFound(request);
  return { project, sent: new URL(request.url).searchParams.get("sent") === "1" };
}

const FIELDS = { email: "field-email", name: "field-name" };
const subscribeSchema = z.object({
  email: emailField,
  name: z.string().trim().max(200, "Keep your name to 200 characters or fewer.").optional().default(""),
});

type ActionData = { errors: FieldErrors; values: FormFields };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const projectId = requireId(request, params.projectId);
  const values = await readForm(request);
  const parsed = parseWith(subscribeSchema, values);
  if (!parsed.ok) {
    if (!(await findPublicSubscribeProject(getDb(), projectId))) throw notFound(request);
    return jsonResponse({ errors: visibleErrors(parsed.errors, Object.keys(FIELDS)), values } satisfies ActionData, { status: 400 });
  }
  const result = await subscribePublicly(getDb(), projectId, parsed.data, requestMeta(request, context));
  if (!result.ok && result.reason === "rate_limited") {
    const minutes = Math.ceil(result.retryAfterSeconds / 60);
    return jsonResponse(
      { errors: { form: `Too many requests from your network. Wait ${minutes} ${minutes === 1 ? "minute" : "minutes"} and try again.` }, values } satisfies ActionData,
      { status: 429, headers: { "Retry-After": String(result.retryAfterSeconds) } },
    );
  }
  if (!result.ok) throw notFound(request);
  // The same answer for every address, so the form tells nobody who is on the list.
  return redirect(`/subscribe/${projectId}?sent=1`);
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function SubscribePage() {
  const { project, sent } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const errors = actionData?.errors ?? {};
  return (
    <section className="narrow stack" aria-labelledby="subscribe-title">
      <h1 id="subscribe-title">Get {project.title} by email</h1>
      {sent ? (
        <div className="notice notice--success" role="status">
          <h2>Check your inbox</h2>
          <p>We have sent a link to confirm your subscription. Nothing else arrives until you open it; the link works for 7 days.</p>
        </div>
      ) : null}
      <ErrorSummary errors={errors} fieldIds={FIELDS} />
      <p>Each new episode arrives in your inbox. Every email has a link to unsubscribe at once.</p>
      <Form method="post" noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required defaultValue={String(actionData?.values.email ?? "")} error={errors.email} />
        <Field label="Name (optional)" name="name" autoComplete="name" defaultValue={String(actionData?.values.name ?? "")} error={errors.name} />
        <button type="submit" className="button">
          Subscribe
        </button>
      </Form>
    </section>
  );
}
