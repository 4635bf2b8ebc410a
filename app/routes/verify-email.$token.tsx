import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { EmailLinkPage, expiredLink, ExpiredLinkBoundary } from "~/components/email-link-page";
import { keepRefusalHeaders } from "~/components/error-boundary";
import { findAccountLink, signInWithEmailLink } from "~/auth/account-email.server";
import { serializeSessionCookie } from "~/auth/session-cookie.server";
import { clerkEnabled, getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { notFound, readForm, requestMeta } from "~/lib/http.server";
import { safeRedirect } from "~/lib/safe-redirect";

export const meta: MetaFunction = () => [{ title: "Confirm your email address · Many Futures" }];

const EXPIRED = "This confirmation link was used already, or has expired. Sign in and ask for a new one from the page that needs it.";

export async function loader({ request, params }: LoaderFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const owner = await findAccountLink(getDb(), params.token ?? "", "email_verification");
  if (!owner) throw expiredLink(EXPIRED);
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
  if (!result.ok) throw expiredLink(EXPIRED);
  const headers = { "Set-Cookie": await serializeSessionCookie(request, result.session.token, result.session.expiresAt) };
  const to = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  return redirectWithFlash(request, to, { message: "Your email address is confirmed, and you are signed in." }, headers);
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <ExpiredLinkBoundary next={{ to: "/verify-email", label: "Ask for a new confirmation link" }} />;
}

export default function VerifyEmailPage() {
  const { email } = useLoaderData<typeof loader>();
  return (
    <EmailLinkPage
      title="Confirm your email address"
      explanation={`Confirm that ${email} is your address. You will be signed in.`}
      button="Confirm my address"
    />
  );
}
