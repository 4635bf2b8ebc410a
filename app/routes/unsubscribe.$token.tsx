import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { readUnsubscribeLink, unsubscribeByLink } from "~/email/reader-links.server";
import { getDb } from "~/lib/db.server";
import { clientError, readForm, requestMeta } from "~/lib/http.server";

/**
 * Leaving a project's emails. GET only shows a confirm button, so link scanners that follow every link in a
 * message unsubscribe nobody. POST takes effect at once with no sign-in: from that button, and from the mail
 * client's one-click unsubscribe (RFC 8058: `List-Unsubscribe=One-Click`, no cookies, no Origin of ours), which
 * is why this route is exempt from the CSRF check (app/lib/csrf.server.ts). The signed token is what proves it.
 */

const INVALID_LINK = "This unsubscribe link is not valid. Use the link in the most recent email, or ask the project's owner to remove you.";

export const meta: MetaFunction = () => [{ title: "Unsubscribe · Many Futures" }, { name: "robots", content: "noindex" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const membership = await readUnsubscribeLink(getDb(), params.token ?? "");
  if (!membership) throw clientError(request, 404, INVALID_LINK);
  return { email: membership.email, projectTitle: membership.projectTitle, subscribed: membership.status === "confirmed" || membership.status === "pending" };
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const fields = await readForm(request);
  const via = fields["List-Unsubscribe"] === "One-Click" ? "one_click" : "page";
  const result = await unsubscribeByLink(getDb(), params.token ?? "", requestMeta(request, context), via);
  if (!result.ok) throw clientError(request, 404, INVALID_LINK);
  return { unsubscribed: true as const, email: result.membership.email, projectTitle: result.membership.projectTitle };
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function UnsubscribePage() {
  const data = useLoaderData<typeof loader>();
  const done = useActionData<typeof action>();
  if (done?.unsubscribed || !data.subscribed) {
    return (
      <section className="narrow stack" aria-labelledby="unsubscribe-title">
        <h1 id="unsubscribe-title">You are unsubscribed</h1>
        <p role="status">{`${done?.email ?? data.email} gets no more emails from ${done?.projectTitle ?? data.projectTitle}.`}</p>
      </section>
    );
  }
  return (
    <section className="narrow stack" aria-labelledby="unsubscribe-title">
      <h1 id="unsubscribe-title">{`Unsubscribe from ${data.projectTitle}?`}</h1>
      <p>{`${data.email} will get no more episodes of ${data.projectTitle}.`}</p>
      <Form method="post">
        <button type="submit" className="button">
          Unsubscribe
        </button>
      </Form>
    </section>
  );
}
