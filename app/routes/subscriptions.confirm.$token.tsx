import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { EmailLinkPage, ExpiredLink } from "~/components/email-link-page";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { getDb } from "~/lib/db.server";
import { jsonResponse, readForm, requestMeta } from "~/lib/http.server";
import { confirmSubscription, findPendingConfirmation } from "~/models/subscribers.server";

export const meta: MetaFunction = () => [{ title: "Confirm your subscription · Many Futures" }];

const EXPIRED =
  "This confirmation link was used already, or has expired (links work for 7 days). If you still want the emails, subscribe again or ask whoever added you to resend the link.";

export async function loader({ params }: LoaderFunctionArgs) {
  const pending = await findPendingConfirmation(getDb(), params.token ?? "");
  if (!pending) return jsonResponse({ pending: null }, { status: 404 });
  return { pending };
}

type ActionData = { confirmed: string } | { error: string };

export async function action({ request, params, context }: ActionFunctionArgs) {
  await readForm(request);
  const result = await confirmSubscription(getDb(), params.token ?? "", requestMeta(request, context));
  if (!result.ok) return jsonResponse({ error: EXPIRED } satisfies ActionData, { status: 404 });
  // Answered in place rather than redirected: the link is used up, so a reload could only show "expired".
  return { confirmed: result.projectTitle } satisfies ActionData;
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function ConfirmSubscriptionPage() {
  const { pending } = useLoaderData<{ pending: { projectTitle: string; email: string } | null }>();
  const actionData = useActionData<ActionData>();
  if (actionData && "confirmed" in actionData) {
    return (
      <section className="narrow stack" aria-labelledby="confirmed-title">
        <h1 id="confirmed-title">You are subscribed</h1>
        <p role="status">New episodes of {actionData.confirmed} will arrive in your inbox. Each email has a link to unsubscribe.</p>
      </section>
    );
  }
  if (!pending) return <ExpiredLink message={EXPIRED} next={{ to: "/", label: "Go to Many Futures" }} />;
  return (
    <EmailLinkPage
      title="Confirm your subscription"
      explanation={`Confirm that ${pending.email} should receive new episodes of ${pending.projectTitle} by email.`}
      button="Yes, subscribe me"
      error={actionData && "error" in actionData ? actionData.error : undefined}
    />
  );
}
