import type { MetaFunction } from "@remix-run/node";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { onlyGet } from "~/lib/http.server";

export const meta: MetaFunction = () => [{ title: "Subscribed · Many Futures" }];

/** Where a confirmed subscription lands; the flash above names the project. */
export function loader() {
  return null;
}

export const action = onlyGet;
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function SubscriptionConfirmedPage() {
  return (
    <section className="narrow stack" aria-labelledby="confirmed-title">
      <h1 id="confirmed-title">You are subscribed</h1>
      <p>Each new episode will arrive in your inbox. Every email has a link to unsubscribe at once.</p>
    </section>
  );
}
