import type { MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { onlyGet } from "~/lib/http.server";

export const meta: MetaFunction = () => [{ title: "Check your inbox · Many Futures" }];

/** Where every sign-up lands, new address or not: the email itself says what happens next. */
export function loader() {
  return null;
}

export const action = onlyGet;
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function CheckEmailPage() {
  return (
    <section className="narrow stack" aria-labelledby="check-email-title">
      <h1 id="check-email-title">Check your inbox</h1>
      <p>We have sent an email to the address you gave. Open the link in it to confirm your address and sign in.</p>
      <p className="muted">
        If that address already has an account, the email has a link to sign in instead. Nothing arrived after a few minutes? Look in your spam
        folder, or <Link to="/signup">sign up again</Link>.
      </p>
      <p>
        <Link to="/signin">Sign in with your password</Link>
      </p>
    </section>
  );
}
