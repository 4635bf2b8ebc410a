import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { EmailLinkPage, ExpiredLink } from "~/components/email-link-page";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { findAccountLink, signInWithEmailLink } from "~/auth/account-email.server";
import { serializeSessionCookie } from "~/auth/session-cookie.server";
import { clerkEnabled, getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { safeRedirect } from "~/lib/safe-redirect";

export const meta: MetaFunction = () => [{ title: "Confirm your email address · Many Futures" }];

const EXPIRED = "This confirmation link was used already, or has expired. Sign in and ask for a new one from the page that needs it.";

export async function loader({ request, params }: LoaderFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const owner = await findAccountLink(getDb(), params.token ?? "", "email_verification");
  if (!owner) return jsonResponse({ email: null }, { status: 404 });
  return { email: owner.email };
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  await readForm(request);
  const result = await signInWithEmailLink(
    getDb(),
    { token: params.token ?? "", purpose: "email_verification", sessionTtlDays: getConfig().SESSION_TTL_DAYS },
    requestMeta(request, context),
  );
  if (!result.ok) return jsonResponse({ error: EXPIRED }, { status: 404 });
  const headers = { "Set-Cookie": await serializeSessionCookie(request, result.session.token, result.session.expiresAt) };
  const to = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  return redirectWithFlash(request, to, { message: "Your email address is confirmed, and you are signed in." }, headers);
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function VerifyEmailPage() {
  const { email } = useLoaderData<{ email: string | null }>();
  const actionData = useActionData<{ error: string }>();
  if (!email) return <ExpiredLink message={EXPIRED} next={{ to: "/signin", label: "Sign in" }} />;
  return (
    <EmailLinkPage
      title="Confirm your email address"
      explanation={`Confirm that ${email} is your address. You will be signed in.`}
      button="Confirm my address"
      error={actionData?.error}
    />
  );
}
