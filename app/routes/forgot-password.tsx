import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field } from "~/components/form";
import { requestPasswordReset } from "~/auth/account-email.server";
import { clerkEnabled } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { emailField, parseWith, visibleErrors, type FieldErrors } from "~/lib/validation";

export const meta: MetaFunction = () => [{ title: "Reset your password · Many Futures" }];

export async function loader({ request }: LoaderFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  return { sent: new URL(request.url).searchParams.get("sent") === "1" };
}

const FIELDS = { email: "field-email" };
const forgotSchema = z.object({ email: emailField });

export async function action({ request, context }: ActionFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const values = await readForm(request);
  const parsed = parseWith(forgotSchema, values);
  if (!parsed.ok) {
    return jsonResponse({ errors: visibleErrors(parsed.errors, Object.keys(FIELDS)), email: String(values.email ?? "") }, { status: 400 });
  }
  const result = await requestPasswordReset(getDb(), parsed.data.email, requestMeta(request, context));
  if (!result.ok) {
    const minutes = Math.ceil(result.retryAfterSeconds / 60);
    return jsonResponse(
      { errors: { form: `Too many requests from your network. Wait ${minutes} ${minutes === 1 ? "minute" : "minutes"} and try again.` }, email: parsed.data.email },
      { status: 429, headers: { "Retry-After": String(result.retryAfterSeconds) } },
    );
  }
  // The same answer for any address, with an account or without.
  return redirect("/forgot-password?sent=1");
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function ForgotPasswordPage() {
  const { sent } = useLoaderData<typeof loader>();
  const actionData = useActionData<{ errors: FieldErrors; email: string }>();
  const errors = actionData?.errors ?? {};
  return (
    <section className="narrow stack" aria-labelledby="forgot-title">
      <h1 id="forgot-title">Reset your password</h1>
      {sent ? (
        <div className="notice notice--success" role="status">
          <p>If an account uses that address, we have emailed it a link to choose a new password. The link works once, for one hour.</p>
        </div>
      ) : null}
      <ErrorSummary errors={errors} fieldIds={FIELDS} />
      <Form method="post" noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required defaultValue={actionData?.email ?? ""} error={errors.email} />
        <button type="submit" className="button">
          Email me a reset link
        </button>
      </Form>
      <p>
        <Link to="/signin">Back to sign in</Link>
      </p>
    </section>
  );
}
