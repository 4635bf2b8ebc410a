import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { showEmailLink, followEmailLink } from "~/auth/email-link-route.server";
import { EmailLinkPage, expiredLink, ExpiredLinkBoundary } from "~/components/email-link-page";
import { keepRefusalHeaders } from "~/components/error-boundary";

export const meta: MetaFunction = () => [{ title: "Sign in · Many Futures" }];

const EXPIRED = "This sign-in link was used already, or has expired. Sign in with your password, or reset it.";

export function loader(args: LoaderFunctionArgs) {
  return showEmailLink(args, "sign_in", () => expiredLink(EXPIRED));
}

export function action(args: ActionFunctionArgs) {
  return followEmailLink(args, { purpose: "sign_in", expired: () => expiredLink(EXPIRED), signedInMessage: "You are signed in." });
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <ExpiredLinkBoundary next={{ to: "/forgot-password", label: "Reset your password" }} />;
}

export default function SignInLinkPage() {
  const { email } = useLoaderData<typeof loader>();
  return (
    <EmailLinkPage
      title="Sign in"
      explanation={`Someone, probably you, tried to create an account for ${email}, which already has one. Sign in to it here.`}
      button={`Sign in as ${email}`}
    />
  );
}
