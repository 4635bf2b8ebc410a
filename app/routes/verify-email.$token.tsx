import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { showEmailLink, followEmailLink } from "~/auth/email-link-route.server";
import { EmailLinkPage, expiredLink, ExpiredLinkBoundary } from "~/components/email-link-page";
import { keepRefusalHeaders } from "~/components/error-boundary";

export const meta: MetaFunction = () => [{ title: "Confirm your email address · Many Futures" }];

const EXPIRED = "This confirmation link was used already, or has expired. Sign in and ask for a new one from the page that needs it.";

export function loader(args: LoaderFunctionArgs) {
  return showEmailLink(args, "email_verification", () => expiredLink(EXPIRED));
}

export function action(args: ActionFunctionArgs) {
  return followEmailLink(args, { purpose: "email_verification", expired: () => expiredLink(EXPIRED), signedInMessage: "Your email address is confirmed, and you are signed in." });
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
