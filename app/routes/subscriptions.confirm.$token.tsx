import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { EmailLinkPage, expiredLink, ExpiredLinkBoundary } from "~/components/email-link-page";
import { keepRefusalHeaders } from "~/components/error-boundary";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { readForm, requestMeta } from "~/lib/http.server";
import { confirmSubscription, findPendingConfirmation } from "~/models/subscribers.server";

export const meta: MetaFunction = () => [{ title: "Confirm your subscription · Many Futures" }];

const EXPIRED =
  "This confirmation link was used already, or has expired (links work for 7 days). If you still want the emails, subscribe again or ask whoever added you to send a new link.";

export async function loader({ params }: LoaderFunctionArgs) {
  const pending = await findPendingConfirmation(getDb(), params.token ?? "");
  if (!pending) throw expiredLink(EXPIRED);
  return { pending };
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  await readForm(request);
  const result = await confirmSubscription(getDb(), params.token ?? "", requestMeta(request, context));
  if (!result.ok) throw expiredLink(EXPIRED);
  return redirectWithFlash(request, "/subscriptions/confirmed", {
    message: `You are subscribed: new episodes of ${result.projectTitle} will arrive in your inbox.`,
  });
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <ExpiredLinkBoundary next={{ to: "/", label: "Go to Many Futures" }} />;
}

export default function ConfirmSubscriptionPage() {
  const { pending } = useLoaderData<typeof loader>();
  return (
    <EmailLinkPage
      title="Confirm your subscription"
      explanation={`Confirm that ${pending.email} should receive new episodes of ${pending.projectTitle} by email.`}
      button="Yes, subscribe me"
    />
  );
}
