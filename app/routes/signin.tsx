import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { ClerkAuthPanel } from "~/components/clerk-auth-panel";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field } from "~/components/form";
import { getViewer } from "~/auth/context.server";
import { serializeSessionCookie } from "~/auth/session-cookie.server";
import { signInWithPassword } from "~/auth/sign-in.server";
import { clerkEnabled, getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, readForm, requestMeta } from "~/lib/http.server";
import { safeRedirect } from "~/lib/safe-redirect";
import { emailField, parseWith, visibleErrors, type FieldErrors } from "~/lib/validation";

export const meta: MetaFunction = () => [{ title: "Sign in · Many Futures" }];

const signInSchema = z.object({
  email: emailField,
  password: z.string({ error: "Enter your password." }).min(1, "Enter your password.").max(200, "Passwords here are at most 200 characters."),
  redirectTo: z.string().max(2000).optional(),
});

// A refused request keeps its Allow, and a throttled sign-in tells clients when to try again.
export const headers = keepRefusalHeaders;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const redirectTo = safeRedirect(url.searchParams.get("redirectTo"));
  if (await getViewer(request, context)) throw redirect(redirectTo);
  return { clerk: clerkEnabled(), redirectTo };
}

const FIELDS = { email: "field-email", password: "field-password" };

type ActionData = { errors: FieldErrors; email: string };

export async function action({ request, context }: ActionFunctionArgs) {
  if (clerkEnabled()) return new Response("Sign-in is handled by Clerk.", { status: 404 });
  const values = await readForm(request);
  const email = typeof values.email === "string" ? values.email : "";
  const parsed = parseWith(signInSchema, values);
  if (!parsed.ok) {
    return jsonResponse({ errors: visibleErrors(parsed.errors, Object.keys(FIELDS)), email } satisfies ActionData, { status: 400 });
  }
  const result = await signInWithPassword(
    getDb(),
    { email: parsed.data.email, password: parsed.data.password, ttlDays: getConfig().SESSION_TTL_DAYS },
    requestMeta(request, context),
  );
  if (!result.ok) {
    const message =
      result.reason === "rate_limited"
        ? `Too many sign-in attempts. Wait ${Math.ceil(result.retryAfterSeconds / 60)} minutes and try again.`
        : "That email and password don't match an account. Check them and try again.";
    const headers = result.reason === "rate_limited" ? { "Retry-After": String(result.retryAfterSeconds) } : undefined;
    return jsonResponse({ errors: { form: message }, email } satisfies ActionData, { status: result.reason === "rate_limited" ? 429 : 400, headers });
  }
  return redirect(safeRedirect(parsed.data.redirectTo), {
    headers: { "Set-Cookie": await serializeSessionCookie(request, result.token, result.expiresAt) },
  });
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function SignInPage() {
  const { clerk, redirectTo } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const submitting = useNavigation().state === "submitting";
  const errors: FieldErrors = actionData?.errors ?? {};

  if (clerk) return <ClerkAuthPanel mode="sign-in" redirectTo={redirectTo} />;

  return (
    <section className="narrow" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <ErrorSummary errors={errors} fieldIds={FIELDS} />
      <Form method="post" noValidate>
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          defaultValue={actionData?.email ?? ""}
          error={errors.email}
        />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={errors.password} />
        <button type="submit" className="button" disabled={submitting}>
          {submitting ? "Signing in…" : "Sign in"}
        </button>
      </Form>
      <p>
        New here? <Link to={`/signup?redirectTo=${encodeURIComponent(redirectTo)}`}>Create an account</Link>
      </p>
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
    </section>
  );
}
