import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { VerifyEmailNotice } from "~/components/verify-email-notice";
import { resendVerification } from "~/auth/account-email.server";
import { requireViewer } from "~/auth/context.server";
import { clerkEnabled } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { safeRedirect } from "~/lib/safe-redirect";
import { isEmailVerified } from "~/models/users.server";

export const meta: MetaFunction = () => [{ title: "Confirm your email address · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const viewer = await requireViewer(request, context);
  return { email: viewer.email, verified: await isEmailVerified(getDb(), viewer.userId) };
}

const resendSchema = z.object({ redirectTo: z.string().max(2000).optional() });

export async function action({ request, context }: ActionFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const viewer = await requireViewer(request, context);
  const parsed = resendSchema.safeParse(await readForm(request));
  const redirectTo = safeRedirect(parsed.success ? parsed.data.redirectTo : undefined, "/verify-email");
  const result = await resendVerification(getDb(), { userId: viewer.userId, email: viewer.email, name: viewer.name, redirectTo }, requestMeta(request, context));
  if (!result.ok) return jsonResponse({ error: "Your email address is already confirmed: there is nothing to send." }, { status: 400 });
  const message = result.sent
      ? `We have sent a new confirmation link to ${viewer.email}. It works for 48 hours.`
      : "We sent you a link less than a minute ago. Check your inbox (and spam folder), or wait a minute and ask again.";
  return redirectWithFlash(request, redirectTo, { message });
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function VerifyEmailStatusPage() {
  const { email, verified } = useLoaderData<typeof loader>();
  const actionData = useActionData<{ error: string }>();
  return (
    <section className="narrow stack" aria-labelledby="verify-title">
      <h1 id="verify-title">Your email address</h1>
      <ErrorSummary errors={actionData ? { form: actionData.error } : undefined} fieldIds={{}} />
      {verified ? (
        <p>{email} is confirmed.</p>
      ) : (
        <VerifyEmailNotice email={email} action="accept invitations or add subscribers" returnTo="/verify-email" />
      )}
    </section>
  );
}
