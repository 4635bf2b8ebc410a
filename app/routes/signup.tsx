import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { ClerkAuthPanel } from "~/components/clerk-auth-panel";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field } from "~/components/form";
import { getViewer } from "~/auth/context.server";
import { signUpWithPassword } from "~/auth/account-email.server";
import { clerkEnabled } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, readForm, requestMeta } from "~/lib/http.server";
import { safeRedirect } from "~/lib/safe-redirect";
import { emailField, parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";

export const meta: MetaFunction = () => [{ title: "Create an account · Many Futures" }];

/**
 * 100 characters: the personal organization is named "<name>'s organization", and an organization's name
 * holds 200.
 */
const MAX_NAME_LENGTH = 100;

const signUpSchema = z.object({
  name: z
    .string({ error: "Enter your name." })
    .trim()
    .min(1, "Enter your name.")
    .max(MAX_NAME_LENGTH, `Keep your name to ${MAX_NAME_LENGTH} characters or fewer.`),
  email: emailField,
  password: z
    .string({ error: "Choose a password." })
    .min(10, "Use at least 10 characters for your password.")
    .max(200, "Keep your password under 200 characters."),
  redirectTo: z.string().max(2000).optional(),
});

export async function loader({ request, context }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const redirectTo = safeRedirect(url.searchParams.get("redirectTo"));
  if (await getViewer(request, context)) throw redirect(redirectTo);
  return { clerk: clerkEnabled(), redirectTo, email: url.searchParams.get("email") ?? "" };
}

const FIELDS = { name: "field-name", email: "field-email", password: "field-password" };

type ActionData = { errors: FieldErrors; values: FormFields };

export async function action({ request, context }: ActionFunctionArgs) {
  if (clerkEnabled()) return new Response("Sign-up is handled by Clerk.", { status: 404 });
  const values = await readForm(request);
  // A password is never sent back into the page.
  const { password: _password, ...echo } = values;
  const parsed = parseWith(signUpSchema, values);
  if (!parsed.ok) {
    return jsonResponse({ errors: visibleErrors(parsed.errors, Object.keys(FIELDS)), values: echo } satisfies ActionData, { status: 400 });
  }
  const { name, email, password, redirectTo } = parsed.data;
  await signUpWithPassword(getDb(), { name, email, password, redirectTo }, requestMeta(request, context));
  // The same answer whether or not the address has an account: no session, the same page. The email says which.
  return redirect("/check-email");
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function SignUpPage() {
  const { clerk, redirectTo, email } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const submitting = useNavigation().state === "submitting";
  const errors: FieldErrors = actionData?.errors ?? {};
  const values: FormFields = actionData?.values ?? { email };

  if (clerk) return <ClerkAuthPanel mode="sign-up" redirectTo={redirectTo} />;

  return (
    <section className="narrow" aria-labelledby="signup-title">
      <h1 id="signup-title">Create an account</h1>
      <ErrorSummary errors={errors} fieldIds={FIELDS} />
      <p className="muted">
        You get a personal organization for your projects; you can invite others to it later. We email you a link to confirm your address.
      </p>
      <Form method="post" noValidate>
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <Field label="Name" name="name" autoComplete="name" required defaultValue={String(values.name ?? "")} error={errors.name} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          defaultValue={String(values.email ?? "")}
          error={errors.email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters."
          error={errors.password}
        />
        <button type="submit" className="button" disabled={submitting}>
          {submitting ? "Creating your account…" : "Create account"}
        </button>
      </Form>
      <p>
        Already have an account? <Link to={`/signin?redirectTo=${encodeURIComponent(redirectTo)}`}>Sign in</Link>
      </p>
    </section>
  );
}
