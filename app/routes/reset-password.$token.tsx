import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { expiredLink, ExpiredLinkBoundary } from "~/components/email-link-page";
import { keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field } from "~/components/form";
import { findAccountLink, resetPassword } from "~/auth/account-email.server";
import { clearSessionCookie } from "~/auth/session-cookie.server";
import { clerkEnabled } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { parseWith, visibleErrors, type FieldErrors } from "~/lib/validation";

export const meta: MetaFunction = () => [{ title: "Choose a new password · Many Futures" }];

const EXPIRED = "This reset link was used already, or has expired: each link works once, for one hour. Ask for a new one.";
const FIELDS = { password: "field-password" };
const resetSchema = z.object({
  password: z
    .string({ error: "Choose a new password." })
    .min(10, "Use at least 10 characters for your password.")
    .max(200, "Keep your password under 200 characters."),
});

export async function loader({ request, params }: LoaderFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const owner = await findAccountLink(getDb(), params.token ?? "", "password_reset");
  if (!owner) throw expiredLink(EXPIRED);
  return { email: owner.email };
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const parsed = parseWith(resetSchema, await readForm(request));
  if (!parsed.ok) return jsonResponse({ errors: visibleErrors(parsed.errors, Object.keys(FIELDS)) }, { status: 400 });
  const result = await resetPassword(getDb(), { token: params.token ?? "", password: parsed.data.password }, requestMeta(request, context));
  if (!result.ok) throw expiredLink(EXPIRED);
  // Every session of the account has ended, this browser's too.
  const headers = { "Set-Cookie": await clearSessionCookie(request) };
  return redirectWithFlash(request, "/signin", { message: "Your password is changed and you are signed out everywhere. Sign in with the new password." }, headers);
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <ExpiredLinkBoundary next={{ to: "/forgot-password", label: "Ask for a new reset link" }} />;
}

export default function ResetPasswordPage() {
  const { email } = useLoaderData<typeof loader>();
  const actionData = useActionData<{ errors: FieldErrors }>();
  const errors = actionData?.errors ?? {};
  return (
    <section className="narrow stack" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      <ErrorSummary errors={errors} fieldIds={FIELDS} />
      <p>For {email}. Every device signed in to this account will be signed out.</p>
      <Form method="post" noValidate>
        <input type="text" name="username" autoComplete="username" value={email} readOnly hidden />
        <Field
          label="New password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters."
          error={errors.password}
        />
        <button type="submit" className="button">
          Set new password
        </button>
      </Form>
    </section>
  );
}
